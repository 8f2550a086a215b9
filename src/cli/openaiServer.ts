// `attentive serve`: a Backend behind the OpenAI-compatible HTTP API, so other tools (editors, scripts, the `openai`
// SDKs) can use Attentive's models. GET /v1/models, POST /v1/chat/completions and /v1/completions (streaming as
// server-sent events, or not), GET /health. A client that disconnects aborts its generation.

import { timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { Backend } from '../backend/backend';
import { EngineError, type ChatMessage, type FinishReason, type GenerateResult, type SamplingOptions } from '../protocol/engine';

export interface OpenAiServerOptions {
  /** The id clients name in `model` (any id is accepted: one model is served). */
  modelId: string;
  /** When set, every request must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Bound to a loopback address: requests must name a loopback host (a web page cannot reach it by DNS rebinding). */
  loopbackOnly: boolean;
}

/** Request bodies above this are refused (413): a 1,024-token context never needs more. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** An error the client caused, answered in OpenAI's error shape. */
class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export function createOpenAiServer(backend: Backend, options: OpenAiServerOptions): http.Server {
  return http.createServer((request, response) => {
    handle(backend, options, request, response).catch((error: unknown) => sendError(response, error));
  });
}

async function handle(backend: Backend, options: OpenAiServerOptions, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  if (options.loopbackOnly && !LOOPBACK_HOSTS.has(hostName(request.headers.host))) {
    throw new RequestError(403, `Host "${request.headers.host ?? ''}" is not this machine: attentive serve answers loopback requests only`, 'permission_error');
  }
  if (options.apiKey && !authorized(request.headers.authorization, options.apiKey)) {
    throw new RequestError(401, 'Missing or wrong API key (send "Authorization: Bearer <key>")', 'authentication_error');
  }
  const url = new URL(request.url ?? '/', 'http://localhost');
  const route = `${request.method} ${url.pathname.replace(/\/+$/, '')}`;
  switch (route) {
    case 'GET /health':
      return sendJson(response, 200, { status: 'ok' });
    case 'GET /v1/models':
      return sendJson(response, 200, { object: 'list', data: [{ id: options.modelId, object: 'model', created: 0, owned_by: 'attentive' }] });
    case 'POST /v1/chat/completions':
      return chatCompletions(backend, options.modelId, await readJson(request), request, response);
    case 'POST /v1/completions':
      return completions(backend, options.modelId, await readJson(request), request, response);
    default:
      throw new RequestError(404, `No route ${route}`, 'not_found_error');
  }
}

function hostName(host: string | undefined): string {
  if (!host) return '';
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
}

function authorized(header: string | undefined, apiKey: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(apiKey);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function readJson(request: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RequestError(413, `Request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new RequestError(400, 'The request body is not valid JSON');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new RequestError(400, 'The request body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Sampling and length fields common to both endpoints, checked. */
function sampling(body: Record<string, unknown>, defaultMaxTokens: number | undefined): SamplingOptions & { maxNewTokens?: number; stop?: string[] } {
  const result: SamplingOptions & { maxNewTokens?: number; stop?: string[] } = {};
  const maxTokens = optionalNumber(body, 'max_completion_tokens') ?? optionalNumber(body, 'max_tokens') ?? defaultMaxTokens;
  if (maxTokens !== undefined) {
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new RequestError(400, 'max_tokens must be a positive integer', undefined, 'max_tokens');
    result.maxNewTokens = maxTokens;
  }
  const temperature = optionalNumber(body, 'temperature');
  if (temperature !== undefined) {
    if (temperature < 0 || temperature > 2) throw new RequestError(400, 'temperature must be between 0 and 2', undefined, 'temperature');
    result.temperature = temperature;
  }
  const topP = optionalNumber(body, 'top_p');
  if (topP !== undefined) {
    if (topP <= 0 || topP > 1) throw new RequestError(400, 'top_p must be in (0, 1]', undefined, 'top_p');
    result.topP = topP;
  }
  const seed = optionalNumber(body, 'seed');
  if (seed !== undefined) result.seed = seed;
  const stop = body['stop'];
  if (typeof stop === 'string') result.stop = [stop];
  else if (Array.isArray(stop) && stop.every((s) => typeof s === 'string') && stop.length <= 4) result.stop = stop as string[];
  else if (stop !== undefined && stop !== null) throw new RequestError(400, 'stop must be a string or up to 4 strings', undefined, 'stop');
  return result;
}

function optionalNumber(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new RequestError(400, `${name} must be a number`, undefined, name);
  return value;
}

function chatMessages(body: Record<string, unknown>): ChatMessage[] {
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) throw new RequestError(400, 'messages must be a non-empty array', undefined, 'messages');
  return messages.map((message, index) => {
    const { role, content } = (message ?? {}) as { role?: unknown; content?: unknown };
    const mapped = role === 'developer' ? 'system' : role;
    if (mapped !== 'system' && mapped !== 'user' && mapped !== 'assistant') throw new RequestError(400, `messages[${index}].role must be system, developer, user or assistant`, undefined, 'messages');
    return { role: mapped, content: textContent(content, index) };
  });
}

/** A message's content: a string, or an array of parts of which only text parts are accepted. */
function textContent(content: unknown, index: number): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: { type?: unknown; text?: unknown }) => {
        if (part?.type !== 'text' || typeof part.text !== 'string') throw new RequestError(400, `messages[${index}].content: only text parts are supported`, undefined, 'messages');
        return part.text;
      })
      .join('');
  }
  throw new RequestError(400, `messages[${index}].content must be a string or text parts`, undefined, 'messages');
}

/** An answer's id in OpenAI's style ("chatcmpl-…", "cmpl-…"): unique enough for logs and clients that key on it. */
function completionId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** OpenAI's finish reasons: the model's end or a stop string are 'stop'; the token budget or time limit 'length'. */
function finishReason(reason: FinishReason): 'stop' | 'length' {
  return reason === 'length' ? 'length' : 'stop';
}

function usage(result: GenerateResult) {
  const { promptTokens, generatedTokens } = result.usage;
  return { prompt_tokens: promptTokens, completion_tokens: generatedTokens, total_tokens: promptTokens + generatedTokens };
}

/** Aborts when the client goes away before the answer is complete. */
function abortOnDisconnect(request: http.IncomingMessage, response: http.ServerResponse): AbortController {
  const controller = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  request.on('aborted', () => controller.abort());
  return controller;
}

async function chatCompletions(backend: Backend, modelId: string, body: Record<string, unknown>, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const params = { ...sampling(body, undefined), messages: chatMessages(body), overflow: 'error' as const };
  const id = completionId('chatcmpl');
  const created = Math.floor(Date.now() / 1000);
  const { signal } = abortOnDisconnect(request, response);
  if (body['stream'] !== true) {
    const result = await backend.chat(params, { signal });
    return sendJson(response, 200, {
      id,
      object: 'chat.completion',
      created,
      model: modelId,
      choices: [{ index: 0, message: { role: 'assistant', content: result.text }, finish_reason: finishReason(result.finishReason), logprobs: null }],
      usage: usage(result),
    });
  }
  const includeUsage = (body['stream_options'] as { include_usage?: unknown } | undefined)?.include_usage === true;
  const chunk = (choices: unknown[], extra: object = {}) => ({ id, object: 'chat.completion.chunk', created, model: modelId, choices, ...extra });
  const events = new EventStream(response);
  events.send(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
  const result = await streamed(events, () =>
    backend.chat(params, { signal, onEvent: (event) => event.type === 'delta' && events.send(chunk([{ index: 0, delta: { content: event.text }, finish_reason: null }])) }),
  );
  if (!result) return;
  events.send(chunk([{ index: 0, delta: {}, finish_reason: finishReason(result.finishReason) }]));
  if (includeUsage) events.send(chunk([], { usage: usage(result) }));
  events.end();
}

async function completions(backend: Backend, modelId: string, body: Record<string, unknown>, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  let prompt = body['prompt'];
  if (Array.isArray(prompt) && prompt.length === 1) prompt = prompt[0];
  if (typeof prompt !== 'string') throw new RequestError(400, 'prompt must be a string (one prompt per request)', undefined, 'prompt');
  const suffix = body['suffix'];
  if (suffix !== undefined && suffix !== null && typeof suffix !== 'string') throw new RequestError(400, 'suffix must be a string', undefined, 'suffix');
  const logprobs = optionalNumber(body, 'logprobs');
  if (logprobs !== undefined && (logprobs < 0 || logprobs > 5)) throw new RequestError(400, 'logprobs must be between 0 and 5', undefined, 'logprobs');
  if (body['echo'] === true) return echoCompletion(backend, modelId, body, prompt, suffix, logprobs, request, response);
  // OpenAI's default for the legacy endpoint is 16 tokens.
  const common = { ...sampling(body, 16), overflow: 'error' as const, ...(logprobs !== undefined ? { returnTokenProbabilities: true } : {}) };
  const id = completionId('cmpl');
  const created = Math.floor(Date.now() / 1000);
  const { signal } = abortOnDisconnect(request, response);
  // With a suffix, the model's own fill-in-the-middle format (as inline completion uses it); without, the raw prompt.
  const run = (onEvent?: (event: { type: string; text?: string }) => void) => {
    const callOptions = { signal, ...(onEvent ? { onEvent } : {}) };
    return typeof suffix === 'string'
      ? backend.complete({ ...common, prefix: prompt as string, suffix, fillInTheMiddle: true, tokenHealing: false }, callOptions)
      : backend.generate({ ...common, prompt: prompt as string }, callOptions);
  };
  const choice = (text: string, reason: string | null, result?: GenerateResult) => ({ index: 0, text, logprobs: result && logprobs !== undefined ? logprobsOf(result) : null, finish_reason: reason });
  if (body['stream'] !== true) {
    const result = await run();
    return sendJson(response, 200, { id, object: 'text_completion', created, model: modelId, choices: [choice(result.text, finishReason(result.finishReason), result)], usage: usage(result) });
  }
  const chunk = (choices: unknown[], extra: object = {}) => ({ id, object: 'text_completion', created, model: modelId, choices, ...extra });
  const events = new EventStream(response);
  const result = await streamed(events, () => run((event) => event.type === 'delta' && events.send(chunk([choice(event.text ?? '', null)]))));
  if (!result) return;
  events.send(chunk([choice('', finishReason(result.finishReason), result)]));
  if ((body['stream_options'] as { include_usage?: unknown } | undefined)?.include_usage === true) events.send(chunk([], { usage: usage(result) }));
  events.end();
}

/**
 * `echo`: the prompt comes back with its own log-probabilities (each token given the ones before it, with the top
 * `logprobs` candidates), then what is generated after it (`max_tokens` 0: nothing). Not streamed.
 */
async function echoCompletion(
  backend: Backend,
  modelId: string,
  body: Record<string, unknown>,
  prompt: string,
  suffix: unknown,
  logprobs: number | undefined,
  request: http.IncomingMessage,
  response: http.ServerResponse,
): Promise<void> {
  if (typeof suffix === 'string') throw new RequestError(400, 'echo cannot be combined with suffix', undefined, 'echo');
  if (body['stream'] === true) throw new RequestError(400, 'echo is answered without streaming', undefined, 'stream');
  const promptOnly = body['max_tokens'] === 0 || body['max_completion_tokens'] === 0;
  const common = { ...sampling({ ...body, max_tokens: promptOnly ? 1 : body['max_tokens'], max_completion_tokens: undefined }, 16), overflow: 'error' as const };
  const { signal } = abortOnDisconnect(request, response);
  const scored = await backend.surprisal(prompt, { signal });
  const generated = promptOnly ? undefined : await backend.generate({ ...common, prompt, returnTokenProbabilities: true }, { signal });
  // The prompt's tokens (not the special ones the model puts in front), then the generated ones.
  const kept = scored.tokens.map((token, index) => ({ token, index })).filter(({ token }) => token.start >= 0);
  const top = Math.min(logprobs ?? 0, 5);
  const generatedTokens = generated?.tokenTexts ?? [];
  const offsets: number[] = kept.map(({ token }) => token.start);
  let offset = prompt.length;
  for (const token of generatedTokens) {
    offsets.push(offset);
    offset += token.length;
  }
  const logprobsBody =
    logprobs === undefined
      ? null
      : {
          tokens: [...kept.map(({ token }) => token.text), ...generatedTokens],
          token_logprobs: [...kept.map(({ index }) => (Number.isNaN(scored.surprisal[index]!) ? null : -scored.surprisal[index]! * Math.LN2)), ...(generated?.tokenProbabilities ?? []).map((p) => Math.log(p))],
          top_logprobs: [
            ...kept.map(({ index }) => (top && scored.predictions[index]!.length ? Object.fromEntries(scored.predictions[index]!.slice(0, top).map((p) => [p.text, Math.log(p.probability)])) : null)),
            ...generatedTokens.map(() => null),
          ],
          text_offset: offsets,
        };
  const completionTokens = generated?.usage.generatedTokens ?? 0;
  sendJson(response, 200, {
    id: completionId('cmpl'),
    object: 'text_completion',
    created: Math.floor(Date.now() / 1000),
    model: modelId,
    choices: [{ index: 0, text: prompt + (generated?.text ?? ''), logprobs: logprobsBody, finish_reason: generated ? finishReason(generated.finishReason) : 'length' }],
    usage: { prompt_tokens: scored.tokens.length, completion_tokens: completionTokens, total_tokens: scored.tokens.length + completionTokens },
  });
}

/** The legacy completions' logprobs: each generated token's text, its natural-log probability and offset in the text. */
function logprobsOf(result: GenerateResult) {
  const tokens = result.tokenTexts ?? [];
  const offsets: number[] = [];
  let offset = 0;
  for (const token of tokens) {
    offsets.push(offset);
    offset += token.length;
  }
  return { tokens, token_logprobs: (result.tokenProbabilities ?? []).map((p) => Math.log(p)), top_logprobs: null, text_offset: offsets };
}

/** Server-sent events on a response: `data: <json>` lines, then `data: [DONE]`. */
class EventStream {
  constructor(private readonly response: http.ServerResponse) {
    response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  }

  send(data: unknown): void {
    if (!this.response.destroyed) this.response.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    if (!this.response.destroyed) this.response.end('data: [DONE]\n\n');
  }
}

/**
 * Runs a streamed call. Headers are sent, so an error after them goes out as a last event in the error shape; a
 * client that went away gets nothing. Resolves to the result, or undefined when the stream ended otherwise.
 */
async function streamed(events: EventStream, call: () => Promise<GenerateResult>): Promise<GenerateResult | undefined> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof EngineError && error.code === 'cancelled')) {
      events.send(errorBody(error));
      events.end();
    }
    return undefined;
  }
}

function errorBody(error: unknown): { error: { message: string; type: string; param: string | null; code: string | null } } {
  if (error instanceof RequestError) return { error: { message: error.message, type: error.type, param: error.param, code: null } };
  if (error instanceof EngineError) {
    const clientFault = error.code === 'bad-request' || error.code === 'prompt-too-long';
    return { error: { message: error.message, type: clientFault ? 'invalid_request_error' : 'server_error', param: null, code: error.code === 'prompt-too-long' ? 'context_length_exceeded' : error.code } };
  }
  return { error: { message: (error as Error)?.message ?? String(error), type: 'server_error', param: null, code: null } };
}

function sendError(response: http.ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const body = errorBody(error);
  const status =
    error instanceof RequestError ? error.status : error instanceof EngineError && (error.code === 'bad-request' || error.code === 'prompt-too-long') ? 400 : error instanceof EngineError && error.code === 'cancelled' ? 499 : 500;
  sendJson(response, status, body);
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}
