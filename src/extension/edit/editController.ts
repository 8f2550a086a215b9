// Edits by instruction and proposed code, shown as inline diffs: at most one per document. "Edit Selection" asks the
// chat backend (the local engine or a model server) to rewrite the selection, or the block around the cursor, and
// streams its answer into the diff; a follow-up instruction refines the answer; code from the chat ("Apply") is
// proposed the same way without a model.

import * as vscode from 'vscode';
import type { Backend } from '../../backend/backend';
import { extractCode, matchIndentation, unusableAnswer } from './answer';
import { documentLines } from '../shared/documentLines';
import { baseEditPrompt, editMessages, type EditRequest } from './editPrompt';
import { ProposalDiffView } from './diffView';
import { InlineDiff, type DiffOutcome } from './inlineDiff';

/** What an edit request came to once its answer was in (the user's decisions come later: InlineDiff.onDidEnd). */
export type EditResult =
  /** `proposed`: the code shown against the region's lines. */
  | { kind: 'shown'; hunks: number; proposed: string[] }
  | { kind: 'unusable'; reason: string }
  | { kind: 'stopped' }
  | { kind: 'error'; message: string };

export interface Session {
  diff: InlineDiff;
  title: string;
  /** The model's request and its rounds (absent for proposed code). */
  request?: EditRequest;
  rounds: Array<{ instruction: string; answer: string }>;
  controller?: AbortController;
}

/** A change this large (lines removed and added) opens in the diff editor too, as does one over a whole file. */
const LARGE_CHANGE_LINES = 60;
/** Characters of context on each side at most, before the token budget cuts them. */
const CONTEXT_CHARS = 6000;
/** Tokens of a context block's heading and fences ("The code just before it in src/app.py (for context; ..."). */
const CONTEXT_HEADING_TOKENS = 24;
/** Lines of context on each side of the region, before the token budget cuts them. */
const CONTEXT_LINES = { before: 30, after: 15 };
/** How often the streaming answer is written into the document. */
const STREAM_WRITE_MS = 60;

/** Schemes whose documents take edits without a file system of their own (notebook cells, new files). */
const EDITABLE_WITHOUT_FILE_SYSTEM = new Set(['untitled', 'vscode-notebook-cell', 'vscode-interactive-input']);

/**
 * Whether the document can be written: its file system says so, or it has none and is a new file or a notebook cell
 * (a document of a content provider, git's or the output's, is read-only).
 */
function writable(uri: vscode.Uri): boolean {
  const fileSystem = vscode.workspace.fs.isWritableFileSystem(uri.scheme);
  return fileSystem ?? EDITABLE_WITHOUT_FILE_SYSTEM.has(uri.scheme);
}

export class EditController implements vscode.Disposable {
  private readonly sessions = new Map<string, Session>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** A session started, ended, or its hunks changed. */
  readonly onDidChange = this.changed.event;

  private readonly diffView = new ProposalDiffView({
    original: (document) => this.session(document)?.diff.textWith('original'),
    proposed: (document) => this.session(document)?.diff.textWith('proposed'),
  });

  constructor(
    private readonly backend: Backend,
    private readonly log: vscode.OutputChannel,
  ) {}

  /** Opens the open edit of `document` in VS Code's diff editor (the whole file, before and after). */
  showDiff(document: vscode.TextDocument): Promise<void> {
    const session = this.session(document);
    return session ? this.diffView.show(document, session.title) : Promise.resolve();
  }

  /** A large change, or one over the whole file, opens in the diff editor as well. */
  private async showDiffIfLarge(session: Session): Promise<void> {
    const { diff } = session;
    const wholeFile = diff.lines.start === 0 && diff.lines.end >= diff.document.lineCount - 1 && diff.document.lineCount > 1;
    if (!diff.isEnded && (diff.changedLines >= LARGE_CHANGE_LINES || (wholeFile && diff.openHunks().length))) await this.showDiff(diff.document);
  }

  /** The proposal open in `document`, if any. */
  session(document: vscode.TextDocument): Session | undefined {
    return this.sessions.get(document.uri.toString());
  }

  get hasProposals(): boolean {
    return this.sessions.size > 0;
  }

  /**
   * A diff over lines [first, last] of `document`, or why not: one is open there already, or the document is
   * read-only (the user is told).
   */
  private open(document: vscode.TextDocument, first: number, last: number, title: string): Session | 'busy' | 'read-only' {
    const key = document.uri.toString();
    if (this.sessions.has(key)) {
      void vscode.window.showInformationMessage('Attentive: accept or reject the proposed edit in this file first.');
      return 'busy';
    }
    if (!writable(document.uri)) {
      void vscode.window.showInformationMessage(`Attentive: ${vscode.workspace.asRelativePath(document.uri)} is read-only.`);
      return 'read-only';
    }
    const diff = new InlineDiff(document, first, last);
    const session: Session = { diff, title, rounds: [] };
    this.sessions.set(key, session);
    diff.onDidChange(() => {
      this.diffView.refresh(document);
      this.changed.fire();
    });
    diff.onDidEnd((outcome) => {
      session.controller?.abort();
      this.sessions.delete(key);
      void this.diffView.close(document);
      queueMicrotask(() => diff.dispose()); // not from inside its own event
      this.log.appendLine(`[edit] ${vscode.workspace.asRelativePath(document.uri)}: ${outcome}`);
      this.changed.fire();
    });
    this.changed.fire();
    return session;
  }

  /**
   * Shows `code` in place of lines [first, last] of `document` (last < first: inserted before line `first`) as a diff
   * to accept or reject; `reindent`: shifted to the region's indentation (code from a model). Resolves with how it ended.
   */
  async propose(document: vscode.TextDocument, first: number, last: number, code: string, title: string, reindent = false): Promise<DiffOutcome | 'busy' | 'read-only' | 'unchanged'> {
    const session = this.open(document, first, last, title);
    if (typeof session === 'string') return session;
    const given = code.replace(/\r\n?/g, '\n').split('\n');
    const lines = reindent ? matchIndentation(session.diff.original, given) : given;
    if (lines.join('\n') === session.diff.original.join('\n')) {
      await session.diff.restore();
      void vscode.window.showInformationMessage('Attentive: the code is already there; nothing to change.');
      return 'unchanged';
    }
    const ended = new Promise<DiffOutcome>((resolve) => session.diff.onDidEnd(resolve));
    await session.diff.update(lines, false);
    // Not awaited: the diff editor's opening may never settle if the proposal ends (and its tab closes) meanwhile.
    void this.showDiffIfLarge(session);
    return ended;
  }

  /** Rewrites lines [first, last] of the editor's document as `instruction` says, streaming the answer into a diff. */
  async edit(editor: vscode.TextEditor, first: number, last: number, instruction: string): Promise<EditResult> {
    const document = editor.document;
    const session = this.open(document, first, last, instruction);
    if (session === 'busy') return { kind: 'error', message: 'An edit is already open in this file.' };
    if (session === 'read-only') return { kind: 'error', message: 'The file is read-only.' };
    session.request = {
      fileName: vscode.workspace.asRelativePath(document.uri),
      language: document.languageId,
      code: session.diff.original.join('\n'),
      before: documentLines(document, Math.max(0, first - CONTEXT_LINES.before), first).join('\n'),
      after: documentLines(document, last + 1, Math.min(document.lineCount, last + 1 + CONTEXT_LINES.after)).join('\n'),
      instruction,
    };
    return this.run(session);
  }

  /** A further instruction for the open edit in `document`: the model refines its last answer. */
  async refine(document: vscode.TextDocument, instruction: string): Promise<EditResult> {
    const session = this.session(document);
    if (!session?.request) return { kind: 'error', message: 'No edit by instruction is open in this file.' };
    session.controller?.abort();
    session.request = { ...session.request, instruction };
    return this.run(session);
  }

  /** Asks the model and streams its answer into the session's diff. */
  private async run(session: Session): Promise<EditResult> {
    const request = session.request!;
    const controller = new AbortController();
    session.controller = controller;
    const diff = session.diff;
    const outside = this.linesOutside(diff);
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    const show = (complete: boolean) => diff.update(matchIndentation(diff.original, extractCode(answer, complete)), !complete);
    try {
      await diff.update([], true);
      const info = await this.backend.ensureLoaded();
      const prompt = await this.fitContext(session, info.hasChatTemplate, info.contextLength, controller.signal);
      if (typeof prompt === 'string') throw new Error(prompt);
      const onEvent = (event: { type: string; text?: string }) => {
        if (event.type !== 'delta' || !event.text) return;
        answer += event.text;
        timer ??= setTimeout(() => {
          timer = undefined;
          if (!controller.signal.aborted) void show(false);
        }, STREAM_WRITE_MS);
      };
      const options = { signal: controller.signal, onEvent };
      const result = info.hasChatTemplate
        ? await this.backend.chat({ messages: editMessages(request, session.rounds), maxNewTokens: prompt.maxNewTokens, temperature: 0 }, options)
        : await this.backend.generate({ ...baseEditPrompt(request), maxNewTokens: prompt.maxNewTokens, temperature: 0, overflow: 'error' }, options);
      clearTimeout(timer);
      answer = result.text;
      if (controller.signal.aborted || diff.isEnded) return { kind: 'stopped' };
      const proposed = matchIndentation(diff.original, extractCode(answer, true));
      const unusable = unusableAnswer(diff.original, proposed, outside);
      if (unusable) {
        this.log.appendLine(`[edit] unusable answer (${unusable}):\n${answer}`);
        void vscode.window.showWarningMessage(`Attentive: ${unusable} ${await this.fallBack(session)}`);
        return { kind: 'unusable', reason: unusable };
      }
      session.rounds.push({ instruction: request.instruction, answer: proposed.join('\n') });
      await diff.update(proposed, false);
      void this.showDiffIfLarge(session);
      return { kind: 'shown', hunks: diff.openHunks().length, proposed };
    } catch (error) {
      clearTimeout(timer);
      if (controller.signal.aborted || diff.isEnded) return { kind: 'stopped' };
      const message = (error as Error).message;
      this.log.appendLine(`[edit] ${message}`);
      void vscode.window.showErrorMessage(`Attentive: the edit failed: ${message} ${await this.fallBack(session)}`);
      return { kind: 'error', message };
    }
  }

  /**
   * After an answer that cannot be used: the previous proposal again when this was a follow-up, else the original
   * text (the session ends). Says which.
   */
  private async fallBack(session: Session): Promise<string> {
    const previous = session.rounds.at(-1);
    if (previous) {
      await session.diff.update(previous.answer.split('\n'), false);
      return 'The previous proposal is shown again.';
    }
    await session.diff.restore();
    return 'Nothing in the file was changed.';
  }

  /** The document's lines outside the region (to recognise an answer that rewrote the whole file). */
  private linesOutside(diff: InlineDiff): string[] {
    const { start, end } = diff.lines;
    return [...documentLines(diff.document, 0, start), ...documentLines(diff.document, end)];
  }

  /**
   * The request with its context cut to the model's window, and the answer's token budget: room for the region twice
   * over (a rewrite may grow) plus some. A region too long for that is refused with the reason. The prompt without
   * context (system prompt, earlier rounds, the region, the instruction) is counted as it will be sent.
   */
  private async fitContext(session: Session, chat: boolean, contextLength: number, signal: AbortSignal): Promise<{ maxNewTokens: number } | string> {
    const request = session.request!;
    // Far too long to be worth tokenizing (no tokenizer packs 16 characters into every token).
    if (request.code.length > contextLength * 16) {
      return `The code to edit is ${request.code.length.toLocaleString('en-US')} characters: far more than the model's context of ${contextLength} tokens. Select less.`;
    }
    // Context lines of minified code can be enormous: at most a few thousand characters each side, nearest kept.
    request.before = request.before.slice(-CONTEXT_CHARS);
    request.after = request.after.slice(0, CONTEXT_CHARS);
    const bare = { ...request, before: '', after: '' };
    const messages = chat ? editMessages(bare, session.rounds) : [];
    const prompt = chat ? messages.map((m) => m.content).join('\n') : baseEditPrompt(bare).prompt;
    const [code = 0, promptTokens = 0, before = 0, after = 0] = await this.backend.countTokens([request.code, prompt, request.before, request.after], { signal });
    const maxNewTokens = Math.min(Math.floor(contextLength / 2), code * 2 + 64);
    // Each message's role markers; each context block's heading and fences.
    const room = contextLength - maxNewTokens - promptTokens - 8 * messages.length - 2 * CONTEXT_HEADING_TOKENS;
    if (maxNewTokens < code + 16 || room < 0) {
      return `The code to edit is ${code} tokens: too long for the model's context of ${contextLength} tokens (its answer needs as much room again). Select less.`;
    }
    // Context lines nearest the region are kept; "before" gets two thirds of what there is room for.
    const keep = (text: string, tokens: number, budget: number, fromEnd: boolean) => {
      if (tokens <= budget) return text;
      const lines = text.split('\n');
      const count = Math.floor((lines.length * Math.max(0, budget)) / Math.max(1, tokens));
      return (fromEnd ? lines.slice(lines.length - count) : lines.slice(0, count)).join('\n');
    };
    const beforeBudget = Math.floor((room * 2) / 3);
    request.before = keep(request.before, before, beforeBudget, true);
    request.after = keep(request.after, after, room - Math.min(before, beforeBudget), false);
    return { maxNewTokens };
  }

  /** Stop: abort a streaming answer (its diff is put back to the original). */
  async stop(document: vscode.TextDocument): Promise<void> {
    const session = this.session(document);
    if (!session) return;
    session.controller?.abort();
    await session.diff.restore();
  }

  async decideAll(document: vscode.TextDocument, status: 'accepted' | 'rejected'): Promise<void> {
    const session = this.session(document);
    if (!session) return;
    if (session.diff.isStreaming) return this.stop(document);
    await session.diff.decideAll(status);
  }

  async decide(document: vscode.TextDocument, hunk: number, status: 'accepted' | 'rejected'): Promise<void> {
    const session = this.session(document);
    if (session && !session.diff.isStreaming) await session.diff.decide(hunk, status);
  }

  dispose(): void {
    for (const session of this.sessions.values()) {
      session.controller?.abort();
      session.diff.dispose();
    }
    this.sessions.clear();
    this.changed.dispose();
    this.diffView.dispose();
  }
}
