// Logits processors and the token sampler. Each processor is one small function over a logits row
// ([vocab], modified in place); the sampler is chosen once per request.

import type { SamplingOptions } from '../protocol/engine';

/** Deterministic PRNG (mulberry32): the same seed gives the same samples on every platform. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** CTRL-style repetition penalty: logits of tokens already seen are divided (if > 0) or multiplied (if < 0). */
export function applyRepetitionPenalty(logits: Float32Array, seenTokens: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const token of new Set(seenTokens)) {
    const value = logits[token]!;
    logits[token] = value > 0 ? value / penalty : value * penalty;
  }
}

export function applyTemperature(logits: Float32Array, temperature: number): void {
  if (temperature === 1) return;
  for (let i = 0; i < logits.length; i++) logits[i] = logits[i]! / temperature;
}

/** Keeps the k largest logits; the rest become -Infinity. Ties at the k-th value are kept. */
export function applyTopK(logits: Float32Array, k: number): void {
  if (k <= 0 || k >= logits.length) return;
  const threshold = kthLargest(logits, k);
  for (let i = 0; i < logits.length; i++) if (logits[i]! < threshold) logits[i] = -Infinity;
}

/** Nucleus sampling: keeps the smallest set of most likely tokens whose probability mass reaches p. */
export function applyTopP(logits: Float32Array, p: number): void {
  if (p >= 1) return;
  const probabilities = softmax(logits);
  const order = Array.from(probabilities.keys()).sort((a, b) => probabilities[b]! - probabilities[a]!);
  let mass = 0;
  let kept = 0;
  for (const index of order) {
    mass += probabilities[index]!;
    kept++;
    if (mass >= p) break;
  }
  for (let rank = kept; rank < order.length; rank++) logits[order[rank]!] = -Infinity;
}

export function softmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const value of logits) if (value > max) max = value;
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp(logits[i]! - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum;
  return out;
}

export function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

function kthLargest(values: Float32Array, k: number): number {
  // A copy sorted descending is O(V log V); fine for vocabularies of tens of thousands once per step.
  const sorted = Float32Array.from(values).sort().reverse();
  return sorted[k - 1]!;
}

export interface Sampler {
  /** Picks the next token from a logits row (which it may modify). Returns the token and its probability. */
  next(logits: Float32Array, history: readonly number[]): { token: number; probability: number };
}

/** Builds the sampler for one request: greedy when temperature is 0 or absent, else seeded sampling. */
export function createSampler(options: SamplingOptions): Sampler {
  const penalty = options.repetitionPenalty ?? 1;
  const temperature = options.temperature ?? 0;
  const random = createRandom(options.seed ?? Date.now());
  return {
    next(logits, history) {
      applyRepetitionPenalty(logits, history, penalty);
      if (temperature <= 0) {
        const token = argmax(logits);
        return { token, probability: softmax(logits)[token]! };
      }
      applyTemperature(logits, temperature);
      if (options.topK) applyTopK(logits, options.topK);
      if (options.topP !== undefined) applyTopP(logits, options.topP);
      const probabilities = softmax(logits);
      const draw = random();
      let cumulative = 0;
      for (let token = 0; token < probabilities.length; token++) {
        cumulative += probabilities[token]!;
        if (draw < cumulative) return { token, probability: probabilities[token]! };
      }
      const token = argmax(probabilities); // floating-point remainder: fall back to the mode
      return { token, probability: probabilities[token]! };
    },
  };
}
