// The chat's state and behaviour, independent of whether its view is visible: conversations, the pending
// attachments and draft, and the replies being generated. The view only renders what this posts.

import * as vscode from 'vscode';
import type { Backend } from '../../backend/backend';
import { assertNever } from '../../protocol/assertNever';
import { EngineError, type EngineEvent, type GenerateResult, type Usage } from '../../protocol/engine';
import {
  MAX_MESSAGE_CHARS,
  MENTION_PATTERN,
  attachmentInfo,
  parseMentions,
  parseSlashCommand,
  viewEntry,
  type Attachment,
  type ChatBackendInfo,
  type ChatEntry,
  type ChatViewState,
  type Conversation,
  type HostMessage,
  type MentionKind,
  type ModelStatus,
  type WebviewMessage,
} from '../../protocol/chat';
import { describeState, type DisplayedState } from '../shared/displayedState';
import { generationDefaults, readSettings } from '../shared/settings';
import { applyCodeAction, type CodeProposer } from './codeActions';
import { HistoryStore, titleFrom } from './historyStore';
import { capText, mentionAttachments, openAttachment } from './mentions';
import type { WorkspaceIndex } from '../shared/workspaceIndex';
import { buildPrompt, type BuiltPrompt, type TokenCounter } from './promptBuilder';

let counter = 0;
/** Ids safe for the webview protocol ([A-Za-z0-9_-]). */
export function newId(): string {
  return `${Date.now().toString(36)}-${(counter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

function emptyConversation(): Conversation {
  const now = Date.now();
  return { id: newId(), title: 'New chat', createdAt: now, updatedAt: now, entries: [] };
}

/**
 * A reply's way from request to end, for observers (bench/chat.mjs's probe): 'send' when it is asked for, 'call' when
 * it goes to the backend, 'started' when the backend starts it, 'firstDelta' at each streamed piece, 'end' however it
 * ends (with the backend's usage when it answered).
 */
export interface ReplyProgress {
  entryId: string;
  step: 'send' | 'call' | 'started' | 'firstDelta' | 'end';
  usage?: Usage;
}

interface RunningReply {
  entryId: string;
  controller: AbortController;
}

/** Where the chat runs now, and when that changes (the settings re-point the chat's backend). */
export interface ChatLocation {
  current(): ChatBackendInfo;
  readonly onDidChange: vscode.Event<void>;
}

/** Requests that may wait behind the running reply; one more is refused, its text kept in the input. */
export const MAX_WAITING_REQUESTS = 8;

export class ChatController implements vscode.Disposable {
  private conversation: Conversation;
  private attachments: Attachment[] = [];
  private draft = '';
  private running: RunningReply | null = null;
  /** Requests sent while a reply was running: they start, in order, when it ends. */
  private readonly waiting: Array<() => void> = [];
  private post: ((message: HostMessage) => void) | null = null;
  /** Model folders already warned about having no chat template (once each per session). */
  private readonly warnedNoTemplate = new Set<string>();
  private readonly progress = new vscode.EventEmitter<ReplyProgress>();
  readonly onDidProgressReply = this.progress.event;
  private readonly subscriptions: vscode.Disposable[] = [this.progress];

  constructor(
    private readonly backend: Backend,
    private readonly displayed: DisplayedState,
    private readonly store: HistoryStore,
    private readonly log: vscode.OutputChannel,
    private readonly location: ChatLocation,
    /** Where /explain requests run (Explain Selection, or typed): attentive.explain.backend, by default the chat's. */
    private readonly explainBackend: Backend = backend,
    /** What @workspace searches (none without a folder). */
    private readonly workspaceIndex?: WorkspaceIndex,
    /** Shows a code block's change as a diff to accept (Apply, and Insert/Replace unless attentive.chat.insertDirectly). */
    private readonly proposeCode: CodeProposer = async () => undefined,
  ) {
    this.conversation = store.latest() ?? emptyConversation();
    this.subscriptions.push(
      displayed.onChange(() => this.send({ type: 'model', model: this.modelStatus() })),
      location.onDidChange(() => this.pushState()),
    );
  }

  /** Connects a view (or disconnects it with null); a connected view gets everything from then on. */
  attachView(post: ((message: HostMessage) => void) | null): void {
    this.post = post;
  }

  /** Whether a view is connected (tests wait for it). */
  get hasView(): boolean {
    return this.post !== null;
  }

  get busy(): boolean {
    return this.running !== null || this.waiting.length > 0;
  }

  /** The conversation on screen, as stored (attachments with their text). */
  get openConversation(): Conversation {
    return this.conversation;
  }

  /** What the view shows: the conversation on screen and the input's attachments without their text. */
  state(): ChatViewState {
    const state: ChatViewState = {
      conversation: { ...this.conversation, entries: this.conversation.entries.map(viewEntry) },
      runsOn: this.location.current(),
      conversations: this.store.list(),
      attachments: this.attachments.map(attachmentInfo),
      draft: this.draft,
      model: this.modelStatus(),
      busy: this.busy,
    };
    if (this.store.notice) {
      state.notice = this.store.notice;
      this.store.notice = undefined;
    }
    return state;
  }

  async handle(message: WebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.pushState();
        break;
      case 'send':
        this.sendRequest(message.text);
        break;
      case 'stop':
        this.stop();
        break;
      case 'regenerate':
      case 'retry':
        this.regenerate();
        break;
      case 'editLast':
        this.editLast(message.text);
        break;
      case 'newChat':
        this.newChat();
        break;
      case 'openConversation': {
        const conversation = this.store.get(message.id);
        if (conversation && conversation.id !== this.conversation.id) {
          this.stop();
          this.conversation = conversation;
          this.pushState();
        }
        break;
      }
      case 'deleteConversation':
        if (message.id === this.conversation.id) {
          this.stop();
          this.conversation = emptyConversation();
        }
        this.store.delete(message.id);
        this.pushState();
        break;
      case 'attach':
        if (message.kind === 'selection') this.attachSelection();
        else this.attachFile();
        break;
      case 'removeAttachment':
        this.attachments = this.attachments.filter((a) => a.id !== message.id);
        this.pushState();
        break;
      case 'mention':
        await this.mention(message.kind);
        break;
      case 'openAttachment': {
        const attachment = [...this.attachments, ...this.conversation.entries.flatMap((e) => e.attachments ?? [])].find((a) => a.id === message.id);
        if (attachment) await openAttachment(attachment);
        break;
      }
      case 'draft':
        this.draft = message.text;
        break;
      case 'codeAction': {
        const reply = this.conversation.entries.findIndex((e) => e.id === message.entryId);
        await applyCodeAction(message.action, message.code, message.language, (reply > 0 && this.conversation.entries[reply - 1]!.attachments) || [], this.proposeCode);
        break;
      }
      case 'setup':
        // The commands of the models and servers features (by id: features do not import each other).
        await vscode.commands.executeCommand(message.action === 'selectModel' ? 'attentive.selectModel' : 'attentive.addModelServer');
        break;
      default:
        assertNever(message, 'chat message');
    }
  }

  /** Adds the editor's selection (its whole file when nothing is selected) as a chip. */
  attachSelection(editor = vscode.window.activeTextEditor, range?: vscode.Range): Attachment | undefined {
    const selected = range ?? editor?.selection;
    return this.attach(editor, selected && !selected.isEmpty ? selected : undefined);
  }

  attachFile(editor = vscode.window.activeTextEditor): Attachment | undefined {
    return this.attach(editor, undefined);
  }

  /** One chip per label: attaching the same lines or file again replaces the older chip. */
  private attach(editor: vscode.TextEditor | undefined, range: vscode.Range | undefined): Attachment | undefined {
    if (!editor) {
      void vscode.window.showInformationMessage('Attentive: open a file (and select some code) to attach it.');
      return undefined;
    }
    const document = editor.document;
    const fileName = vscode.workspace.asRelativePath(document.uri);
    // A 10 MB file would cost seconds of tokenizing for each request and more than any model's context: capped.
    return this.addAttachment({
      kind: range ? 'selection' : 'file',
      label: range ? `${fileName}:${range.start.line + 1}-${range.end.line + 1}` : fileName,
      fileName,
      language: document.languageId,
      ...capText(document.getText(range), range ? range.end.line - range.start.line + 1 : document.lineCount),
      source: { uri: document.uri.toString(), line: range?.start.line ?? 0 },
    });
  }

  /** Adds a chip (replacing one with the same label) and counts its tokens in the background. */
  private addAttachment(fields: Omit<Attachment, 'id'>, push = true): Attachment {
    const attachment: Attachment = { id: newId(), ...fields };
    this.attachments = [...this.attachments.filter((a) => a.label !== attachment.label), attachment];
    if (push) this.pushState();
    void this.countTokens(attachment);
    return attachment;
  }

  /** An @-mention from the input's menu: its chip (the first of several), or a notice saying why there is none. */
  async mention(kind: MentionKind, argument?: string): Promise<Attachment | undefined> {
    const found = await mentionAttachments(kind, argument, { question: '', index: this.workspaceIndex });
    if (typeof found !== 'string') return found.map((fields) => this.addAttachment(fields))[0];
    if (found) void vscode.window.showWarningMessage(`Attentive: ${found}`);
    return undefined;
  }

  /** Counts an attachment's tokens with the chat model's tokenizer for its chip, in the background (a large file takes a moment). */
  private async countTokens(attachment: Attachment): Promise<void> {
    try {
      const model = await this.backend.ensureLoaded();
      const [count] = await this.backend.countTokens([attachment.text]);
      attachment.tokens = { count: count!, estimated: this.location.current().kind === 'server', context: model.contextLength };
      // Still on screen: on its chip in the input, or on the request it was sent with.
      if (this.attachments.includes(attachment) || this.conversation.entries.some((e) => e.attachments?.includes(attachment))) this.pushState();
    } catch (error) {
      this.log.appendLine(`[chat] counting the tokens of ${attachment.label}: ${(error as Error).message}`);
    }
  }

  /** Starts a request as if typed in the view (Explain Selection uses it); typed @-mentions are resolved first. */
  sendRequest(text: string): void {
    if (parseSlashCommand(text).command === 'clear') {
      this.newChat();
      return;
    }
    const mentions = parseMentions(text);
    if (mentions.length && text.length <= MAX_MESSAGE_CHARS) void this.sendWithMentions(text, mentions);
    else this.submit(text);
  }

  private submit(text: string): void {
    // Refused requests lose nothing: the text stays in the input, the attachments on it.
    if (text.length > MAX_MESSAGE_CHARS) {
      this.draft = text;
      this.pushState();
      void vscode.window.showWarningMessage(
        `Attentive: this message is ${text.length.toLocaleString('en-US')} characters; a message can be at most ${MAX_MESSAGE_CHARS.toLocaleString('en-US')}. Attach long code as a file instead (Attach File): it is cut to fit the model.`,
      );
      return;
    }
    if (this.waiting.length >= MAX_WAITING_REQUESTS) {
      this.draft = text;
      this.pushState();
      void vscode.window.showWarningMessage(`Attentive: ${MAX_WAITING_REQUESTS} requests are already waiting for the current reply. Send this one when they are done, or Stop them.`);
      return;
    }
    const user: ChatEntry = { id: newId(), role: 'user', content: text, status: 'done' };
    if (this.attachments.length) user.attachments = this.attachments;
    const reply: ChatEntry = { id: newId(), role: 'assistant', content: '', status: 'queued' };
    this.progress.fire({ entryId: reply.id, step: 'send' });
    const conversation = this.conversation;
    if (conversation.entries.length === 0) conversation.title = titleFrom(parseSlashCommand(text).text || text);
    conversation.entries.push(user, reply);
    conversation.updatedAt = Date.now();
    this.attachments = [];
    this.draft = '';
    this.store.save(conversation);
    this.pushState();
    this.enqueue(() => void this.generate(conversation, reply));
  }

  /** Resolves the typed mentions into chips first; one that cannot be resolved keeps the message in the input. */
  private async sendWithMentions(text: string, mentions: ReturnType<typeof parseMentions>): Promise<void> {
    const question = parseSlashCommand(text).text.replace(MENTION_PATTERN, ' ');
    for (const { kind, argument } of mentions) {
      const found = await mentionAttachments(kind, argument, { question, index: this.workspaceIndex }).catch((error: Error) => error.message);
      if (typeof found === 'string') {
        this.draft = text;
        this.pushState();
        void vscode.window.showWarningMessage(`Attentive: ${found || `@${kind} brought in nothing.`} The message was not sent.`);
        return;
      }
      for (const fields of found) this.addAttachment(fields, false);
    }
    this.submit(text);
  }

  newChat(): void {
    this.stop();
    this.conversation = emptyConversation();
    this.attachments = [];
    this.pushState();
    this.send({ type: 'focusInput' });
  }

  focusInput(): void {
    this.send({ type: 'focusInput' });
  }

  stop(): void {
    this.waiting.length = 0; // requests not started yet end as stopped, below
    for (const entry of this.conversation.entries) {
      if (entry.status === 'queued' && entry.id !== this.running?.entryId) {
        entry.status = 'stopped';
        this.send({ type: 'entry', entry: viewEntry(entry) });
      }
    }
    this.running?.controller.abort();
  }

  private regenerate(): void {
    if (this.busy) return;
    const entries = this.conversation.entries;
    const last = entries.at(-1);
    if (!last || last.role !== 'assistant') return;
    const reply: ChatEntry = { id: newId(), role: 'assistant', content: '', status: 'queued' };
    entries[entries.length - 1] = reply;
    this.store.save(this.conversation);
    this.pushState();
    const conversation = this.conversation;
    this.enqueue(() => void this.generate(conversation, reply));
  }

  private editLast(text: string): void {
    if (this.busy) this.stop();
    const entries = this.conversation.entries;
    const index = entries.map((e) => e.role).lastIndexOf('user');
    if (index < 0) return;
    const previous = entries[index]!;
    entries.splice(index);
    this.attachments = previous.attachments ?? [];
    this.sendRequest(text);
  }

  private enqueue(start: () => void): void {
    if (this.running) this.waiting.push(start);
    else start();
  }

  private async generate(conversation: Conversation, reply: ChatEntry): Promise<void> {
    const controller = new AbortController();
    this.running = { entryId: reply.id, controller };
    const visible = () => conversation.id === this.conversation.id;
    const update = () => {
      if (visible()) this.send({ type: 'entry', entry: viewEntry(reply) });
    };
    let usage: GenerateResult['usage'] | undefined;
    try {
      const index = conversation.entries.indexOf(reply);
      const request = conversation.entries[index - 1]!;
      const history = conversation.entries.slice(0, index - 1);
      const backend = parseSlashCommand(request.content).command === 'explain' ? this.explainBackend : this.backend;
      const info = await backend.ensureLoaded();
      if (!info.hasChatTemplate && !this.warnedNoTemplate.has(info.name)) {
        this.warnedNoTemplate.add(info.name);
        void vscode.window.showWarningMessage(
          `Attentive: ${info.name} has no chat template, so the chat sends it a plain "User: / Assistant:" transcript; a completion-only model answers poorly. "Attentive: Select Model" offers chat models.`,
        );
      }
      const settings = readSettings();
      const reserve = Math.min(settings.maxNewTokens, Math.floor(info.contextLength / 2));
      const onEvent = (event: EngineEvent) => {
        if (event.type === 'queued') {
          reply.status = 'queued';
          update();
        } else if (event.type === 'started') {
          this.progress.fire({ entryId: reply.id, step: 'started' });
          reply.status = 'streaming';
          update();
        } else if (event.type === 'delta') {
          this.progress.fire({ entryId: reply.id, step: 'firstDelta' });
          reply.content += event.text;
          if (visible()) this.send({ type: 'delta', entryId: reply.id, text: event.text });
        }
      };
      // A model server counts tokens its own way (ours are estimates there): when it says the prompt is too long,
      // the prompt is built again with less room, once, and the reply says so.
      let budget = info.contextLength - reserve - 8;
      let retried = false;
      let prompt: BuiltPrompt;
      let result: GenerateResult;
      for (;;) {
        prompt = await buildPrompt(history, request, tokenCounter(backend, controller.signal), budget);
        this.progress.fire({ entryId: reply.id, step: 'call' });
        try {
          result = await backend.chat({ ...generationDefaults(settings), messages: prompt.messages, repetitionPenalty: 1.1 }, { signal: controller.signal, onEvent });
          break;
        } catch (error) {
          if (retried || reply.content || !(error instanceof EngineError && error.code === 'prompt-too-long')) throw error;
          retried = true;
          budget = Math.floor(budget * 0.6);
          this.log.appendLine(`[chat] ${error.message}; sending it again with ${budget} tokens of prompt`);
        }
      }
      const trimmedNote = [prompt.trimmedNote, retried ? 'the server found the prompt too long, so it was sent again, shorter' : undefined].filter(Boolean).join('; ');
      usage = result.usage;
      reply.content = result.text;
      reply.status = result.finishReason === 'cancelled' ? 'stopped' : 'done';
      reply.stats = {
        model: info.name,
        promptTokens: result.usage.promptTokens,
        generatedTokens: result.usage.generatedTokens,
        timeToFirstTokenMs: Math.round(result.usage.timeToFirstTokenMs),
        tokensPerSecond: Math.round(result.usage.decodeTokensPerSecond),
        ...(trimmedNote ? { trimmedNote } : {}),
      };
    } catch (error) {
      const engineError = EngineError.from(error);
      if (engineError.code === 'cancelled') {
        reply.status = 'stopped';
      } else {
        reply.status = 'error';
        reply.error = engineError.message;
        this.log.appendLine(`[chat] ${engineError.code}: ${engineError.message}`);
      }
    } finally {
      this.running = null;
      conversation.updatedAt = Date.now();
      this.store.save(conversation);
      update();
      // Always: `busy` changed, whichever conversation is on screen now.
      this.pushState();
      this.progress.fire(usage ? { entryId: reply.id, step: 'end', usage } : { entryId: reply.id, step: 'end' });
      this.waiting.shift()?.();
    }
  }


  private modelStatus(): ModelStatus {
    const state = this.displayed.state;
    return { kind: state.kind, text: describeState(state).tooltip.replace(/^Attentive: /, '') };
  }

  private pushState(): void {
    this.send({ type: 'state', state: this.state() });
  }

  private send(message: HostMessage): void {
    this.post?.(message);
  }

  dispose(): void {
    this.stop();
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}

/** Counts with the backend's tokenizer (the worker's: a second copy here would cost tens of MB for a 150k vocabulary). */
function tokenCounter(backend: Backend, signal: AbortSignal): TokenCounter {
  return {
    count: (texts) => backend.countTokens(texts, { signal }),
    truncate: (text, maxTokens) => backend.truncateToTokens(text, maxTokens, { signal }),
  };
}
