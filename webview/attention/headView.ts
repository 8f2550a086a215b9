// The head view tab (after bertviz): the tokens twice, queries on the left and keys on the right, with a line from
// the active query to each key it attends to (opacity = weight) or, hovering a key, from every later query to it.
// In all-heads mode it draws the query's row in every head of the layer, one colour per head, from rows the host
// sends on request; chips show or hide single heads.

import { describeView, type AttentionData } from '../../src/protocol/attention';
import { cssColor } from './colors';
import { button, dataIndexOf, el } from './dom';
import type { AttentionState } from './state';
import { displayToken, quoteToken } from './tokens';

/** Rows of this many CSS pixels (kept in step with .hv-token in media/attention.css). */
export const HEAD_VIEW_ROW = 20;
const HEAD_VIEW_WIDTH = 160;
const SVG_NS = 'http://www.w3.org/2000/svg';

export interface HeadViewHandlers {
  hover(index: number | null): void;
  select(index: number | null): void;
  toggleAllHeads(): void;
  /** All-heads mode: ask the host for the query's row in every head of the layer (state.rows when it comes). */
  requestRows(layer: number, query: number): void;
}

/** One colour per head, spread around the hue circle (readable on light and dark backgrounds). */
export function headColor(head: number, heads: number): string {
  return `hsl(${Math.round((head * 360) / Math.max(1, heads))}, 70%, 50%)`;
}

/** A line from query row `query` on the left to key row `key` on the right. */
function weightLine(query: number, key: number, color: string, weight: number): SVGLineElement {
  const line = document.createElementNS(SVG_NS, 'line');
  line.setAttribute('x1', '0');
  line.setAttribute('y1', String(query * HEAD_VIEW_ROW + HEAD_VIEW_ROW / 2));
  line.setAttribute('x2', String(HEAD_VIEW_WIDTH));
  line.setAttribute('y2', String(key * HEAD_VIEW_ROW + HEAD_VIEW_ROW / 2));
  line.setAttribute('stroke', color);
  line.setAttribute('stroke-width', '2');
  line.setAttribute('stroke-opacity', Math.min(1, weight).toFixed(3));
  return line;
}

export class HeadView {
  private readonly queries: HTMLElement[] = [];
  private readonly keys: HTMLElement[] = [];
  private readonly svg: SVGSVGElement;
  private readonly caption: HTMLElement;
  private readonly allHeads: HTMLButtonElement;
  private readonly chips: HTMLButtonElement[];
  /** The heads drawn in all-heads mode. */
  private readonly shownHeads: Set<number>;
  /** A key hovered on the right: the lines then run from every later query to it. */
  private hoveredKey: number | null = null;

  constructor(
    container: HTMLElement,
    private readonly state: AttentionState,
    private readonly data: AttentionData,
    private readonly handlers: HeadViewHandlers,
  ) {
    const queryColumn = el('div', { className: 'hv-column hv-queries' });
    const keyColumn = el('div', { className: 'hv-column hv-keys' });
    this.svg = document.createElementNS(SVG_NS, 'svg');
    this.svg.setAttribute('class', 'hv-lines');
    this.svg.setAttribute('width', String(HEAD_VIEW_WIDTH));
    this.svg.setAttribute('height', String(data.tokens.length * HEAD_VIEW_ROW));
    this.svg.setAttribute('aria-hidden', 'true');
    data.tokens.forEach((token, i) => {
      const q = el('div', { className: 'hv-token', text: displayToken(token.text), attrs: { 'data-index': String(i), tabindex: '-1' } });
      const k = el('div', { className: 'hv-token', text: displayToken(token.text), attrs: { 'data-index': String(i) } });
      this.queries.push(q);
      this.keys.push(k);
      queryColumn.append(q);
      keyColumn.append(k);
    });
    queryColumn.addEventListener('mouseover', (event) => {
      const index = dataIndexOf(event.target);
      if (index !== null) handlers.hover(index);
    });
    queryColumn.addEventListener('mouseleave', () => handlers.hover(null));
    queryColumn.addEventListener('click', (event) => {
      const index = dataIndexOf(event.target);
      if (index !== null) handlers.select(index === this.state.selected ? null : index);
    });
    keyColumn.addEventListener('mouseover', (event) => {
      const index = dataIndexOf(event.target);
      if (index !== null) {
        this.hoveredKey = index;
        this.render();
      }
    });
    keyColumn.addEventListener('mouseleave', () => {
      this.hoveredKey = null;
      this.render();
    });
    this.caption = el('div', { className: 'hv-caption' });
    this.allHeads = button('Draw every head of the layer at once, one colour per head', 'All heads', () => handlers.toggleAllHeads(), 'text-button toggle');
    this.shownHeads = new Set(Array.from({ length: data.heads }, (_, h) => h));
    this.chips = Array.from({ length: data.heads }, (_, h) => {
      const swatch = el('span', { className: 'swatch' });
      swatch.style.backgroundColor = headColor(h, data.heads);
      const chip = el('button', { className: 'chip', title: `Show or hide head ${h + 1}`, attrs: { type: 'button', 'aria-pressed': 'true', 'data-head': String(h) } }, swatch, `H${h + 1}`);
      chip.addEventListener('click', () => {
        if (this.shownHeads.has(h)) this.shownHeads.delete(h);
        else this.shownHeads.add(h);
        chip.setAttribute('aria-pressed', String(this.shownHeads.has(h)));
        this.render();
      });
      return chip;
    });
    container.append(
      el('div', { className: 'hv-controls' }, this.allHeads, el('span', { className: 'chips' }, ...this.chips)),
      this.caption,
      el('div', { className: 'hv-scroll' }, el('div', { className: 'hv-grid' }, queryColumn, this.svg, keyColumn)),
    );
  }

  /** The all-heads toggle and its chips as the prefs say. */
  sync(): void {
    const { allHeads, layer } = this.state.prefs;
    this.allHeads.setAttribute('aria-pressed', String(allHeads));
    this.allHeads.classList.toggle('on', allHeads);
    this.allHeads.textContent = `All heads of layer ${layer + 1}`;
    for (const chip of this.chips) chip.hidden = !allHeads;
  }

  /** Head view lines: from the active query to every earlier key (or to the hovered key from every later query). */
  render(): void {
    const { state, data, hoveredKey } = this;
    if (state.prefs.tab !== 'heads') return; // drawn when its tab is shown
    const seq = data.tokens.length;
    const matrix = state.viewMatrix;
    const query = state.activeQuery;
    if (state.prefs.allHeads && hoveredKey === null) {
      this.renderAllHeads(query);
      return;
    }
    const lines: Array<[number, number, number]> = [];
    if (matrix && hoveredKey !== null) {
      for (let q = hoveredKey; q < seq; q++) lines.push([q, hoveredKey, matrix[q * seq + hoveredKey]!]);
    } else if (matrix && query !== null) {
      for (let k = 0; k <= query; k++) lines.push([query, k, matrix[query * seq + k]!]);
    }
    const color = cssColor(state.theme.accent);
    this.svg.replaceChildren(...lines.filter(([, , w]) => w >= 0.005).map(([q, k, w]) => weightLine(q, k, color, w)));
    const keyWeights = new Float32Array(seq);
    if (hoveredKey === null) for (const [, k, w] of lines) keyWeights[k] = w;
    this.markTokens(query, keyWeights);
    const view = describeView(state.view);
    this.caption.textContent =
      hoveredKey !== null
        ? `${view}: later tokens attending to #${hoveredKey} ${quoteToken(data.tokens[hoveredKey]!.text)}`
        : query !== null
          ? `${view}: #${query} ${quoteToken(data.tokens[query]!.text)} attends to… (line opacity = weight)`
          : `${view}: hover or click a token on the left to see what it attends to; hover one on the right to see what attends to it.`;
  }

  /** All heads of the layer: the active query's row in each shown head, one colour per head (rows come from the host). */
  private renderAllHeads(query: number | null): void {
    const { state, data } = this;
    const seq = data.tokens.length;
    const layer = state.prefs.layer;
    const keyWeights = new Float32Array(seq);
    const lines: SVGLineElement[] = [];
    const rows = state.rows;
    if (query !== null && (!rows || rows.layer !== layer || rows.query !== query)) this.handlers.requestRows(layer, query);
    else if (query !== null && rows) {
      const width = query + 1;
      for (let head = 0; head < rows.heads; head++) {
        if (!this.shownHeads.has(head)) continue;
        const color = headColor(head, rows.heads);
        for (let k = 0; k <= query; k++) {
          const w = rows.data[head * width + k]!;
          keyWeights[k] = Math.max(keyWeights[k]!, w);
          if (w < 0.01) continue;
          const line = weightLine(query, k, color, w);
          line.setAttribute('data-head', String(head));
          lines.push(line);
        }
      }
    }
    this.svg.replaceChildren(...lines);
    this.markTokens(query, keyWeights);
    this.caption.textContent =
      query !== null
        ? `Layer ${layer + 1}, every head: #${query} ${quoteToken(data.tokens[query]!.text)} attends to… (one colour per head, opacity = weight)`
        : `Layer ${layer + 1}, every head: hover or click a token on the left.`;
  }

  /** The active query on the left, the hovered key on the right, and each key's background by its weight. */
  private markTokens(query: number | null, keyWeights: Float32Array): void {
    const accent = this.state.theme.accent;
    this.queries.forEach((node, i) => node.classList.toggle('active', i === query && this.hoveredKey === null));
    this.keys.forEach((node, i) => {
      node.classList.toggle('active', i === this.hoveredKey);
      const w = keyWeights[i]!;
      node.style.backgroundColor = w >= 0.02 ? cssColor(accent, Math.min(0.9, Math.sqrt(w) * 0.9)) : '';
    });
  }
}
