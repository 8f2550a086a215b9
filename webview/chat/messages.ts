// The message list: one <article> per entry, reconciled by id so that unchanged entries keep their DOM (and focus),
// streamed deltas re-render only their entry at most once per animation frame, and the list stays pinned to the
// bottom only while the user is at the bottom.

import type { AttachmentInfo, ChatBackendInfo, ViewEntry, ReplyStats, WebviewMessage } from '../../src/protocol/chat';
import { MAX_ATTACHMENT_CHARS, SLASH_COMMANDS } from '../../src/protocol/chat';
import { button, el, icon, type IconName } from './dom';
import { flashCopied, renderMarkdown, type CodeActionHandler } from './markdown';

export type Post = (message: WebviewMessage) => void;
export type Schedule = (callback: () => void) => void;

/** "model · 42 tokens · first token 180 ms · 31.5 tok/s" */
export function formatStats(stats: ReplyStats): string {
  const parts = [
    stats.model,
    `${stats.generatedTokens} ${stats.generatedTokens === 1 ? 'token' : 'tokens'}`,
    `first token ${Math.round(stats.timeToFirstTokenMs)} ms`,
    `${stats.tokensPerSecond.toFixed(1)} tok/s`,
  ];
  return parts.filter(Boolean).join(' · ');
}

/** "1,234 tokens", "~1,234 tokens" (a model server's estimate), or nothing before they are counted. */
function tokenText(attachment: AttachmentInfo): string | undefined {
  const tokens = attachment.tokens;
  if (!tokens) return undefined;
  return `${tokens.estimated ? '~' : ''}${tokens.count.toLocaleString('en-US')} ${tokens.count === 1 ? 'token' : 'tokens'}`;
}

const CHIP_ICONS: Record<AttachmentInfo['kind'], IconName> = { selection: 'selection', file: 'file', folder: 'folder', symbol: 'symbol', problems: 'problems', changes: 'changes', open: 'editors', workspace: 'symbol' };

function chipTitle(attachment: AttachmentInfo): string {
  const what = attachment.kind === 'selection' ? `${attachment.fileName} (selection)` : attachment.kind === 'file' ? attachment.fileName : attachment.label;
  const tokens = attachment.tokens;
  const size = tokens
    ? tokens.count > tokens.context
      ? `${tokenText(attachment)}: more than the model's ${tokens.context.toLocaleString('en-US')}-token context, so only its beginning is sent`
      : tokenText(attachment)
    : undefined;
  const parts = [what, ...(size ? [size] : [])];
  if (attachment.cut) {
    parts.push(
      attachment.cut.keptLines === 0
        ? 'its text was not kept in the saved history'
        : `only its first ${attachment.cut.keptLines} of ${attachment.cut.totalLines} lines are sent (attachments are cut at ${MAX_ATTACHMENT_CHARS.toLocaleString('en-US')} characters)`,
    );
  }
  if (attachment.parts) {
    parts.push(`only the first ${attachment.parts.kept} of ${attachment.parts.total} ${attachment.parts.unit} are sent (in path order, while they fit ${MAX_ATTACHMENT_CHARS.toLocaleString('en-US')} characters)`);
  }
  return parts.join(': ');
}

function chipLabel(attachment: AttachmentInfo): string {
  if (attachment.cut) return `${attachment.label} (${attachment.cut.keptLines} of ${attachment.cut.totalLines} lines)`;
  if (attachment.parts) return `${attachment.label} (${attachment.parts.kept} of ${attachment.parts.total} ${attachment.parts.unit})`;
  return attachment.label;
}

/** A chip: icon, label (a button that opens what it holds when `open` is given), token count, and remove when given. */
export function attachmentChip(attachment: AttachmentInfo, actions: { remove?: () => void; open?: () => void } = {}): HTMLElement {
  const over = attachment.tokens !== undefined && attachment.tokens.count > attachment.tokens.context;
  const label = actions.open
    ? button({ label: `Open ${attachment.label}`, text: chipLabel(attachment), className: 'chip-label chip-open', onClick: actions.open })
    : el('span', { className: 'chip-label', text: chipLabel(attachment) });
  const chip = el('span', { className: `${actions.remove ? 'chip' : 'chip compact'}${over ? ' over-context' : ''}`, title: chipTitle(attachment) }, icon(CHIP_ICONS[attachment.kind]), label);
  const tokens = tokenText(attachment);
  if (tokens) chip.append(el('span', { className: 'chip-tokens', text: tokens }));
  if (actions.remove) chip.append(button({ label: `Remove ${attachment.label}`, icon: 'close', className: 'chip-remove', onClick: actions.remove }));
  return chip;
}

const ACTIVE = new Set<ViewEntry['status']>(['queued', 'streaming']);

interface EntryView {
  entry: ViewEntry;
  root: HTMLElement;
  header: HTMLElement;
  actions: HTMLElement;
  body: HTMLElement;
  rest: HTMLElement;
  /** What the body was last rendered from; a re-render happens only when it changes. */
  bodyKey: string;
  actionsKey: string;
  editing: boolean;
}

export interface MessageListOptions {
  post: Post;
  schedule: Schedule;
  /** Text for the visually-hidden live region (a finished reply, a stop, an error). */
  announce: (text: string) => void;
  /** After the user scrolls: persist the position. */
  onScroll?: (scrollTop: number, pinned: boolean) => void;
}

export class MessageList {
  readonly element: HTMLElement;
  private readonly views = new Map<string, EntryView>();
  private order: string[] = [];
  private readonly dirty = new Set<string>();
  private frameRequested = false;
  private busy = false;
  private pinned = true;
  /** Where scrollToBottom last put the list. */
  private programmaticTop = -1;
  private readonly welcome: HTMLElement;
  private runsOnKey = '';

  constructor(private readonly options: MessageListOptions) {
    this.element = el('div', {
      className: 'messages',
      attrs: { role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': 'Chat messages', tabindex: '0' },
    });
    this.welcome = this.buildWelcome();
    this.element.addEventListener('scroll', () => {
      // Scroll events arrive a frame late: one caused by our own scrollToBottom may see a list that has since grown
      // (or a composer that grew), and must not unpin it. Only a position the user chose decides.
      if (this.atBottom()) this.pinned = true;
      else if (Math.abs(this.element.scrollTop - this.programmaticTop) > 1) this.pinned = false;
      this.options.onScroll?.(this.element.scrollTop, this.pinned);
    });
    // The list shrinks when the composer grows (more lines, attachments): stay at the bottom if pinned.
    if (typeof ResizeObserver !== 'undefined') {
      new ResizeObserver(() => {
        if (this.pinned) this.scrollToBottom();
      }).observe(this.element);
    }
  }

  get isPinned(): boolean {
    return this.pinned;
  }

  /** After the user sends, regenerates or retries: follow the new reply even if they had scrolled up. */
  pinToBottom(): void {
    this.scrollToBottom();
  }

  /** Restores a saved position (pinned lists go to the bottom instead). */
  restoreScroll(scrollTop: number, pinned: boolean): void {
    this.pinned = pinned;
    if (pinned) this.scrollToBottom();
    else {
      this.element.scrollTop = scrollTop;
      this.programmaticTop = this.element.scrollTop;
    }
  }

  entries(): ViewEntry[] {
    return this.order.map((id) => this.views.get(id)!.entry);
  }

  entry(id: string): ViewEntry | undefined {
    return this.views.get(id)?.entry;
  }

  lastUserText(): string | undefined {
    const entries = this.entries();
    for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.role === 'user') return entries[i]!.content;
    return undefined;
  }

  /** Whether any entry is queued or streaming. */
  hasActiveEntry(): boolean {
    return this.entries().some((e) => ACTIVE.has(e.status));
  }

  /** A full list from a `state` message: reuse the DOM of unchanged entries, re-render the rest. */
  setEntries(entries: ViewEntry[], busy: boolean): void {
    const wasPinned = this.pinned;
    this.busy = busy;
    const next = new Map<string, EntryView>();
    for (const entry of entries) {
      const existing = this.views.get(entry.id);
      if (existing) {
        const finished = ACTIVE.has(existing.entry.status) && !ACTIVE.has(entry.status);
        existing.entry = entry;
        if (finished) this.announceEnd(existing);
        next.set(entry.id, existing);
      } else {
        next.set(entry.id, this.createView(entry));
      }
    }
    this.views.clear();
    for (const [id, view] of next) this.views.set(id, view);
    this.order = entries.map((e) => e.id);
    for (const id of this.order) this.dirty.add(id);
    const children: HTMLElement[] = this.order.map((id) => this.views.get(id)!.root);
    if (!children.length) children.push(this.welcome);
    // Re-inserting nodes would blur a focused button or edit box: only touch the DOM when the list changed.
    const current = Array.from(this.element.children);
    if (current.length !== children.length || current.some((node, i) => node !== children[i])) this.element.replaceChildren(...children);
    this.renderDirty();
    if (wasPinned) this.scrollToBottom();
  }

  setBusy(busy: boolean): void {
    if (busy === this.busy) return;
    this.busy = busy;
    this.renderActions();
  }

  /** A streamed piece of text: appended now, shown on the next frame. Returns false for an unknown entry. */
  applyDelta(entryId: string, text: string): boolean {
    const view = this.views.get(entryId);
    if (!view) return false;
    const status = view.entry.status === 'queued' ? 'streaming' : view.entry.status;
    view.entry = { ...view.entry, content: view.entry.content + text, status };
    this.markDirty(entryId);
    return true;
  }

  /** A changed (or new) entry from an `entry` message. */
  applyEntry(entry: ViewEntry): void {
    const view = this.views.get(entry.id);
    if (!view) {
      const created = this.createView(entry);
      this.views.set(entry.id, created);
      this.order.push(entry.id);
      this.welcome.remove();
      this.element.append(created.root);
      this.markDirty(entry.id);
      this.renderActions();
      return;
    }
    const finished = ACTIVE.has(view.entry.status) && !ACTIVE.has(entry.status);
    view.entry = entry;
    if (finished) this.announceEnd(view);
    this.markDirty(entry.id);
  }

  /** Renders pending changes now (used by tests and before reading the DOM). */
  flush(): void {
    this.frameRequested = false;
    const wasPinned = this.pinned;
    this.renderDirty();
    if (wasPinned) this.scrollToBottom();
  }

  /** Starts editing the last user message (its Edit button). */
  editLast(): void {
    const entries = this.entries();
    const last = [...entries].reverse().find((e) => e.role === 'user');
    if (!last || this.busy) return;
    const view = this.views.get(last.id)!;
    view.editing = true;
    view.bodyKey = '';
    this.renderView(view);
    view.body.querySelector('textarea')?.focus();
  }

  private markDirty(id: string): void {
    this.dirty.add(id);
    if (this.frameRequested) return;
    this.frameRequested = true;
    this.options.schedule(() => {
      if (this.frameRequested) this.flush();
    });
  }

  private renderDirty(): void {
    for (const id of this.dirty) {
      const view = this.views.get(id);
      if (view) this.renderView(view);
    }
    this.dirty.clear();
    this.renderActions();
  }

  private atBottom(): boolean {
    return this.element.scrollHeight - this.element.scrollTop - this.element.clientHeight < 24;
  }

  private scrollToBottom(): void {
    this.element.scrollTop = this.element.scrollHeight;
    this.programmaticTop = this.element.scrollTop;
    this.pinned = true;
  }

  private buildWelcome(): HTMLElement {
    return el('div', { className: 'welcome' }, ...this.welcomeContent({ kind: 'local', description: '' }));
  }

  /** The welcome says where the chat runs; on the small bundled model it offers the two ways to a capable one. */
  setRunsOn(runsOn: ChatBackendInfo): void {
    const key = `${runsOn.kind}\n${runsOn.description}`;
    if (key === this.runsOnKey) return;
    this.runsOnKey = key;
    this.welcome.replaceChildren(...this.welcomeContent(runsOn));
  }

  private welcomeContent(runsOn: ChatBackendInfo): HTMLElement[] {
    const where =
      runsOn.kind === 'server'
        ? `The chat runs on ${runsOn.description}.`
        : runsOn.kind === 'bundled'
          ? 'The chat runs on the small model that comes with Attentive, on this machine. It is made for inline completion and attention maps, and answers questions poorly. For a capable chat model:'
          : 'The model runs on this machine.';
    const content: HTMLElement[] = [el('h2', { className: 'welcome-title', text: 'Ask Attentive about your code' }), el('p', { className: 'welcome-text', text: where })];
    if (runsOn.kind === 'bundled') {
      content.push(
        el(
          'div',
          { className: 'welcome-actions' },
          button({ label: 'Download a chat model (Select Model)', text: 'Download a model', className: 'primary', onClick: () => this.options.post({ type: 'setup', action: 'selectModel' }) }),
          button({ label: 'Connect a model server: Ollama, LM Studio, llama.cpp, vLLM', text: 'Connect a model server', onClick: () => this.options.post({ type: 'setup', action: 'addModelServer' }) }),
        ),
      );
    }
    content.push(
      el('p', { className: 'welcome-text', text: 'Attach the selection or a file, then ask, or start with a command:' }),
      el('ul', { className: 'welcome-commands' }, ...SLASH_COMMANDS.map((c) => el('li', {}, el('code', { text: `/${c.name}` }), ` ${c.description}`))),
    );
    return content;
  }

  private createView(entry: ViewEntry): EntryView {
    const actions = el('div', { className: 'entry-actions' });
    const header = el(
      'div',
      { className: 'entry-header' },
      el('span', { className: 'entry-role', text: entry.role === 'user' ? 'You' : 'Attentive' }),
      actions,
    );
    const body = el('div', { className: entry.role === 'user' ? 'entry-body plain' : 'entry-body markdown' });
    const rest = el('div', { className: 'entry-rest' });
    const root = el('article', { className: `entry entry-${entry.role}`, attrs: { 'data-entry-id': entry.id } }, header, body, rest);
    return { entry, root, header, actions, body, rest, bodyKey: '', actionsKey: '', editing: false };
  }

  /** The toolbar handler of one reply's code blocks. */
  private codeActions(entryId: string): CodeActionHandler {
    return (action, block, target) => {
      if (action === 'copy') {
        // The host writes the clipboard (reliable in every webview); the browser API is a best-effort extra.
        navigator.clipboard?.writeText(block.code).catch(() => undefined);
        flashCopied(target);
      }
      this.options.post({ type: 'codeAction', action, code: block.code, language: block.language, entryId });
    };
  }

  private renderView(view: EntryView): void {
    const { entry } = view;
    view.root.className = `entry entry-${entry.role} status-${entry.status}${view.editing ? ' editing' : ''}`;
    if (entry.status === 'streaming' || entry.status === 'queued') view.root.setAttribute('aria-busy', 'true');
    else view.root.removeAttribute('aria-busy');
    const key = JSON.stringify([entry.content, entry.status, entry.error ?? '', entry.stats ?? null, entry.attachments?.map((a) => [a.id, a.tokens?.count ?? null]) ?? [], view.editing]);
    if (key === view.bodyKey) return;
    view.bodyKey = key;
    if (entry.role === 'user') this.renderUser(view);
    else this.renderAssistant(view);
  }

  private renderUser(view: EntryView): void {
    const { entry } = view;
    const attachments = entry.attachments?.length ? el('div', { className: 'entry-attachments' }, ...entry.attachments.map((a) => attachmentChip(a, { open: () => this.options.post({ type: 'openAttachment', id: a.id }) }))) : null;
    if (!view.editing) {
      view.body.replaceChildren(el('div', { className: 'user-text', text: entry.content }));
      view.rest.replaceChildren(...(attachments ? [attachments] : []));
      return;
    }
    const input = el('textarea', { className: 'edit-input', attrs: { 'aria-label': 'Edit your message', rows: '2' } });
    input.value = entry.content;
    const finish = (send: boolean) => {
      const text = input.value;
      if (send && !text.trim()) return;
      view.editing = false;
      view.bodyKey = '';
      if (send) this.options.post({ type: 'editLast', text });
      this.renderView(view);
      this.renderActions(true);
    };
    input.addEventListener('keydown', (event) => {
      if (event.isComposing) return;
      if (event.key === 'Enter' && !event.shiftKey) {
        event.preventDefault();
        finish(true);
      } else if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        finish(false);
      }
    });
    view.body.replaceChildren(
      input,
      el(
        'div',
        { className: 'edit-buttons' },
        el('span', { className: 'hint', text: 'Enter to resend · Shift+Enter for a new line · Escape to cancel' }),
        button({ label: 'Cancel editing', text: 'Cancel', className: 'secondary', onClick: () => finish(false) }),
        button({ label: 'Resend edited message', text: 'Send', className: 'primary', onClick: () => finish(true) }),
      ),
    );
    view.rest.replaceChildren(...(attachments ? [attachments] : []));
  }

  private renderAssistant(view: EntryView): void {
    const { entry } = view;
    if (entry.status === 'queued' && !entry.content) {
      view.body.replaceChildren(el('div', { className: 'entry-note queued' }, el('span', { className: 'dots', attrs: { 'aria-hidden': 'true' } }), 'Queued…'));
    } else if (entry.status === 'streaming' && !entry.content) {
      view.body.replaceChildren(el('div', { className: 'entry-note thinking' }, el('span', { className: 'dots', attrs: { 'aria-hidden': 'true' } }), 'Thinking…'));
    } else {
      const fragment = renderMarkdown(entry.content, this.codeActions(entry.id));
      view.body.replaceChildren(fragment);
      if (entry.status === 'streaming') appendCaret(view.body);
    }
    const rest: HTMLElement[] = [];
    if (entry.status === 'stopped') rest.push(el('div', { className: 'entry-marker stopped', text: 'Stopped' }));
    if (entry.status === 'error') rest.push(el('div', { className: 'entry-error', attrs: { role: 'note' } }, icon('close'), el('span', { text: entry.error || 'The reply failed.' })));
    if (entry.stats) {
      const footer = el('div', { className: 'entry-footer' }, el('span', { className: 'stats', text: formatStats(entry.stats) }));
      if (entry.stats.trimmedNote) footer.append(el('span', { className: 'trimmed-note', text: entry.stats.trimmedNote }));
      rest.push(footer);
    }
    view.rest.replaceChildren(...rest);
  }

  /** Edit / Regenerate / Retry / Copy reply, which depend on the entry's place in the list and on busy. */
  private renderActions(force = false): void {
    const entries = this.entries();
    const lastUser = [...entries].reverse().find((e) => e.role === 'user')?.id;
    const last = entries[entries.length - 1];
    const lastAssistant = last?.role === 'assistant' ? last.id : undefined;
    for (const view of this.views.values()) {
      const { entry } = view;
      const canRegenerate = entry.id === lastAssistant && !this.busy && !ACTIVE.has(entry.status);
      const canRetry = canRegenerate && entry.status === 'error';
      const canEdit = entry.id === lastUser && !this.busy && !view.editing;
      const canCopy = entry.role === 'assistant' && !ACTIVE.has(entry.status) && entry.content.length > 0;
      if (view.editing && this.busy) {
        view.editing = false;
        view.bodyKey = '';
        this.renderView(view);
      }
      const key = `${canRegenerate}|${canRetry}|${canEdit}|${canCopy}`;
      if (!force && key === view.actionsKey) continue;
      view.actionsKey = key;
      const buttons: HTMLElement[] = [];
      if (canCopy) {
        const copy = button({
          label: 'Copy reply',
          icon: 'copy',
          onClick: () => {
            navigator.clipboard?.writeText(view.entry.content).catch(() => undefined);
            flashCopied(copy);
            this.options.post({ type: 'codeAction', action: 'copy', code: view.entry.content, language: 'markdown' });
          },
        });
        buttons.push(copy);
      }
      if (canRetry) buttons.push(button({ label: 'Retry', icon: 'refresh', text: 'Retry', className: 'retry', onClick: () => this.options.post({ type: 'retry' }) }));
      else if (canRegenerate) buttons.push(button({ label: 'Regenerate reply', icon: 'refresh', onClick: () => this.options.post({ type: 'regenerate' }) }));
      if (canEdit) buttons.push(button({ label: 'Edit message', icon: 'edit', onClick: () => this.editLast() }));
      view.actions.replaceChildren(...buttons);
    }
  }

  private announceEnd(view: EntryView): void {
    const { entry } = view;
    if (entry.role !== 'assistant') return;
    if (entry.status === 'done') this.options.announce(`Attentive replied: ${plainText(entry.content)}`);
    else if (entry.status === 'stopped') this.options.announce('Reply stopped.');
    else if (entry.status === 'error') this.options.announce(`Reply failed: ${entry.error ?? ''}`);
  }
}

/** The blinking caret at the end of a streaming reply, inside its last paragraph or list item when there is one. */
function appendCaret(body: HTMLElement): void {
  const caret = el('span', { className: 'caret', attrs: { 'aria-hidden': 'true' } });
  let target: Element = body;
  for (let last = body.lastElementChild; last; last = last.lastElementChild) {
    const tag = last.tagName.toLowerCase();
    if (tag === 'p' || tag === 'li' || tag === 'ul' || tag === 'ol' || tag === 'blockquote') target = last;
    else if (tag === 'div' && last.classList.contains('code-block')) {
      target = last.querySelector('code') ?? last;
      break;
    } else break;
  }
  target.append(caret);
}

/** Markdown reduced to readable text for the screen-reader announcement (capped). */
export function plainText(markdownText: string, max = 2000): string {
  const text = markdownText
    .replace(/```[^\n]*\n/g, '')
    .replace(/```/g, '')
    .replace(/[*_`#>]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
