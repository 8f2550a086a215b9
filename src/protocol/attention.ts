// Messages between the attention view (webview/attention/) and the extension host (src/extension/attention/).
// Sized for 1,024 tokens: the host keeps the engine's full maps (layers x heads x seq x seq floats, 36 x 4 MB for the
// bundled model) and sends the webview only what it shows: first the tokens with the matrix of the view on screen (so
// the heatmap paints without a round trip), then thumbnails of every head (max-pooled to a few dozen pixels) and
// per-head statistics once computed; then, on request, the one [seq, seq] matrix on screen, packed: its
// lower triangle (causal: the rest is 0) as 16-bit fixed point, 1 MB at 1,024 tokens instead of 4 MB of floats
// (VS Code transfers typed arrays without JSON, but the bytes still cross to the browser). The webview is untrusted input: every message it sends
// goes through validateAttentionMessage before use.

import { rejectUnknown } from './assertNever';
import type { TokenPrediction } from './engine';

/** Which matrix the view shows: one head, or an aggregation of a layer's heads (rollout: layers 0..layer). */
export type AttentionView =
  | { kind: 'head'; layer: number; head: number }
  | { kind: 'mean'; layer: number }
  | { kind: 'max'; layer: number }
  | { kind: 'rollout'; layer: number };

export type AttentionViewKind = AttentionView['kind'];

export type HeadLabel = 'previous-token' | 'first-token' | 'induction' | 'bracket-matching';

/** What the view says about one head (computed once by the host from the full maps). */
export interface HeadStats {
  layer: number;
  head: number;
  /** Mean over query rows (from the second token) of the row's entropy, in bits. */
  entropyBits: number;
  /** Mean over query rows of the expected distance back to the attended key, in tokens. */
  meanDistance: number;
  /** Mean weight on the token just before the query. */
  previousTokenShare: number;
  /** Mean weight on the first token (an attention "sink" when high). */
  firstTokenShare: number;
  /** Mean weight from a repeated token to the token after its earlier occurrence (null: no repeats in the code). */
  inductionScore: number | null;
  /** Share of closing brackets whose most attended key is their opening bracket (null: no bracket pairs). */
  bracketScore: number | null;
  labels: HeadLabel[];
}

export interface ViewToken {
  text: string;
  id: number;
  /** UTF-16 offsets into the explained text, [start, end); -1 when the tokenizer could not say. */
  start: number;
  end: number;
  /** 0-based document line of the token's start (-1 when unknown), for "line 12" in tooltips. */
  line: number;
}

export interface AttentionData {
  /** e.g. "fib.py:3-9" */
  label: string;
  model: string;
  layers: number;
  heads: number;
  /** Per-head key/query size (d_k), for the explanation panel. */
  headDim: number;
  tokens: ViewToken[];
  /** Bits per token (null for the first token, which has no context); absent when the engine did not compute it. */
  surprisal?: Array<number | null>;
  /** Top predictions at each position for that token ([] for the first). */
  predictions?: TokenPrediction[][];
  /** Set when the code had to be cut to fit the model's context (says how). */
  note?: string;
}

/** Every head at a glance: computed from all the maps after the first paint, so sent after `data`. */
export interface HeadDetails {
  /** Thumbnail edge in pixels (max-pooled cells; the nearest cell when there are fewer tokens). */
  thumbnailSize: number;
  /** layers x heads thumbnails, [layer][head][size][size] row-major. */
  thumbnails: Float32Array;
  summaries: HeadStats[];
}

/** One view's matrix, packMatrix()ed: the lower triangle row by row, weight x 65535 (0.00002 resolution). */
export interface PackedMatrix {
  view: AttentionView;
  seq: number;
  data: Uint16Array;
}

/** Webview -> host. */
export type AttentionWebviewMessage =
  /** The page is up; `view` is the view it will show (its saved choice), so `data` can carry that matrix. */
  | { type: 'ready'; view?: AttentionView }
  /** Ask for one matrix; the reply carries the same requestId (an answer to an older request is ignored). */
  | { type: 'requestMatrix'; requestId: number; view: AttentionView }
  /** Ask for one query's row in every head of a layer (the head view's all-heads mode): small, so sent on hover. */
  | { type: 'requestRows'; requestId: number; layer: number; query: number }
  /** The pointer is on a query token (null: it left); the host decorates the keys it attends to in the editor. */
  | { type: 'hoverToken'; index: number | null; view: AttentionView }
  /** Select the token's range in the editor. */
  | { type: 'revealToken'; index: number }
  | { type: 'exportPng'; dataUrl: string; name: string }
  | { type: 'exportJson'; view: AttentionView };

/** Host -> webview. */
export type AttentionHostMessage =
  | { type: 'loading'; label: string }
  | { type: 'error'; message: string }
  /** The explained tokens, with the matrix of the view the webview last showed or asked for (when it fits the model). */
  | { type: 'data'; data: AttentionData; matrix?: PackedMatrix }
  /** Thumbnails and statistics of every head, for the `data` before it. */
  | { type: 'details'; details: HeadDetails }
  | ({ type: 'matrix'; requestId: number } & PackedMatrix)
  /** Query `query`'s weights in each head of `layer`: [heads, query + 1] row-major. */
  | { type: 'rows'; requestId: number; layer: number; query: number; heads: number; data: Float32Array }
  /** The editor cursor moved onto a token of the explained code. */
  | { type: 'selectToken'; index: number }
  /** The document changed since it was explained: editor links are off until it is explained again. */
  | { type: 'stale' };

/** The most tokens the view is designed for (the bundled model's context). */
export const MAX_VIEW_TOKENS = 32_768;
const MAX_LAYERS = 1024;
const MAX_HEADS = 1024;
const MAX_DATA_URL = 64 * 1024 * 1024;
const FILE_NAME = /^[\w .,()+-]{1,128}$/;
const VIEW_KINDS: readonly AttentionViewKind[] = ['head', 'mean', 'max', 'rollout'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function index(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < max;
}

/** A well-formed view (bounds against the shown model are checked by the host, which knows them). */
export function validateView(raw: unknown): AttentionView | null {
  if (!isRecord(raw) || !VIEW_KINDS.includes(raw['kind'] as AttentionViewKind) || !index(raw['layer'], MAX_LAYERS)) return null;
  const layer = raw['layer'];
  switch (raw['kind'] as AttentionViewKind) {
    case 'head':
      return index(raw['head'], MAX_HEADS) ? { kind: 'head', layer, head: raw['head'] } : null;
    case 'mean':
      return { kind: 'mean', layer };
    case 'max':
      return { kind: 'max', layer };
    case 'rollout':
      return { kind: 'rollout', layer };
  }
}

/** The typed message, or null for anything unknown or malformed (the caller logs and drops it). */
export function validateAttentionMessage(raw: unknown): AttentionWebviewMessage | null {
  if (!isRecord(raw) || typeof raw['type'] !== 'string') return null;
  const type = raw['type'] as AttentionWebviewMessage['type'];
  switch (type) {
    case 'ready': {
      if (raw['view'] === undefined) return { type };
      const view = validateView(raw['view']);
      return view ? { type, view } : null;
    }
    case 'requestMatrix': {
      const view = validateView(raw['view']);
      return view && index(raw['requestId'], Number.MAX_SAFE_INTEGER) ? { type, requestId: raw['requestId'], view } : null;
    }
    case 'requestRows': {
      const { requestId, layer, query } = raw;
      return index(requestId, Number.MAX_SAFE_INTEGER) && index(layer, MAX_LAYERS) && index(query, MAX_VIEW_TOKENS) ? { type, requestId, layer, query } : null;
    }
    case 'hoverToken': {
      const view = validateView(raw['view']);
      if (!view) return null;
      if (raw['index'] === null) return { type, index: null, view };
      return index(raw['index'], MAX_VIEW_TOKENS) ? { type, index: raw['index'], view } : null;
    }
    case 'revealToken':
      return index(raw['index'], MAX_VIEW_TOKENS) ? { type, index: raw['index'] } : null;
    case 'exportPng': {
      const { dataUrl, name } = raw;
      if (typeof dataUrl !== 'string' || dataUrl.length > MAX_DATA_URL || !/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/.test(dataUrl)) return null;
      return typeof name === 'string' && FILE_NAME.test(name) ? { type, dataUrl, name } : null;
    }
    case 'exportJson': {
      const view = validateView(raw['view']);
      return view ? { type, view } : null;
    }
    default:
      return rejectUnknown(type);
  }
}

/** Whether a view fits the model shown (layers x heads). */
export function viewInRange(view: AttentionView, layers: number, heads: number): boolean {
  return view.layer < layers && (view.kind !== 'head' || view.head < heads);
}

/** A stable key per view: "head-2-3", "mean-1", "rollout-5". */
export function viewKey(view: AttentionView): string {
  return view.kind === 'head' ? `head-${view.layer}-${view.head}` : `${view.kind}-${view.layer}`;
}

/** "Layer 3 · head 2", "Layer 3 · mean of heads", "Rollout through layer 3". Layers and heads count from 1 on screen. */
export function describeView(view: AttentionView): string {
  switch (view.kind) {
    case 'head':
      return `Layer ${view.layer + 1} · head ${view.head + 1}`;
    case 'mean':
      return `Layer ${view.layer + 1} · mean of heads`;
    case 'max':
      return `Layer ${view.layer + 1} · max of heads`;
    case 'rollout':
      return `Rollout through layer ${view.layer + 1}`;
  }
}

const FIXED_ONE = 65535;

/** A causal [seq, seq] matrix of weights in [0, 1] -> its lower triangle (row q has q + 1 keys) as 16-bit fixed point. */
export function packMatrix(matrix: Float32Array, seq: number): Uint16Array {
  const packed = new Uint16Array((seq * (seq + 1)) / 2);
  let i = 0;
  for (let q = 0; q < seq; q++) {
    const row = q * seq;
    for (let k = 0; k <= q; k++) {
      const w = matrix[row + k]!;
      packed[i++] = w >= 1 ? FIXED_ONE : w > 0 ? Math.round(w * FIXED_ONE) : 0;
    }
  }
  return packed;
}

/** packMatrix's inverse: the full [seq, seq] matrix, zeros above the diagonal. */
export function unpackMatrix(packed: Uint16Array, seq: number): Float32Array {
  const matrix = new Float32Array(seq * seq);
  if (packed.length !== (seq * (seq + 1)) / 2) return matrix;
  let i = 0;
  for (let q = 0; q < seq; q++) {
    const row = q * seq;
    for (let k = 0; k <= q; k++) matrix[row + k] = packed[i++]! / FIXED_ONE;
  }
  return matrix;
}
