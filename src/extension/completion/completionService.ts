// The core of inline completion, without `vscode` (the provider adapts it to the editor, the benchmark drives it
// directly): cache and typed-through lookups, one engine request at a time, post-processing.

import { CHARS_PER_TOKEN } from '../../protocol/estimates';
import type { CompleteParams, GenerateResult } from '../../protocol/engine';
import { EngineError } from '../../protocol/engine';
import type { RepoContextRequest } from '../../protocol/repoContext';
import { CompletionCache } from './completionCache';
import { settingDefault } from '../shared/settingDefaults';
import { completionMode, type CompletionMode } from './completionMode';
import { cursorWindow, type LineSource } from './documentWindow';
import { postprocess, type PostprocessResult } from './postprocess';

export interface CompletionSettings {
  /** Most lines of a multi-line suggestion. */
  maxLines: number;
  /** New tokens at most per request. */
  maxNewTokens: number;
  /** Prompt tokens for prefix and suffix together. */
  maxPromptTokens: number;
  /** 'auto' follows the model (its config may say its FIM output is not good enough); 'on' / 'off' force it. */
  fillInTheMiddle: 'auto' | 'on' | 'off';
  /** Suggestions whose tokens' mean probability is below this are not shown (0 shows everything). */
  minMeanProbability: number;
  /**
   * Milliseconds the engine may spend on one suggestion; a multi-line one cut by it keeps its complete lines.
   * A suggestion that comes later than the next keystrokes is worth less than a shorter one now.
   */
  timeLimitMs: number;
}

export function fillInTheMiddleSetting(value: string | undefined): CompletionSettings['fillInTheMiddle'] {
  return value === 'on' || value === 'off' ? value : 'auto';
}

/** The settings' defaults, as package.json contributes them. */
export const DEFAULT_COMPLETION_SETTINGS: CompletionSettings = {
  maxLines: settingDefault('attentive.completion.maxLines'),
  maxNewTokens: settingDefault('attentive.completion.maxNewTokens'),
  maxPromptTokens: settingDefault('attentive.completion.maxPromptTokens'),
  fillInTheMiddle: fillInTheMiddleSetting(settingDefault('attentive.completion.fillInTheMiddle')),
  minMeanProbability: settingDefault('attentive.completion.minMeanProbability'),
  timeLimitMs: settingDefault('attentive.completion.timeLimitMs'),
};


export interface CompletionRequest {
  document: LineSource;
  line: number;
  character: number;
  languageId: string;
  /** Workspace-relative path, for models whose prompt format has a file header. */
  fileName?: string;
  /** Code from other files for the prompt (neighbourFiles.ts). */
  context?: RepoContextRequest;
}

/** The engine call the service needs: the extension passes the engine client, tests and the benchmark the same. */
export type CompleteFunction = (params: CompleteParams, signal: AbortSignal) => Promise<GenerateResult>;

export interface CompletionOutcome {
  /** The text to show at the cursor ('' = nothing to show). */
  text: string;
  mode: CompletionMode;
  source: 'cache' | 'engine';
  /** Why the text was cut or dropped (post-processing), for the log and the tests. */
  reason: PostprocessResult['reason'];
  /** Milliseconds from the call to the answer (the debounce is the provider's, not counted here). */
  latencyMs: number;
  result?: GenerateResult;
}

export class CompletionService {
  readonly cache = new CompletionCache();
  /** Requests superseded by a newer one or cancelled by the editor while the engine ran them. */
  cancelled = 0;
  private inFlight: AbortController | null = null;

  constructor(
    private readonly complete: CompleteFunction,
    private readonly settings: () => CompletionSettings,
    /** Off only in the benchmark's reference run. */
    private readonly useCache = true,
  ) {}

  /**
   * A suggestion for the cursor, or null when the request was cancelled (by `signal` or by a newer request).
   * At most one request is in the engine at a time: starting one aborts the previous.
   */
  async provide(request: CompletionRequest, signal?: AbortSignal): Promise<CompletionOutcome | null> {
    const started = performance.now();
    const settings = this.settings();
    const window = cursorWindow(request.document, request.line, request.character, {
      // Read generously around the cursor; the engine fits the lines to the token budget.
      maxPrefixChars: settings.maxPromptTokens * CHARS_PER_TOKEN,
      maxSuffixChars: settings.maxPromptTokens * CHARS_PER_TOKEN,
    });
    const mode = completionMode(window, request.languageId);
    const cached = this.useCache ? this.cache.lookup(window.prefix, window.suffix) : undefined;
    if (cached !== undefined) {
      return { text: cached, mode, source: 'cache', reason: cached ? 'ok' : 'empty', latencyMs: performance.now() - started };
    }
    if (signal?.aborted) return null;

    this.inFlight?.abort();
    const controller = new AbortController();
    this.inFlight = controller;
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort);
    try {
      const params: CompleteParams = {
        prefix: window.prefix,
        suffix: window.suffix,
        maxNewTokens: settings.maxNewTokens,
        maxPromptTokens: settings.maxPromptTokens,
        maxLines: mode === 'single-line' ? 1 : settings.maxLines + 1,
        temperature: 0,
        returnTokenProbabilities: true,
        timeLimitMs: settings.timeLimitMs,
      };
      if (settings.fillInTheMiddle !== 'auto') params.fillInTheMiddle = settings.fillInTheMiddle === 'on';
      if (request.fileName) params.fileName = request.fileName;
      if (request.context) params.context = request.context;
      let result: GenerateResult;
      try {
        result = await this.complete(params, controller.signal);
      } catch (error) {
        if (error instanceof EngineError && error.code === 'cancelled') {
          this.cancelled++;
          return null;
        }
        throw error;
      }
      if (result.finishReason === 'cancelled' || controller.signal.aborted) {
        this.cancelled++;
        return null;
      }
      // Cut by the time limit or the token cap: a multi-line suggestion keeps only its complete lines.
      const cut = result.finishReason === 'length' && mode === 'multi-line' && result.text.includes('\n');
      const processed = postprocess({
        completion: cut ? result.text.slice(0, result.text.lastIndexOf('\n')) : result.text,
        window,
        mode,
        maxLines: settings.maxLines,
        languageId: request.languageId,
        tokenProbabilities: result.tokenProbabilities ?? [],
        minMeanProbability: settings.minMeanProbability,
      });
      this.cache.set(window.prefix, window.suffix, processed.text);
      return { text: processed.text, mode, source: 'engine', reason: processed.reason, latencyMs: performance.now() - started, result };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (this.inFlight === controller) this.inFlight = null;
    }
  }

  /** Aborts the request in the engine, if any (the user paused completions, or the editor lost focus). */
  cancelInFlight(): void {
    this.inFlight?.abort();
  }
}
