// The toolbar above the token strip: which matrix to show (aggregation, layer, head), the colour scale, zoom, the
// Surprise overlay and the exports. It reports choices through its handlers and shows the current ones on sync().

import type { AttentionData, AttentionViewKind } from '../../src/protocol/attention';
import { button, el, select } from './dom';
import { KINDS, type AttentionState } from './state';
import type { PersistedState, Scale } from './vscodeApi';

export interface ToolbarHandlers {
  setView(change: Partial<Pick<PersistedState, 'kind' | 'layer' | 'head'>>): void;
  setScale(scale: Scale): void;
  toggleSurprise(): void;
  zoom(zoom: number): void;
  exportPng(): void;
  exportJson(): void;
}

export class Toolbar {
  readonly element: HTMLElement;
  private readonly kind: HTMLSelectElement;
  private readonly layer: HTMLSelectElement;
  private readonly head: HTMLSelectElement;
  private readonly scale: HTMLSelectElement;
  private readonly surprise: HTMLButtonElement;

  constructor(
    private readonly state: AttentionState,
    data: AttentionData,
    handlers: ToolbarHandlers,
  ) {
    this.kind = select('Aggregation', KINDS, (value) => handlers.setView({ kind: value as AttentionViewKind }));
    this.layer = select(
      'Layer',
      Array.from({ length: data.layers }, (_, i): [string, string] => [String(i), `Layer ${i + 1}`]),
      (value) => handlers.setView({ layer: Number(value) }),
    );
    this.head = select(
      'Head',
      Array.from({ length: data.heads }, (_, i): [string, string] => [String(i), `Head ${i + 1}`]),
      (value) => handlers.setView({ head: Number(value) }),
    );
    this.scale = select(
      'Colour scale',
      [
        ['sqrt', 'Scale: √ weight'],
        ['linear', 'Scale: linear'],
      ],
      (value) => handlers.setScale(value as Scale),
    );
    this.surprise = button('Colour tokens by surprisal (how unexpected each token was to the model)', 'Surprise', () => handlers.toggleSurprise(), 'text-button toggle');
    this.surprise.disabled = !data.surprisal;
    if (!data.surprisal) this.surprise.title = 'This engine did not report surprisal';
    this.element = el(
      'div',
      { className: 'toolbar', attrs: { role: 'toolbar', 'aria-label': 'Attention view' } },
      this.kind,
      this.layer,
      this.head,
      this.scale,
      el(
        'span',
        { className: 'group' },
        button('Zoom out', '−', () => handlers.zoom(this.state.prefs.zoom / 2), 'icon-button'),
        button('Zoom in', '+', () => handlers.zoom(this.state.prefs.zoom * 2), 'icon-button'),
        button('Fit the panel', 'Fit', () => handlers.zoom(1)),
      ),
      this.surprise,
      el('span', { className: 'spacer' }),
      button('Export the heatmap as a PNG image', 'Export PNG', () => handlers.exportPng()),
      button("Export this view's weights as JSON", 'Export JSON', () => handlers.exportJson()),
    );
  }

  /** Shows the current choices (after a change, or the saved ones on a rebuild). */
  sync(): void {
    const prefs = this.state.prefs;
    this.kind.value = prefs.kind;
    this.layer.value = String(prefs.layer);
    this.head.value = String(prefs.head);
    this.head.disabled = prefs.kind !== 'head';
    this.scale.value = prefs.scale;
    this.surprise.setAttribute('aria-pressed', String(prefs.surprise));
    this.surprise.classList.toggle('on', prefs.surprise);
  }
}
