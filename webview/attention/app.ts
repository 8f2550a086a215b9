// The attention view as one object: builds the layout, applies AttentionHostMessages, asks the host for the matrix on
// screen, and keeps its own choices (view, tab, zoom, overlays) with getState/setState. main.ts only creates it and
// forwards window messages, so tests drive it directly with a stubbed acquireVsCodeApi.

import {
  describeView,
  unpackMatrix,
  viewKey,
  type AttentionData,
  type AttentionHostMessage,
  type AttentionView,
  type AttentionViewKind,
  type HeadLabel,
  type HeadStats,
  type PackedMatrix,
} from '../../src/protocol/attention';
import { colorRamp, cssColor, RAMP_STEPS, themeColor, type Rgba } from './colors';
import { button, el, num, percent, select } from './dom';
import { cellAt, Heatmap, paintMatrix, type Cell } from './heatmap';
import { displayLines, displayToken, endsLine, quoteToken } from './tokens';
import { getAttentionApi, type AttentionApi, type PersistedState, type Scale, type Tab } from './vscodeApi';

// A record, so that a new message type cannot be left out.
const HOST_MESSAGE_TYPES: Record<AttentionHostMessage['type'], true> = { loading: true, error: true, data: true, details: true, matrix: true, rows: true, selectToken: true, stale: true };

/** The host is trusted, but a stray window message must not break the view. */
export function isHostMessage(value: unknown): value is AttentionHostMessage {
  return typeof value === 'object' && value !== null && Object.hasOwn(HOST_MESSAGE_TYPES, String((value as { type?: unknown }).type));
}

/** A Float32Array from what postMessage delivered (a typed array, its buffer, or a JSON-ified array/object). */
export function toFloat32(value: unknown): Float32Array {
  if (value instanceof Float32Array) return value;
  if (value instanceof ArrayBuffer) return new Float32Array(value);
  if (ArrayBuffer.isView(value)) return new Float32Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  if (Array.isArray(value)) return Float32Array.from(value as number[]);
  if (typeof value === 'object' && value !== null) return Float32Array.from(Object.values(value as Record<string, number>));
  return new Float32Array(0);
}

/** A Uint16Array from what postMessage delivered (see toFloat32). */
export function toUint16(value: unknown): Uint16Array {
  if (value instanceof Uint16Array) return value;
  if (value instanceof ArrayBuffer) return new Uint16Array(value);
  if (ArrayBuffer.isView(value)) return new Uint16Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  if (Array.isArray(value)) return Uint16Array.from(value as number[]);
  if (typeof value === 'object' && value !== null) return Uint16Array.from(Object.values(value as Record<string, number>));
  return new Uint16Array(0);
}

export const LABEL_TEXT: Record<HeadLabel, string> = {
  'previous-token': 'previous token',
  'first-token': 'first token (sink)',
  induction: 'induction',
  'bracket-matching': 'bracket matching',
};

const TABS: Array<[Tab, string]> = [
  ['heatmap', 'Heatmap'],
  ['heads', 'Head view'],
  ['model', 'Model view'],
  ['summary', 'Head summary'],
];

const KINDS: Array<[AttentionViewKind, string]> = [
  ['head', 'One head'],
  ['mean', 'Mean of heads'],
  ['max', 'Max of heads'],
  ['rollout', 'Rollout (layers 1…n)'],
];

/** Above this many tokens the token strip follows the pointer at most every STRIP_INTERVAL_MS. */
const STRIP_THROTTLE_TOKENS = 256;
const STRIP_INTERVAL_MS = 150;

/** Head view: rows of this many CSS pixels (kept in step with .hv-token in media/attention.css). */
export const HEAD_VIEW_ROW = 20;
const HEAD_VIEW_WIDTH = 160;
const SVG_NS = 'http://www.w3.org/2000/svg';

export interface AttentionAppOptions {
  api?: AttentionApi;
  /** Runs a callback before the next frame; requestAnimationFrame in the browser (tests run it at once). */
  schedule?: (callback: () => void) => void;
}

type SummaryColumn = 'layer' | 'entropyBits' | 'meanDistance' | 'previousTokenShare' | 'firstTokenShare' | 'inductionScore' | 'bracketScore';

export class AttentionApp {
  private readonly api: AttentionApi;
  private readonly schedule: (callback: () => void) => void;
  private renderScheduled = false;
  private stripTimer: ReturnType<typeof setTimeout> | undefined;
  private stripPaintedAt = -Infinity;
  private requestedAt = 0;
  /** The background each token span has now, so a new query only touches the spans that change. */
  private tokenColours: string[] = [];
  private data: AttentionData | undefined;
  /** Every head's thumbnail and statistics: they arrive after the data (undefined until then). */
  private details: { thumbnailSize: number; thumbnails: Float32Array; summaries: HeadStats[] } | undefined;
  private prefs: PersistedState;
  private matrix: Float32Array | undefined;
  private matrixKey = '';
  private requestId = 0;
  private selected: number | null = null;
  private hovered: number | null = null;
  private hoveredKey: number | null = null;
  private hoveredCell: Cell | null = null;
  private lastPostedHover: number | null | undefined;
  private stale = false;
  private ramp: Uint8ClampedArray;
  private accent: Rgba = [230, 126, 34, 255];
  private surpriseColor: Rgba = [229, 57, 53, 255];
  private summarySort: { column: SummaryColumn; descending: boolean } = { column: 'layer', descending: false };
  /** Head view, all-heads mode: the heads drawn, and the rows of the active query in each head of the layer. */
  private shownHeads = new Set<number>();
  private rows: { layer: number; query: number; heads: number; data: Float32Array } | undefined;
  private rowsRequest = { id: 0, key: '' };
  /** The last heatmap paint's pixels (tests check the mapping). */
  lastPixels: Uint8ClampedArray | undefined;

  private ui:
    | {
        status: HTMLElement;
        title: HTMLElement;
        meta: HTMLElement;
        note: HTMLElement;
        kind: HTMLSelectElement;
        layer: HTMLSelectElement;
        head: HTMLSelectElement;
        scale: HTMLSelectElement;
        surprise: HTMLButtonElement;
        tokens: HTMLElement;
        tokenSpans: HTMLElement[];
        tabs: Map<Tab, HTMLButtonElement>;
        panels: Map<Tab, HTMLElement>;
        heatmap: Heatmap;
        viewTitle: HTMLElement;
        legend: HTMLCanvasElement;
        legendLow: HTMLElement;
        legendHigh: HTMLElement;
        headView: { queries: HTMLElement[]; keys: HTMLElement[]; svg: SVGSVGElement; caption: HTMLElement; allHeads: HTMLButtonElement; chips: HTMLButtonElement[] };
        model: HTMLElement;
        summary: HTMLElement;
        explain: HTMLElement;
        live: HTMLElement;
        tooltip: HTMLElement;
      }
    | undefined;

  constructor(
    private readonly root: HTMLElement,
    options: AttentionAppOptions = {},
  ) {
    this.api = options.api ?? getAttentionApi();
    this.schedule = options.schedule ?? ((callback) => requestAnimationFrame(() => callback()));
    const saved = this.api.getState() ?? {};
    this.prefs = {
      kind: KINDS.some(([k]) => k === saved.kind) ? saved.kind! : 'head',
      layer: Number.isInteger(saved.layer) ? saved.layer! : 0,
      head: Number.isInteger(saved.head) ? saved.head! : 0,
      tab: TABS.some(([t]) => t === saved.tab) ? saved.tab! : 'heatmap',
      zoom: typeof saved.zoom === 'number' && saved.zoom >= 1 && saved.zoom <= 16 ? saved.zoom : 1,
      scale: saved.scale === 'linear' ? 'linear' : 'sqrt',
      surprise: saved.surprise === true,
      allHeads: saved.allHeads === true,
    };
    this.ramp = colorRamp([0, 0, 0, 255], this.accent, this.prefs.scale);
  }

  /** Shows the loading state and asks the host for the data. */
  start(): void {
    this.root.className = 'attention';
    this.root.replaceChildren(el('div', { className: 'status', text: 'Loading…', attrs: { role: 'status' } }));
    // The view it will show, so the host sends that matrix with the data.
    this.api.postMessage({ type: 'ready', view: this.view });
  }

  /** The view on screen. */
  get view(): AttentionView {
    const { kind, layer, head } = this.prefs;
    return kind === 'head' ? { kind, layer, head } : { kind, layer };
  }

  get currentMatrix(): Float32Array | undefined {
    return this.matrix;
  }

  /** The query token whose attention is shown: the hovered one, else the selected one. */
  get activeQuery(): number | null {
    return this.hovered ?? this.selected;
  }

  get selectedToken(): number | null {
    return this.selected;
  }

  get tab(): Tab {
    return this.prefs.tab;
  }

  handle(message: AttentionHostMessage): void {
    switch (message.type) {
      case 'loading':
        this.data = undefined;
        this.matrix = undefined;
        this.root.replaceChildren(el('div', { className: 'status', text: `Running ${message.label} through the model…`, attrs: { role: 'status' } }));
        this.ui = undefined;
        break;
      case 'error':
        this.root.replaceChildren(el('div', { className: 'status error', text: message.message, attrs: { role: 'alert' } }));
        this.ui = undefined;
        break;
      case 'data': {
        // Wall-clock stamps for benchmarks: when the data arrived and when the view was built from it.
        const receivedAt = Date.now();
        this.applyData(message.data, message.matrix);
        this.root.dataset['dataReceivedAt'] = String(receivedAt);
        this.root.dataset['builtAt'] = String(Date.now());
        break;
      }
      case 'details':
        if (!this.data) return;
        this.details = { ...message.details, thumbnails: toFloat32(message.details.thumbnails) };
        this.renderModelGrid();
        this.renderSummary();
        break;
      case 'matrix':
        if (message.requestId !== this.requestId || viewKey(message.view) !== viewKey(this.view)) return; // an older request
        this.showMatrix(message);
        break;
      case 'rows':
        if (message.requestId !== this.rowsRequest.id) return;
        this.rows = { layer: message.layer, query: message.query, heads: message.heads, data: toFloat32(message.data) };
        this.renderHeadView();
        break;
      case 'selectToken':
        if (!this.data || message.index >= this.data.tokens.length) return;
        this.selectToken(message.index, true);
        break;
      case 'stale':
        this.stale = true;
        if (this.ui) {
          this.ui.status.textContent = 'The code changed since it was explained: run Explain Attention again to link the view to the editor.';
          this.ui.status.hidden = false;
        }
        break;
    }
  }

  // ---- layout ---------------------------------------------------------------------------------------------------

  private applyData(data: AttentionData, first: PackedMatrix | undefined): void {
    this.data = data;
    this.details = undefined;
    this.tokenColours = [];
    this.matrix = undefined;
    this.matrixKey = '';
    this.selected = null;
    this.hovered = null;
    this.hoveredKey = null;
    this.stale = false;
    this.prefs.layer = Math.min(this.prefs.layer, data.layers - 1);
    this.prefs.head = Math.min(this.prefs.head, data.heads - 1);
    this.readTheme();
    this.build(data);
    if (first && viewKey(first.view) === viewKey(this.view) && first.seq === data.tokens.length) {
      this.requestId++; // an answer to a request made before this data is stale
      this.requestedAt = performance.now();
      this.showMatrix(first);
    } else this.requestMatrix();
  }

  /** Colours from the theme: the ramp runs from the editor background to the accent. */
  private readTheme(): void {
    const background = themeColor('--vscode-editor-background', [30, 30, 30, 255]);
    this.accent = themeColor('--vscode-charts-orange', [230, 126, 34, 255]);
    this.surpriseColor = themeColor('--vscode-charts-red', [229, 57, 53, 255]);
    this.ramp = colorRamp(background, this.accent, this.prefs.scale);
  }

  private build(data: AttentionData): void {
    const status = el('div', { className: 'status-line', attrs: { role: 'status' } });
    status.hidden = true;
    const kind = select('Aggregation', KINDS, (value) => this.setView({ kind: value as AttentionViewKind }));
    const layer = select(
      'Layer',
      Array.from({ length: data.layers }, (_, i): [string, string] => [String(i), `Layer ${i + 1}`]),
      (value) => this.setView({ layer: Number(value) }),
    );
    const head = select(
      'Head',
      Array.from({ length: data.heads }, (_, i): [string, string] => [String(i), `Head ${i + 1}`]),
      (value) => this.setView({ head: Number(value) }),
    );
    const scale = select(
      'Colour scale',
      [
        ['sqrt', 'Scale: √ weight'],
        ['linear', 'Scale: linear'],
      ],
      (value) => this.setScale(value as Scale),
    );
    const surprise = button('Colour tokens by surprisal (how unexpected each token was to the model)', 'Surprise', () => this.toggleSurprise(), 'text-button toggle');
    surprise.disabled = !data.surprisal;
    if (!data.surprisal) surprise.title = 'This engine did not report surprisal';
    const toolbar = el(
      'div',
      { className: 'toolbar', attrs: { role: 'toolbar', 'aria-label': 'Attention view' } },
      kind,
      layer,
      head,
      scale,
      el(
        'span',
        { className: 'group' },
        button('Zoom out', '−', () => this.zoom(this.prefs.zoom / 2), 'icon-button'),
        button('Zoom in', '+', () => this.zoom(this.prefs.zoom * 2), 'icon-button'),
        button('Fit the panel', 'Fit', () => this.zoom(1)),
      ),
      surprise,
      el('span', { className: 'spacer' }),
      button('Export the heatmap as a PNG image', 'Export PNG', () => this.exportPng()),
      button("Export this view's weights as JSON", 'Export JSON', () => this.api.postMessage({ type: 'exportJson', view: this.view })),
    );

    const tokens = el('div', { className: 'tokens', attrs: { role: 'listbox', 'aria-label': 'Tokens as the model sees them', tabindex: '0' } });
    const tokenSpans = data.tokens.map((token, i) => {
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
      tokens.append(span);
      if (endsLine(token.text)) tokens.append(el('br'));
      return span;
    });
    tokens.addEventListener('mouseover', (event) => {
      const index = indexOf(event.target);
      if (index !== null) this.hoverToken(index);
    });
    tokens.addEventListener('mouseleave', () => this.hoverToken(null));
    tokens.addEventListener('click', (event) => {
      const index = indexOf(event.target);
      if (index !== null) this.selectToken(index === this.selected ? null : index, false);
    });
    tokens.addEventListener('dblclick', (event) => {
      const index = indexOf(event.target);
      if (index !== null) this.api.postMessage({ type: 'revealToken', index });
    });
    tokens.addEventListener('keydown', (event) => this.tokensKey(event));

    const tabs = new Map<Tab, HTMLButtonElement>();
    const panels = new Map<Tab, HTMLElement>();
    const tabList = el('div', { className: 'tabs', attrs: { role: 'tablist' } });
    for (const [id, text] of TABS) {
      const tab = el('button', { className: 'tab', text, attrs: { type: 'button', role: 'tab', id: `tab-${id}`, 'aria-controls': `panel-${id}` } });
      tab.addEventListener('click', () => this.setTab(id));
      tab.addEventListener('keydown', (event) => {
        const order = TABS.map(([t]) => t);
        const at = order.indexOf(id);
        const next = event.key === 'ArrowRight' ? order[(at + 1) % order.length] : event.key === 'ArrowLeft' ? order[(at + order.length - 1) % order.length] : undefined;
        if (next) {
          event.preventDefault();
          this.setTab(next);
          tabs.get(next)?.focus();
        }
      });
      tabs.set(id, tab);
      tabList.append(tab);
      panels.set(id, el('div', { className: `panel panel-${id}`, attrs: { role: 'tabpanel', id: `panel-${id}`, 'aria-labelledby': `tab-${id}` } }));
    }

    // Heatmap
    const heatmap = new Heatmap(
      {
        onHover: (cell, event) => this.hoverCell(cell, event),
        onClick: (cell) => this.selectToken(cell.query, false),
      },
      this.schedule,
    );
    const viewTitle = el('div', { className: 'view-title' });
    const legend = el('canvas', { className: 'legend-bar', attrs: { 'aria-hidden': 'true' } });
    const legendLow = el('span', { className: 'legend-label', text: '0' });
    const legendHigh = el('span', { className: 'legend-label', text: '1' });
    panels
      .get('heatmap')!
      .append(
        el('div', { className: 'heatmap-head' }, viewTitle, el('div', { className: 'legend', attrs: { 'aria-label': 'Colour scale' } }, legendLow, legend, legendHigh, el('span', { className: 'legend-note', text: 'rows: query · columns: key · blank: masked' }))),
        heatmap.element,
      );

    // Head view
    const hvQueries = el('div', { className: 'hv-column hv-queries' });
    const hvKeys = el('div', { className: 'hv-column hv-keys' });
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('class', 'hv-lines');
    svg.setAttribute('width', String(HEAD_VIEW_WIDTH));
    svg.setAttribute('height', String(data.tokens.length * HEAD_VIEW_ROW));
    svg.setAttribute('aria-hidden', 'true');
    const queries: HTMLElement[] = [];
    const keys: HTMLElement[] = [];
    data.tokens.forEach((token, i) => {
      const q = el('div', { className: 'hv-token', text: displayToken(token.text), attrs: { 'data-index': String(i), tabindex: '-1' } });
      const k = el('div', { className: 'hv-token', text: displayToken(token.text), attrs: { 'data-index': String(i) } });
      queries.push(q);
      keys.push(k);
      hvQueries.append(q);
      hvKeys.append(k);
    });
    hvQueries.addEventListener('mouseover', (event) => {
      const index = indexOf(event.target);
      if (index !== null) this.hoverToken(index);
    });
    hvQueries.addEventListener('mouseleave', () => this.hoverToken(null));
    hvQueries.addEventListener('click', (event) => {
      const index = indexOf(event.target);
      if (index !== null) this.selectToken(index === this.selected ? null : index, false);
    });
    hvKeys.addEventListener('mouseover', (event) => {
      const index = indexOf(event.target);
      if (index !== null) {
        this.hoveredKey = index;
        this.renderHeadView();
      }
    });
    hvKeys.addEventListener('mouseleave', () => {
      this.hoveredKey = null;
      this.renderHeadView();
    });
    const caption = el('div', { className: 'hv-caption' });
    const allHeads = button("Draw every head of the layer at once, one colour per head", 'All heads', () => this.toggleAllHeads(), 'text-button toggle');
    this.shownHeads = new Set(Array.from({ length: data.heads }, (_, h) => h));
    const chips = Array.from({ length: data.heads }, (_, h) => {
      const swatch = el('span', { className: 'swatch' });
      swatch.style.backgroundColor = headColor(h, data.heads);
      const chip = el('button', { className: 'chip', title: `Show or hide head ${h + 1}`, attrs: { type: 'button', 'aria-pressed': 'true', 'data-head': String(h) } }, swatch, `H${h + 1}`);
      chip.addEventListener('click', () => {
        if (this.shownHeads.has(h)) this.shownHeads.delete(h);
        else this.shownHeads.add(h);
        chip.setAttribute('aria-pressed', String(this.shownHeads.has(h)));
        this.renderHeadView();
      });
      return chip;
    });
    panels
      .get('heads')!
      .append(
        el('div', { className: 'hv-controls' }, allHeads, el('span', { className: 'chips' }, ...chips)),
        caption,
        el('div', { className: 'hv-scroll' }, el('div', { className: 'hv-grid' }, hvQueries, svg, hvKeys)),
      );

    const model = el('div', { className: 'model-grid' });
    panels.get('model')!.append(
      el('p', { className: 'hint', text: 'Every head of every layer, max-pooled. Click one to open it.' }),
      model,
    );
    const summary = el('div', { className: 'summary' });
    panels.get('summary')!.append(summary);

    const live = el('div', { className: 'live', attrs: { 'aria-live': 'polite' } });
    const explain = this.buildExplanation(data, live);
    const tooltip = el('div', { className: 'tooltip', attrs: { role: 'tooltip' } });
    tooltip.hidden = true;

    const meta = el('div', { className: 'meta', text: `${data.tokens.length} tokens · ${data.model} · ${data.layers} layers × ${data.heads} heads` });
    const note = el('div', { className: 'note', text: data.note ?? '' });
    note.hidden = !data.note;
    const title = el('h1', { className: 'title', text: data.label });
    this.root.replaceChildren(
      el('header', { className: 'header' }, title, meta),
      note,
      status,
      toolbar,
      tokens,
      el('div', { className: 'body' }, el('div', { className: 'main' }, tabList, ...panels.values()), explain),
      tooltip,
    );
    this.ui = {
      status,
      title,
      meta,
      note,
      kind,
      layer,
      head,
      scale,
      surprise,
      tokens,
      tokenSpans,
      tabs,
      panels,
      heatmap,
      viewTitle,
      legend,
      legendLow,
      legendHigh,
      headView: { queries, keys, svg, caption, allHeads, chips },
      model,
      summary,
      explain,
      live,
      tooltip,
    };
    this.renderModelGrid();
    this.renderSummary();
    this.renderLive(null);
    this.syncControls();
    this.drawLegend();
    if (typeof window !== 'undefined') window.addEventListener('resize', () => this.ui?.heatmap.layout());
  }

  private buildExplanation(data: AttentionData, live: HTMLElement): HTMLElement {
    const d = data.headDim;
    return el(
      'aside',
      { className: 'explain', attrs: { 'aria-label': 'What attention is' } },
      el('h2', { text: 'How to read this' }),
      el('p', { text: 'Each token builds a query (what it looks for), a key (what it offers) and a value (what it passes on) from its current vector.' }),
      el('p', {}, 'A head scores every earlier key against the query, scales the scores by 1/√dₖ and turns each row into weights that sum to 1:', el('code', { className: 'formula', text: `softmax(QKᵀ / √${d}) · V` })),
      el('p', { text: 'Masking: a token never sees the tokens after it (the blank upper triangle), because the model writes left to right.' }),
      el('p', { text: `Multi-head: ${data.heads} heads per layer look for different things in parallel; their outputs are joined and passed to the next of ${data.layers} layers. Mean and Max combine a layer's heads; Rollout follows attention through the layers, with the residual connection.` }),
      el('h2', { text: 'Under the pointer' }),
      live,
    );
  }

  private syncControls(): void {
    const ui = this.ui;
    if (!ui) return;
    ui.kind.value = this.prefs.kind;
    ui.layer.value = String(this.prefs.layer);
    ui.head.value = String(this.prefs.head);
    ui.head.disabled = this.prefs.kind !== 'head';
    ui.scale.value = this.prefs.scale;
    ui.surprise.setAttribute('aria-pressed', String(this.prefs.surprise));
    ui.headView.allHeads.setAttribute('aria-pressed', String(this.prefs.allHeads));
    ui.headView.allHeads.classList.toggle('on', this.prefs.allHeads);
    ui.headView.allHeads.textContent = `All heads of layer ${this.prefs.layer + 1}`;
    for (const chip of ui.headView.chips) chip.hidden = !this.prefs.allHeads;
    ui.surprise.classList.toggle('on', this.prefs.surprise);
    for (const [id, tab] of ui.tabs) {
      const active = id === this.prefs.tab;
      tab.setAttribute('aria-selected', String(active));
      tab.tabIndex = active ? 0 : -1;
      tab.classList.toggle('active', active);
      ui.panels.get(id)!.hidden = !active;
    }
    ui.viewTitle.textContent = describeView(this.view);
    this.root.classList.toggle('surprise', this.prefs.surprise);
  }

  // ---- user actions ---------------------------------------------------------------------------------------------

  /** Changes the view (kind, layer or head) and asks the host for its matrix. */
  setView(change: Partial<Pick<PersistedState, 'kind' | 'layer' | 'head'>>): void {
    Object.assign(this.prefs, change);
    this.save();
    this.syncControls();
    this.requestMatrix();
    if (this.prefs.allHeads) this.renderHeadView(); // its rows come from the host, not from the view's matrix
  }

  setTab(tab: Tab): void {
    this.prefs.tab = tab;
    this.save();
    this.syncControls();
    if (tab === 'heatmap') this.ui?.heatmap.layout();
    if (tab === 'heads') this.renderHeadView();
  }

  setScale(scale: Scale): void {
    this.prefs.scale = scale;
    this.save();
    this.readTheme();
    this.syncControls();
    this.drawLegend();
    this.renderModelGrid();
    this.renderMatrix();
  }

  toggleSurprise(): void {
    if (!this.data?.surprisal) return;
    this.prefs.surprise = !this.prefs.surprise;
    this.save();
    this.syncControls();
    this.renderTokenColours();
  }

  /** Head view: draw every head of the layer (one colour each) instead of the view's one matrix. */
  toggleAllHeads(): void {
    this.prefs.allHeads = !this.prefs.allHeads;
    this.save();
    this.syncControls();
    this.renderHeadView();
  }

  zoom(zoom: number): void {
    this.prefs.zoom = Math.max(1, Math.min(16, zoom));
    this.save();
    this.ui?.heatmap.setZoom(this.prefs.zoom);
  }

  /** Opens one head on the heatmap (the model view's and the summary's click). */
  openHead(layer: number, head: number): void {
    this.setView({ kind: 'head', layer, head });
    this.setTab('heatmap');
  }

  hoverToken(index: number | null): void {
    if (this.hovered === index) return;
    this.hovered = index;
    this.activeQueryChanged();
    if (this.prefs.surprise) this.renderSurprise(index);
  }

  /** The explanation panel with the Surprise overlay on: the hovered token's surprisal and the model's top guesses. */
  private renderSurprise(index: number | null): void {
    const ui = this.ui;
    const data = this.data;
    if (!ui || !data) return;
    if (index === null) {
      this.renderLive(null);
      return;
    }
    const token = data.tokens[index]!;
    const bits = data.surprisal?.[index];
    const predictions = data.predictions?.[index] ?? [];
    ui.live.replaceChildren(
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

  /** The theme changed (VS Code sets the body's class): the colours follow. */
  themeChanged(): void {
    if (!this.data || !this.ui) return;
    this.readTheme();
    this.tokenColours = [];
    this.drawLegend();
    this.renderModelGrid();
    this.renderMatrix();
    this.renderTokenColours();
  }

  /** Selects (pins) a token; `fromHost` when the editor cursor moved onto it. */
  selectToken(index: number | null, fromHost: boolean): void {
    this.selected = index;
    const ui = this.ui;
    if (ui) {
      ui.tokenSpans.forEach((span, i) => span.setAttribute('aria-selected', String(i === index)));
      if (index !== null) {
        const span = ui.tokenSpans[index];
        if (fromHost && typeof span?.scrollIntoView === 'function') span.scrollIntoView({ block: 'nearest' });
        ui.tokens.setAttribute('aria-activedescendant', `tok-${index}`);
      }
    }
    this.activeQueryChanged();
  }

  private tokensKey(event: KeyboardEvent): void {
    if (!this.data) return;
    const last = this.data.tokens.length - 1;
    const current = this.selected ?? -1;
    let next: number | null = null;
    if (event.key === 'ArrowRight') next = Math.min(last, current + 1);
    else if (event.key === 'ArrowLeft') next = Math.max(0, current - 1);
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = last;
    else if (event.key === 'Enter' && this.selected !== null) {
      event.preventDefault();
      this.api.postMessage({ type: 'revealToken', index: this.selected });
      return;
    } else if (event.key === 'Escape') {
      this.selectToken(null, false);
      return;
    }
    if (next === null) return;
    event.preventDefault();
    this.selectToken(next, false);
    this.ui?.tokenSpans[next]?.scrollIntoView?.({ block: 'nearest' });
  }

  private hoverCell(cell: Cell | null, pointer: { clientX: number; clientY: number } | null): void {
    this.hoveredCell = cell;
    const query = cell ? cell.query : null;
    // Moving along a row changes only the tooltip; a new row re-colours the tokens and the editor.
    if (query !== this.hovered) {
      this.hovered = query;
      this.activeQueryChanged();
    }
    this.showTooltip(cell, pointer);
  }

  /** The cell at a point of the heatmap canvas (tests use it to check the hover lookup). */
  cellAtPoint(x: number, y: number): Cell | null {
    const canvas = this.ui?.heatmap.canvas;
    if (!canvas || !this.data) return null;
    const size = this.ui!.heatmap.displaySize();
    return cellAt(x, y, size, size, this.data.tokens.length);
  }

  /** The tooltip text for a cell (query, key, weight), as shown on hover. */
  cellText(cell: Cell): string {
    const data = this.data;
    if (!data) return '';
    const q = data.tokens[cell.query]!;
    const k = data.tokens[cell.key]!;
    const head = `Query #${cell.query} ${quoteToken(q.text)} → key #${cell.key} ${quoteToken(k.text)}`;
    if (!cell.visible) return `${head}\nMasked: a token cannot attend to later tokens.`;
    const weight = this.weight(cell.query, cell.key);
    return `${head}\nWeight ${weight === undefined ? '…' : weight.toFixed(4)}`;
  }

  private weight(query: number, key: number): number | undefined {
    const seq = this.data?.tokens.length ?? 0;
    return this.matrix && this.matrixKey === viewKey(this.view) ? this.matrix[query * seq + key] : undefined;
  }

  private showTooltip(cell: Cell | null, pointer: { clientX: number; clientY: number } | null): void {
    const ui = this.ui;
    if (!ui) return;
    if (!cell || !pointer) {
      ui.tooltip.hidden = true;
      this.renderLive(null);
      return;
    }
    ui.tooltip.textContent = this.cellText(cell);
    ui.tooltip.hidden = false;
    const width = typeof window !== 'undefined' ? window.innerWidth : 800;
    ui.tooltip.style.left = `${Math.min(pointer.clientX + 14, width - 260)}px`;
    ui.tooltip.style.top = `${pointer.clientY + 14}px`;
    this.renderLive(cell);
  }

  /** The explanation panel's numbers for the hovered cell. */
  private renderLive(cell: Cell | null): void {
    const ui = this.ui;
    const data = this.data;
    if (!ui || !data) return;
    if (!cell) {
      const hint = this.prefs.surprise ? 'Hover a token to see how surprising it was and what the model expected.' : 'Hover a cell of the heatmap to see its numbers.';
      ui.live.replaceChildren(el('p', { className: 'hint', text: hint }));
      return;
    }
    const lines: Array<[string, string]> = [
      ['Query', `#${cell.query} ${quoteToken(data.tokens[cell.query]!.text)}`],
      ['Key', `#${cell.key} ${quoteToken(data.tokens[cell.key]!.text)} (${cell.query - cell.key} back)`],
    ];
    if (!cell.visible) lines.push(['Weight', 'masked (score set to −∞ before the softmax)']);
    else {
      const weight = this.weight(cell.query, cell.key);
      lines.push(['Weight', weight === undefined ? '…' : `${weight.toFixed(4)} (after softmax)`]);
      if (this.view.kind === 'head' && weight !== undefined && weight > 0 && this.matrix) {
        // softmax is shift-invariant: the score relative to the row's best key is ln(w / w_max) exactly.
        const seq = data.tokens.length;
        let best = 0;
        for (let k = 0; k <= cell.query; k++) best = Math.max(best, this.matrix[cell.query * seq + k]!);
        lines.push(['Score', `${Math.log(weight / best).toFixed(3)} relative to the row's top key (scaled by 1/√${data.headDim})`]);
      } else if (this.view.kind !== 'head') lines.push(['Note', `${describeView(this.view)}: not one softmax, so no single score`]);
    }
    ui.live.replaceChildren(el('dl', {}, ...lines.flatMap(([term, value]) => [el('dt', { text: term }), el('dd', { text: value })])));
  }

  private exportPng(): void {
    const ui = this.ui;
    const data = this.data;
    if (!ui || !data || !this.matrix) return;
    const canvas = ui.heatmap.exportCanvas();
    const dataUrl = canvas.toDataURL('image/png');
    if (!dataUrl.startsWith('data:image/png')) return;
    this.api.postMessage({ type: 'exportPng', dataUrl, name: `attention-${viewKey(this.view)}.png` });
  }

  private save(): void {
    this.api.setState({ ...this.prefs });
  }

  // ---- rendering ------------------------------------------------------------------------------------------------

  private requestMatrix(): void {
    if (!this.data) return;
    this.requestId++;
    this.requestedAt = performance.now();
    this.api.postMessage({ type: 'requestMatrix', requestId: this.requestId, view: this.view });
    if (this.lastPostedHover !== undefined && this.lastPostedHover !== null) this.api.postMessage({ type: 'hoverToken', index: this.lastPostedHover, view: this.view });
  }

  private showMatrix(packed: PackedMatrix): void {
    this.matrix = unpackMatrix(toUint16(packed.data), packed.seq);
    this.matrixKey = viewKey(packed.view);
    this.renderMatrix();
  }

  /** Paints everything that shows the current matrix. */
  private renderMatrix(): void {
    const ui = this.ui;
    const data = this.data;
    if (!ui || !data || !this.matrix || this.matrixKey !== viewKey(this.view)) return;
    this.lastPixels = ui.heatmap.draw(this.matrix, data.tokens.length, this.ramp, describeView(this.view));
    // From asking the host to having the matrix (benchmarks read it).
    if (this.requestedAt) ui.heatmap.canvas.dataset['fetchMs'] = (performance.now() - this.requestedAt).toFixed(1);
    ui.heatmap.setZoom(this.prefs.zoom);
    let max = 0;
    for (let i = 0; i < this.matrix.length; i++) if (this.matrix[i]! > max) max = this.matrix[i]!;
    ui.legendHigh.textContent = '1';
    ui.legendHigh.title = `largest weight here: ${max.toFixed(3)}`;
    this.renderTokenColours();
    this.renderHeadView();
    if (this.hoveredCell) {
      this.renderLive(this.hoveredCell);
      ui.tooltip.textContent = this.cellText(this.hoveredCell);
    }
  }

  private activeQueryChanged(): void {
    const query = this.activeQuery;
    if (query !== this.lastPostedHover) {
      this.lastPostedHover = query;
      if (!this.stale) this.api.postMessage({ type: 'hoverToken', index: query, view: this.view });
    }
    // The token strip and the head view follow once per frame, however fast the pointer moves.
    if (this.renderScheduled) return;
    this.renderScheduled = true;
    this.schedule(() => {
      this.renderScheduled = false;
      const active = this.activeQuery;
      this.ui?.tokenSpans.forEach((span, i) => span.classList.toggle('query', i === active));
      this.renderHeadView();
      this.renderStripSoon();
    });
  }

  /**
   * Re-colours the token strip now, or for long code at most every STRIP_INTERVAL_MS (with a last update when the
   * pointer stops): restyling ~1,000 tokens costs a few frames, and the heatmap must follow the pointer every frame.
   */
  private renderStripSoon(): void {
    const long = (this.data?.tokens.length ?? 0) > STRIP_THROTTLE_TOKENS;
    const wait = long ? STRIP_INTERVAL_MS - (performance.now() - this.stripPaintedAt) : 0;
    if (wait <= 0) {
      clearTimeout(this.stripTimer);
      this.stripTimer = undefined;
      this.stripPaintedAt = performance.now();
      this.renderTokenColours();
    } else if (!this.stripTimer) {
      this.stripTimer = setTimeout(() => {
        this.stripTimer = undefined;
        this.stripPaintedAt = performance.now();
        this.renderTokenColours();
      }, wait);
    }
  }

  /** Sets a token's background only when it changes (1,024 style writes per pointer move would cost a frame). */
  private paintToken(span: HTMLElement, index: number, colour: string): void {
    if (this.tokenColours[index] === colour) return;
    this.tokenColours[index] = colour;
    span.style.backgroundColor = colour;
  }

  /** Token backgrounds: the active query's attention over the tokens (or their surprisal with the overlay on). */
  private renderTokenColours(): void {
    const ui = this.ui;
    const data = this.data;
    if (!ui || !data) return;
    const seq = data.tokens.length;
    if (this.prefs.surprise && data.surprisal) {
      const surprisal = data.surprisal;
      ui.tokenSpans.forEach((span, i) => {
        const bits = surprisal[i];
        this.paintToken(span, i, bits === null || bits === undefined ? '' : cssColor(this.surpriseColor, Math.min(0.85, Math.max(0, bits) / 16)));
        span.classList.remove('after');
      });
      return;
    }
    const query = this.activeQuery;
    const matrix = this.matrix && this.matrixKey === viewKey(this.view) ? this.matrix : undefined;
    ui.tokenSpans.forEach((span, k) => {
      const after = query !== null && k > query;
      span.classList.toggle('after', after);
      if (query === null || !matrix || after) {
        this.paintToken(span, k, '');
        return;
      }
      const w = matrix[query * seq + k]!;
      const alpha = this.prefs.scale === 'sqrt' ? Math.sqrt(Math.max(0, w)) : w;
      // 1/50 steps: finer differences are invisible, and equal strings skip the style write.
      this.paintToken(span, k, alpha < 0.02 ? '' : cssColor(this.accent, Math.round(Math.min(0.9, alpha * 0.9) * 50) / 50));
    });
  }

  /** Head view lines: from the active query to every earlier key (or to the hovered key from every later query). */
  private renderHeadView(): void {
    const ui = this.ui;
    const data = this.data;
    if (!ui || !data || this.prefs.tab !== 'heads') return; // drawn when its tab is shown
    const { svg, caption } = ui.headView;
    const seq = data.tokens.length;
    const matrix = this.matrix && this.matrixKey === viewKey(this.view) ? this.matrix : undefined;
    const query = this.activeQuery;
    if (this.prefs.allHeads && this.hoveredKey === null) {
      this.renderAllHeads(query);
      return;
    }
    const lines: Array<[number, number, number]> = [];
    if (matrix && this.hoveredKey !== null) {
      for (let q = this.hoveredKey; q < seq; q++) lines.push([q, this.hoveredKey, matrix[q * seq + this.hoveredKey]!]);
    } else if (matrix && query !== null) {
      for (let k = 0; k <= query; k++) lines.push([query, k, matrix[query * seq + k]!]);
    }
    const color = cssColor(this.accent);
    const children: SVGElement[] = [];
    for (const [q, k, w] of lines) {
      if (w < 0.005) continue;
      const line = document.createElementNS(SVG_NS, 'line');
      line.setAttribute('x1', '0');
      line.setAttribute('y1', String(q * HEAD_VIEW_ROW + HEAD_VIEW_ROW / 2));
      line.setAttribute('x2', String(HEAD_VIEW_WIDTH));
      line.setAttribute('y2', String(k * HEAD_VIEW_ROW + HEAD_VIEW_ROW / 2));
      line.setAttribute('stroke', color);
      line.setAttribute('stroke-width', '2');
      line.setAttribute('stroke-opacity', Math.min(1, w).toFixed(3));
      children.push(line);
    }
    svg.replaceChildren(...children);
    const keyWeights = new Float32Array(seq);
    if (this.hoveredKey === null) for (const [, k, w] of lines) keyWeights[k] = w;
    this.markHeadViewTokens(query, keyWeights);
    caption.textContent =
      this.hoveredKey !== null
        ? `${describeView(this.view)}: later tokens attending to #${this.hoveredKey} ${quoteToken(data.tokens[this.hoveredKey]!.text)}`
        : query !== null
          ? `${describeView(this.view)}: #${query} ${quoteToken(data.tokens[query]!.text)} attends to… (line opacity = weight)`
          : `${describeView(this.view)}: hover or click a token on the left to see what it attends to; hover one on the right to see what attends to it.`;
  }

  /** All heads of the layer: the active query's row in each shown head, one colour per head (rows come from the host). */
  private renderAllHeads(query: number | null): void {
    const ui = this.ui!;
    const data = this.data!;
    const { svg, caption } = ui.headView;
    const seq = data.tokens.length;
    const layer = this.prefs.layer;
    const keyWeights = new Float32Array(seq);
    const children: SVGElement[] = [];
    const rows = this.rows;
    if (query !== null && (!rows || rows.layer !== layer || rows.query !== query)) {
      const key = `${layer}-${query}`;
      if (this.rowsRequest.key !== key) {
        this.rowsRequest = { id: this.rowsRequest.id + 1, key };
        this.api.postMessage({ type: 'requestRows', requestId: this.rowsRequest.id, layer, query });
      }
    } else if (query !== null && rows) {
      const width = query + 1;
      for (let head = 0; head < rows.heads; head++) {
        if (!this.shownHeads.has(head)) continue;
        const color = headColor(head, rows.heads);
        for (let k = 0; k <= query; k++) {
          const w = rows.data[head * width + k]!;
          keyWeights[k] = Math.max(keyWeights[k]!, w);
          if (w < 0.01) continue;
          const line = document.createElementNS(SVG_NS, 'line');
          line.setAttribute('x1', '0');
          line.setAttribute('y1', String(query * HEAD_VIEW_ROW + HEAD_VIEW_ROW / 2));
          line.setAttribute('x2', String(HEAD_VIEW_WIDTH));
          line.setAttribute('y2', String(k * HEAD_VIEW_ROW + HEAD_VIEW_ROW / 2));
          line.setAttribute('stroke', color);
          line.setAttribute('stroke-width', '2');
          line.setAttribute('stroke-opacity', Math.min(1, w).toFixed(3));
          line.setAttribute('data-head', String(head));
          children.push(line);
        }
      }
    }
    svg.replaceChildren(...children);
    this.markHeadViewTokens(query, keyWeights);
    caption.textContent =
      query !== null
        ? `Layer ${layer + 1}, every head: #${query} ${quoteToken(data.tokens[query]!.text)} attends to… (one colour per head, opacity = weight)`
        : `Layer ${layer + 1}, every head: hover or click a token on the left.`;
  }

  private markHeadViewTokens(query: number | null, keyWeights: Float32Array): void {
    const { queries, keys } = this.ui!.headView;
    queries.forEach((node, i) => node.classList.toggle('active', i === query && this.hoveredKey === null));
    keys.forEach((node, i) => {
      node.classList.toggle('active', i === this.hoveredKey);
      const w = keyWeights[i]!;
      node.style.backgroundColor = w >= 0.02 ? cssColor(this.accent, Math.min(0.9, Math.sqrt(w) * 0.9)) : '';
    });
  }

  private renderModelGrid(): void {
    const ui = this.ui;
    const data = this.data;
    if (!ui || !data) return;
    const details = this.details;
    if (!details) {
      ui.model.replaceChildren(el('p', { className: 'hint', text: 'Drawing every head…', attrs: { role: 'status' } }));
      return;
    }
    const size = details.thumbnailSize;
    const grid: HTMLElement[] = [el('div', { className: 'grid-corner' }), ...Array.from({ length: data.heads }, (_, h) => el('div', { className: 'grid-col', text: `H${h + 1}` }))];
    for (let layer = 0; layer < data.layers; layer++) {
      grid.push(el('div', { className: 'grid-row', text: `L${layer + 1}` }));
      for (let head = 0; head < data.heads; head++) {
        const summary = details.summaries.find((s) => s.layer === layer && s.head === head);
        const canvas = el('canvas', { className: 'thumb-canvas', attrs: { width: String(size), height: String(size), 'aria-hidden': 'true' } });
        const offset = (layer * data.heads + head) * size * size;
        const pixels = new Uint8ClampedArray(size * size * 4);
        paintMatrix(details.thumbnails.subarray(offset, offset + size * size), size, this.ramp, pixels);
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
        grid.push(thumb);
      }
    }
    ui.model.replaceChildren(...grid);
    ui.model.style.gridTemplateColumns = `auto repeat(${data.heads}, minmax(0, 1fr))`;
  }

  private renderSummary(): void {
    const ui = this.ui;
    const data = this.data;
    if (!ui || !data) return;
    const columns: Array<[SummaryColumn, string, string]> = [
      ['layer', 'Head', 'Layer and head'],
      ['entropyBits', 'Entropy', 'Mean entropy of a row, in bits: low = focused on few tokens'],
      ['meanDistance', 'Distance', 'Tokens back, on average, weighted by attention'],
      ['previousTokenShare', 'Previous', 'Share of attention on the token just before'],
      ['firstTokenShare', 'First', 'Share of attention on the first token (an attention sink)'],
      ['inductionScore', 'Induction', 'Weight from a repeated token to what followed it last time'],
      ['bracketScore', 'Brackets', 'Share of closing brackets whose top key is their opening bracket'],
    ];
    const { column, descending } = this.summarySort;
    const value = (s: HeadStats): number => (column === 'layer' ? s.layer * 1000 + s.head : (s[column] ?? -1));
    if (!this.details) {
      ui.summary.replaceChildren(el('p', { className: 'hint', text: 'Measuring every head…', attrs: { role: 'status' } }));
      return;
    }
    const rows = [...this.details.summaries].sort((a, b) => (descending ? value(b) - value(a) : value(a) - value(b)));
    const header = el(
      'tr',
      {},
      ...columns.map(([id, text, help]) => {
        const sortButton = el('button', { className: 'sort', text: `${text}${column === id ? (descending ? ' ▼' : ' ▲') : ''}`, title: help, attrs: { type: 'button' } });
        sortButton.addEventListener('click', () => {
          this.summarySort = { column: id, descending: column === id ? !descending : id !== 'layer' && id !== 'entropyBits' };
          this.renderSummary();
        });
        return el('th', { attrs: { scope: 'col', 'aria-sort': column === id ? (descending ? 'descending' : 'ascending') : 'none' } }, sortButton);
      }),
      el('th', { text: 'Labels', attrs: { scope: 'col' } }),
    );
    const body = rows.map((s) => {
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
    });
    ui.summary.replaceChildren(el('table', { className: 'summary-table' }, el('thead', {}, header), el('tbody', {}, ...body)));
  }

  private drawLegend(): void {
    const ui = this.ui;
    if (!ui) return;
    const canvas = ui.legend;
    canvas.width = RAMP_STEPS;
    canvas.height = 1;
    const context = canvas.getContext('2d');
    if (context && typeof ImageData !== 'undefined') {
      const image = context.createImageData(RAMP_STEPS, 1);
      image.data.set(this.ramp);
      context.putImageData(image, 0, 0);
    }
    canvas.title = this.prefs.scale === 'sqrt' ? 'Colour = √weight (small weights stand out)' : 'Colour = weight';
  }

  private tokenTitle(i: number): string {
    const data = this.data!;
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

function indexOf(target: EventTarget | null): number | null {
  const node = target instanceof Element ? target.closest('[data-index]') : null;
  const value = node?.getAttribute('data-index');
  return value === null || value === undefined ? null : Number(value);
}

/** One colour per head, spread around the hue circle (readable on light and dark backgrounds). */
export function headColor(head: number, heads: number): string {
  return `hsl(${Math.round((head * 360) / Math.max(1, heads))}, 70%, 50%)`;
}

function shortLabel(label: HeadLabel): string {
  return { 'previous-token': 'prev', 'first-token': 'sink', induction: 'ind', 'bracket-matching': 'brk' }[label];
}
