// What the attention view computes from the engine's attention probabilities: a head's matrix, aggregations over
// heads and layers, per-head statistics with labels for recognisable heads, and thumbnails. Pure (no `vscode`): the
// aggregations run in the analysis thread (analysisThread.ts), off the extension host's event loop.

import type { AttentionView, HeadDetails, HeadStats } from '../../protocol/attention';

export interface AttentionMaps {
  seq: number;
  layers: number;
  heads: number;
  /** Per layer [heads, seq, seq] row-major: weights[l][(h * seq + query) * seq + key]. */
  weights: Float32Array[];
}

/** One head's [seq, seq] matrix (a view into the layer's array, not a copy). */
export function headMatrix(maps: AttentionMaps, layer: number, head: number): Float32Array {
  const size = maps.seq * maps.seq;
  return maps.weights[layer]!.subarray(head * size, (head + 1) * size);
}

/** The [seq, seq] matrix of a view, as a new array. */
export function viewMatrix(maps: AttentionMaps, view: AttentionView): Float32Array {
  switch (view.kind) {
    case 'head':
      return headMatrix(maps, view.layer, view.head).slice();
    case 'mean':
      return meanOverHeads(maps, view.layer);
    case 'max':
      return maxOverHeads(maps, view.layer);
    case 'rollout':
      return rollout(maps, view.layer);
  }
}

/** Mean over the layer's heads: [seq, seq]; rows still sum to 1. */
export function meanOverHeads(maps: AttentionMaps, layer: number): Float32Array {
  const size = maps.seq * maps.seq;
  const mean = new Float32Array(size);
  for (let h = 0; h < maps.heads; h++) {
    const head = headMatrix(maps, layer, h);
    for (let i = 0; i < size; i++) mean[i]! += head[i]!;
  }
  for (let i = 0; i < size; i++) mean[i]! /= maps.heads;
  return mean;
}

/** Elementwise max over the layer's heads: [seq, seq] (rows are not renormalised: it shows where any head looks). */
export function maxOverHeads(maps: AttentionMaps, layer: number): Float32Array {
  const size = maps.seq * maps.seq;
  const max = new Float32Array(size);
  for (let h = 0; h < maps.heads; h++) {
    const head = headMatrix(maps, layer, h);
    for (let i = 0; i < size; i++) if (head[i]! > max[i]!) max[i] = head[i]!;
  }
  return max;
}

/**
 * Attention rollout (Abnar & Zuidema 2020) through layers 0..upToLayer: each layer's head mean plus the identity for
 * the residual connection, A' = 0.5 A + 0.5 I (rows still sum to 1), multiplied in order: R = A'_L ... A'_0.
 * R[q, k] is how much of token k's input reaches token q's stream after those layers. Causal matrices are lower
 * triangular, so so is every product and only j <= i is summed.
 */
export function rollout(maps: AttentionMaps, upToLayer: number): Float32Array {
  const n = maps.seq;
  let result = residualMixed(meanOverHeads(maps, 0), n);
  for (let layer = 1; layer <= upToLayer; layer++) {
    const a = residualMixed(meanOverHeads(maps, layer), n);
    const product = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      const out = product.subarray(i * n, (i + 1) * n);
      for (let j = 0; j <= i; j++) {
        const weight = a[i * n + j]!;
        if (weight === 0) continue;
        const row = result.subarray(j * n, j * n + j + 1); // result row j is zero beyond column j
        for (let k = 0; k <= j; k++) out[k]! += weight * row[k]!;
      }
    }
    result = product;
  }
  return result;
}

function residualMixed(matrix: Float32Array, n: number): Float32Array {
  const mixed = new Float32Array(n * n);
  for (let i = 0; i < n * n; i++) mixed[i] = 0.5 * matrix[i]!;
  for (let i = 0; i < n; i++) mixed[i * n + i]! += 0.5;
  return mixed;
}

/**
 * A head gets a label when its score reaches this (and, for induction and brackets, over enough cases): the same
 * measures and thresholds as the model card's head survey (training/eval/heads.py).
 */
export const LABEL_THRESHOLD = { previousToken: 0.4, firstToken: 0.5, induction: 0.2, bracket: 0.3 };
const MIN_CASES = { induction: 3, bracket: 2 };

export function summarizeHeads(maps: AttentionMaps, tokens: readonly string[]): HeadStats[] {
  const n = maps.seq;
  const inductionCases = inductionTargets(tokens);
  const bracketCases = bracketPairs(tokens);
  const summaries: HeadStats[] = [];
  for (let layer = 0; layer < maps.layers; layer++) {
    for (let head = 0; head < maps.heads; head++) {
      const m = headMatrix(maps, layer, head);
      let entropy = 0;
      let distance = 0;
      let previous = 0;
      let first = 0;
      for (let q = 1; q < n; q++) {
        const row = m.subarray(q * n, q * n + q + 1);
        for (let k = 0; k <= q; k++) {
          const p = row[k]!;
          if (p > 0) entropy -= p * Math.log2(p);
          distance += p * (q - k);
        }
        previous += row[q - 1]!;
        first += row[0]!;
      }
      const rows = Math.max(1, n - 1);
      const inductionScore = meanWeight(m, n, inductionCases);
      const bracketScore = topKeyShare(m, n, bracketCases);
      const summary: HeadStats = {
        layer,
        head,
        entropyBits: entropy / rows,
        meanDistance: distance / rows,
        previousTokenShare: previous / rows,
        firstTokenShare: first / rows,
        inductionScore,
        bracketScore,
        labels: [],
      };
      if (summary.previousTokenShare >= LABEL_THRESHOLD.previousToken) summary.labels.push('previous-token');
      if (summary.firstTokenShare >= LABEL_THRESHOLD.firstToken) summary.labels.push('first-token');
      if (inductionScore !== null && inductionCases.length >= MIN_CASES.induction && inductionScore >= LABEL_THRESHOLD.induction) summary.labels.push('induction');
      if (bracketScore !== null && bracketCases.length >= MIN_CASES.bracket && bracketScore >= LABEL_THRESHOLD.bracket) summary.labels.push('bracket-matching');
      summaries.push(summary);
    }
  }
  return summaries;
}

/** [query, key] pairs: a repeated token -> the token after its previous occurrence (what an induction head predicts from). */
export function inductionTargets(tokens: readonly string[]): Array<[number, number]> {
  const lastSeen = new Map<string, number>();
  const pairs: Array<[number, number]> = [];
  tokens.forEach((token, i) => {
    const earlier = lastSeen.get(token);
    if (earlier !== undefined && earlier + 1 < i && token.trim()) pairs.push([i, earlier + 1]);
    lastSeen.set(token, i);
  });
  return pairs;
}

const CLOSING: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/** [query, key] pairs: a token ending with a closing bracket -> the token with its opening bracket. */
export function bracketPairs(tokens: readonly string[]): Array<[number, number]> {
  const stack: Array<{ bracket: string; index: number }> = [];
  const pairs: Array<[number, number]> = [];
  tokens.forEach((token, i) => {
    for (const ch of token) {
      if (ch === '(' || ch === '[' || ch === '{') stack.push({ bracket: ch, index: i });
      else if (CLOSING[ch]) {
        const open = stack.pop();
        if (open && open.bracket === CLOSING[ch] && open.index < i) pairs.push([i, open.index]);
      }
    }
  });
  return pairs;
}

function meanWeight(m: Float32Array, n: number, pairs: Array<[number, number]>): number | null {
  if (pairs.length === 0) return null;
  let sum = 0;
  for (const [q, k] of pairs) sum += m[q * n + k]!;
  return sum / pairs.length;
}

/** Share of pairs whose key is the query row's most attended key. */
function topKeyShare(m: Float32Array, n: number, pairs: Array<[number, number]>): number | null {
  if (pairs.length === 0) return null;
  let hits = 0;
  for (const [q, k] of pairs) {
    let best = 0;
    for (let j = 1; j <= q; j++) if (m[q * n + j]! > m[q * n + best]!) best = j;
    if (best === k) hits++;
  }
  return hits / pairs.length;
}

/** A [size, size] max-pooled picture of a [seq, seq] matrix (nearest cell when seq < size). */
export function thumbnail(matrix: Float32Array, seq: number, size: number): Float32Array {
  const out = new Float32Array(size * size);
  const bin = (a: number): [number, number] => {
    const start = Math.floor((a * seq) / size);
    return [start, Math.max(start + 1, Math.floor(((a + 1) * seq) / size))];
  };
  for (let a = 0; a < size; a++) {
    const [q0, q1] = bin(a);
    for (let b = 0; b < size; b++) {
      const [k0, k1] = bin(b);
      let max = 0;
      for (let q = q0; q < q1; q++) for (let k = k0; k < k1; k++) if (matrix[q * seq + k]! > max) max = matrix[q * seq + k]!;
      out[a * size + b] = max;
    }
  }
  return out;
}

/** Every head's thumbnail ([size, size], max-pooled) and statistics with labels. */
export function headDetails(maps: AttentionMaps, tokens: readonly string[], size: number): HeadDetails {
  const { seq, layers, heads } = maps;
  const thumbnails = new Float32Array(layers * heads * size * size);
  for (let layer = 0; layer < layers; layer++) {
    for (let head = 0; head < heads; head++) {
      thumbnails.set(thumbnail(headMatrix(maps, layer, head), seq, size), (layer * heads + head) * size * size);
    }
  }
  return { thumbnailSize: size, thumbnails, summaries: summarizeHeads(maps, tokens) };
}
