// Estimates the host and the engine worker must agree on, so each side computes them the same way.

/**
 * Memory per byte of weights file, measured (bench/real-shape.mjs, Qwen2.5-Coder-0.5B shapes): the engine's peak, less
 * Node's own, was 2.4-2.6x the file when ONNX Runtime copied the file's bytes, 1.7-1.9x from the memory-mapped copy
 * with external weights (src/worker/externalWeights.ts), 1.3-1.55x with the last-position graph
 * (src/worker/lastLogitsRewrite.ts) for 512 prompt tokens. Longer contexts add their KV cache (up to hundreds of MB
 * for 1.5B models at 4k tokens): this errs high.
 */
const OVERHEAD_FACTOR = 2.5;
const OVERHEAD_BYTES = 64 * 1024 * 1024;

/** Memory a model with this many bytes of weights needs: the engine refuses to load it, and the catalog warns, below it. */
export function memoryNeeded(weights: number): number {
  return Math.round(weights * OVERHEAD_FACTOR + OVERHEAD_BYTES);
}

/**
 * A generous characters-per-token estimate (code averages ~3.4 with the bundled tokenizer): text cut to this many
 * characters per token of budget holds at least the budget.
 */
export const CHARS_PER_TOKEN = 4;

/**
 * Longer than any token of the vocabularies we run (long runs of spaces are the longest, a few dozen characters): the
 * first maxTokens x this many characters always hold at least maxTokens tokens, so nothing after them need be tokenized.
 */
export const MAX_TOKEN_CHARS = 64;

/**
 * The most attention-map memory one Explain Attention run may take: every layer's and head's [seq, seq] float32
 * probabilities, held by ONNX Runtime, the engine and the extension host (RSS grew ~4x the maps' size in a probe). The
 * engine takes the smaller of this and an eighth of the memory free when the model loads.
 */
export const ATTENTION_BUDGET_BYTES = 256 * 1024 * 1024;

/** Bytes of the attention maps of `tokens` tokens: layers x heads x tokens^2 x 4. */
export function attentionMapBytes(layers: number, heads: number, tokens: number): number {
  return layers * heads * tokens * tokens * 4;
}

/** The most tokens whose attention maps fit `budgetBytes`. */
export function attentionTokenLimit(layers: number, heads: number, budgetBytes: number): number {
  return Math.max(1, Math.floor(Math.sqrt(budgetBytes / (4 * Math.max(1, layers) * Math.max(1, heads)))));
}

/** "300 ms", "30 s": a wait, in messages. */
export const durationText = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`);

/** "12.3 MB", "1.45 GB". */
export const megabytes = (bytes: number): string => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`);
