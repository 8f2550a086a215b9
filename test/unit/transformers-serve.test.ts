// The model-server backend against a real server from elsewhere: Hugging Face's `transformers serve` on 127.0.0.1
// with a random-weight Qwen2 model (test/helpers/transformersServe.ts). Its answers are compared with what the
// official `openai` client gets from the same server for the same greedy request; then the same server's answers are
// broken on their way by a fault-injecting proxy (test/helpers/faultProxy.ts).

import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndpointBackend, type EndpointConfig } from '../../src/backend/endpoint/endpointBackend';
import { EngineError } from '../../src/protocol/engine';
import { FIM_FAMILIES, fimFormat } from '../../src/protocol/fimFormats';
import { failureOf } from '../helpers/engineErrors';
import { startFaultProxy, type FaultProxy } from '../helpers/faultProxy';
import { startTransformersServe, type TransformersServer } from '../helpers/transformersServe';

let server: TransformersServer;
let config: EndpointConfig;
let client: OpenAI;

beforeAll(async () => {
  server = await startTransformersServe();
  // The model id is a folder path: the FIM family (its tokenizer has Qwen's sentinels) is named, as a setting would.
  config = { baseUrl: server.baseUrl, model: server.modelId, contextLength: 2048, fimFamily: 'qwen' };
  client = new OpenAI({ baseURL: server.baseUrl, apiKey: 'unused', maxRetries: 0 });
}, 900_000);

afterAll(async () => {
  await server?.stop();
});

describe('endpoint backend against transformers serve', () => {
  it('checks the model although the server answers /v1/models badly', async () => {
    const endpoint = new EndpointBackend(config);
    await expect(endpoint.ensureLoaded()).resolves.toMatchObject({ name: server.modelId, contextLength: 2048 });
    expect(endpoint.state.kind).toBe('ready');
  });

  it('streams a chat reply: the same text the openai client gets, with the server\'s usage', async () => {
    const messages = [{ role: 'user' as const, content: 'Write a function that adds two numbers.' }];
    const endpoint = new EndpointBackend(config);
    const deltas: string[] = [];
    const result = await endpoint.chat({ messages, maxNewTokens: 12, temperature: 0 }, { onEvent: (e) => e.type === 'delta' && deltas.push(e.text) });
    // The reference streams too: the server's non-streamed answer strips surrounding whitespace.
    const stream = await client.chat.completions.create({ model: server.modelId, messages, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(result.text).toBe(text);
    expect(deltas.join('')).toBe(result.text);
    expect(result.usage.generatedTokens).toBe(usage!.completion_tokens);
    expect(result.usage.promptTokens).toBe(usage!.prompt_tokens);
    expect(result.finishReason).toBe(finish === 'length' ? 'length' : 'stop');
  });

  it('completes with a Qwen fill-in-the-middle prompt and its stop tokens, as the openai client would send it', async () => {
    const prefix = 'def add(a, b):\n    return ';
    const suffix = '\n\nprint(add(1, 2))\n';
    const endpoint = new EndpointBackend(config);
    const result = await endpoint.complete({ prefix, suffix, maxNewTokens: 10, temperature: 0 });
    const qwen = fimFormat(FIM_FAMILIES.find((family) => family.family === 'qwen')!);
    const reference = await client.completions.create({ model: server.modelId, prompt: qwen.build(prefix, suffix), max_tokens: 10, temperature: 0, stop: qwen.stopTokens.slice(0, 4) });
    expect(result.text).toBe(reference.choices[0]!.text);
    expect(result.usage.generatedTokens).toBe(reference.usage!.completion_tokens);
  });

  it('Stop aborts the request; the server answers the next one', async () => {
    const endpoint = new EndpointBackend(config);
    const controller = new AbortController();
    const call = endpoint.chat({ messages: [{ role: 'user', content: 'Count to a thousand.' }], maxNewTokens: 300, temperature: 0 }, {
      signal: controller.signal,
      onEvent: (event) => event.type === 'delta' && controller.abort(),
    });
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('cancelled');
    expect(endpoint.pendingCalls).toBe(0);
    const next = await endpoint.chat({ messages: [{ role: 'user', content: 'Hi' }], maxNewTokens: 3, temperature: 0 });
    expect(next.usage.generatedTokens).toBeGreaterThan(0);
  });

  it('a server without prompt log-probabilities says so instead of a wrong surprise map', async () => {
    const endpoint = new EndpointBackend(config);
    const error = await endpoint.surprisal('def f(x):\n    return x\n').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ code: 'unsupported', message: expect.stringContaining('does not support echo with logprobs') });
  });
});

describe('endpoint backend against transformers serve behind a fault-injecting proxy', () => {
  const request = { messages: [{ role: 'user' as const, content: 'Write a function that multiplies two numbers.' }], maxNewTokens: 24, temperature: 0 };
  let proxy: FaultProxy;
  let reference: string;
  const logged: string[] = [];
  const through = (extra: Partial<EndpointConfig> = {}) => new EndpointBackend({ ...config, baseUrl: proxy.baseUrl, idleTimeoutMs: 1_500, log: (line) => logged.push(line), ...extra });

  beforeAll(async () => {
    proxy = await startFaultProxy(server.baseUrl);
    reference = (await new EndpointBackend(config).chat(request)).text;
    expect(reference.length).toBeGreaterThan(4);
  });

  afterAll(() => proxy?.close());

  it('without a fault the proxy changes nothing', async () => {
    proxy.fault = undefined;
    expect((await through().chat(request)).text).toBe(reference);
  });

  // This server streams a short reply as few events: its role, the text, the finish reason and usage, [DONE].
  it('a stream dropped half-way keeps what came and says it was interrupted', async () => {
    proxy.fault = { kind: 'cut', afterEvents: 2 };
    const deltas: string[] = [];
    const error = await failureOf(through().chat(request, { onEvent: (e) => e.type === 'delta' && deltas.push(e.text) }));
    expect(error.code).toBe('interrupted');
    const kept = deltas.join('');
    expect(kept.length).toBeGreaterThan(0);
    expect(reference.startsWith(kept)).toBe(true);
  });

  it('a stream that stalls times out, keeping what came', async () => {
    proxy.fault = { kind: 'stall', afterEvents: 2 };
    const deltas: string[] = [];
    const started = Date.now();
    const error = await failureOf(through().chat(request, { onEvent: (e) => e.type === 'delta' && deltas.push(e.text) }));
    expect(error.code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(deltas.join('').length).toBeGreaterThan(0);
    expect(reference.startsWith(deltas.join(''))).toBe(true);
  });

  it('a malformed event in the real stream is skipped and logged; the reply is the server\'s', async () => {
    proxy.fault = { kind: 'garbage', afterEvents: 1 };
    logged.length = 0;
    expect((await through().chat(request)).text).toBe(reference);
    expect(logged.some((line) => line.includes('{broken'))).toBe(true);
  });

  it('429 with Retry-After and 500: each its own error, with the server\'s words', async () => {
    proxy.fault = { kind: 'status', status: 429, headers: { 'Retry-After': '7' }, body: JSON.stringify({ error: { message: 'Too many requests' } }) };
    expect(await failureOf(through().chat(request))).toMatchObject({ code: 'rate-limited', retryAfterSeconds: 7 });
    proxy.fault = { kind: 'status', status: 500, body: 'CUDA out of memory' };
    expect(await failureOf(through().chat(request))).toMatchObject({ code: 'server-error', message: expect.stringContaining('CUDA out of memory') });
  });

  it('an answer past the size cap is cut off', async () => {
    proxy.fault = { kind: 'pad', bytes: 64 * 1024 };
    const error = await failureOf(through({ maxResponseBytes: 16 * 1024 }).chat(request));
    expect(error).toMatchObject({ code: 'server-error', message: expect.stringContaining('sent more than 16 KB: stopped reading') });
    proxy.fault = undefined;
  });
});
