import { describe, expect, it } from 'vitest';
import {
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  argmax,
  createRandom,
  createSampler,
  softmax,
} from '../../src/worker/sampling';

const row = (...values: number[]) => Float32Array.from(values);

describe('processors', () => {
  it('repetition penalty divides positive and multiplies negative logits of seen tokens once', () => {
    const logits = row(2, -2, 1, 4);
    applyRepetitionPenalty(logits, [0, 1, 0], 2);
    expect(Array.from(logits)).toEqual([1, -4, 1, 4]);
  });

  it('temperature scales logits', () => {
    const logits = row(2, 4);
    applyTemperature(logits, 0.5);
    expect(Array.from(logits)).toEqual([4, 8]);
  });

  it('top-k keeps the k largest', () => {
    const logits = row(1, 5, 3, 4, 2);
    applyTopK(logits, 2);
    expect(Array.from(logits)).toEqual([-Infinity, 5, -Infinity, 4, -Infinity]);
  });

  it('top-p keeps the smallest nucleus reaching p', () => {
    // probabilities ~ [0.643, 0.237, 0.087, 0.032]
    const logits = row(3, 2, 1, 0);
    applyTopP(logits, 0.8);
    expect(Array.from(logits).map(Number.isFinite)).toEqual([true, true, false, false]);
    const all = row(3, 2, 1, 0);
    applyTopP(all, 1);
    expect(Array.from(all).every(Number.isFinite)).toBe(true);
  });

  it('softmax sums to one and survives large logits', () => {
    const p = softmax(row(1000, 1001, 1002));
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(argmax(p)).toBe(2);
  });
});

describe('sampler', () => {
  it('is greedy at temperature 0', () => {
    const sampler = createSampler({ temperature: 0 });
    expect(sampler.next(row(0, 3, 1), []).token).toBe(1);
  });

  it('is reproducible with a seed and varies across seeds', () => {
    const draw = (seed: number) => {
      const sampler = createSampler({ temperature: 1, seed });
      return Array.from({ length: 40 }, () => sampler.next(row(1, 1, 1, 1, 1), []).token);
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('samples in proportion to the probabilities', () => {
    const sampler = createSampler({ temperature: 1, seed: 1 });
    const counts = [0, 0];
    for (let i = 0; i < 4000; i++) counts[sampler.next(row(Math.log(3), 0), []).token]!++;
    expect(counts[0]! / 4000).toBeGreaterThan(0.71);
    expect(counts[0]! / 4000).toBeLessThan(0.79);
  });

  it('top-k 1 with temperature is greedy', () => {
    const sampler = createSampler({ temperature: 1.5, topK: 1, seed: 3 });
    for (let i = 0; i < 20; i++) expect(sampler.next(row(0, 0.5, 0.4), []).token).toBe(1);
  });

  it('repetition penalty changes the greedy choice away from a seen token', () => {
    const sampler = createSampler({ temperature: 0, repetitionPenalty: 2 });
    expect(sampler.next(row(3, 2), [0]).token).toBe(1);
  });

  it('mulberry32 is uniform enough', () => {
    const random = createRandom(42);
    let sum = 0;
    for (let i = 0; i < 10000; i++) sum += random();
    expect(sum / 10000).toBeGreaterThan(0.48);
    expect(sum / 10000).toBeLessThan(0.52);
  });
});
