// The conversation list behind the History button: title, relative time and message count; a click opens the
// conversation; Delete asks for confirmation inside the row before posting deleteConversation.

import type { ConversationSummary, WebviewMessage } from '../../src/protocol/chat';
import { button, el, relativeTime } from './dom';

export interface HistoryOptions {
  post: (message: WebviewMessage) => void;
  close: () => void;
  now?: () => number;
}

export class HistoryPanel {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private conversations: ConversationSummary[] = [];
  private currentId = '';
  /** The row showing "Delete this chat?" (only one at a time). */
  private confirming: string | null = null;

  constructor(private readonly options: HistoryOptions) {
    this.list = el('ul', { className: 'history-list', attrs: { 'aria-label': 'Conversations' } });
    this.element = el(
      'section',
      { className: 'history', attrs: { 'aria-label': 'Chat history' } },
      el(
        'div',
        { className: 'history-header' },
        button({ label: 'Back to the chat', icon: 'back', onClick: () => this.options.close() }),
        el('h2', { className: 'history-title', text: 'History' }),
      ),
      this.list,
    );
    this.element.hidden = true;
    this.element.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      event.stopPropagation();
      if (this.confirming) {
        const id = this.confirming;
        this.confirming = null;
        this.render();
        this.focusRow(id);
      } else this.options.close();
    });
  }

  get isOpen(): boolean {
    return !this.element.hidden;
  }

  open(): void {
    this.element.hidden = false;
    this.confirming = null;
    this.render();
    (this.list.querySelector('.history-open') as HTMLElement | null)?.focus();
  }

  hide(): void {
    this.element.hidden = true;
    this.confirming = null;
  }

  setConversations(conversations: ConversationSummary[], currentId: string): void {
    this.conversations = [...conversations].sort((a, b) => b.updatedAt - a.updatedAt);
    this.currentId = currentId;
    if (this.confirming && !this.conversations.some((c) => c.id === this.confirming)) this.confirming = null;
    if (this.isOpen) this.render();
  }

  private focusRow(id: string): void {
    const row = Array.from(this.list.children).find((r) => (r as HTMLElement).dataset['conversationId'] === id);
    (row?.querySelector('.history-open') as HTMLElement | null | undefined)?.focus();
  }

  private render(): void {
    const now = this.options.now?.() ?? Date.now();
    if (!this.conversations.length) {
      this.list.replaceChildren(el('li', { className: 'history-empty', text: 'No conversations yet.' }));
      return;
    }
    this.list.replaceChildren(
      ...this.conversations.map((c) => {
        const current = c.id === this.currentId;
        const row = el('li', { className: current ? 'history-item current' : 'history-item', attrs: { 'data-conversation-id': c.id } });
        const title = c.title || 'New chat';
        if (this.confirming === c.id) {
          row.classList.add('confirming');
          const confirm = button({
            label: `Delete “${title}”`,
            text: 'Delete',
            className: 'danger',
            onClick: () => {
              this.confirming = null;
              this.options.post({ type: 'deleteConversation', id: c.id });
              // Gone at once; the host's next state confirms it.
              this.conversations = this.conversations.filter((other) => other.id !== c.id);
              this.render();
              (this.list.querySelector('.history-open') as HTMLElement | null)?.focus();
            },
          });
          row.append(
            el('span', { className: 'history-confirm-text', text: `Delete “${title}”?` }),
            confirm,
            button({
              label: 'Keep this conversation',
              text: 'Cancel',
              className: 'secondary',
              onClick: () => {
                this.confirming = null;
                this.render();
                this.focusRow(c.id);
              },
            }),
          );
          queueMicrotask(() => confirm.focus());
          return row;
        }
        const meta = `${relativeTime(c.updatedAt, now)} · ${c.messages} ${c.messages === 1 ? 'message' : 'messages'}`;
        const open = el(
          'button',
          { className: 'history-open', attrs: { type: 'button', 'aria-label': `Open “${title}”, ${meta}${current ? ', current' : ''}` } },
          el('span', { className: 'history-item-title', text: title }),
          el('span', { className: 'history-item-meta', text: meta }),
        );
        if (current) open.setAttribute('aria-current', 'true');
        open.addEventListener('click', () => {
          this.options.post({ type: 'openConversation', id: c.id });
          this.options.close();
        });
        const remove = button({
          label: `Delete “${title}”`,
          icon: 'trash',
          className: 'history-delete',
          onClick: () => {
            this.confirming = c.id;
            this.render();
          },
        });
        row.append(open, remove);
        return row;
      }),
    );
  }
}
