// The model view tab: every head of every layer as a max-pooled thumbnail in a layers x heads grid, with each head's
// labels (from the details the host sends after the data); a click opens that head on the heatmap.

import type { AttentionData } from '../../src/protocol/attention';
import { el } from './dom';
import { LABEL_TEXT, shortLabel } from './headLabels';
import { paintMatrix } from './heatmap';
import type { AttentionState } from './state';

export class ModelView {
  private readonly grid: HTMLElement;

  constructor(
    container: HTMLElement,
    private readonly state: AttentionState,
    private readonly data: AttentionData,
    private readonly openHead: (layer: number, head: number) => void,
  ) {
    this.grid = el('div', { className: 'model-grid' });
    container.append(el('p', { className: 'hint', text: 'Every head of every layer, max-pooled. Click one to open it.' }), this.grid);
    this.render();
  }

  /** The grid in the theme's ramp, or a note until the details come. */
  render(): void {
    const data = this.data;
    const details = this.state.details;
    if (!details) {
      this.grid.replaceChildren(el('p', { className: 'hint', text: 'Drawing every head…', attrs: { role: 'status' } }));
      return;
    }
    const cells: HTMLElement[] = [el('div', { className: 'grid-corner' }), ...Array.from({ length: data.heads }, (_, h) => el('div', { className: 'grid-col', text: `H${h + 1}` }))];
    for (let layer = 0; layer < data.layers; layer++) {
      cells.push(el('div', { className: 'grid-row', text: `L${layer + 1}` }));
      for (let head = 0; head < data.heads; head++) cells.push(this.thumbnail(layer, head));
    }
    this.grid.replaceChildren(...cells);
    this.grid.style.gridTemplateColumns = `auto repeat(${data.heads}, minmax(0, 1fr))`;
  }

  private thumbnail(layer: number, head: number): HTMLElement {
    const details = this.state.details!;
    const size = details.thumbnailSize;
    const summary = details.summaries.find((s) => s.layer === layer && s.head === head);
    const canvas = el('canvas', { className: 'thumb-canvas', attrs: { width: String(size), height: String(size), 'aria-hidden': 'true' } });
    const offset = (layer * this.data.heads + head) * size * size;
    const pixels = new Uint8ClampedArray(size * size * 4);
    paintMatrix(details.thumbnails.subarray(offset, offset + size * size), size, this.state.theme.ramp, pixels);
    const context = canvas.getContext('2d');
    if (context && typeof ImageData !== 'undefined') {
      const image = context.createImageData(size, size);
      image.data.set(pixels);
      context.putImageData(image, 0, 0);
    }
    const labels = summary?.labels ?? [];
    const thumb = el(
      'button',
      {
        className: 'thumb',
        title: `Layer ${layer + 1}, head ${head + 1}${labels.length ? ` (${labels.map((l) => LABEL_TEXT[l]).join(', ')})` : ''}: open it`,
        attrs: { type: 'button', 'data-layer': String(layer), 'data-head': String(head), 'aria-label': `Open layer ${layer + 1} head ${head + 1}` },
      },
      canvas,
      el('span', { className: 'thumb-labels', text: labels.map(shortLabel).join(' ') }),
    );
    thumb.addEventListener('click', () => this.openHead(layer, head));
    return thumb;
  }
}
