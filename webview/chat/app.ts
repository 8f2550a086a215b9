// The chat webview as one object: builds the layout, applies HostMessages, and keeps the webview's own state
// (draft, scroll position) with getState/setState. main.ts only creates it and forwards window messages, so tests
// drive it directly with a stubbed acquireVsCodeApi.

import type { ChatViewState, HostMessage, ModelStatus, WebviewMessage } from '../../src/protocol/chat';
import { Composer } from './composer';
import { button, el } from './dom';
import { HistoryPanel } from './history';
import { MessageList, type Schedule } from './messages';
import { getChatApi, type ChatApi, type PersistedState } from './vscodeApi';

export interface ChatAppOptions {
  api?: ChatApi;
  /** Defers a streamed re-render; requestAnimationFrame in the browser. */
  schedule?: Schedule;
}

const HOST_MESSAGE_TYPES = new Set<HostMessage['type']>(['state', 'delta', 'entry', 'model', 'focusInput']);

/** The host is trusted, but a stray window message (another extension's postMessage shim) must not break the view. */
export function isHostMessage(value: unknown): value is HostMessage {
  return typeof value === 'object' && value !== null && HOST_MESSAGE_TYPES.has((value as { type?: unknown }).type as HostMessage['type']);
}

export class ChatApp {
  private readonly api: ChatApi;
  private readonly schedule: Schedule;
  private started = false;
  private conversationId: string | null = null;
  private hostBusy = false;
  private persisted: PersistedState;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly dismissedNotices = new Set<string>();

  // Built on the first `state`; before that the root shows a skeleton.
  private ui:
    | {
        title: HTMLElement;
        progress: HTMLElement;
        notice: HTMLElement;
        live: HTMLElement;
        messages: MessageList;
        history: HistoryPanel;
        composer: Composer;
      }
    | undefined;

  constructor(
    private readonly root: HTMLElement,
    options: ChatAppOptions = {},
  ) {
    this.api = options.api ?? getChatApi();
    this.schedule = options.schedule ?? ((callback) => requestAnimationFrame(() => callback()));
    this.persisted = this.api.getState() ?? { draft: '', scrollTop: 0, pinned: true };
  }

  /** Shows the skeleton and asks the host for the state. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.root.className = 'chat loading';
    this.root.setAttribute('aria-busy', 'true');
    this.root.replaceChildren(
      el(
        'div',
        { className: 'skeleton', attrs: { role: 'status', 'aria-label': 'Loading the chat' } },
        el('div', { className: 'skeleton-bar skeleton-header' }),
        el('div', { className: 'skeleton-bar' }),
        el('div', { className: 'skeleton-bar short' }),
        el('div', { className: 'skeleton-bar' }),
        el('div', { className: 'skeleton-bar skeleton-input' }),
      ),
    );
    this.post({ type: 'ready' });
  }

  get messages(): MessageList | undefined {
    return this.ui?.messages;
  }

  get composer(): Composer | undefined {
    return this.ui?.composer;
  }

  get history(): HistoryPanel | undefined {
    return this.ui?.history;
  }

  get busy(): boolean {
    return this.hostBusy || (this.ui?.messages.hasActiveEntry() ?? false);
  }

  handle(message: HostMessage): void {
    switch (message.type) {
      case 'state':
        this.applyState(message.state);
        break;
      case 'delta':
        if (this.ui?.messages.applyDelta(message.entryId, message.text)) this.busyChanged();
        break;
      case 'entry': {
        if (!this.ui) break;
        this.ui.messages.applyEntry(message.entry);
        if (message.entry.role === 'assistant' && !this.ui.messages.hasActiveEntry()) this.hostBusy = false;
        this.busyChanged();
        break;
      }
      case 'model':
        this.applyModel(message.model);
        break;
      case 'focusInput':
        if (this.ui?.history.isOpen) this.closeHistory();
        this.ui?.composer.focus();
        break;
    }
  }

  /** Renders pending streamed text now (tests; the browser does it on the next frame). */
  flush(): void {
    this.ui?.messages.flush();
  }

  /** Posts a pending draft at once (the view is being hidden). */
  flushDraft(): void {
    this.ui?.composer.flushDraft();
  }

  private post(message: WebviewMessage): void {
    this.api.postMessage(message);
    if (message.type === 'send' || message.type === 'editLast' || message.type === 'regenerate' || message.type === 'retry') this.ui?.messages.pinToBottom();
  }

  private build(): NonNullable<ChatApp['ui']> {
    const title = el('h1', { className: 'title', text: 'New chat' });
    const progress = el('div', { className: 'progress', attrs: { role: 'progressbar', 'aria-label': 'Loading the model' } }, el('div', { className: 'progress-bar' }));
    progress.hidden = true;
    const notice = el('div', { className: 'notice', attrs: { role: 'status' } });
    notice.hidden = true;
    const live = el('div', { className: 'visually-hidden', attrs: { role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' } });
    const messages = new MessageList({
      post: (m) => this.post(m),
      schedule: this.schedule,
      announce: (text) => {
        live.textContent = '';
        // A fresh text node so screen readers announce even a repeated message.
        setTimeout(() => (live.textContent = text), 50);
      },
      onScroll: (scrollTop, pinned) => {
        this.persisted = { ...this.persisted, scrollTop, pinned };
        this.saveSoon();
      },
    });
    const history = new HistoryPanel({ post: (m) => this.post(m), close: () => this.closeHistory() });
    const composer = new Composer({
      post: (m) => this.post(m),
      isBusy: () => this.busy,
      lastUserText: () => messages.lastUserText(),
      onDraft: (text) => {
        this.persisted = { ...this.persisted, draft: text };
        this.saveSoon();
      },
    });
    const header = el(
      'header',
      { className: 'header' },
      title,
      button({ label: 'Chat history', icon: 'history', className: 'history-button', onClick: () => (history.isOpen ? this.closeHistory() : this.openHistory()) }),
      button({
        label: 'New chat',
        icon: 'plus',
        className: 'new-chat',
        onClick: () => {
          this.closeHistory();
          this.post({ type: 'newChat' });
          composer.focus();
        },
      }),
    );
    this.root.className = 'chat';
    this.root.removeAttribute('aria-busy');
    this.root.replaceChildren(header, progress, notice, el('main', { className: 'main' }, messages.element, history.element), composer.element, live);
    this.root.addEventListener('keydown', (event) => {
      // Escape anywhere in the view stops the reply (the textarea, history and edit box handle theirs first).
      if (event.key === 'Escape' && !event.defaultPrevented && this.busy) {
        event.preventDefault();
        this.post({ type: 'stop' });
      }
    });
    return { title, progress, notice, live, messages, history, composer };
  }

  private applyState(state: ChatViewState): void {
    const first = !this.ui;
    if (!this.ui) this.ui = this.build();
    const ui = this.ui;
    const conversation = state.conversation;
    const switched = this.conversationId !== null && this.conversationId !== conversation.id;
    this.conversationId = conversation.id;
    this.hostBusy = state.busy;

    ui.title.textContent = conversation.title || 'New chat';
    ui.title.title = ui.title.textContent;
    ui.messages.setEntries(conversation.entries, this.busy);
    if (first) {
      const saved = this.persisted;
      if (saved.conversationId === conversation.id) ui.messages.restoreScroll(saved.scrollTop, saved.pinned);
      else ui.messages.restoreScroll(0, true);
      // The host's draft wins; the webview's own copy covers a draft the host never received.
      ui.composer.setText(state.draft || saved.draft || '', state.draft);
      ui.composer.flushDraft();
    } else if (switched) {
      ui.messages.restoreScroll(0, true);
    }
    this.persisted = { ...this.persisted, conversationId: conversation.id };
    this.saveSoon();

    ui.messages.setRunsOn(state.runsOn);
    ui.composer.setAttachments(state.attachments);
    ui.history.setConversations(state.conversations, conversation.id);
    this.applyModel(state.model);
    this.busyChanged();

    if (state.notice && !this.dismissedNotices.has(state.notice)) {
      const text = state.notice;
      ui.notice.replaceChildren(
        el('span', { className: 'notice-text', text }),
        button({
          label: 'Dismiss',
          icon: 'close',
          onClick: () => {
            this.dismissedNotices.add(text);
            ui.notice.hidden = true;
          },
        }),
      );
      ui.notice.hidden = false;
    } else if (!state.notice) {
      ui.notice.hidden = true;
    }
  }

  private applyModel(model: ModelStatus): void {
    if (!this.ui) return;
    this.ui.progress.hidden = model.kind !== 'loading';
    this.ui.composer.setModel(model);
  }

  private busyChanged(): void {
    if (!this.ui) return;
    this.ui.messages.setBusy(this.busy);
    this.ui.composer.updateButtons();
  }

  private openHistory(): void {
    if (!this.ui) return;
    this.ui.messages.element.hidden = true;
    this.ui.history.open();
    this.root.classList.add('showing-history');
  }

  private closeHistory(): void {
    if (!this.ui || !this.ui.history.isOpen) return;
    this.ui.history.hide();
    this.ui.messages.element.hidden = false;
    this.root.classList.remove('showing-history');
    this.ui.composer.focus();
  }

  private saveSoon(): void {
    if (this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.api.setState(this.persisted);
    }, 100);
  }
}
