// What every feature needs from a model, whoever runs it. Features (chat, completion, explain, attention, the model
// view, the CLI) hold a Backend and never an engine client: the local engine is one implementation
// (src/backend/local/localBackend.ts); a model server over HTTP is another. A backend says what it cannot do in
// `capabilities`, and a call it cannot serve fails with the 'unsupported' code, so the UI can say so honestly.

import type {
  AttentionParams,
  AttentionResult,
  ChatParams,
  CompleteParams,
  EngineEvent,
  GenerateParams,
  GenerateResult,
  ModelInfo,
  Priority,
  TokenPrediction,
} from '../protocol/engine';

/**
 * What features need to know of a backend's model. The local engine's ModelInfo has this and the architecture besides;
 * a model server says less (its model id, the context window from the settings).
 */
export interface BackendModel {
  /** The model as the user knows it: a folder name, or the server's model id. */
  name: string;
  /** Tokens of prompt and reply together. */
  contextLength: number;
  hasChatTemplate: boolean;
  fim: ModelInfo['fim'];
  repoFormat: ModelInfo['repoFormat'];
}

export type BackendState<M extends BackendModel = BackendModel> =
  | { kind: 'not-loaded' }
  | { kind: 'loading'; folder: string }
  /** `notice`: a passing condition worth showing, e.g. a model server that asked to wait (429). */
  | { kind: 'ready'; model: M; notice?: string }
  | { kind: 'generating'; model: M }
  | { kind: 'error'; message: string };

export interface BackendCapabilities {
  /** Attention maps need the weights: only a model run here can return them. */
  attention: boolean;
  /** Per-token probabilities (completion confidence, the surprise map). */
  tokenProbabilities: boolean;
}

/**
 * How surprising each token of a text is to the model: -log2 of the probability it gave the token after the ones
 * before it (NaN where there is no "before"), with its five likeliest tokens there. Special tokens the model puts in
 * front have offsets -1.
 */
export interface TextSurprisal {
  tokens: Array<{ text: string; start: number; end: number }>;
  surprisal: number[];
  predictions: TokenPrediction[][];
}

export interface RequestOptions {
  /** Inline completion goes ahead of queued chat work. */
  priority?: Priority;
  signal?: AbortSignal;
  onEvent?: (event: EngineEvent) => void;
}

export interface Disposable {
  dispose(): void;
}

export interface Backend<M extends BackendModel = BackendModel> {
  readonly capabilities: BackendCapabilities;
  readonly state: BackendState<M>;
  onStateChange(listener: (state: BackendState<M>) => void): Disposable;

  /** The configured model's info, loading it first if needed; errors reach the caller. */
  ensureLoaded(): Promise<M>;
  /** Loads the configured model again (after a settings change, or to recover from an error). */
  reload(): Promise<M>;

  generate(params: GenerateParams, options?: RequestOptions): Promise<GenerateResult>;
  chat(params: ChatParams, options?: RequestOptions): Promise<GenerateResult>;
  complete(params: CompleteParams, options?: RequestOptions): Promise<GenerateResult>;
  attention(params: AttentionParams, options?: RequestOptions): Promise<AttentionResult>;
  /** Per-token surprisal of `text` (needs `capabilities.tokenProbabilities`). */
  surprisal(text: string, options?: RequestOptions): Promise<TextSurprisal>;
  tokenize(text: string, options?: RequestOptions): Promise<number[]>;
  /** Token counts of texts (no special tokens), with the model's own tokenizer. */
  countTokens(texts: string[], options?: RequestOptions): Promise<number[]>;
  /** The longest prefix of `text` within `maxTokens` tokens, cut at a line end where that keeps over half of it. */
  truncateToTokens(text: string, maxTokens: number, options?: RequestOptions): Promise<string>;

  /** Calls sent and not yet answered. */
  readonly pendingCalls: number;
  dispose(): Promise<void>;
}
