// The heatmap tab: the view's title, the colour legend and the Heatmap canvas (heatmap.ts), plus the tooltip that
// follows the pointer over it. It paints the matrix the app hands it and reports hovered and clicked cells.

import { describeView, viewKey } from '../../src/protocol/attention';
import { RAMP_STEPS } from './colors';
import { el } from './dom';
import { cellAt, Heatmap, type Cell } from './heatmap';
import type { AttentionState, Schedule } from './state';
import { quoteToken } from './tokens';

export interface MatrixPanelHandlers {
  /** The pointer (or the keyboard cursor) is on a cell; null when it left the canvas. */
  hoverCell(cell: Cell | null, pointer: { clientX: number; clientY: number } | null): void;
  clickCell(cell: Cell): void;
}

/** The tooltip text for a cell (query, key, weight), as shown on hover. */
export function cellText(state: AttentionState, cell: Cell): string {
  const data = state.data;
  if (!data) return '';
  const q = data.tokens[cell.query]!;
  const k = data.tokens[cell.key]!;
  const head = `Query #${cell.query} ${quoteToken(q.text)} → key #${cell.key} ${quoteToken(k.text)}`;
  if (!cell.visible) return `${head}\nMasked: a token cannot attend to later tokens.`;
  const weight = state.weight(cell.query, cell.key);
  return `${head}\nWeight ${weight === undefined ? '…' : weight.toFixed(4)}`;
}

export class MatrixPanel {
  readonly heatmap: Heatmap;
  /** Placed at the end of the page by the app (it floats over everything). */
  readonly tooltip: HTMLElement;
  private readonly viewTitle: HTMLElement;
  private readonly legend: HTMLCanvasElement;
  private readonly legendHigh: HTMLElement;

  constructor(
    container: HTMLElement,
    private readonly state: AttentionState,
    handlers: MatrixPanelHandlers,
    schedule: Schedule,
  ) {
    this.heatmap = new Heatmap({ onHover: (cell, event) => handlers.hoverCell(cell, event), onClick: (cell) => handlers.clickCell(cell) }, schedule);
    this.viewTitle = el('div', { className: 'view-title' });
    this.legend = el('canvas', { className: 'legend-bar', attrs: { 'aria-hidden': 'true' } });
    const legendLow = el('span', { className: 'legend-label', text: '0' });
    this.legendHigh = el('span', { className: 'legend-label', text: '1' });
    container.append(
      el(
        'div',
        { className: 'heatmap-head' },
        this.viewTitle,
        el('div', { className: 'legend', attrs: { 'aria-label': 'Colour scale' } }, legendLow, this.legend, this.legendHigh, el('span', { className: 'legend-note', text: 'rows: query · columns: key · blank: masked' })),
      ),
      this.heatmap.element,
    );
    this.tooltip = el('div', { className: 'tooltip', attrs: { role: 'tooltip' } });
    this.tooltip.hidden = true;
    this.drawLegend();
  }

  /** Paints the view's matrix; returns the full-resolution pixels. `requestedAt`: when it was asked for (0: never). */
  draw(matrix: Float32Array, seq: number, requestedAt: number): Uint8ClampedArray {
    const state = this.state;
    const pixels = this.heatmap.draw(matrix, seq, state.theme.ramp, describeView(state.view));
    // From asking the host to having the matrix (benchmarks read it).
    if (requestedAt) this.heatmap.canvas.dataset['fetchMs'] = (performance.now() - requestedAt).toFixed(1);
    this.heatmap.setZoom(state.prefs.zoom);
    let max = 0;
    for (let i = 0; i < matrix.length; i++) if (matrix[i]! > max) max = matrix[i]!;
    this.legendHigh.textContent = '1';
    this.legendHigh.title = `largest weight here: ${max.toFixed(3)}`;
    return pixels;
  }

  setTitle(text: string): void {
    this.viewTitle.textContent = text;
  }

  drawLegend(): void {
    const canvas = this.legend;
    canvas.width = RAMP_STEPS;
    canvas.height = 1;
    const context = canvas.getContext('2d');
    if (context && typeof ImageData !== 'undefined') {
      const image = context.createImageData(RAMP_STEPS, 1);
      image.data.set(this.state.theme.ramp);
      context.putImageData(image, 0, 0);
    }
    canvas.title = this.state.prefs.scale === 'sqrt' ? 'Colour = √weight (small weights stand out)' : 'Colour = weight';
  }

  /** The tooltip next to the pointer with the cell's text; hidden without a cell or a pointer. */
  showTooltip(cell: Cell | null, pointer: { clientX: number; clientY: number } | null): void {
    const tooltip = this.tooltip;
    if (!cell || !pointer) {
      tooltip.hidden = true;
      return;
    }
    tooltip.textContent = cellText(this.state, cell);
    tooltip.hidden = false;
    const width = typeof window !== 'undefined' ? window.innerWidth : 800;
    tooltip.style.left = `${Math.min(pointer.clientX + 14, width - 260)}px`;
    tooltip.style.top = `${pointer.clientY + 14}px`;
  }

  /** The tooltip's text again, in place (its weight arrived). */
  refreshTooltip(cell: Cell): void {
    this.tooltip.textContent = cellText(this.state, cell);
  }

  /** The cell at a point of the canvas, in CSS pixels from its corner. */
  cellAtPoint(x: number, y: number, seq: number): Cell | null {
    const size = this.heatmap.displaySize();
    return cellAt(x, y, size, size, seq);
  }

  /** The whole matrix as a PNG data URL and a file name for it; undefined where the canvas cannot encode one. */
  png(): { dataUrl: string; name: string } | undefined {
    const dataUrl = this.heatmap.exportCanvas().toDataURL('image/png');
    if (!dataUrl.startsWith('data:image/png')) return undefined;
    return { dataUrl, name: `attention-${viewKey(this.state.view)}.png` };
  }
}
