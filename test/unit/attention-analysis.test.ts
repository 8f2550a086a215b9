// The attention view's numbers: aggregations, rollout against a hand computation, head statistics and labels (on
// made-up heads, and on the bundled model, where they must name the heads its model card names), thumbnails.

import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledModelFolder } from '../../src/backend/local/bundledModel';
import { LoadedModel } from '../../src/worker/engine';
import {
  bracketPairs,
  headMatrix,
  inductionTargets,
  maxOverHeads,
  meanOverHeads,
  rollout,
  summarizeHeads,
  thumbnail,
  type AttentionMaps,
} from '../../src/extension/attention/analysis';

/** Maps from per-layer lists of per-head [seq][seq] rows. */
function maps(layers: number[][][][]): AttentionMaps {
  const seq = layers[0]![0]!.length;
  return { seq, layers: layers.length, heads: layers[0]!.length, weights: layers.map((heads) => Float32Array.from(heads.flat(2))) };
}

const close = (a: ArrayLike<number>, b: number[]) => Array.from(a).forEach((x, i) => expect(x).toBeCloseTo(b[i]!, 6));

describe('aggregations', () => {
  const m = maps([
    [
      [[1, 0, 0], [1, 0, 0], [0.5, 0.5, 0]].map((r) => r) as number[][],
      [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    ],
  ]);

  it('mean and max over heads', () => {
    close(meanOverHeads(m, 0), [1, 0, 0, 0.5, 0.5, 0, 0.25, 0.25, 0.5]);
    close(maxOverHeads(m, 0), [1, 0, 0, 1, 1, 0, 0.5, 0.5, 1]);
    close(headMatrix(m, 0, 1), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  });

  it('rollout equals the hand computation: (0.5 A1 + 0.5 I)(0.5 A0 + 0.5 I)', () => {
    // Two layers, one head each, 2 tokens. A0 = [[1,0],[0.2,0.8]], A1 = [[1,0],[0.6,0.4]].
    const two = maps([[[[1, 0], [0.2, 0.8]]], [[[1, 0], [0.6, 0.4]]]]);
    // A0' = [[1,0],[0.1,0.9]]; A1' = [[1,0],[0.3,0.7]]; A1'A0' = [[1,0],[0.3+0.07, 0.63]] = [[1,0],[0.37,0.63]].
    close(rollout(two, 0), [1, 0, 0.1, 0.9]);
    close(rollout(two, 1), [1, 0, 0.37, 0.63]);
  });
});

describe('head statistics and labels on made-up heads', () => {
  const n = 6;
  const row = (q: number, weights: Record<number, number>) => Array.from({ length: n }, (_, k) => (k <= q ? (weights[k] ?? 0) : 0));
  const previous = Array.from({ length: n }, (_, q) => row(q, { [Math.max(0, q - 1)]: 1 }));
  const sink = Array.from({ length: n }, (_, q) => row(q, { 0: 1 }));
  const uniform = Array.from({ length: n }, (_, q) => row(q, Object.fromEntries(Array.from({ length: q + 1 }, (_, k) => [k, 1 / (q + 1)]))));

  it('names a previous-token head and a first-token head, and measures entropy and distance', () => {
    const [prev, first, flat] = summarizeHeads(maps([[previous, sink, uniform]]), ['a', 'b', 'c', 'd', 'e', 'f']);
    expect(prev!.labels).toEqual(['previous-token']);
    expect(prev!.previousTokenShare).toBeCloseTo(1);
    expect(prev!.meanDistance).toBeCloseTo(1);
    expect(prev!.entropyBits).toBeCloseTo(0);
    expect(first!.labels).toEqual(['first-token']);
    expect(flat!.labels).toEqual([]);
    // Uniform rows over q+1 keys: entropy log2(q+1), averaged over q = 1..5.
    expect(flat!.entropyBits).toBeCloseTo([2, 3, 4, 5, 6].reduce((s, k) => s + Math.log2(k), 0) / 5, 5);
  });

  it('finds induction targets and bracket pairs in token texts', () => {
    expect(inductionTargets(['x', '=', 'f', '(', 'x', '=', 'f'])).toEqual([[4, 1], [5, 2], [6, 3]]);
    expect(bracketPairs(['f', '(', 'a', '[', '0', '])', '{', '}'])).toEqual([[5, 3], [5, 1], [7, 6]]);
  });
});

describe('thumbnails', () => {
  it('max-pools a matrix, and repeats cells of a small one', () => {
    const m = Float32Array.from([1, 0, 0, 0, 0.2, 0.8, 0, 0, 0.1, 0.3, 0.6, 0, 0.4, 0.1, 0.1, 0.4]);
    close(thumbnail(m, 4, 2), [1, 0, 0.4, 0.6]);
    close(thumbnail(Float32Array.from([1, 0, 0.5, 0.5]), 2, 4), [1, 1, 0, 0, 1, 1, 0, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  });
});

describe('on the bundled model', () => {
  let model: LoadedModel;
  beforeAll(async () => {
    model = await LoadedModel.load(bundledModelFolder(path.resolve(__dirname, '../..')), { threads: 1 });
  });
  afterAll(() => model.release());

  it('rows of every aggregation sum to 1 with nothing above the diagonal, and the model card\'s heads get their labels', async () => {
    // Random words repeated: the second half can be predicted by copying (what induction heads do).
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const words = Array.from({ length: 40 }, () => ['alpha', 'parse', 'node', 'value', 'index', 'buffer', 'token', 'merge', 'count', 'shape', 'delta', 'frame'][Math.floor(rand() * 12)]);
    const text = `${words.join(' ')} ${words.join(' ')}`;
    const result = await model.attention({ text });
    const m: AttentionMaps = { seq: result.tokens.length, layers: result.layers, heads: result.heads, weights: result.weights };
    const n = m.seq;
    for (const matrix of [meanOverHeads(m, 3), rollout(m, m.layers - 1)]) {
      for (let q = 0; q < n; q++) {
        let sum = 0;
        for (let k = 0; k < n; k++) {
          if (k > q) expect(matrix[q * n + k]).toBe(0);
          sum += matrix[q * n + k]!;
        }
        expect(sum).toBeCloseTo(1, 4);
      }
    }
    const summaries = summarizeHeads(m, result.tokens.map((t) => t.text));
    const named = (label: string) => summaries.filter((s) => s.labels.includes(label as never)).map((s) => `L${s.layer}H${s.head}`);
    // models/attentive-code-14m/README.md: L0H5 and L1H3 previous-token (1.00), L2H2 induction (0.84).
    expect(named('previous-token')).toEqual(expect.arrayContaining(['L0H5', 'L1H3']));
    expect(named('induction')).toContain('L2H2');
  });
});
