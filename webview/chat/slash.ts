// Slash-command completion: typing "/" at the start of the input lists SLASH_COMMANDS. The text is still sent as
// typed; the host parses it with parseSlashCommand.

import { SLASH_COMMANDS, type SlashCommand } from '../../src/protocol/chat';
import { el } from './dom';

export interface SlashItem {
  name: SlashCommand;
  description: string;
}

/**
 * The commands to offer for the input so far: only while it is "/" plus a partial command name (no space yet).
 * Prefix matches come first, then commands that merely contain the typed letters.
 */
export function matchSlashCommands(input: string): SlashItem[] {
  const match = /^\/([a-z]*)$/i.exec(input);
  if (!match) return [];
  const typed = match[1].toLowerCase();
  const prefix = SLASH_COMMANDS.filter((c) => c.name.startsWith(typed));
  const inner = SLASH_COMMANDS.filter((c) => !c.name.startsWith(typed) && c.name.includes(typed));
  return [...prefix, ...inner].map((c) => ({ name: c.name, description: c.description }));
}

let menuIds = 0;

/** The popup list under the composer's textarea; keyboard handling lives in the composer. */
export class SlashMenu {
  readonly element: HTMLElement;
  private items: SlashItem[] = [];
  private selected = 0;
  /** Closed with Escape: stays closed until the text changes. */
  private dismissedFor: string | null = null;
  private readonly idPrefix = `slash-${++menuIds}`;

  constructor(
    private readonly input: HTMLTextAreaElement,
    private readonly onPick: (item: SlashItem) => void,
  ) {
    this.element = el('div', { className: 'slash-menu', attrs: { role: 'listbox', id: `${this.idPrefix}-list`, 'aria-label': 'Slash commands' } });
    this.element.hidden = true;
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-controls', `${this.idPrefix}-list`);
    input.setAttribute('aria-expanded', 'false');
  }

  get isOpen(): boolean {
    return !this.element.hidden;
  }

  get visibleItems(): readonly SlashItem[] {
    return this.isOpen ? this.items : [];
  }

  get selectedItem(): SlashItem | undefined {
    return this.isOpen ? this.items[this.selected] : undefined;
  }

  /** Recomputes the list for the textarea's current text. */
  update(): void {
    const text = this.input.value;
    if (this.dismissedFor !== null && this.dismissedFor !== text) this.dismissedFor = null;
    const items = this.dismissedFor === null ? matchSlashCommands(text) : [];
    const keep = this.items[this.selected]?.name;
    this.items = items;
    const index = items.findIndex((i) => i.name === keep);
    this.selected = index >= 0 ? index : 0;
    this.render();
  }

  move(delta: number): void {
    if (!this.items.length) return;
    this.selected = (this.selected + delta + this.items.length) % this.items.length;
    this.render();
  }

  /** Escape: hide until the text changes. */
  dismiss(): void {
    this.dismissedFor = this.input.value;
    this.items = [];
    this.render();
  }

  private render(): void {
    this.element.replaceChildren();
    const open = this.items.length > 0;
    this.element.hidden = !open;
    this.input.setAttribute('aria-expanded', String(open));
    if (!open) {
      this.input.removeAttribute('aria-activedescendant');
      return;
    }
    this.items.forEach((item, index) => {
      const id = `${this.idPrefix}-${item.name}`;
      const option = el(
        'div',
        { className: index === this.selected ? 'slash-item selected' : 'slash-item', attrs: { role: 'option', id, 'aria-selected': String(index === this.selected) } },
        el('span', { className: 'slash-name', text: `/${item.name}` }),
        el('span', { className: 'slash-description', text: item.description }),
      );
      // mousedown, not click: keep the focus in the textarea.
      option.addEventListener('mousedown', (event) => {
        event.preventDefault();
        this.onPick(item);
      });
      this.element.append(option);
      if (index === this.selected) this.input.setAttribute('aria-activedescendant', id);
    });
  }
}
