// Messages between the chat webview (webview/chat/) and the extension host (src/extension/chat/).
// The webview is untrusted input: every message it sends goes through validateWebviewMessage before use.

import { rejectUnknown } from './assertNever';
export type SlashCommand = 'explain' | 'fix' | 'doc' | 'tests' | 'clear';
export const SLASH_COMMANDS: ReadonlyArray<{ name: SlashCommand; description: string }> = [
  { name: 'explain', description: 'Explain the attached code' },
  { name: 'fix', description: 'Find and fix problems in the attached code' },
  { name: 'doc', description: 'Write documentation for the attached code' },
  { name: 'tests', description: 'Write unit tests for the attached code' },
  { name: 'clear', description: 'Start a new chat' },
];

/** An attached file or selection keeps at most this many characters (~50,000 tokens), cut at a line end. */
export const MAX_ATTACHMENT_CHARS = 200_000;
/** The longest message the chat sends (tokenizing one line of 200,000 characters takes ~1.5 s in the engine). */
export const MAX_MESSAGE_CHARS = 200_000;

/** What an @-mention in the chat input brings in. */
export type MentionKind = 'file' | 'folder' | 'symbol' | 'problems' | 'changes' | 'open' | 'workspace';

export const MENTIONS: ReadonlyArray<{ name: MentionKind; description: string; argument?: string }> = [
  { name: 'file', description: 'A file of the workspace', argument: 'path' },
  { name: 'folder', description: 'The files of a folder', argument: 'path' },
  { name: 'symbol', description: 'A function, class or other symbol', argument: 'name' },
  { name: 'problems', description: 'Errors and warnings of the workspace' },
  { name: 'changes', description: 'Uncommitted changes (git diff)' },
  { name: 'open', description: 'The files in open editors' },
  { name: 'workspace', description: 'The code most relevant to your question (search)' },
];

/** A mention as typed in a message (see parseMentions). */
export const MENTION_PATTERN = /(?:^|\s)@(file|folder|symbol|problems|changes|open|workspace)(?::(\S+))?(?=\s|$)/g;

/**
 * The mentions typed in a message: "@file:src/math.ts", "@folder:src", "@symbol:area", "@problems", "@changes",
 * "@open", "@workspace" (at the start or after white space; a path or name runs to the next white space).
 */
export function parseMentions(text: string): Array<{ kind: MentionKind; argument?: string }> {
  const found: Array<{ kind: MentionKind; argument?: string }> = [];
  for (const match of text.matchAll(MENTION_PATTERN)) {
    const kind = match[1] as MentionKind;
    const needsArgument = MENTIONS.find((m) => m.name === kind)!.argument !== undefined;
    if (needsArgument !== (match[2] !== undefined)) continue;
    found.push(match[2] === undefined ? { kind } : { kind, argument: match[2] });
  }
  return found;
}

/** What the chat view shows of code attached to a request (the editor selection, a file, an @-mention): its text stays in the host. */
export interface AttachmentInfo {
  id: string;
  kind: 'selection' | MentionKind;
  /** e.g. "fib.py:3-9" or "fib.py" */
  label: string;
  fileName: string;
  language: string;
  /** Only the first `keptLines` lines are in `text` (a file over the attachment cap, or stored history over its cap). */
  cut?: { keptLines: number; totalLines: number };
  /** For several files or entries in one (a folder, open editors, problems): how many of how many are in `text`. */
  parts?: { kept: number; total: number; unit: 'files' | 'problems' };
  /**
   * The text's size in the chat model's tokens once counted (`estimated` for a model server, which counts only what it
   * is sent), and that model's context, so the chip can say when it cannot all be sent.
   */
  tokens?: { count: number; estimated: boolean; context: number };
}

export interface Attachment extends AttachmentInfo {
  text: string;
  /** Where it came from, for opening it from its chip: a file or folder URI and the first line shown. */
  source?: { uri: string; line?: number };
}

export type EntryStatus = 'queued' | 'streaming' | 'done' | 'stopped' | 'error';

export interface ReplyStats {
  model: string;
  promptTokens: number;
  generatedTokens: number;
  timeToFirstTokenMs: number;
  tokensPerSecond: number;
  /** Older messages or attachment text left out to fit the context window. */
  trimmedNote?: string;
}

interface EntryFields {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  status: EntryStatus;
  error?: string;
  stats?: ReplyStats;
}

export interface ChatEntry extends EntryFields {
  attachments?: Attachment[];
}

/** An entry as the view gets it: its attachments without their text. */
export interface ViewEntry extends EntryFields {
  attachments?: AttachmentInfo[];
}

interface ConversationFields {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
}

export interface Conversation extends ConversationFields {
  entries: ChatEntry[];
}

export interface ViewConversation extends ConversationFields {
  entries: ViewEntry[];
}

/** An attachment as the view gets it: its text never goes to the webview, which shows only its chip. */
export function attachmentInfo({ text: _text, source: _source, ...info }: Attachment): AttachmentInfo {
  return info;
}

export function viewEntry(entry: ChatEntry): ViewEntry {
  if (!entry.attachments) return entry;
  return { ...entry, attachments: entry.attachments.map(attachmentInfo) };
}

export interface ConversationSummary {
  id: string;
  title: string;
  updatedAt: number;
  messages: number;
}

export interface ModelStatus {
  kind: 'not-loaded' | 'loading' | 'ready' | 'generating' | 'error';
  text: string;
}

/** Where the chat runs: the bundled model (small: the welcome offers better ones), another local model, or a server. */
export interface ChatBackendInfo {
  kind: 'bundled' | 'local' | 'server';
  /** "attentive-code-14m", or "qwen2.5-coder:7b at 127.0.0.1:11434". */
  description: string;
}

/** The ways to a capable chat model that the welcome offers. */
export type SetupAction = 'selectModel' | 'addModelServer';

export interface ChatViewState {
  conversation: ViewConversation;
  runsOn: ChatBackendInfo;
  conversations: ConversationSummary[];
  attachments: AttachmentInfo[];
  draft: string;
  model: ModelStatus;
  /** A reply is being generated or queued in this conversation. */
  busy: boolean;
  /** A one-time notice, e.g. that a corrupt history file was set aside. */
  notice?: string;
}

export type CodeAction = 'copy' | 'apply' | 'insert' | 'replace' | 'newFile';

/** Webview -> host. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'send'; text: string }
  | { type: 'stop' }
  | { type: 'regenerate' }
  | { type: 'editLast'; text: string }
  | { type: 'retry' }
  | { type: 'newChat' }
  | { type: 'openConversation'; id: string }
  | { type: 'deleteConversation'; id: string }
  | { type: 'attach'; kind: 'selection' | 'file' }
  /** An @-mention picked from the input's menu: the host asks which file, folder or symbol where that applies. */
  | { type: 'mention'; kind: MentionKind }
  | { type: 'removeAttachment'; id: string }
  /** A chip was clicked: open what it holds. */
  | { type: 'openAttachment'; id: string }
  | { type: 'draft'; text: string }
  /** `entryId`: the reply the block is in (Apply looks in its request's attachments for where the code belongs). */
  | { type: 'codeAction'; action: CodeAction; code: string; language: string; entryId?: string }
  | { type: 'setup'; action: SetupAction };

/** Host -> webview. */
export type HostMessage =
  | { type: 'state'; state: ChatViewState }
  | { type: 'delta'; entryId: string; text: string }
  | { type: 'entry'; entry: ViewEntry }
  | { type: 'model'; model: ModelStatus }
  | { type: 'focusInput' };

const MAX_TEXT = 1_000_000;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const CODE_ACTIONS: readonly CodeAction[] = ['copy', 'apply', 'insert', 'replace', 'newFile'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown, max = MAX_TEXT): value is string {
  return typeof value === 'string' && value.length <= max;
}

/** The typed message, or null for anything unknown or malformed (the caller logs and drops it). */
export function validateWebviewMessage(raw: unknown): WebviewMessage | null {
  if (!isRecord(raw) || typeof raw['type'] !== 'string') return null;
  const type = raw['type'] as WebviewMessage['type'];
  switch (type) {
    case 'ready':
    case 'stop':
    case 'regenerate':
    case 'retry':
    case 'newChat':
      return { type };
    case 'send':
    case 'editLast':
      return text(raw['text']) && raw['text'].trim() ? { type, text: raw['text'] } : null;
    case 'draft':
      return text(raw['text']) ? { type, text: raw['text'] } : null;
    case 'setup':
      return raw['action'] === 'selectModel' || raw['action'] === 'addModelServer' ? { type, action: raw['action'] } : null;
    case 'openConversation':
    case 'deleteConversation':
    case 'removeAttachment':
    case 'openAttachment':
      return typeof raw['id'] === 'string' && ID.test(raw['id']) ? { type, id: raw['id'] } : null;
    case 'mention':
      return MENTIONS.some((m) => m.name === raw['kind']) ? { type, kind: raw['kind'] as MentionKind } : null;
    case 'attach':
      return raw['kind'] === 'selection' || raw['kind'] === 'file' ? { type, kind: raw['kind'] } : null;
    case 'codeAction': {
      const action = raw['action'];
      if (!CODE_ACTIONS.includes(action as CodeAction) || !text(raw['code']) || !text(raw['language'], 64)) return null;
      const entryId = raw['entryId'];
      if (entryId !== undefined && (typeof entryId !== 'string' || !ID.test(entryId))) return null;
      return { type, action: action as CodeAction, code: raw['code'] as string, language: raw['language'] as string, ...(entryId ? { entryId } : {}) };
    }
    default:
      return rejectUnknown(type);
  }
}

/** Splits "/fix the loop" into the command and the rest; unknown commands are plain text. */
export function parseSlashCommand(input: string): { command: SlashCommand | null; text: string } {
  const match = /^\/([a-z]+)(?:\s+([\s\S]*))?$/.exec(input.trim());
  if (!match) return { command: null, text: input };
  const name = match[1] as SlashCommand;
  if (!SLASH_COMMANDS.some((c) => c.name === name)) return { command: null, text: input };
  return { command: name, text: (match[2] ?? '').trim() };
}
