// `attentive serve`: the bundled model behind the OpenAI-compatible API on 127.0.0.1, driven by the official `openai`
// npm client (streaming and not), plus raw HTTP for what a client library would never send (bad JSON, a foreign Host
// header, a disconnect mid-stream).

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, RequestOptions } from '../../src/backend/backend';
import { bundledModelFolder } from '../../src/backend/local/bundledModel';
import { LocalBackend } from '../../src/backend/local/localBackend';
import { createOpenAiServer } from '../../src/cli/openaiServer';
import { serveOptionsProblem } from '../../src/cli/serve';
import { inProcessTransport } from '../../src/worker/inProcessTransport';
import type { EngineError, GenerateParams } from '../../src/protocol/engine';

const ROOT = path.resolve(__dirname, '../..');
const MODEL = 'attentive-code-14m';
const KEY = 'test-key-123';

let backend: LocalBackend;
let open: http.Server;
let keyed: http.Server;
let baseURL: string;
let keyedURL: string;

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

/** A raw request, for what the SDK would never send. */
function raw(url: string, options: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method ?? 'POST', headers: options.headers ?? {} }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

beforeAll(async () => {
  backend = new LocalBackend(inProcessTransport(), () => ({ folder: bundledModelFolder(ROOT), options: { threads: 1 } }));
  await backend.ensureLoaded();
  open = createOpenAiServer(backend, { modelId: MODEL, loopbackOnly: true });
  keyed = createOpenAiServer(backend, { modelId: MODEL, loopbackOnly: true, apiKey: KEY });
  baseURL = await listen(open);
  keyedURL = await listen(keyed);
});

afterAll(async () => {
  open?.close();
  keyed?.close();
  await backend?.dispose();
});

describe('attentive serve with the openai client', () => {
  const client = () => new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });

  it('lists the served model', async () => {
    const models = await client().models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);
  });

  it('answers a chat completion with the same text and usage as the engine itself', async () => {
    const messages = [{ role: 'user' as const, content: 'Write a Python function that adds two numbers.' }];
    const completion = await client().chat.completions.create({ model: MODEL, messages, max_tokens: 24, temperature: 0 });
    const direct = await backend.chat({ messages, maxNewTokens: 24, temperature: 0 });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]!.message.role).toBe('assistant');
    expect(completion.choices[0]!.message.content).toBe(direct.text);
    expect(completion.choices[0]!.finish_reason).toBe(direct.finishReason === 'length' ? 'length' : 'stop');
    expect(completion.usage).toEqual({ prompt_tokens: direct.usage.promptTokens, completion_tokens: direct.usage.generatedTokens, total_tokens: direct.usage.promptTokens + direct.usage.generatedTokens });
  });

  it('streams a chat completion: role first, deltas that join to the whole reply, a finish reason, then usage', async () => {
    const messages = [{ role: 'system' as const, content: 'You are terse.' }, { role: 'user' as const, content: 'Explain what a Python list is.' }];
    const stream = await client().chat.completions.create({ model: MODEL, messages, max_tokens: 32, temperature: 0, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const direct = await backend.chat({ messages, maxNewTokens: 32, temperature: 0 });
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const deltas = chunks.flatMap((c) => c.choices.map((choice) => choice.delta.content ?? ''));
    expect(deltas.filter((d) => d).length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(direct.text);
    expect(chunks.flatMap((c) => c.choices.map((choice) => choice.finish_reason)).filter(Boolean)).toEqual([direct.finishReason === 'length' ? 'length' : 'stop']);
    expect(chunks.at(-1)!.usage?.completion_tokens).toBe(direct.usage.generatedTokens);
  });

  it('completes a raw prompt with stop strings and log-probabilities of each token', async () => {
    const prompt = 'def fibonacci(n):\n';
    const completion = await client().completions.create({ model: MODEL, prompt, max_tokens: 20, temperature: 0, logprobs: 1, stop: ['\n\n'] });
    const direct = await backend.generate({ prompt, maxNewTokens: 20, temperature: 0, stop: ['\n\n'], returnTokenProbabilities: true });
    const choice = completion.choices[0]!;
    expect(choice.text).toBe(direct.text);
    expect(choice.text).not.toContain('\n\n');
    const logprobs = choice.logprobs!;
    expect(logprobs.tokens!.length).toBe(direct.usage.generatedTokens);
    expect(logprobs.token_logprobs!.every((lp) => lp <= 0 && Number.isFinite(lp))).toBe(true);
    // Within float noise: the second run reuses the first's keys and values for the shared prompt.
    expect(logprobs.token_logprobs!.map((lp) => Math.exp(lp))).toEqual(direct.tokenProbabilities!.map((p) => expect.closeTo(p, 4)));
    // The tokens spell the generated text up to where a stop string cut it.
    expect(logprobs.tokens!.join('').startsWith(choice.text)).toBe(true);
    expect(logprobs.text_offset![1]).toBe(logprobs.tokens![0]!.length);
  });

  it('fills in the middle when the request has a suffix, in the model\'s own format, streamed', async () => {
    const prompt = 'def area(radius):\n    return ';
    const suffix = '\n\nprint(area(2.0))\n';
    const stream = await client().completions.create({ model: MODEL, prompt, suffix, max_tokens: 16, temperature: 0, stream: true });
    let text = '';
    const reasons: string[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      if (chunk.choices[0]?.finish_reason) reasons.push(chunk.choices[0].finish_reason);
    }
    const direct = await backend.complete({ prefix: prompt, suffix, maxNewTokens: 16, temperature: 0, fillInTheMiddle: true, tokenHealing: false });
    expect(direct.completionPrompt?.format).toBe('fim');
    expect(text).toBe(direct.text);
    expect(reasons).toHaveLength(1);
  });

  it('echoes a prompt with its own log-probabilities (max_tokens 0), as the engine scores it', async () => {
    const code = 'def square(x):\n    return x * x\n';
    const completion = await client().completions.create({ model: MODEL, prompt: code, max_tokens: 0, echo: true, logprobs: 3 });
    const direct = await backend.surprisal(code);
    const choice = completion.choices[0]!;
    expect(choice.text).toBe(code);
    const logprobs = choice.logprobs!;
    const textTokens = direct.tokens.map((token, index) => ({ token, index })).filter(({ token }) => token.start >= 0);
    expect(logprobs.tokens).toEqual(textTokens.map(({ token }) => token.text));
    expect(logprobs.tokens!.join('')).toBe(code);
    expect(logprobs.text_offset).toEqual(textTokens.map(({ token }) => token.start));
    expect(logprobs.token_logprobs).toEqual(textTokens.map(({ index }) => expect.closeTo(-direct.surprisal[index]! * Math.LN2, 4)));
    expect(logprobs.top_logprobs!.every((top) => top !== null && Object.keys(top).length <= 3)).toBe(true);
  });

  it('turns bad requests into OpenAI errors with status 400', async () => {
    await expect(client().chat.completions.create({ model: MODEL, messages: [] })).rejects.toMatchObject({ status: 400 });
    await expect(client().chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], temperature: 5 })).rejects.toMatchObject({ status: 400, param: 'temperature' });
    await expect(client().completions.create({ model: MODEL, prompt: 'x', suffix: 'y', echo: true })).rejects.toMatchObject({ status: 400, param: 'echo' });
    // More than the context: refused, with OpenAI's code for it, not trimmed silently.
    const long = 'x = 1\n'.repeat(2_000);
    await expect(client().completions.create({ model: MODEL, prompt: long, max_tokens: 4 })).rejects.toMatchObject({ status: 400, code: 'context_length_exceeded' });
  });

  it('asks for the API key when one is set, and takes the right one', async () => {
    const wrong = new OpenAI({ baseURL: keyedURL, apiKey: 'wrong', maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toMatchObject({ status: 401 });
    const right = new OpenAI({ baseURL: keyedURL, apiKey: KEY, maxRetries: 0 });
    expect((await right.models.list()).data[0]!.id).toBe(MODEL);
  });
});

describe('attentive serve over raw HTTP', () => {
  it('refuses bad JSON, unknown routes and a Host that is not this machine', async () => {
    const badJson = await raw(`${baseURL}/chat/completions`, { body: '{"messages": [' });
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body).error.message).toMatch(/not valid JSON/);
    expect((await raw(`${baseURL}/embeddings`, { body: '{}' })).status).toBe(404);
    const rebound = await raw(`${baseURL}/models`, { method: 'GET', headers: { Host: 'attacker.example:8012' } });
    expect(rebound.status).toBe(403);
    expect((await raw(`${baseURL}/models`, { method: 'GET', headers: { Host: 'localhost:8012' } })).status).toBe(200);
  });

  it('a client that disconnects mid-stream cancels the generation in the engine', async () => {
    // The server gets a backend whose generate reports how each call ended (an injected collaborator, not a hook).
    const outcomes: string[] = [];
    const watched: Backend = Object.assign(Object.create(backend) as Backend, {
      generate: (params: GenerateParams, options?: RequestOptions) =>
        backend.generate(params, options).then(
          (result) => (outcomes.push(result.finishReason), result),
          (error: EngineError) => (outcomes.push(error.code), Promise.reject(error)),
        ),
    });
    const server = createOpenAiServer(watched, { modelId: MODEL, loopbackOnly: true });
    const url = await listen(server);
    try {
      const body = JSON.stringify({ prompt: 'def quicksort(items):\n', max_tokens: 1000, temperature: 0.8, seed: 1, stream: true });
      await new Promise<void>((resolve, reject) => {
        const request = http.request(`${url}/completions`, { method: 'POST' }, (response) => {
          response.once('data', () => {
            request.destroy();
            resolve();
          });
        });
        request.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
        request.end(body);
      });
      const deadline = Date.now() + 5_000;
      while (outcomes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(outcomes).toEqual(['cancelled']);
      expect(backend.pendingCalls).toBe(0);
      // The engine is free at once: a new request is answered.
      const after = await raw(`${url}/completions`, { body: JSON.stringify({ prompt: 'x = ', max_tokens: 2 }) });
      expect(after.status).toBe(200);
    } finally {
      server.close();
    }
  });
});

describe('serve options', () => {
  it('keeps the server on this machine unless asked, and never without a key', () => {
    expect(serveOptionsProblem({ host: '127.0.0.1', port: 8012, allowRemote: false })).toBeUndefined();
    expect(serveOptionsProblem({ host: '::1', port: 0, allowRemote: false })).toBeUndefined();
    expect(serveOptionsProblem({ host: '0.0.0.0', port: 8012, allowRemote: false })).toMatch(/--allow-remote/);
    expect(serveOptionsProblem({ host: '0.0.0.0', port: 8012, allowRemote: true })).toMatch(/API key/);
    expect(serveOptionsProblem({ host: '0.0.0.0', port: 8012, allowRemote: true, apiKey: 'k' })).toBeUndefined();
    expect(serveOptionsProblem({ host: '127.0.0.1', port: 70000, allowRemote: false })).toMatch(/--port/);
  });
});
