// The heatmap: one [seq, seq] attention matrix on a canvas, one pixel per cell, painted with ImageData in one pass
// (1,024 tokens = 1M cells in a few milliseconds; per-cell fillRect would take seconds) and scaled by CSS with
// pixelated rendering for zoom. Causal: cells above the diagonal (keys after the query) stay transparent.

import { rampIndex } from './colors';

/** Paints `matrix` into RGBA `pixels` (seq * seq * 4): row = query, column = key; above the diagonal alpha 0. */
export function paintMatrix(matrix: Float32Array, seq: number, ramp: Uint8ClampedArray, pixels: Uint8ClampedArray): void {
  for (let q = 0; q < seq; q++) {
    const rowStart = q * seq;
    for (let k = 0; k < seq; k++) {
      const p = (rowStart + k) * 4;
      if (k > q) {
        pixels[p] = pixels[p + 1] = pixels[p + 2] = pixels[p + 3] = 0;
        continue;
      }
      const r = rampIndex(matrix[rowStart + k]!) * 4;
      pixels[p] = ramp[r]!;
      pixels[p + 1] = ramp[r + 1]!;
      pixels[p + 2] = ramp[r + 2]!;
      pixels[p + 3] = 255;
    }
  }
}

export interface Cell {
  query: number;
  key: number;
  /** False above the diagonal: the query cannot see this key (masked). */
  visible: boolean;
}

/** The cell under a point (offset within the displayed canvas of the given CSS size), or null outside it. */
export function cellAt(x: number, y: number, width: number, height: number, seq: number): Cell | null {
  if (width <= 0 || height <= 0 || x < 0 || y < 0 || x >= width || y >= height) return null;
  const key = Math.min(seq - 1, Math.floor((x / width) * seq));
  const query = Math.min(seq - 1, Math.floor((y / height) * seq));
  return { query, key, visible: key <= query };
}

/**
 * CSS pixels per cell at a zoom: zoom 1 fits the whole matrix in the space available, in whole pixels per cell (at
 * most 32), or in less than a pixel per cell when there are more tokens than pixels (an overview; zoom in for cells).
 */
export function cellSize(seq: number, available: number, zoom: number): number {
  const space = Math.max(64, available);
  const n = Math.max(1, seq);
  const fit = n > space ? space / n : Math.min(32, Math.floor(space / n));
  return fit * zoom;
}

export interface HeatmapHandlers {
  onHover(cell: Cell | null, event: { clientX: number; clientY: number } | null): void;
  onClick(cell: Cell): void;
}

/** The canvas with zoom and pointer/keyboard lookup; the app owns tooltips and what a hovered cell means. */
export class Heatmap {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly marker: HTMLElement;
  private seq = 0;
  private zoomLevel = 1;
  private size = 0;
  /** The matrix on the canvas and the canvas's resolution (seq, or fewer pixels when max-pooled to the screen). */
  private drawn: { matrix: Float32Array; ramp: Uint8ClampedArray; resolution: number } | undefined;
  private cursor: Cell | null = null;
  /** The latest pointer position not handled yet: pointer moves are handled once per frame, the last one wins. */
  private pendingPointer: { clientX: number; clientY: number } | null = null;

  constructor(
    private readonly handlers: HeatmapHandlers,
    private readonly schedule: (callback: () => void) => void = (callback) => requestAnimationFrame(() => callback()),
  ) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'heatmap-canvas';
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'img');
    this.marker = document.createElement('div');
    this.marker.className = 'heatmap-marker';
    this.marker.hidden = true;
    const inner = document.createElement('div');
    inner.className = 'heatmap-inner';
    inner.append(this.canvas, this.marker);
    this.element = document.createElement('div');
    this.element.className = 'heatmap-scroll';
    this.element.append(inner);
    this.canvas.addEventListener('mousemove', (event) => this.pointer(event));
    this.canvas.addEventListener('mouseleave', () => {
      this.pendingPointer = null;
      this.marker.hidden = true;
      this.handlers.onHover(null, null);
    });
    this.canvas.addEventListener('click', (event) => {
      const cell = this.cellFromEvent(event);
      if (cell) this.handlers.onClick(cell);
    });
    this.canvas.addEventListener('keydown', (event) => this.key(event));
  }

  get zoom(): number {
    return this.zoomLevel;
  }

  /**
   * Paints a matrix: one canvas pixel per cell, or, when the matrix is shown smaller than that (more tokens than
   * pixels), max-pooled to the pixels on screen so that no strong weight disappears. Returns the full-resolution
   * pixels (tests read them).
   */
  draw(matrix: Float32Array, seq: number, ramp: Uint8ClampedArray, label: string): Uint8ClampedArray {
    this.seq = seq;
    this.drawn = { matrix, ramp, resolution: 0 };
    this.canvas.setAttribute('aria-label', `${label}: attention of ${seq} tokens (rows: queries, columns: keys). Arrow keys move between cells.`);
    const started = performance.now();
    const pixels = new Uint8ClampedArray(seq * seq * 4);
    paintMatrix(matrix, seq, ramp, pixels);
    this.layout(pixels);
    // What is on the canvas and how long painting took (the UI test and benchmarks read these).
    this.canvas.dataset['view'] = label;
    this.canvas.dataset['seq'] = String(seq);
    this.canvas.dataset['paintMs'] = (performance.now() - started).toFixed(1);
    // Wall-clock time of this paint: benchmarks compare it with when they pressed the key, without polling the page.
    this.canvas.dataset['paintedAt'] = String(Date.now());
    return pixels;
  }

  /** Puts the matrix on the canvas at `resolution` pixels a side (seq: every cell; fewer: max-pooled). */
  private paint(resolution: number, fullPixels?: Uint8ClampedArray): void {
    const drawn = this.drawn;
    if (!drawn) return;
    drawn.resolution = resolution;
    this.canvas.width = resolution;
    this.canvas.height = resolution;
    const context = this.canvas.getContext('2d');
    if (!context || typeof ImageData === 'undefined') return;
    let pixels = fullPixels;
    if (resolution !== this.seq || !pixels) {
      pixels = new Uint8ClampedArray(resolution * resolution * 4);
      paintMatrix(resolution === this.seq ? drawn.matrix : maxPool(drawn.matrix, this.seq, resolution), resolution, drawn.ramp, pixels);
    }
    const image = context.createImageData(resolution, resolution);
    image.data.set(pixels);
    context.putImageData(image, 0, 0);
  }

  /** The whole matrix at one pixel per cell or more (at least 512 px), for Export PNG. */
  exportCanvas(): HTMLCanvasElement {
    const out = document.createElement('canvas');
    const drawn = this.drawn;
    if (!drawn) return out;
    const scale = Math.max(1, Math.ceil(512 / Math.max(1, this.seq)));
    const full = document.createElement('canvas');
    full.width = this.seq;
    full.height = this.seq;
    const pixels = new Uint8ClampedArray(this.seq * this.seq * 4);
    paintMatrix(drawn.matrix, this.seq, drawn.ramp, pixels);
    const fullContext = full.getContext('2d');
    out.width = this.seq * scale;
    out.height = this.seq * scale;
    const context = out.getContext('2d');
    if (!fullContext || !context) return out;
    const image = fullContext.createImageData(this.seq, this.seq);
    image.data.set(pixels);
    fullContext.putImageData(image, 0, 0);
    context.imageSmoothingEnabled = false;
    context.drawImage(full, 0, 0, out.width, out.height);
    return out;
  }

  setZoom(zoom: number): void {
    this.zoomLevel = Math.max(1, Math.min(16, zoom));
    this.layout();
  }

  /** Sizes the canvas in CSS pixels (through the CSSOM: the page's CSP allows no inline style attributes). */
  layout(fullPixels?: Uint8ClampedArray): void {
    if (!this.seq) return;
    // Zoom 1 fits the panel's width and most of its height.
    const height = typeof window !== 'undefined' && window.innerHeight ? window.innerHeight * 0.6 : 640;
    const available = Math.min((this.element.clientWidth || 640) - 8, height);
    this.size = cellSize(this.seq, available, this.zoomLevel) * this.seq;
    this.canvas.style.width = `${this.size}px`;
    this.canvas.style.height = `${this.size}px`;
    // Below a pixel per cell the canvas holds the matrix max-pooled to the screen's pixels; else every cell.
    const resolution = this.size < this.seq ? Math.max(1, Math.round(this.size * (typeof devicePixelRatio === 'number' ? devicePixelRatio : 1))) : this.seq;
    if (this.drawn && (this.drawn.resolution !== Math.min(resolution, this.seq) || fullPixels)) this.paint(Math.min(resolution, this.seq), fullPixels);
    if (this.cursor) this.placeMarker(this.cursor);
  }

  /** The canvas's size on screen in CSS pixels (kept by layout(), so pointer handling never forces a layout). */
  displaySize(): number {
    return this.size;
  }

  /** Shows the keyboard cursor / a selected cell. */
  select(cell: Cell | null): void {
    this.cursor = cell;
    if (cell) this.placeMarker(cell);
    else this.marker.hidden = true;
  }

  private placeMarker(cell: Cell): void {
    const cellPx = this.size / Math.max(1, this.seq);
    this.marker.hidden = false;
    this.marker.style.left = `${cell.key * cellPx}px`;
    this.marker.style.top = `${cell.query * cellPx}px`;
    this.marker.style.width = `${Math.max(2, cellPx)}px`;
    this.marker.style.height = `${Math.max(2, cellPx)}px`;
  }

  private cellFromEvent(event: { clientX: number; clientY: number }): Cell | null {
    const rect = this.canvas.getBoundingClientRect();
    return cellAt(event.clientX - rect.left, event.clientY - rect.top, rect.width, rect.height, this.seq);
  }

  private pointer(event: MouseEvent): void {
    const scheduled = this.pendingPointer !== null;
    this.pendingPointer = { clientX: event.clientX, clientY: event.clientY };
    if (scheduled) return;
    this.schedule(() => {
      const pointer = this.pendingPointer;
      this.pendingPointer = null;
      if (!pointer) return;
      const cell = this.cellFromEvent(pointer);
      if (cell) this.placeMarker(cell);
      this.handlers.onHover(cell, pointer);
    });
  }

  private key(event: KeyboardEvent): void {
    if (!this.seq) return;
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const move = moves[event.key];
    if (move) {
      event.preventDefault();
      const current = this.cursor ?? { query: 0, key: 0, visible: true };
      const query = Math.max(0, Math.min(this.seq - 1, current.query + move[0]));
      const key = Math.max(0, Math.min(query, current.key + move[1]));
      const cell = { query, key, visible: true };
      this.select(cell);
      const rect = this.marker.getBoundingClientRect();
      this.handlers.onHover(cell, { clientX: rect.right, clientY: rect.bottom });
    } else if (event.key === 'Enter' && this.cursor) {
      event.preventDefault();
      this.handlers.onClick(this.cursor);
    } else if (event.key === 'Escape') {
      this.select(null);
      this.handlers.onHover(null, null);
    }
  }
}

/**
 * A [size, size] picture of a causal [seq, seq] matrix, each pixel the largest weight of the cells it covers (blocks
 * wholly above the diagonal stay 0, so paintMatrix leaves them transparent).
 */
export function maxPool(matrix: Float32Array, seq: number, size: number): Float32Array {
  const out = new Float32Array(size * size);
  const start = (a: number) => Math.floor((a * seq) / size);
  for (let a = 0; a < size; a++) {
    const q0 = start(a);
    const q1 = Math.max(q0 + 1, start(a + 1));
    for (let q = q0; q < q1; q++) {
      const row = q * seq;
      // Key k falls into pixel b = floor(k * size / seq); keys after the query are 0 anyway.
      for (let k = 0; k <= q; k++) {
        const w = matrix[row + k]!;
        const b = Math.floor((k * size) / seq);
        if (w > out[a * size + b]!) out[a * size + b] = w;
      }
    }
  }
  return out;
}
