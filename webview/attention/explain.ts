// The explanation beside the panels: how attention works (with this model's dₖ, heads and layers) and, under "Under
// the pointer", the numbers of the hovered heatmap cell or, with the Surprise overlay, the hovered token's surprisal
// and the model's top guesses.

import { describeView, type AttentionData } from '../../src/protocol/attention';
import { el } from './dom';
import type { Cell } from './heatmap';
import type { AttentionState } from './state';
import { quoteToken } from './tokens';

export class Explanation {
  readonly element: HTMLElement;
  private readonly live: HTMLElement;

  constructor(
    private readonly state: AttentionState,
    private readonly data: AttentionData,
  ) {
    this.live = el('div', { className: 'live', attrs: { 'aria-live': 'polite' } });
    this.element = el(
      'aside',
      { className: 'explain', attrs: { 'aria-label': 'What attention is' } },
      el('h2', { text: 'How to read this' }),
      el('p', { text: 'Each token builds a query (what it looks for), a key (what it offers) and a value (what it passes on) from its current vector.' }),
      el('p', {}, 'A head scores every earlier key against the query, scales the scores by 1/√dₖ and turns each row into weights that sum to 1:', el('code', { className: 'formula', text: `softmax(QKᵀ / √${data.headDim}) · V` })),
      el('p', { text: 'Masking: a token never sees the tokens after it (the blank upper triangle), because the model writes left to right.' }),
      el('p', { text: `Multi-head: ${data.heads} heads per layer look for different things in parallel; their outputs are joined and passed to the next of ${data.layers} layers. Mean and Max combine a layer's heads; Rollout follows attention through the layers, with the residual connection.` }),
      el('h2', { text: 'Under the pointer' }),
      this.live,
    );
    this.showCell(null);
  }

  /** The hovered cell's query, key, weight and (one head) score; a hint without a cell. */
  showCell(cell: Cell | null): void {
    const { state, data } = this;
    if (!cell) {
      const hint = state.prefs.surprise ? 'Hover a token to see how surprising it was and what the model expected.' : 'Hover a cell of the heatmap to see its numbers.';
      this.live.replaceChildren(el('p', { className: 'hint', text: hint }));
      return;
    }
    const lines: Array<[string, string]> = [
      ['Query', `#${cell.query} ${quoteToken(data.tokens[cell.query]!.text)}`],
      ['Key', `#${cell.key} ${quoteToken(data.tokens[cell.key]!.text)} (${cell.query - cell.key} back)`],
    ];
    if (!cell.visible) lines.push(['Weight', 'masked (score set to −∞ before the softmax)']);
    else {
      const weight = state.weight(cell.query, cell.key);
      lines.push(['Weight', weight === undefined ? '…' : `${weight.toFixed(4)} (after softmax)`]);
      const view = state.view;
      if (view.kind === 'head' && weight !== undefined && weight > 0 && state.matrix) {
        // softmax is shift-invariant: the score relative to the row's best key is ln(w / w_max) exactly.
        const seq = data.tokens.length;
        let best = 0;
        for (let k = 0; k <= cell.query; k++) best = Math.max(best, state.matrix[cell.query * seq + k]!);
        lines.push(['Score', `${Math.log(weight / best).toFixed(3)} relative to the row's top key (scaled by 1/√${data.headDim})`]);
      } else if (view.kind !== 'head') lines.push(['Note', `${describeView(view)}: not one softmax, so no single score`]);
    }
    this.live.replaceChildren(el('dl', {}, ...lines.flatMap(([term, value]) => [el('dt', { text: term }), el('dd', { text: value })])));
  }

  /** With the Surprise overlay: the hovered token's surprisal and the model's top guesses; the hint without one. */
  showSurprise(index: number | null): void {
    const data = this.data;
    if (index === null) {
      this.showCell(null);
      return;
    }
    const token = data.tokens[index]!;
    const bits = data.surprisal?.[index];
    const predictions = data.predictions?.[index] ?? [];
    this.live.replaceChildren(
      el(
        'dl',
        {},
        el('dt', { text: 'Token' }),
        el('dd', { text: `#${index} ${quoteToken(token.text)}` }),
        el('dt', { text: 'Surprisal' }),
        el('dd', { text: bits === null || bits === undefined ? 'none (nothing before it)' : `${bits.toFixed(2)} bits (p = ${(2 ** -bits).toPrecision(3)})` }),
      ),
      ...(predictions.length
        ? [
            el('p', { className: 'hint', text: 'The model expected:' }),
            el('ol', { className: 'predictions' }, ...predictions.map((p) => el('li', { text: `${quoteToken(p.text)} ${(p.probability * 100).toFixed(1)}%` }))),
          ]
        : []),
    );
  }
}
