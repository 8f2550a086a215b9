// The tab list (Heatmap, Head view, Model view, Head summary) and one tabpanel per tab, which the panels fill; arrow
// keys move between the tabs.

import { el } from './dom';
import { TABS } from './state';
import type { Tab } from './vscodeApi';

export class Tabs {
  readonly list: HTMLElement;
  private readonly buttons = new Map<Tab, HTMLButtonElement>();
  private readonly panels = new Map<Tab, HTMLElement>();

  constructor(select: (tab: Tab) => void) {
    this.list = el('div', { className: 'tabs', attrs: { role: 'tablist' } });
    const order = TABS.map(([t]) => t);
    for (const [id, text] of TABS) {
      const tab = el('button', { className: 'tab', text, attrs: { type: 'button', role: 'tab', id: `tab-${id}`, 'aria-controls': `panel-${id}` } });
      tab.addEventListener('click', () => select(id));
      tab.addEventListener('keydown', (event) => {
        const at = order.indexOf(id);
        const next = event.key === 'ArrowRight' ? order[(at + 1) % order.length] : event.key === 'ArrowLeft' ? order[(at + order.length - 1) % order.length] : undefined;
        if (next) {
          event.preventDefault();
          select(next);
          this.buttons.get(next)?.focus();
        }
      });
      this.buttons.set(id, tab);
      this.list.append(tab);
      this.panels.set(id, el('div', { className: `panel panel-${id}`, attrs: { role: 'tabpanel', id: `panel-${id}`, 'aria-labelledby': `tab-${id}` } }));
    }
  }

  panel(tab: Tab): HTMLElement {
    return this.panels.get(tab)!;
  }

  /** Every tabpanel, in tab order. */
  get panelElements(): HTMLElement[] {
    return [...this.panels.values()];
  }

  /** Shows `active`'s panel and marks its tab (the only one in the tab order). */
  sync(active: Tab): void {
    for (const [id, tab] of this.buttons) {
      const selected = id === active;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      tab.classList.toggle('active', selected);
      this.panel(id).hidden = !selected;
    }
  }
}
