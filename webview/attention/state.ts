// The attention view's shared state: what the host sent (the data, every head's details, the matrix on screen, the
// head view's rows), what the user chose (the persisted prefs, the summary's sort), where the pointer is, and the
// theme's colours. AttentionApp owns the one instance and changes it; the panels read it, so none imports app.ts.

import { viewKey, type AttentionData, type AttentionView, type AttentionViewKind, type HeadDetails } from '../../src/protocol/attention';
import { colorRamp, themeColor, type Rgba } from './colors';
import type { Cell } from './heatmap';
import type { PersistedState, Scale, Tab } from './vscodeApi';

/** Runs a callback before the next frame; requestAnimationFrame in the browser (tests run it at once). */
export type Schedule = (callback: () => void) => void;

export const TABS: Array<[Tab, string]> = [
  ['heatmap', 'Heatmap'],
  ['heads', 'Head view'],
  ['model', 'Model view'],
  ['summary', 'Head summary'],
];

export const KINDS: Array<[AttentionViewKind, string]> = [
  ['head', 'One head'],
  ['mean', 'Mean of heads'],
  ['max', 'Max of heads'],
  ['rollout', 'Rollout (layers 1…n)'],
];

/** The summary table's sortable columns: HeadStats fields, with 'layer' for layer-then-head order. */
export type SummaryColumn = 'layer' | 'entropyBits' | 'meanDistance' | 'previousTokenShare' | 'firstTokenShare' | 'inductionScore' | 'bracketScore';

/** The weight ramp (editor background to accent) and the overlay colours. */
export interface Theme {
  ramp: Uint8ClampedArray;
  accent: Rgba;
  surprise: Rgba;
}

/** Head view, all-heads mode: the active query's row in each head of a layer, [heads, query + 1] row-major. */
export interface HeadRows {
  layer: number;
  query: number;
  heads: number;
  data: Float32Array;
}

const DEFAULT_ACCENT: Rgba = [230, 126, 34, 255];
const DEFAULT_SURPRISE: Rgba = [229, 57, 53, 255];

/** Colours from the theme: the ramp runs from the editor background to the accent. */
export function readTheme(scale: Scale): Theme {
  const background = themeColor('--vscode-editor-background', [30, 30, 30, 255]);
  const accent = themeColor('--vscode-charts-orange', DEFAULT_ACCENT);
  return { ramp: colorRamp(background, accent, scale), accent, surprise: themeColor('--vscode-charts-red', DEFAULT_SURPRISE) };
}

/** The saved choices, each checked: getState may hold an older version's state, or none. */
export function readPrefs(saved: Partial<PersistedState>): PersistedState {
  return {
    kind: KINDS.some(([k]) => k === saved.kind) ? saved.kind! : 'head',
    layer: Number.isInteger(saved.layer) ? saved.layer! : 0,
    head: Number.isInteger(saved.head) ? saved.head! : 0,
    tab: TABS.some(([t]) => t === saved.tab) ? saved.tab! : 'heatmap',
    zoom: typeof saved.zoom === 'number' && saved.zoom >= 1 && saved.zoom <= 16 ? saved.zoom : 1,
    scale: saved.scale === 'linear' ? 'linear' : 'sqrt',
    surprise: saved.surprise === true,
    allHeads: saved.allHeads === true,
  };
}

export class AttentionState {
  data: AttentionData | undefined;
  /** Every head's thumbnail and statistics: they arrive after the data (undefined until then). */
  details: HeadDetails | undefined;
  theme: Theme;
  /** The last matrix the host sent and the view it belongs to (viewKey). */
  matrix: Float32Array | undefined;
  matrixKey = '';
  selected: number | null = null;
  hovered: number | null = null;
  hoveredCell: Cell | null = null;
  /** The code changed since it was explained: the editor links are off. */
  stale = false;
  summarySort: { column: SummaryColumn; descending: boolean } = { column: 'layer', descending: false };
  rows: HeadRows | undefined;
  /** The last rows asked for: its id (an older answer is ignored) and `${layer}-${query}` (not asked twice). */
  rowsRequest = { id: 0, key: '' };

  constructor(readonly prefs: PersistedState) {
    this.theme = { ramp: colorRamp([0, 0, 0, 255], DEFAULT_ACCENT, prefs.scale), accent: DEFAULT_ACCENT, surprise: DEFAULT_SURPRISE };
  }

  /** New data: forget what belonged to the old one and keep the chosen layer and head within the model. */
  reset(data: AttentionData): void {
    this.data = data;
    this.details = undefined;
    this.matrix = undefined;
    this.matrixKey = '';
    this.selected = null;
    this.hovered = null;
    this.stale = false;
    this.prefs.layer = Math.min(this.prefs.layer, data.layers - 1);
    this.prefs.head = Math.min(this.prefs.head, data.heads - 1);
  }

  /** The view on screen. */
  get view(): AttentionView {
    const { kind, layer, head } = this.prefs;
    return kind === 'head' ? { kind, layer, head } : { kind, layer };
  }

  /** The query token whose attention is shown: the hovered one, else the selected one. */
  get activeQuery(): number | null {
    return this.hovered ?? this.selected;
  }

  /** The matrix if it is the view's; undefined while the view's own is on its way. */
  get viewMatrix(): Float32Array | undefined {
    return this.matrix && this.matrixKey === viewKey(this.view) ? this.matrix : undefined;
  }

  weight(query: number, key: number): number | undefined {
    const seq = this.data?.tokens.length ?? 0;
    return this.viewMatrix?.[query * seq + key];
  }
}
