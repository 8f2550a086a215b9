// The head summary tab: a table of every head's statistics (entropy, distance, previous/first-token share, induction
// and bracket scores) and labels, sortable by any column; a click or Enter on a row opens that head on the heatmap.

import type { HeadStats } from '../../src/protocol/attention';
import { el, num, percent } from './dom';
import { LABEL_TEXT } from './headLabels';
import type { AttentionState, SummaryColumn } from './state';

const COLUMNS: Array<[SummaryColumn, string, string]> = [
  ['layer', 'Head', 'Layer and head'],
  ['entropyBits', 'Entropy', 'Mean entropy of a row, in bits: low = focused on few tokens'],
  ['meanDistance', 'Distance', 'Tokens back, on average, weighted by attention'],
  ['previousTokenShare', 'Previous', 'Share of attention on the token just before'],
  ['firstTokenShare', 'First', 'Share of attention on the first token (an attention sink)'],
  ['inductionScore', 'Induction', 'Weight from a repeated token to what followed it last time'],
  ['bracketScore', 'Brackets', 'Share of closing brackets whose top key is their opening bracket'],
];

export class SummaryTable {
  private readonly element: HTMLElement;

  constructor(
    container: HTMLElement,
    private readonly state: AttentionState,
    private readonly openHead: (layer: number, head: number) => void,
  ) {
    this.element = el('div', { className: 'summary' });
    container.append(this.element);
    this.render();
  }

  /** The table in the chosen order, or a note until the details come. */
  render(): void {
    const details = this.state.details;
    const { column, descending } = this.state.summarySort;
    const value = (s: HeadStats): number => (column === 'layer' ? s.layer * 1000 + s.head : (s[column] ?? -1));
    if (!details) {
      this.element.replaceChildren(el('p', { className: 'hint', text: 'Measuring every head…', attrs: { role: 'status' } }));
      return;
    }
    const rows = [...details.summaries].sort((a, b) => (descending ? value(b) - value(a) : value(a) - value(b)));
    const header = el(
      'tr',
      {},
      ...COLUMNS.map(([id, text, help]) => {
        const sortButton = el('button', { className: 'sort', text: `${text}${column === id ? (descending ? ' ▼' : ' ▲') : ''}`, title: help, attrs: { type: 'button' } });
        sortButton.addEventListener('click', () => {
          // A new column starts with the notable heads first: high scores, but low layer numbers and low entropy.
          this.state.summarySort = { column: id, descending: column === id ? !descending : id !== 'layer' && id !== 'entropyBits' };
          this.render();
        });
        return el('th', { attrs: { scope: 'col', 'aria-sort': column === id ? (descending ? 'descending' : 'ascending') : 'none' } }, sortButton);
      }),
      el('th', { text: 'Labels', attrs: { scope: 'col' } }),
    );
    const body = rows.map((s) => this.row(s));
    this.element.replaceChildren(el('table', { className: 'summary-table' }, el('thead', {}, header), el('tbody', {}, ...body)));
  }

  private row(s: HeadStats): HTMLElement {
    const row = el(
      'tr',
      { attrs: { tabindex: '0', 'data-layer': String(s.layer), 'data-head': String(s.head) }, title: 'Open this head' },
      el('td', { text: `L${s.layer + 1} H${s.head + 1}` }),
      el('td', { text: num(s.entropyBits, 2) }),
      el('td', { text: num(s.meanDistance, 1) }),
      el('td', { text: percent(s.previousTokenShare) }),
      el('td', { text: percent(s.firstTokenShare) }),
      el('td', { text: num(s.inductionScore, 2) }),
      el('td', { text: percent(s.bracketScore) }),
      el('td', {}, ...s.labels.map((l) => el('span', { className: `badge badge-${l}`, text: LABEL_TEXT[l] }))),
    );
    row.addEventListener('click', () => this.openHead(s.layer, s.head));
    row.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') this.openHead(s.layer, s.head);
    });
    return row;
  }
}
