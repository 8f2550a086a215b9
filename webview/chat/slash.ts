// Completion in the input: typing "/" at its start lists SLASH_COMMANDS (the text is sent as typed; the host parses
// it with parseSlashCommand), typing "@" at a word's start lists MENTIONS (picking one asks the host for its chip).

import { MENTIONS, SLASH_COMMANDS, type MentionKind, type SlashCommand } from '../../src/protocol/chat';
import { el } from './dom';

export type SlashItem = { kind: 'command'; name: SlashCommand; description: string } | { kind: 'mention'; name: MentionKind; description: string };

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
  return [...prefix, ...inner].map((c) => ({ kind: 'command' as const, name: c.name, description: c.description }));
}

/** The mentions to offer while the word before the caret is "@" plus a partial mention name. */
export function matchMentions(input: string, caret = input.length): SlashItem[] {
  const match = /(?:^|\s)@([a-z]*)$/i.exec(input.slice(0, caret));
  if (!match) return [];
  const typed = match[1]!.toLowerCase();
  const prefix = MENTIONS.filter((m) => m.name.startsWith(typed));
  const inner = MENTIONS.filter((m) => !m.name.startsWith(typed) && m.name.includes(typed));
  return [...prefix, ...inner].map((m) => ({ kind: 'mention' as const, name: m.name, description: m.description }));
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
    this.element = el('div', { className: 'slash-menu', attrs: { role: 'listbox', id: `${this.idPrefix}-list`, 'aria-label': 'Suggestions' } });
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
    const slash = matchSlashCommands(text);
    const items = this.dismissedFor !== null ? [] : slash.length ? slash : matchMentions(text, this.input.selectionStart ?? text.length);
    const keep = this.items[this.selected]?.name;
    // (names are unique across commands and mentions)
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
      const id = `${this.idPrefix}-${item.kind}-${item.name}`;
      const option = el(
        'div',
        { className: index === this.selected ? 'slash-item selected' : 'slash-item', attrs: { role: 'option', id, 'aria-selected': String(index === this.selected) } },
        el('span', { className: 'slash-name', text: `${item.kind === 'command' ? '/' : '@'}${item.name}` }),
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
