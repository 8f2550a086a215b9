// A model server as a Backend: any server with the OpenAI-compatible HTTP API (vLLM, Ollama, llama.cpp's
// llama-server, LM Studio, SGLang, `transformers serve`, `attentive serve`). Chat streams over
// /v1/chat/completions; completion sends a raw prompt, in the model family's fill-in-the-middle format, to
// /v1/completions. Attention maps need the weights, so this backend has none; token counts are estimates.

import {
  EngineError,
  type AttentionResult,
  type EngineErrorCode,
  type ChatParams,
  type CompleteParams,
  type FinishReason,
  type GenerateParams,
  type GenerateResult,
  type SamplingOptions,
} from '../../protocol/engine';
import { CHARS_PER_TOKEN } from '../../protocol/estimates';
import { fimFamilyFor, fimFormat, type FimFormat } from '../../protocol/fimFormats';
import { NO_REPO_CONTEXT, fitRepoContext, repoFormatOfServerModel } from '../../protocol/repoContext';
import type { Backend, BackendCapabilities, BackendModel, BackendState, Disposable, RequestOptions, TextSurprisal } from '../backend';
import { failure, readText, send, serverErrorMessage, type EndpointResponse } from './request';
import { SseParser } from './sse';
import { firstLines } from '../../protocol/lines';

export interface EndpointConfig {
  /** The API's base, ending in /v1 (e.g. http://127.0.0.1:11434/v1 for Ollama). */
  baseUrl: string;
  /** The server's id of the model. */
  model: string;
  apiKey?: string;
  /** Extra headers on every request (a proxy's own auth, an organisation id). */
  headers?: Record<string, string>;
  /** Prompt and reply tokens together: servers do not say, so the user does. */
  contextLength: number;
  /** The fill-in-the-middle family ('qwen', 'starcoder', 'deepseek', 'codellama', 'codestral'); default: from the model id. */
  fimFamily?: string;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** Bytes of one answer at most (default 16 MB). */
  maxResponseBytes?: number;
  /** Where malformed stream lines are reported (they are skipped). */
  log?: (line: string) => void;
  /** Plain http:// to a host other than this machine sends code unencrypted: refused unless allowed here. */
  allowInsecure?: boolean;
  /** Asked before the first request goes out (the user's decision to send code to this host); false refuses. */
  confirm?: (host: string) => Promise<boolean>;
  /** Told when the server refuses the API key (HTTP 401/403), so the editor can offer to set it. */
  onUnauthorized?: () => void;
}

/** What the status bar shows for a model on a server. */
export interface EndpointModel extends BackendModel {
  baseUrl: string;
}

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Failures that mean the server cannot be used as configured (not one request's bad luck, like a cut stream). */
const SERVER_DOWN = new Set<EngineErrorCode>(['unreachable', 'unauthorized', 'not-found', 'timeout', 'not-allowed']);

export class EndpointBackend implements Backend<EndpointModel> {
  readonly capabilities: BackendCapabilities = { attention: false, tokenProbabilities: true };
  private current: BackendState<EndpointModel> = { kind: 'not-loaded' };
  private readonly listeners = new Set<(state: BackendState<EndpointModel>) => void>();
  private readonly running = new Set<AbortController>();
  private checked: Promise<EndpointModel> | undefined;
  private readonly fim: FimFormat | null;
  private confirmed = false;
  /** Characters per token for estimates: a generic figure until the server's usage tells this model's. */
  private charsPerToken = CHARS_PER_TOKEN;
  /** Set while the server's last answer was "busy" (429/503), cleared by the next answer. */
  private busyNotice: string | undefined;
  private confirming: Promise<boolean> | undefined;

  constructor(private readonly config: EndpointConfig) {
    const family = fimFamilyFor(config.model, config.fimFamily);
    this.fim = family ? fimFormat(family) : null;
  }

  get state(): BackendState<EndpointModel> {
    return this.current;
  }

  onStateChange(listener: (state: BackendState<EndpointModel>) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  get pendingCalls(): number {
    return this.running.size;
  }

  /** The model, once the server has answered for it (checked once; again after `reload` or an error). */
  ensureLoaded(): Promise<EndpointModel> {
    this.checked ??= this.check();
    return this.checked;
  }

  reload(): Promise<EndpointModel> {
    this.checked = undefined;
    return this.ensureLoaded();
  }

  /**
   * Asks /models for the model id; many servers answer it badly (`transformers serve` with a 500, some proxies not at
   * all), so anything but a clear list falls back to a one-token completion.
   */
  private async check(): Promise<EndpointModel> {
    this.setState({ kind: 'loading', folder: `${this.config.model} at ${this.host}` });
    try {
      const listed = await this.listModels().catch((error: unknown) => {
        if (error instanceof EngineError && (error.code === 'unreachable' || error.code === 'unauthorized' || error.code === 'timeout')) throw error;
        return undefined;
      });
      if (listed && listed.length > 0 && !listed.includes(this.config.model)) {
        throw new EngineError(`${this.host} has no model "${this.config.model}"; it has: ${listed.slice(0, 20).join(', ')}`, 'not-found');
      }
      if (!listed) {
        // One token of chat; a base model without a chat template may refuse that and still complete.
        await this.streamChat({ messages: [{ role: 'user', content: 'Hi' }], maxNewTokens: 1, temperature: 0 }, {}, false).catch((error: unknown) => {
          if (error instanceof EngineError && SERVER_DOWN.has(error.code)) throw error;
          return this.completion('def', { prompt: 'def', maxNewTokens: 1, temperature: 0 }, [], {}, false);
        });
      }
      const model = this.configuredModel();
      this.setState({ kind: 'ready', model });
      return model;
    } catch (error) {
      this.checked = undefined;
      this.setState({ kind: 'error', message: (error as Error).message });
      throw error;
    }
  }

  /** The model as the settings describe it (what a check confirms, or an answer for it shows). */
  private configuredModel(): EndpointModel {
    return {
      name: this.config.model,
      baseUrl: this.config.baseUrl,
      contextLength: this.config.contextLength,
      hasChatTemplate: true,
      fim: this.fim ? { prefix: this.fim.prefix, suffix: this.fim.suffix, middle: this.fim.middle, order: this.fim.order, recommended: true } : null,
      repoFormat: repoFormatOfServerModel(this.fim?.family, this.config.model),
    };
  }

  /** The server's model ids, from GET /models. */
  async listModels(): Promise<string[]> {
    const response = await this.request('GET', '/models', undefined, {});
    const body = JSON.parse(await readText(response)) as { data?: Array<{ id?: unknown }> };
    if (!Array.isArray(body.data)) throw new EngineError(`${this.host}/models did not list models`, 'server-error');
    return body.data.map((entry) => entry.id).filter((id): id is string => typeof id === 'string');
  }

  chat(params: ChatParams, options: RequestOptions = {}): Promise<GenerateResult> {
    return this.streamChat(params, options, true);
  }

  private streamChat(params: ChatParams, options: RequestOptions, trackState: boolean): Promise<GenerateResult> {
    const body = { ...this.sampling(params), model: this.config.model, messages: params.messages, stream: true, stream_options: { include_usage: true } };
    return this.run(options, trackState, async (signal, started) => {
      const response = await this.request('POST', '/chat/completions', body, { signal });
      const result = await this.readStream(response, started, options, (chunk) => (chunk.choices?.[0] as { delta?: { content?: unknown } } | undefined)?.delta?.content);
      this.learnCharsPerToken(params.messages.reduce((chars, message) => chars + message.content.length, 0), result.usage.promptTokens);
      return result;
    });
  }

  /** The server counted `tokens` prompt tokens for `chars` characters of messages (its template adds a few tokens). */
  private learnCharsPerToken(chars: number, tokens: number): void {
    if (tokens < 16 || chars < 64) return; // too little to say anything
    this.charsPerToken = Math.min(8, Math.max(1.5, (chars / tokens) * 0.9));
  }

  generate(params: GenerateParams, options: RequestOptions = {}): Promise<GenerateResult> {
    return this.completion(params.prompt, params, [], options);
  }

  complete(params: CompleteParams, options: RequestOptions = {}): Promise<GenerateResult> {
    const budget = (params.maxPromptTokens ?? this.config.contextLength - (params.maxNewTokens ?? 64)) * this.charsPerToken;
    const useFim = this.fim !== null && params.fillInTheMiddle !== false && params.suffix !== undefined;
    // Whole lines to fit the budget (estimated): the prefix's oldest go first, the suffix gets at most a quarter.
    const suffix = useFim ? firstLinesWithin(params.suffix!, Math.floor(budget / 4)) : '';
    const prefix = lastLinesWithin(params.prefix, budget - suffix.length);
    // Other files get what the code left of the context, up to their own budget (estimated tokens, as above).
    const left = Math.floor((this.config.contextLength - (params.maxNewTokens ?? 64)) - (prefix.length + suffix.length) / this.charsPerToken);
    const repo = params.context
      ? fitRepoContext(params.context, repoFormatOfServerModel(this.fim?.family, this.config.model), params.fileName ?? 'untitled', Math.min(params.context.maxTokens, left), (text) => Math.ceil(text.length / this.charsPerToken))
      : NO_REPO_CONTEXT;
    const prompt = repo.preamble + (useFim ? this.fim!.build(repo.commented + prefix, suffix) : repo.commented + prefix);
    return this.completion(prompt, params, useFim ? this.fim!.stopTokens : [], options);
  }

  private completion(prompt: string, params: GenerateParams | CompleteParams, stopTokens: string[], options: RequestOptions, trackState = true): Promise<GenerateResult> {
    const sampling = this.sampling(params);
    const stop = [...stopTokens, ...(sampling.stop ?? [])].slice(0, 4); // OpenAI's limit; the family's own come first
    const body = { ...sampling, model: this.config.model, prompt, stream: true, stream_options: { include_usage: true }, ...(stop.length ? { stop } : {}), ...(params.returnTokenProbabilities ? { logprobs: 1 } : {}) };
    const maxLines = 'maxLines' in params ? params.maxLines : undefined;
    return this.run(options, trackState, async (signal, started) => {
      const response = await this.request('POST', '/completions', body, { signal });
      const result = await this.readStream(response, started, options, (chunk) => (chunk.choices?.[0] as { text?: unknown } | undefined)?.text);
      if (maxLines !== undefined) result.text = firstLines(result.text, maxLines);
      return result;
    });
  }

  /**
   * The prompt's own log-probabilities: a legacy completion with `echo` and `logprobs` (OpenAI's API, vLLM,
   * attentive serve) and one token generated (some servers refuse none), cut back to the text.
   */
  async surprisal(text: string, options: RequestOptions = {}): Promise<TextSurprisal> {
    const body = { model: this.config.model, prompt: text, max_tokens: 1, temperature: 0, echo: true, logprobs: 5 };
    return this.run(options, true, async (signal) => {
      const response = await this.request('POST', '/completions', body, { signal });
      const answer = JSON.parse(await readText(response)) as { choices?: Array<{ logprobs?: EchoLogprobs | null }> };
      const logprobs = answer.choices?.[0]?.logprobs;
      if (!logprobs || !Array.isArray(logprobs.tokens) || !Array.isArray(logprobs.token_logprobs) || !Array.isArray(logprobs.text_offset)) {
        throw new EngineError(`${this.host} returned no log-probabilities for the prompt (it does not support echo with logprobs)`, 'unsupported');
      }
      const result: TextSurprisal = { tokens: [], surprisal: [], predictions: [] };
      let placedChars = 0;
      logprobs.tokens.forEach((token, i) => {
        const offset = logprobs.text_offset![i]!;
        if (offset >= text.length) return; // the generated token
        // A token that is not the text at its offset (a BOS, a byte fragment) has no place in it.
        const placed = typeof token === 'string' && token.length > 0 && text.startsWith(token, offset);
        if (placed) placedChars += token.length;
        result.tokens.push({ text: token, start: placed ? offset : -1, end: placed ? offset + token.length : -1 });
        const logprob = logprobs.token_logprobs![i];
        result.surprisal.push(typeof logprob === 'number' ? -logprob / Math.LN2 : Number.NaN);
        const top = logprobs.top_logprobs?.[i];
        result.predictions.push(top ? Object.entries(top).map(([candidate, lp]) => ({ text: candidate, probability: Math.exp(lp) })).sort((a, b) => b.probability - a.probability) : []);
      });
      // Some servers (llama.cpp's today) accept echo but score only the generated token.
      if (placedChars < text.trim().length / 2) {
        throw new EngineError(`${this.host} returned log-probabilities for its answer but not for the prompt (it does not support echo with logprobs)`, 'unsupported');
      }
      return result;
    });
  }

  attention(): Promise<AttentionResult> {
    return Promise.reject(new EngineError(`Attention maps need the model's weights: ${this.config.model} runs on ${this.host}. Explain Attention uses a local model.`, 'unsupported'));
  }

  tokenize(): Promise<number[]> {
    return Promise.reject(new EngineError(`${this.host} does not share its tokenizer`, 'unsupported'));
  }

  /**
   * Estimates (servers do not count tokens for us before a request), at the characters per token the server's own
   * counts showed so far (`usage.prompt_tokens` of each chat), kept 10 % on the safe side.
   */
  countTokens(texts: string[]): Promise<number[]> {
    return Promise.resolve(texts.map((text) => Math.ceil(text.length / this.charsPerToken)));
  }

  truncateToTokens(text: string, maxTokens: number): Promise<string> {
    const chars = Math.floor(maxTokens * this.charsPerToken);
    if (text.length <= chars) return Promise.resolve(text);
    const cut = text.lastIndexOf('\n', chars);
    return Promise.resolve(cut > chars / 2 ? text.slice(0, cut + 1) : text.slice(0, chars));
  }

  async dispose(): Promise<void> {
    for (const controller of this.running) controller.abort();
    this.listeners.clear();
  }

  /** Whether requests may go to this endpoint: encrypted or on this machine, and confirmed by the user once. */
  private async allowed(): Promise<void> {
    const url = new URL(this.config.baseUrl);
    if (url.protocol === 'http:' && !isLoopback(url.hostname) && !this.config.allowInsecure) {
      throw new EngineError(`${this.host} is reached over plain http://, which would send your code unencrypted; use https:// or set "allowInsecure": true on this endpoint`, 'not-allowed');
    }
    if (this.confirmed || !this.config.confirm) return;
    this.confirming ??= this.config.confirm(this.host).finally(() => (this.confirming = undefined));
    if (!(await this.confirming)) throw new EngineError(`Nothing was sent to ${this.host}: sending code there was not allowed`, 'not-allowed');
    this.confirmed = true;
  }

  private get host(): string {
    return new URL(this.config.baseUrl).host;
  }

  private setState(state: BackendState<EndpointModel>): void {
    this.current = state;
    for (const listener of this.listeners) listener(state);
  }

  private sampling(params: SamplingOptions & { maxNewTokens?: number; stop?: string[] }) {
    return {
      max_tokens: params.maxNewTokens ?? 256,
      temperature: params.temperature ?? 0,
      ...(params.topP !== undefined ? { top_p: params.topP } : {}),
      ...(params.seed !== undefined ? { seed: params.seed } : {}),
      ...(params.stop?.length ? { stop: params.stop } : {}),
    };
  }

  /** Runs one call: counted in pendingCalls, cancelled by the caller's signal or dispose, state 'generating' meanwhile. */
  private async run<T>(options: RequestOptions, trackState: boolean, call: (signal: AbortSignal, started: number) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    if (options.signal?.aborted) throw new EngineError('Cancelled', 'cancelled');
    options.signal?.addEventListener('abort', abort, { once: true });
    this.running.add(controller);
    // Completion calls without a check first: its answer (or a "busy") is as good a sign that the server is there.
    const unchecked = trackState && this.current.kind === 'not-loaded';
    const model = this.current.kind === 'ready' || this.current.kind === 'generating' ? this.current.model : unchecked ? this.configuredModel() : undefined;
    if (trackState && model) this.setState({ kind: 'generating', model });
    try {
      options.onEvent?.({ type: 'started' });
      const result = await call(controller.signal, performance.now());
      this.busyNotice = undefined;
      return result;
    } catch (error) {
      // The server is gone or refuses us: the state says so, and the next ensureLoaded checks it again.
      if (error instanceof EngineError && SERVER_DOWN.has(error.code) && trackState) {
        this.checked = undefined;
        this.setState({ kind: 'error', message: error.message });
      } else if (error instanceof EngineError && error.code === 'rate-limited' && trackState && model) {
        // Busy is passing: still ready, with a notice until the next answer.
        this.busyNotice = `busy${error.retryAfterSeconds !== undefined ? `, asked to wait ${error.retryAfterSeconds} s` : ''}`;
        if (this.running.size === 1) this.setState({ kind: 'ready', model, notice: this.busyNotice });
      }
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', abort);
      this.running.delete(controller);
      if (trackState && model && this.running.size === 0 && this.current.kind === 'generating') this.setState({ kind: 'ready', model });
    }
  }

  private async request(method: 'GET' | 'POST', path: string, body: unknown, { signal }: { signal?: AbortSignal }): Promise<EndpointResponse> {
    const url = `${this.config.baseUrl.replace(/\/+$/, '')}${path}`;
    await this.allowed();
    const response = await send({
      url,
      method,
      body,
      headers: { ...(this.config.headers ?? {}), ...(this.config.apiKey ? { Authorization: `Bearer ${this.config.apiKey}` } : {}) },
      ...(signal ? { signal } : {}),
      connectTimeoutMs: this.config.connectTimeoutMs ?? 10_000,
      idleTimeoutMs: this.config.idleTimeoutMs ?? 60_000,
      maxBytes: this.config.maxResponseBytes ?? MAX_RESPONSE_BYTES,
    });
    if (response.status >= 200 && response.status < 300) return response;
    if (response.status === 401 || response.status === 403) this.config.onUnauthorized?.();
    const text = await readText(response).catch(() => '');
    const location = response.headers.location;
    throw failure(response.status, response.headers, serverErrorMessage(text), url, typeof location === 'string' ? location : undefined);
  }

  /**
   * Reads a streamed answer: each chunk's text (picked by `textOf`) goes out as a delta; the finish reason and usage
   * come from the last chunks. A malformed line is skipped and logged; an error event ends the call with its message.
   * A plain JSON answer (a server that ignores `stream`) is read as one chunk.
   */
  private async readStream(response: EndpointResponse, started: number, options: RequestOptions, textOf: (chunk: StreamChunk) => unknown): Promise<GenerateResult> {
    const parser = new SseParser();
    const decoder = new TextDecoder();
    let text = '';
    let deltas = 0;
    let firstAt = 0;
    let finish: string | undefined;
    let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
    let probabilities: number[] | undefined;
    let tokenTexts: string[] | undefined;
    let done = false;
    let plain = '';
    const isStream = String(response.headers['content-type'] ?? '').includes('text/event-stream');
    const onData = (data: string) => {
      if (data.trim() === '[DONE]') {
        done = true;
        return;
      }
      let chunk: StreamChunk;
      try {
        chunk = JSON.parse(data) as StreamChunk;
      } catch {
        this.config.log?.(`[endpoint] skipped a malformed stream line from ${this.host}: ${data.slice(0, 120)}`);
        return;
      }
      if (chunk.error) throw new EngineError(`${this.host}: ${serverErrorMessage(JSON.stringify(chunk))}`, 'server-error');
      const piece = textOf(chunk) ?? (chunk.choices?.[0] as { message?: { content?: unknown } } | undefined)?.message?.content;
      if (typeof piece === 'string' && piece) {
        if (!firstAt) firstAt = performance.now();
        text += piece;
        deltas++;
        options.onEvent?.({ type: 'delta', text: piece });
      }
      const choice = chunk.choices?.[0] as { finish_reason?: unknown; logprobs?: { token_logprobs?: unknown; tokens?: unknown } | null } | undefined;
      if (typeof choice?.finish_reason === 'string') finish = choice.finish_reason;
      const logprobs = choice?.logprobs;
      if (logprobs && Array.isArray(logprobs.token_logprobs)) {
        (probabilities ??= []).push(...logprobs.token_logprobs.map((lp) => (typeof lp === 'number' ? Math.exp(lp) : Number.NaN)));
        if (Array.isArray(logprobs.tokens)) (tokenTexts ??= []).push(...logprobs.tokens.map(String));
      }
      if (chunk.usage) usage = chunk.usage;
    };
    for await (const bytes of response.chunks) {
      const decoded = decoder.decode(bytes, { stream: true });
      if (isStream) parser.push(decoded, onData);
      else plain += decoded;
    }
    if (isStream) parser.end(onData);
    else onData(plain + decoder.decode());
    if (isStream && !done && finish === undefined) throw new EngineError(`The answer from ${this.host} stopped half-way (no end of stream)`, 'interrupted');
    const finished = performance.now();
    const generated = usage?.completion_tokens ?? deltas;
    const decodeMs = firstAt ? finished - firstAt : 0;
    const result: GenerateResult = {
      text,
      tokenIds: [],
      finishReason: finishReason(finish),
      usage: {
        promptTokens: usage?.prompt_tokens ?? 0,
        generatedTokens: generated,
        timeToFirstTokenMs: firstAt ? firstAt - started : 0,
        decodeTokensPerSecond: generated > 1 && decodeMs > 0 ? ((generated - 1) * 1000) / decodeMs : 0,
        trimmedPromptTokens: 0,
      },
    };
    if (probabilities) result.tokenProbabilities = probabilities;
    if (tokenTexts) result.tokenTexts = tokenTexts;
    return result;
  }
}

/** 127.0.0.0/8, ::1 and localhost: this machine. */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** OpenAI's legacy completion log-probabilities (echoed prompt tokens first). */
interface EchoLogprobs {
  tokens?: string[];
  token_logprobs?: Array<number | null>;
  top_logprobs?: Array<Record<string, number> | null> | null;
  text_offset?: number[];
}

interface StreamChunk {
  choices?: unknown[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  error?: unknown;
}

function finishReason(reason: string | undefined): FinishReason {
  return reason === 'length' ? 'length' : 'stop';
}


/** The end of `text`, whole lines only, within `chars` characters. */
function lastLinesWithin(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const start = text.indexOf('\n', text.length - chars);
  return start === -1 ? text.slice(text.length - chars) : text.slice(start + 1);
}

/** The start of `text`, whole lines only, within `chars` characters. */
function firstLinesWithin(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const end = text.lastIndexOf('\n', chars);
  return end === -1 ? '' : text.slice(0, end + 1);
}
