// Conversations on disk, one JSON file per workspace (the extension's workspace storage), written atomically
// (write, then rename) and asynchronously: saves return at once and a burst of them costs one write of the newest
// state. Each conversation is stored within a size cap. A corrupt file is never lost: it is renamed to a backup, the
// store starts clean and says so once.
// No vscode import: the folder is passed in, so the store is unit-tested on a real temporary folder.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ChatEntry, Conversation, ConversationSummary } from '../../protocol/chat';

const FILE_NAME = 'chat-history.json';
const FORMAT_VERSION = 1;
/** Most conversations kept; the oldest beyond this are dropped. */
const MAX_CONVERSATIONS = 200;
/**
 * Most bytes of JSON stored per conversation: beyond it the attachments of all but the newest request lose their
 * text (their chips stay, marked), then the oldest messages go. The conversation on screen keeps everything.
 */
export const MAX_CONVERSATION_BYTES = 2 * 1024 * 1024;

interface StoreFile {
  version: number;
  conversations: Conversation[];
}

function isConversation(value: unknown): value is Conversation {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Partial<Conversation>;
  return (
    typeof c.id === 'string' &&
    typeof c.title === 'string' &&
    typeof c.createdAt === 'number' &&
    typeof c.updatedAt === 'number' &&
    Array.isArray(c.entries) &&
    c.entries.every((e: Partial<ChatEntry>) => typeof e?.id === 'string' && (e.role === 'user' || e.role === 'assistant') && typeof e.content === 'string')
  );
}

export class HistoryStore {
  private readonly file: string;
  private conversations: Conversation[] = [];
  /** Set when loading found a corrupt file; shown once to the user. */
  notice: string | undefined;
  /** The write in progress (or done), and whether another is queued behind it. */
  private writing: Promise<void> = Promise.resolve();
  private writeQueued = false;
  /** Why the last write failed (a full disk), until one succeeds. */
  writeError: string | undefined;

  constructor(folder: string) {
    this.file = path.join(folder, FILE_NAME);
    fs.mkdirSync(folder, { recursive: true });
    this.load();
  }

  private load(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return; // no history yet
    }
    try {
      const parsed = JSON.parse(text) as Partial<StoreFile>;
      if (parsed.version !== FORMAT_VERSION || !Array.isArray(parsed.conversations) || !parsed.conversations.every(isConversation)) {
        throw new Error('unexpected format');
      }
      this.conversations = parsed.conversations;
    } catch {
      const backup = `${this.file}.corrupt-${Date.now()}`;
      fs.renameSync(this.file, backup);
      this.notice = `The chat history file was unreadable; it was kept as ${path.basename(backup)} and a new history was started.`;
    }
  }

  list(): ConversationSummary[] {
    return [...this.conversations]
      .sort((a, b) => b.updatedAt - a.updatedAt)
      .map((c) => ({ id: c.id, title: c.title, updatedAt: c.updatedAt, messages: c.entries.length }));
  }

  get(id: string): Conversation | undefined {
    return this.conversations.find((c) => c.id === id);
  }

  /** The most recently updated conversation. */
  latest(): Conversation | undefined {
    return this.conversations.reduce<Conversation | undefined>((best, c) => (!best || c.updatedAt > best.updatedAt ? c : best), undefined);
  }

  /** Saves (inserts or replaces) a conversation; empty conversations are not kept. */
  save(conversation: Conversation): void {
    const others = this.conversations.filter((c) => c.id !== conversation.id);
    this.conversations = conversation.entries.length ? [...others, conversation] : others;
    if (this.conversations.length > MAX_CONVERSATIONS) {
      this.conversations.sort((a, b) => b.updatedAt - a.updatedAt).length = MAX_CONVERSATIONS;
    }
    this.write();
  }

  delete(id: string): void {
    this.conversations = this.conversations.filter((c) => c.id !== id);
    this.write();
  }

  /** Resolves once everything saved so far is on disk. */
  flushed(): Promise<void> {
    return this.writing;
  }

  private write(): void {
    if (this.writeQueued) return; // the queued write will take the newest state
    this.writeQueued = true;
    this.writing = this.writing.then(async () => {
      this.writeQueued = false;
      // What JSON.stringify of the StoreFile gives, each conversation serialized once (also to measure it).
      const data = `{"version":${FORMAT_VERSION},"conversations":[${this.conversations.map(storedJson).join(',')}]}`;
      const temporary = `${this.file}.${process.pid}.tmp`;
      try {
        await fs.promises.writeFile(temporary, data);
        await fs.promises.rename(temporary, this.file); // atomic: a crash mid-write leaves the old file intact
        this.writeError = undefined;
      } catch (error) {
        this.writeError = (error as Error).message;
        await fs.promises.rm(temporary, { force: true }).catch(() => undefined);
      }
    });
  }
}

/** The conversation's JSON as stored: its own when within MAX_CONVERSATION_BYTES, else a smaller copy's. */
function storedJson(conversation: Conversation): string {
  const json = JSON.stringify(conversation);
  if (Buffer.byteLength(json, 'utf8') <= MAX_CONVERSATION_BYTES) return json;
  const lastRequest = conversation.entries.map((e) => e.role).lastIndexOf('user');
  const entries = conversation.entries.map((entry, index) =>
    index === lastRequest || !entry.attachments
      ? entry
      : { ...entry, attachments: entry.attachments.map((a) => ({ ...a, text: '', cut: { keptLines: 0, totalLines: a.cut?.totalLines ?? a.text.split('\n').length } })) },
  );
  const stored = { ...conversation, entries };
  let text = JSON.stringify(stored);
  while (stored.entries.length > 2 && Buffer.byteLength(text, 'utf8') > MAX_CONVERSATION_BYTES) {
    stored.entries = stored.entries.slice(2); // a request and its reply
    text = JSON.stringify(stored);
  }
  return text;
}

/** A conversation's title: the first request, on one line, shortened. */
export function titleFrom(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || 'New chat';
}
