// The token strip above the panels: the code as the model's tokens (whitespace made visible, lines broken where the
// code breaks them), coloured by the active query's attention over its keys or, with the Surprise overlay, by each
// token's surprisal. Pointer and keyboard report to the app; each token's title gives its id, line, surprisal and the
// model's predictions.

import type { AttentionData } from '../../src/protocol/attention';
import { cssColor } from './colors';
import { dataIndexOf, el } from './dom';
import type { AttentionState } from './state';
import { displayLines, endsLine, quoteToken } from './tokens';

/** Above this many tokens the strip follows the pointer at most every STRIP_INTERVAL_MS. */
const STRIP_THROTTLE_TOKENS = 256;
const STRIP_INTERVAL_MS = 150;

export interface TokenStripHandlers {
  hover(index: number | null): void;
  select(index: number | null): void;
  /** Select the token's range in the editor (double-click, Enter). */
  reveal(index: number): void;
}

export class TokenStrip {
  readonly element: HTMLElement;
  readonly spans: HTMLElement[];
  /** The background each span has now, so a new query only touches the spans that change. */
  private colours: string[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private paintedAt = -Infinity;

  constructor(
    private readonly state: AttentionState,
    private readonly data: AttentionData,
    private readonly handlers: TokenStripHandlers,
  ) {
    const strip = el('div', { className: 'tokens', attrs: { role: 'listbox', 'aria-label': 'Tokens as the model sees them', tabindex: '0' } });
    this.element = strip;
    this.spans = data.tokens.map((token, i) => {
      const span = el('span', {
        className: `tok${token.start < 0 ? ' special' : token.text.trim() === '' ? ' ws' : ''}`,
        attrs: { role: 'option', id: `tok-${i}`, 'data-index': String(i), 'aria-selected': 'false' },
      });
      // The strip breaks lines where the code does: after each ↵, inside the token when it goes on ("↵····").
      displayLines(token.text).forEach((part, n) => {
        if (n > 0) span.append(el('br'));
        if (part) span.append(part);
      });
      span.title = this.tokenTitle(i);
      strip.append(span);
      if (endsLine(token.text)) strip.append(el('br'));
      return span;
    });
    strip.addEventListener('mouseover', (event) => {
      const index = dataIndexOf(event.target);
      if (index !== null) handlers.hover(index);
    });
    strip.addEventListener('mouseleave', () => handlers.hover(null));
    strip.addEventListener('click', (event) => {
      const index = dataIndexOf(event.target);
      if (index !== null) handlers.select(index === this.state.selected ? null : index);
    });
    strip.addEventListener('dblclick', (event) => {
      const index = dataIndexOf(event.target);
      if (index !== null) handlers.reveal(index);
    });
    strip.addEventListener('keydown', (event) => this.key(event));
  }

  /** Marks the selected (pinned) token; `scroll` brings it into view (the editor cursor moved onto it). */
  markSelected(index: number | null, scroll: boolean): void {
    this.spans.forEach((span, i) => span.setAttribute('aria-selected', String(i === index)));
    if (index === null) return;
    const span = this.spans[index];
    if (scroll && typeof span?.scrollIntoView === 'function') span.scrollIntoView({ block: 'nearest' });
    this.element.setAttribute('aria-activedescendant', `tok-${index}`);
  }

  markQuery(query: number | null): void {
    this.spans.forEach((span, i) => span.classList.toggle('query', i === query));
  }

  /** The theme changed: every span gets its background again. */
  forgetColours(): void {
    this.colours = [];
  }

  /**
   * Re-colours the strip now, or for long code at most every STRIP_INTERVAL_MS (with a last update when the pointer
   * stops): restyling ~1,000 tokens costs a few frames, and the heatmap must follow the pointer every frame.
   */
  renderSoon(): void {
    const long = this.data.tokens.length > STRIP_THROTTLE_TOKENS;
    const wait = long ? STRIP_INTERVAL_MS - (performance.now() - this.paintedAt) : 0;
    if (wait <= 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.paintedAt = performance.now();
      this.render();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.paintedAt = performance.now();
        this.render();
      }, wait);
    }
  }

  /** Token backgrounds: the active query's attention over the tokens (or their surprisal with the overlay on). */
  render(): void {
    const { state, data } = this;
    const seq = data.tokens.length;
    if (state.prefs.surprise && data.surprisal) {
      const surprisal = data.surprisal;
      this.spans.forEach((span, i) => {
        const bits = surprisal[i];
        this.paint(span, i, bits === null || bits === undefined ? '' : cssColor(state.theme.surprise, Math.min(0.85, Math.max(0, bits) / 16)));
        span.classList.remove('after');
      });
      return;
    }
    const query = state.activeQuery;
    const matrix = state.viewMatrix;
    this.spans.forEach((span, k) => {
      const after = query !== null && k > query;
      span.classList.toggle('after', after);
      if (query === null || !matrix || after) {
        this.paint(span, k, '');
        return;
      }
      const w = matrix[query * seq + k]!;
      const alpha = state.prefs.scale === 'sqrt' ? Math.sqrt(Math.max(0, w)) : w;
      // 1/50 steps: finer differences are invisible, and equal strings skip the style write.
      this.paint(span, k, alpha < 0.02 ? '' : cssColor(state.theme.accent, Math.round(Math.min(0.9, alpha * 0.9) * 50) / 50));
    });
  }

  /** Sets a token's background only when it changes (1,024 style writes per pointer move would cost a frame). */
  private paint(span: HTMLElement, index: number, colour: string): void {
    if (this.colours[index] === colour) return;
    this.colours[index] = colour;
    span.style.backgroundColor = colour;
  }

  /** Arrows, Home and End move the selection; Enter reveals it in the editor; Escape clears it. */
  private key(event: KeyboardEvent): void {
    const last = this.data.tokens.length - 1;
    const selected = this.state.selected;
    const current = selected ?? -1;
    let next: number | null = null;
    if (event.key === 'ArrowRight') next = Math.min(last, current + 1);
    else if (event.key === 'ArrowLeft') next = Math.max(0, current - 1);
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = last;
    else if (event.key === 'Enter' && selected !== null) {
      event.preventDefault();
      this.handlers.reveal(selected);
      return;
    } else if (event.key === 'Escape') {
      this.handlers.select(null);
      return;
    }
    if (next === null) return;
    event.preventDefault();
    this.handlers.select(next);
    this.spans[next]?.scrollIntoView?.({ block: 'nearest' });
  }

  private tokenTitle(i: number): string {
    const data = this.data;
    const token = data.tokens[i]!;
    const lines = [`#${i} ${quoteToken(token.text)} (id ${token.id}${token.line >= 0 ? `, line ${token.line + 1}` : ''})`];
    const bits = data.surprisal?.[i];
    if (bits !== undefined && bits !== null) lines.push(`Surprisal ${bits.toFixed(2)} bits (probability ${(2 ** -bits * 100).toPrecision(3)}%)`);
    const predictions = data.predictions?.[i];
    if (predictions?.length) {
      lines.push('The model expected:');
      for (const p of predictions) lines.push(`  ${quoteToken(p.text)} ${(p.probability * 100).toFixed(1)}%`);
    }
    return lines.join('\n');
  }
}
