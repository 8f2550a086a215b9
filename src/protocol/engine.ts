// Typed messages between the extension host (or CLI) and the engine worker.
// The worker owns one loaded model; every call carries an id, streamed events reuse the id of their call.

import type { RepoContextRequest, RepoFormat } from './repoContext';

/** Which ONNX file of a model folder to prefer, best first. */
/** q4 includes q4f16 (4-bit weights, float16 activations) and bnb4 (NF4 weights); fp16 is float16 throughout. */
export type Quantization = 'q4' | 'int8' | 'fp32' | 'fp16';

export interface EngineOptions {
  /** ORT intra-op threads; default: half the cores, at least 1. */
  threads?: number;
  /** Preference order for `onnx/*.onnx`; default q4 > int8 > fp32. */
  quantization?: Quantization[];
  /** Reuse the previous call's keys and values for a shared prompt prefix (default true; benchmarks turn it off). */
  reusePromptCache?: boolean;
  /**
   * Folder for files the engine derives from model files: `attention-graphs/` (graphs rewritten to expose attention,
   * for models without attentions.{i} outputs) and `external-weights/` (large single-file models copied with their
   * weights in a data file, which loads faster and in less memory); default: a folder in the OS temp directory.
   */
  cacheDir?: string;
  /** Bytes of memory to check the model's needs against (default: what the OS says is available). */
  availableMemoryBytes?: number;
  /**
   * Most bytes of attention maps one attention call may produce (default: ATTENTION_BUDGET_BYTES or an eighth of the
   * memory free at load, whichever is smaller); longer texts are refused, saying how many tokens fit.
   */
  attentionBudgetBytes?: number;
}

export interface SamplingOptions {
  /** 0 (or absent) means greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  /** Seed for reproducible sampling. */
  seed?: number;
}

export interface GenerateParams extends SamplingOptions {
  /** Raw prompt text (already formatted); special tokens in it are parsed. */
  prompt: string;
  maxNewTokens?: number;
  /** End-of-sequence tokens are suppressed until this many tokens were generated (benchmarks use it). */
  minNewTokens?: number;
  /** Generation ends before any of these strings; the string itself is not returned. */
  stop?: string[];
  /** Prompt prefix kept when the prompt must be trimmed to fit the context (e.g. the system prompt). */
  keepPrefix?: string;
  /** A prompt longer than the context: drop its oldest tokens (default) or fail with 'prompt-too-long'. */
  overflow?: 'trim' | 'error';
  /**
   * Token healing: back the prompt up by its last token and make the first generated token start with that text,
   * so a prompt ending mid-token (after a space, a newline or half a word) continues as the model would have
   * tokenized it. Default: off for generate, on for complete.
   */
  tokenHealing?: boolean;
  /**
   * Stop generating once this many milliseconds have passed since the call began and the output has a visible
   * (non-whitespace) character (finish reason 'length').
   */
  timeLimitMs?: number;
  /** Also return each generated token's probability and text (completion uses it as confidence; `serve` as logprobs). */
  returnTokenProbabilities?: boolean;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatParams extends Omit<GenerateParams, 'prompt' | 'keepPrefix'> {
  messages: ChatMessage[];
}

export interface CompleteParams extends Omit<GenerateParams, 'prompt' | 'keepPrefix'> {
  /** Code before the cursor. */
  prefix: string;
  /** Code after the cursor (used when the model has a fill-in-the-middle format and `fillInTheMiddle` is not false). */
  suffix?: string;
  /**
   * Prompt tokens for prefix and suffix together (default and maximum: the context minus the new tokens). Whole lines
   * are dropped to fit: the prefix's oldest, the suffix's last; the suffix gets at most a quarter of the budget.
   */
  maxPromptTokens?: number;
  /** Use the model's fill-in-the-middle format (default: `ModelInfo.fim.recommended`); false sends the prefix alone. */
  fillInTheMiddle?: boolean;
  /** Stop after this many lines of output (1 = the rest of the current line only). */
  maxLines?: number;
  /** The file's workspace-relative path: a header line in formats that have one (StarCoder's <filename>). */
  fileName?: string;
  /** Code from other files, put before the code in the model's repository format or as comments (repoContext.ts). */
  context?: RepoContextRequest;
}

/** What `complete` did with the prompt, beside the usual result. */
export interface CompletionPromptReport {
  /** 'fim' (prefix and suffix) or 'prefix' (prefix only). */
  format: 'fim' | 'prefix';
  prefixLinesDropped: number;
  suffixLinesDropped: number;
  /** Prompt tokens whose keys and values were reused from the previous call (no recomputation). */
  reusedPromptTokens: number;
  /** The paths of the context snippets that went into the prompt, in order. */
  contextPaths: string[];
}

export interface AttentionParams {
  text: string;
  /**
   * Let the tokenizer add its special tokens (a BOS before the text), as the model saw every document in training
   * (default true); they appear as tokens with offsets -1.
   */
  addSpecialTokens?: boolean;
}

export interface Usage {
  promptTokens: number;
  generatedTokens: number;
  /** Milliseconds from the call reaching the engine to the first generated token. */
  timeToFirstTokenMs: number;
  /** Generated tokens per second over the decode steps (after the first token). */
  decodeTokensPerSecond: number;
  /** Prompt tokens dropped to fit the context window (0 when nothing was trimmed). */
  trimmedPromptTokens: number;
}

export type FinishReason = 'eos' | 'stop' | 'length' | 'cancelled';

export interface GenerateResult {
  text: string;
  tokenIds: number[];
  finishReason: FinishReason;
  usage: Usage;
  /** Probability of each generated token under the model (only when asked for). */
  tokenProbabilities?: number[];
  /** Each generated token's text, beside its probability (only when probabilities were asked for). */
  tokenTexts?: string[];
  /** Only from `complete`. */
  completionPrompt?: CompletionPromptReport;
}

export interface ModelInfo {
  name: string;
  folder: string;
  architecture: string;
  modelType: string;
  onnxFile: string;
  quantization: Quantization;
  fileSizeBytes: number;
  parameters: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  hiddenSize: number;
  vocabSize: number;
  contextLength: number;
  /** The most tokens one attention call takes: its maps (layers x heads x tokens^2 x 4 bytes) within attentionBudgetBytes. */
  attentionTokenLimit: number;
  attentionBudgetBytes: number;
  hasAttentionOutputs: boolean;
  hasChatTemplate: boolean;
  /**
   * Fill-in-the-middle tokens, when the tokenizer has them. `recommended` is false when the model's config.json says
   * its fill-in-the-middle output is not good enough for inline completion (the bundled model: measured, see its card).
   */
  /** `order`: 'psm' prompts prefix, suffix, middle; 'spm' suffix first, ending with the prefix (config.json attentive.fim.prompt). */
  fim: { prefix: string; suffix: string; middle: string; order: 'psm' | 'spm'; recommended: boolean } | null;
  /** How the model takes code of other files (its vocabulary's repository tokens, or 'comments' without them). */
  repoFormat: RepoFormat;
  threads: number;
}

/** "yes", "no", or "yes (not used for completion)" for a model whose card says its FIM output is not good enough. */
export function describeFim(info: Pick<ModelInfo, 'fim'>): string {
  if (!info.fim) return 'no';
  return info.fim.recommended ? 'yes' : 'yes (not used for completion)';
}

export interface AttentionToken {
  text: string;
  id: number;
  /** UTF-16 offsets into the input text: [start, end); -1 for a token that is not from the text (a BOS). */
  start: number;
  end: number;
}

export interface TokenPrediction {
  text: string;
  probability: number;
}

/** How surprising each token of a text was to the model. */
export interface SurprisalResult {
  tokens: AttentionToken[];
  /** Per token, -log2 of the probability the model gave it after the tokens before it (NaN for the first). */
  surprisal: number[];
  /** Per token, the model's five most likely tokens at its position, most likely first ([] for the first). */
  predictions: TokenPrediction[][];
}

export interface AttentionResult extends SurprisalResult {
  layers: number;
  heads: number;
  /**
   * One array per layer, [heads, seq, seq] row-major: weights[l][h*seq*seq + q*seq + k]. The engine allocates them on
   * SharedArrayBuffers so that passing them between threads shares rather than copies them.
   */
  weights: Float32Array[];
  /** Milliseconds inside the engine: the ONNX Runtime run, and surprisal, predictions and offsets after it. */
  timings?: { runMs: number; afterRunMs: number };
}

export interface LoadParams {
  folder: string;
  options?: EngineOptions;
}

/** Calls the host makes; `result` is what the call resolves to. */
export interface EngineMethods {
  load: { params: LoadParams; result: ModelInfo };
  info: { params: Record<string, never>; result: ModelInfo };
  generate: { params: GenerateParams; result: GenerateResult };
  chat: { params: ChatParams; result: GenerateResult };
  complete: { params: CompleteParams; result: GenerateResult };
  attention: { params: AttentionParams; result: AttentionResult };
  /** The attention call's surprisal and predictions alone: no maps computed or sent. */
  surprisal: { params: AttentionParams; result: SurprisalResult };
  tokenize: { params: { text: string }; result: { ids: number[] } };
  /** Token counts of texts (no special tokens), so the extension host needs no tokenizer of its own. */
  countTokens: { params: { texts: string[] }; result: { counts: number[] } };
  /** The longest prefix of `text` within `maxTokens` tokens, cut at a line end where that keeps over half of it. */
  truncateToTokens: { params: { text: string; maxTokens: number }; result: { text: string } };
  /**
   * Deletes what the engine derived from a model folder's files in `cacheDir` (its external-weights copy and the
   * graphs rewritten from it) before the folder itself is deleted; needs no model loaded. `freedBytes`: the copy's size.
   */
  deleteModelCaches: { params: { folder: string; cacheDir: string }; result: { freedBytes: number } };
}

/** Methods that need no loaded model. */
export const MODEL_FREE_METHODS = ['deleteModelCaches'] as const satisfies readonly EngineMethod[];

export type EngineMethod = keyof EngineMethods;

/** Priority of a queued call: completion pre-empts queued chat work (never a running one). */
export type Priority = 'high' | 'normal';

/** Streamed while a generation runs. */
export type EngineEvent =
  | { type: 'delta'; text: string }
  | { type: 'queued'; position: number }
  | { type: 'started' };

export type HostToWorker =
  | { kind: 'call'; id: number; method: EngineMethod; params: unknown; priority: Priority }
  | { kind: 'cancel'; id: number }
  /** Finish the running step, release the model, and exit (terminating mid-step aborts the whole process). */
  | { kind: 'shutdown' }
  /** The host's watchdog asks whether the worker's thread still runs its event loop: it answers 'pong'. */
  | { kind: 'ping' }
  /**
   * Test mode only: a worker started with test hooks throws from its message handler, as a bug in it would (between
   * decoding steps, never inside session.run). Any other server answers nothing and logs nothing: it is ignored.
   */
  | { kind: 'crash-for-test' }
  /**
   * Test mode only: a worker started with test hooks keeps its thread busy in JavaScript for `ms`, as code that never
   * finishes would (the watchdog's case); any other server ignores it.
   */
  | { kind: 'hold-thread-for-test'; ms: number };

export interface SerializedError {
  message: string;
  code: EngineErrorCode;
}

export type EngineErrorCode =
  | 'model-not-found'
  | 'model-invalid'
  /** The machine has less memory available than the model needs (the message has both figures). */
  | 'model-too-large'
  | 'not-loaded'
  | 'prompt-too-long'
  | 'cancelled'
  | 'worker-exited'
  | 'bad-request'
  /** The backend cannot do this (a model server has no attention maps). */
  | 'unsupported'
  /** Model servers: no connection (refused, DNS, TLS), the key refused, no such model, busy (429/503), failing (5xx). */
  | 'unreachable'
  | 'unauthorized'
  | 'not-found'
  | 'rate-limited'
  | 'server-error'
  /** The answer stopped half-way (the connection was cut); what arrived is kept. */
  | 'interrupted'
  /** No connection, or no data, within the configured time. */
  | 'timeout'
  /** Refused by the user's settings or decision (code to a server they did not allow, plain http to another host). */
  | 'not-allowed'
  | 'internal';

export type WorkerToHost =
  | { kind: 'result'; id: number; result: unknown }
  | { kind: 'error'; id: number; error: SerializedError }
  | { kind: 'event'; id: number; event: EngineEvent }
  | { kind: 'pong' };

/** An error with a stable code, safe to show to users as one line. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly code: EngineErrorCode,
    /** For 'rate-limited': the seconds the server asked to wait (its Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'EngineError';
  }

  serialize(): SerializedError {
    return { message: this.message, code: this.code };
  }

  static from(error: unknown): EngineError {
    if (error instanceof EngineError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new EngineError(message, 'internal');
  }
}
