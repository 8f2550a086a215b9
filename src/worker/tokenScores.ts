// How surprised a model is by each token of a text: the text runs through the KV cache in chunks, and every token
// (but the first, which has nothing before it) is scored against the logits of the position before it. Explain
// Attention and the surprise map share it; attention also collects each chunk's attention rows (onChunk).

import { EngineError, type TokenPrediction } from '../protocol/engine';
import type { DecoderSession, StepOutput } from './decoderSession';

export interface TokenScore {
  bits: number;
  top: TokenPrediction[];
}

/** The first token has no context to be predicted from. */
const FIRST_TOKEN_SCORE: TokenScore = { bits: Number.NaN, top: [] };
const TOP = 5;
/** The smallest chunk a timed run takes: below it the per-run overhead would dominate. */
const MIN_TIMED_CHUNK = 4;

/** Surprisal in bits of `id` under one position's logits (`row`: [vocab]), and the 5 likeliest tokens there. */
export function scoreToken(row: Float32Array, id: number, tokenText: (id: number) => string): TokenScore {
  const topIds = new Int32Array(TOP).fill(-1);
  const topValues = new Float32Array(TOP).fill(-Infinity);
  // One pass for the maximum and the top 5 (kept sorted, best first; most logits fail the first comparison).
  for (let v = 0; v < row.length; v++) {
    const x = row[v]!;
    if (x <= topValues[TOP - 1]!) continue;
    let k = TOP - 1;
    while (k > 0 && x > topValues[k - 1]!) {
      topValues[k] = topValues[k - 1]!;
      topIds[k] = topIds[k - 1]!;
      k--;
    }
    topValues[k] = x;
    topIds[k] = v;
  }
  const max = topValues[0]!;
  // Logits more than 30 below the maximum add under e^-30 each (< 1e-9 of the sum for 150k tokens): skip their exp.
  const floor = max - 30;
  let sum = 0;
  for (let v = 0; v < row.length; v++) if (row[v]! > floor) sum += Math.exp(row[v]! - max);
  const logSumExp = max + Math.log(sum);
  const top: TokenPrediction[] = [];
  for (let k = 0; k < TOP && topIds[k]! >= 0; k++) top.push({ text: tokenText(topIds[k]!), probability: Math.exp(topValues[k]! - logSumExp) });
  return { bits: (logSumExp - row[id]!) / Math.LN2, top };
}

export interface ChunkedRun {
  session: DecoderSession;
  ids: readonly number[];
  /** Tokens per chunk at most (and at first, unless timed). */
  chunkTokens: number;
  /**
   * With this, the first chunk is MIN_TIMED_CHUNK tokens and each later one is sized from the time the last one took,
   * to take about this long: a cancel then waits no longer than that, whatever the model's size.
   */
  targetChunkMs?: number;
  tokenText: (id: number) => string;
  signal?: AbortSignal;
  wantAttentions?: boolean;
  /** Each chunk's output, `start` being its first position. */
  onChunk?: (output: StepOutput, start: number, length: number) => void;
}

/** Runs the ids chunk by chunk (checking for a cancel before each) and scores every token. */
export async function scoreInChunks(run: ChunkedRun): Promise<TokenScore[]> {
  const { session, ids } = run;
  const scores: TokenScore[] = [FIRST_TOKEN_SCORE];
  let cache = session.emptyCache();
  let previousRow: Float32Array | undefined; // the last logits row of the chunk before
  let size = run.targetChunkMs ? Math.min(MIN_TIMED_CHUNK, run.chunkTokens) : run.chunkTokens;
  for (let start = 0; start < ids.length; ) {
    if (run.signal?.aborted) throw new EngineError('Cancelled', 'cancelled');
    const chunk = ids.slice(start, start + size);
    const began = performance.now();
    const output = await session.step(chunk, cache, { wantAllLogits: true, wantAttentions: run.wantAttentions === true });
    if (run.targetChunkMs) {
      const perToken = (performance.now() - began) / chunk.length;
      size = Math.max(MIN_TIMED_CHUNK, Math.min(run.chunkTokens, Math.floor(run.targetChunkMs / Math.max(perToken, 1e-3))));
    }
    run.onChunk?.(output, start, chunk.length);
    const logits = output.allLogits!; // [chunk, vocab]
    const vocab = logits.length / chunk.length;
    chunk.forEach((id, i) => {
      const row = i === 0 ? previousRow : logits.subarray((i - 1) * vocab, i * vocab);
      if (row) scores.push(scoreToken(row, id, run.tokenText));
    });
    previousRow = output.lastLogits;
    cache = output.cache;
    start += chunk.length;
  }
  return scores;
}
