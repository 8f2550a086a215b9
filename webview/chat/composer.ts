// The input at the bottom: attachment chips, a growing textarea with slash-command completion, Attach selection /
// Attach file, the model status line and the Send / Stop toggle. Keyboard: Enter sends, Shift+Enter is a new line,
// Escape stops a reply, ArrowUp in an empty input recalls the last message. The draft is saved as the user types.

import type { AttachmentInfo, ModelStatus, WebviewMessage } from '../../src/protocol/chat';
import { button, el } from './dom';
import { attachmentChip } from './messages';
import { SlashMenu, type SlashItem } from './slash';

export const DRAFT_DEBOUNCE_MS = 300;

export interface ComposerOptions {
  post: (message: WebviewMessage) => void;
  isBusy: () => boolean;
  lastUserText: () => string | undefined;
  /** Every change of the text, at once (the webview's own getState/setState copy). */
  onDraft: (text: string) => void;
}

export class Composer {
  readonly element: HTMLElement;
  readonly textarea: HTMLTextAreaElement;
  private readonly chips: HTMLElement;
  private readonly status: HTMLElement;
  private readonly sendButton: HTMLButtonElement;
  private readonly stopButton: HTMLButtonElement;
  private readonly slash: SlashMenu;
  private draftTimer: ReturnType<typeof setTimeout> | undefined;
  private lastPostedDraft = '';

  constructor(private readonly options: ComposerOptions) {
    this.textarea = el('textarea', {
      className: 'input',
      attrs: { rows: '1', placeholder: 'Ask about your code; / for commands, @ to mention files', 'aria-label': 'Message Attentive', spellcheck: 'true' },
    });
    this.slash = new SlashMenu(this.textarea, (item) => this.pick(item));
    this.chips = el('div', { className: 'attachments', attrs: { 'aria-label': 'Attachments' } });
    this.chips.hidden = true;
    this.status = el('div', { className: 'model-status', attrs: { 'aria-live': 'polite' } });
    this.sendButton = button({ label: 'Send (Enter)', icon: 'send', className: 'send primary', onClick: () => this.send() });
    this.stopButton = button({ label: 'Stop generating (Escape)', icon: 'stop', text: 'Stop', className: 'stop secondary', onClick: () => this.options.post({ type: 'stop' }) });
    this.stopButton.hidden = true;
    const attachSelection = button({ label: 'Attach selection', icon: 'selection', className: 'attach', onClick: () => this.options.post({ type: 'attach', kind: 'selection' }) });
    const attachFile = button({ label: 'Attach file', icon: 'file', className: 'attach', onClick: () => this.options.post({ type: 'attach', kind: 'file' }) });
    this.element = el(
      'div',
      { className: 'composer' },
      this.slash.element,
      el('div', { className: 'input-box' }, this.chips, this.textarea, el('div', { className: 'input-toolbar' }, attachSelection, attachFile, this.status, this.stopButton, this.sendButton)),
    );
    this.textarea.addEventListener('input', () => this.changed());
    this.textarea.addEventListener('keydown', (event) => this.keydown(event));
    this.textarea.addEventListener('blur', () => this.flushDraft());
    this.updateButtons();
  }

  get text(): string {
    return this.textarea.value;
  }

  get slashMenu(): SlashMenu {
    return this.slash;
  }

  /** Sets the text (restoring a draft); `hostDraft` is what the host already has, so it is not posted back. */
  setText(text: string, hostDraft = text): void {
    this.textarea.value = text;
    this.lastPostedDraft = hostDraft;
    this.slash.update();
    this.updateButtons();
  }

  focus(): void {
    this.textarea.focus();
    const end = this.textarea.value.length;
    this.textarea.setSelectionRange(end, end);
  }

  setAttachments(attachments: AttachmentInfo[]): void {
    this.chips.replaceChildren(
      ...attachments.map((a) => attachmentChip(a, { remove: () => this.options.post({ type: 'removeAttachment', id: a.id }), open: () => this.options.post({ type: 'openAttachment', id: a.id }) })),
    );
    this.chips.hidden = attachments.length === 0;
  }

  setModel(model: ModelStatus): void {
    this.status.textContent = model.text;
    this.status.className = `model-status model-${model.kind}`;
    this.status.title = model.text;
  }

  updateButtons(): void {
    const busy = this.options.isBusy();
    this.stopButton.hidden = !busy;
    this.sendButton.hidden = busy && !this.textarea.value.trim();
    this.sendButton.disabled = !this.textarea.value.trim();
    this.sendButton.setAttribute('aria-label', busy ? 'Queue message (Enter)' : 'Send (Enter)');
    this.sendButton.title = this.sendButton.getAttribute('aria-label')!;
  }

  /** Posts the text as typed (the host parses slash commands); while busy the host queues it. */
  send(): void {
    const text = this.textarea.value;
    if (!text.trim()) return;
    this.options.post({ type: 'send', text });
    this.textarea.value = '';
    this.changed();
    this.flushDraft();
    this.focus();
  }

  /** Posts a pending draft now (before sending, on blur, when the view hides). */
  flushDraft(): void {
    if (this.draftTimer !== undefined) clearTimeout(this.draftTimer);
    this.draftTimer = undefined;
    const text = this.textarea.value;
    if (text === this.lastPostedDraft) return;
    this.lastPostedDraft = text;
    this.options.post({ type: 'draft', text });
  }

  private changed(): void {
    this.slash.update();
    this.updateButtons();
    this.options.onDraft(this.textarea.value);
    if (this.draftTimer !== undefined) clearTimeout(this.draftTimer);
    this.draftTimer = setTimeout(() => this.flushDraft(), DRAFT_DEBOUNCE_MS);
  }

  private pick(item: SlashItem): void {
    if (item.kind === 'command') {
      this.textarea.value = `/${item.name} `;
      this.changed();
      this.focus();
      return;
    }
    // The typed "@par" goes; the host asks which file, folder or symbol and adds the chip. @workspace stays in the
    // text: the question after it is what the search looks for when the message is sent.
    const caret = this.textarea.selectionStart ?? this.textarea.value.length;
    const before = this.textarea.value.slice(0, caret).replace(/@[a-z]*$/i, item.name === 'workspace' ? '@workspace ' : '');
    if (item.name === 'workspace') {
      this.textarea.value = before + this.textarea.value.slice(caret);
      this.textarea.setSelectionRange(before.length, before.length);
      this.changed();
      return;
    }
    this.textarea.value = before + this.textarea.value.slice(caret);
    this.textarea.setSelectionRange(before.length, before.length);
    this.changed();
    this.options.post({ type: 'mention', kind: item.name });
  }

  private keydown(event: KeyboardEvent): void {
    if (event.isComposing) return;
    if (this.slash.isOpen) {
      const selected = this.slash.selectedItem;
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        this.slash.move(event.key === 'ArrowDown' ? 1 : -1);
        return;
      }
      if ((event.key === 'Tab' || (event.key === 'Enter' && !event.shiftKey)) && selected) {
        // Enter on a command that is already typed in full sends it; otherwise it completes.
        if (event.key === 'Tab' || selected.kind === 'mention' || this.textarea.value.trim() !== `/${selected.name}`) {
          event.preventDefault();
          this.pick(selected);
          return;
        }
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        this.slash.dismiss();
        return;
      }
    }
    if (event.key === 'Enter' && !event.shiftKey && !event.altKey) {
      event.preventDefault();
      this.send();
    } else if (event.key === 'Escape' && this.options.isBusy()) {
      event.preventDefault();
      event.stopPropagation();
      this.options.post({ type: 'stop' });
    } else if (event.key === 'ArrowUp' && this.textarea.value === '') {
      const last = this.options.lastUserText();
      if (last === undefined) return;
      event.preventDefault();
      this.textarea.value = last;
      this.changed();
      this.focus();
    }
  }
}
