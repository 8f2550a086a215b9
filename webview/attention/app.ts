// The attention view as one object: holds the shared state (state.ts), builds the panels for each `data`, routes
// AttentionHostMessages to them and their choices back to the host, and keeps the user's choices (view, tab, zoom,
// overlays) with getState/setState. main.ts only creates it and forwards window messages, so tests drive it directly
// with a stubbed acquireVsCodeApi.

import { describeView, unpackMatrix, viewKey, type AttentionData, type AttentionHostMessage, type AttentionView, type PackedMatrix } from '../../src/protocol/attention';
import { el } from './dom';
import type { Cell } from './heatmap';
import { toFloat32, toUint16 } from './hostMessages';
import { buildPage, type Page, type PageActions } from './layout';
import { cellText } from './matrix';
import { HostRequests } from './requests';
import { AttentionState, readPrefs, readTheme, type Schedule } from './state';
import { getAttentionApi, type AttentionApi, type PersistedState, type Scale, type Tab } from './vscodeApi';

export { isHostMessage, toFloat32 } from './hostMessages';

export interface AttentionAppOptions {
  api?: AttentionApi;
  /** Runs a callback before the next frame; requestAnimationFrame in the browser (tests run it at once). */
  schedule?: Schedule;
}

export class AttentionApp {
  private readonly api: AttentionApi;
  private readonly schedule: Schedule;
  private readonly state: AttentionState;
  private readonly requests: HostRequests;
  /** The panels' callbacks into this app. */
  private readonly actions: PageActions;
  private ui: Page | undefined;
  private renderScheduled = false;
  /** The last heatmap paint's pixels (tests check the mapping). */
  lastPixels: Uint8ClampedArray | undefined;

  constructor(
    private readonly root: HTMLElement,
    options: AttentionAppOptions = {},
  ) {
    this.api = options.api ?? getAttentionApi();
    this.schedule = options.schedule ?? ((callback) => requestAnimationFrame(() => callback()));
    this.state = new AttentionState(readPrefs(this.api.getState() ?? {}));
    this.requests = new HostRequests(this.api, this.state);
    this.actions = {
      setView: (change) => this.setView(change),
      setScale: (scale) => this.setScale(scale),
      toggleSurprise: () => this.toggleSurprise(),
      zoom: (zoom) => this.zoom(zoom),
      exportPng: () => this.exportPng(),
      exportJson: () => this.api.postMessage({ type: 'exportJson', view: this.view }),
      hover: (index) => this.hoverToken(index),
      select: (index) => this.selectToken(index, false),
      reveal: (index) => this.api.postMessage({ type: 'revealToken', index }),
      hoverCell: (cell, pointer) => this.hoverCell(cell, pointer),
      clickCell: (cell) => this.selectToken(cell.query, false),
      toggleAllHeads: () => this.toggleAllHeads(),
      requestRows: (layer, query) => this.requests.rows(layer, query),
      setTab: (tab) => this.setTab(tab),
      openHead: (layer, head) => this.openHead(layer, head),
    };
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
    return this.state.view;
  }

  get currentMatrix(): Float32Array | undefined {
    return this.state.matrix;
  }

  /** The query token whose attention is shown: the hovered one, else the selected one. */
  get activeQuery(): number | null {
    return this.state.activeQuery;
  }

  get selectedToken(): number | null {
    return this.state.selected;
  }

  get tab(): Tab {
    return this.state.prefs.tab;
  }

  handle(message: AttentionHostMessage): void {
    const state = this.state;
    switch (message.type) {
      case 'loading':
        state.data = undefined;
        state.matrix = undefined;
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
        if (!state.data) return;
        state.details = { ...message.details, thumbnails: toFloat32(message.details.thumbnails) };
        this.ui?.model.render();
        this.ui?.summary.render();
        break;
      case 'matrix':
        if (!this.requests.isLatest(message.requestId, message.view)) return; // an older request
        this.showMatrix(message);
        break;
      case 'rows':
        if (message.requestId !== state.rowsRequest.id) return;
        state.rows = { layer: message.layer, query: message.query, heads: message.heads, data: toFloat32(message.data) };
        this.ui?.headView.render();
        break;
      case 'selectToken':
        if (!state.data || message.index >= state.data.tokens.length) return;
        this.selectToken(message.index, true);
        break;
      case 'stale':
        state.stale = true;
        if (this.ui) {
          this.ui.status.textContent = 'The code changed since it was explained: run Explain Attention again to link the view to the editor.';
          this.ui.status.hidden = false;
        }
        break;
    }
  }

  /** New data: a new page, painted with the matrix that came with it or asking for the view's. */
  private applyData(data: AttentionData, first: PackedMatrix | undefined): void {
    this.state.reset(data);
    this.state.theme = readTheme(this.state.prefs.scale);
    this.ui = buildPage(this.root, this.state, data, this.actions, this.schedule);
    this.syncControls();
    if (typeof window !== 'undefined') window.addEventListener('resize', () => this.ui?.matrix.heatmap.layout());
    if (first && viewKey(first.view) === viewKey(this.view) && first.seq === data.tokens.length) {
      this.requests.matrixCameWithData();
      this.showMatrix(first);
    } else this.requests.matrix();
  }

  private syncControls(): void {
    const ui = this.ui;
    if (!ui) return;
    ui.toolbar.sync();
    ui.headView.sync();
    ui.tabs.sync(this.state.prefs.tab);
    ui.matrix.setTitle(describeView(this.view));
    this.root.classList.toggle('surprise', this.state.prefs.surprise);
  }

  // ---- user actions ---------------------------------------------------------------------------------------------

  /** Changes the view (kind, layer or head) and asks the host for its matrix. */
  setView(change: Partial<Pick<PersistedState, 'kind' | 'layer' | 'head'>>): void {
    Object.assign(this.state.prefs, change);
    this.save();
    this.syncControls();
    this.requests.matrix();
    if (this.state.prefs.allHeads) this.ui?.headView.render(); // its rows come from the host, not from the view's matrix
  }

  setTab(tab: Tab): void {
    this.state.prefs.tab = tab;
    this.save();
    this.syncControls();
    if (tab === 'heatmap') this.ui?.matrix.heatmap.layout();
    if (tab === 'heads') this.ui?.headView.render();
  }

  setScale(scale: Scale): void {
    this.state.prefs.scale = scale;
    this.save();
    this.syncControls();
    this.recolour();
  }

  toggleSurprise(): void {
    if (!this.state.data?.surprisal) return;
    this.state.prefs.surprise = !this.state.prefs.surprise;
    this.save();
    this.syncControls();
    this.ui?.strip.render();
  }

  /** Head view: draw every head of the layer (one colour each) instead of the view's one matrix. */
  toggleAllHeads(): void {
    this.state.prefs.allHeads = !this.state.prefs.allHeads;
    this.save();
    this.syncControls();
    this.ui?.headView.render();
  }

  zoom(zoom: number): void {
    this.state.prefs.zoom = Math.max(1, Math.min(16, zoom));
    this.save();
    this.ui?.matrix.heatmap.setZoom(this.state.prefs.zoom);
  }

  /** Opens one head on the heatmap (the model view's and the summary's click). */
  openHead(layer: number, head: number): void {
    this.setView({ kind: 'head', layer, head });
    this.setTab('heatmap');
  }

  hoverToken(index: number | null): void {
    if (this.state.hovered === index) return;
    this.state.hovered = index;
    this.activeQueryChanged();
    if (this.state.prefs.surprise) this.ui?.explanation.showSurprise(index);
  }

  /** The theme changed (VS Code sets the body's class): the colours follow. */
  themeChanged(): void {
    const ui = this.ui;
    if (!this.state.data || !ui) return;
    ui.strip.forgetColours();
    this.recolour();
    ui.strip.render();
  }

  /** New colours (theme or scale): the ramp and everything painted with it. */
  private recolour(): void {
    this.state.theme = readTheme(this.state.prefs.scale);
    this.ui?.matrix.drawLegend();
    this.ui?.model.render();
    this.renderMatrix();
  }

  /** Selects (pins) a token; `fromHost` when the editor cursor moved onto it. */
  selectToken(index: number | null, fromHost: boolean): void {
    this.state.selected = index;
    this.ui?.strip.markSelected(index, fromHost);
    this.activeQueryChanged();
  }

  private hoverCell(cell: Cell | null, pointer: { clientX: number; clientY: number } | null): void {
    this.state.hoveredCell = cell;
    const query = cell ? cell.query : null;
    // Moving along a row changes only the tooltip; a new row re-colours the tokens and the editor.
    if (query !== this.state.hovered) {
      this.state.hovered = query;
      this.activeQueryChanged();
    }
    this.ui?.matrix.showTooltip(cell, pointer);
    this.ui?.explanation.showCell(cell && pointer ? cell : null);
  }

  /** The cell at a point of the heatmap canvas (tests use it to check the hover lookup). */
  cellAtPoint(x: number, y: number): Cell | null {
    const data = this.state.data;
    return this.ui && data ? this.ui.matrix.cellAtPoint(x, y, data.tokens.length) : null;
  }

  /** The tooltip text for a cell (query, key, weight), as shown on hover. */
  cellText(cell: Cell): string {
    return cellText(this.state, cell);
  }

  private exportPng(): void {
    if (!this.ui || !this.state.data || !this.state.matrix) return;
    const png = this.ui.matrix.png();
    if (png) this.api.postMessage({ type: 'exportPng', ...png });
  }

  private save(): void {
    this.api.setState({ ...this.state.prefs });
  }

  // ---- the host's matrices and rendering ------------------------------------------------------------------------

  private showMatrix(packed: PackedMatrix): void {
    this.state.matrix = unpackMatrix(toUint16(packed.data), packed.seq);
    this.state.matrixKey = viewKey(packed.view);
    this.renderMatrix();
  }

  /** Paints everything that shows the current matrix. */
  private renderMatrix(): void {
    const ui = this.ui;
    const data = this.state.data;
    const matrix = this.state.viewMatrix;
    if (!ui || !data || !matrix) return;
    this.lastPixels = ui.matrix.draw(matrix, data.tokens.length, this.requests.requestedAt);
    ui.strip.render();
    ui.headView.render();
    const cell = this.state.hoveredCell;
    if (cell) {
      ui.explanation.showCell(cell);
      ui.matrix.refreshTooltip(cell);
    }
  }

  private activeQueryChanged(): void {
    this.requests.hover(this.activeQuery);
    // The token strip and the head view follow once per frame, however fast the pointer moves.
    if (this.renderScheduled) return;
    this.renderScheduled = true;
    this.schedule(() => {
      this.renderScheduled = false;
      const ui = this.ui;
      if (!ui) return;
      ui.strip.markQuery(this.activeQuery);
      ui.headView.render();
      ui.strip.renderSoon();
    });
  }
}
