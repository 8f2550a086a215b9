// The model-server backend over real HTTP on 127.0.0.1: against `attentive serve` (the bundled model behind the
// OpenAI-compatible API; its answers are compared with the engine's own), and against a misbehaving server for every
// failure a user can meet (refused, TLS, 401, 404, 429 with Retry-After, 5xx, a stream cut half-way, a garbage line,
// a stall, an oversize answer, a redirect).

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndpointBackend, type EndpointConfig } from '../../src/backend/endpoint/endpointBackend';
import { readText, send } from '../../src/backend/endpoint/request';
import { bundledModelFolder } from '../../src/backend/local/bundledModel';
import { LocalBackend } from '../../src/backend/local/localBackend';
import { createOpenAiServer } from '../../src/cli/openaiServer';
import { FIM_FAMILIES, fimFormat } from '../../src/protocol/fimFormats';
import { repoPreamble } from '../../src/protocol/repoContext';
import { inProcessTransport } from '../../src/worker/inProcessTransport';
import { failureOf } from '../helpers/engineErrors';

const ROOT = path.resolve(__dirname, '../..');
const MODEL = 'attentive-code-14m';

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}


describe('endpoint backend against attentive serve', () => {
  let local: LocalBackend;
  let server: http.Server;
  let config: EndpointConfig;

  beforeAll(async () => {
    local = new LocalBackend(inProcessTransport(), () => ({ folder: bundledModelFolder(ROOT), options: { threads: 1 } }));
    await local.ensureLoaded();
    server = createOpenAiServer(local, { modelId: MODEL, loopbackOnly: true, apiKey: 'k1' });
    config = { baseUrl: `http://127.0.0.1:${await listen(server)}/v1`, model: MODEL, apiKey: 'k1', contextLength: 1024 };
  });

  afterAll(async () => {
    server?.close();
    await local?.dispose();
  });

  it('checks the model on first use and says what it is', async () => {
    const endpoint = new EndpointBackend(config);
    const states: string[] = [];
    endpoint.onStateChange((state) => states.push(state.kind));
    const model = await endpoint.ensureLoaded();
    expect(model).toMatchObject({ name: MODEL, contextLength: 1024, hasChatTemplate: true, baseUrl: config.baseUrl });
    expect(model.fim?.prefix).toBe('<|fim_prefix|>'); // recognised from the model id
    expect(states).toEqual(['loading', 'ready']);
    expect(endpoint.capabilities.attention).toBe(false);
    expect((await failureOf(endpoint.attention())).code).toBe('unsupported');
  });

  it('streams a chat reply whose deltas and text are the engine\'s own, with usage and timings', async () => {
    const endpoint = new EndpointBackend(config);
    const messages = [{ role: 'user' as const, content: 'Write a Python function that reverses a string.' }];
    const deltas: string[] = [];
    const result = await endpoint.chat({ messages, maxNewTokens: 40, temperature: 0 }, { onEvent: (e) => e.type === 'delta' && deltas.push(e.text) });
    const direct = await local.chat({ messages, maxNewTokens: 40, temperature: 0 });
    expect(result.text).toBe(direct.text);
    expect(deltas.join('')).toBe(direct.text);
    expect(deltas.length).toBeGreaterThan(3);
    expect(result.usage.generatedTokens).toBe(direct.usage.generatedTokens);
    expect(result.usage.promptTokens).toBe(direct.usage.promptTokens);
    expect(result.usage.timeToFirstTokenMs).toBeGreaterThan(0);
    expect(result.finishReason).toBe(direct.finishReason === 'length' ? 'length' : 'stop');
  });

  it('token estimates follow the server\'s own counts once a chat has shown them', async () => {
    const endpoint = new EndpointBackend(config);
    const text = 'def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n'.repeat(4);
    const [before] = await endpoint.countTokens([text]);
    expect(before).toBe(Math.ceil(text.length / 4)); // the generic 4 characters per token
    const messages = [{ role: 'user' as const, content: text }];
    const result = await endpoint.chat({ messages, maxNewTokens: 1, temperature: 0 });
    const [after] = await endpoint.countTokens([text]);
    expect(after).toBe(Math.ceil(text.length / ((text.length / result.usage.promptTokens) * 0.9)));
    // The real count (the server's, which includes the chat template) is now within the estimate, on the safe side.
    const [actual] = await local.countTokens([text]);
    expect(after).toBeGreaterThanOrEqual(actual!);
    expect(Math.abs(after! - actual!)).toBeLessThan(Math.abs(before! - actual!));
  });

  it('completes in the family\'s fill-in-the-middle format with its stop tokens, cut to maxLines, with probabilities', async () => {
    const endpoint = new EndpointBackend(config);
    const prefix = 'def area(radius):\n    return ';
    const suffix = '\n\nprint(area(2.0))\n';
    const result = await endpoint.complete({ prefix, suffix, maxNewTokens: 24, temperature: 0, returnTokenProbabilities: true, maxLines: 1 });
    const qwen = fimFormat(FIM_FAMILIES.find((f) => f.family === 'qwen')!);
    const direct = await local.generate({ prompt: qwen.build(prefix, suffix), maxNewTokens: 24, temperature: 0, stop: qwen.stopTokens.slice(0, 4), returnTokenProbabilities: true });
    expect(result.text).toBe(direct.text.split('\n')[0]);
    expect(result.text).not.toContain('\n');
    // The same tokens; their probabilities agree to int8-activation noise (the server's run reuses the cached prompt).
    expect(result.tokenTexts).toEqual(direct.tokenTexts);
    result.tokenProbabilities!.forEach((p, i) => expect(Math.abs(p - direct.tokenProbabilities![i]!)).toBeLessThan(0.05));
  });

  it('puts code from other files before the prompt: Qwen2.5-Coder\'s repository format for a Qwen model, comments only when asked', async () => {
    // The same engine behind a Qwen2.5-Coder-named model id: the backend picks the format from the family and the id.
    const qwenServer = createOpenAiServer(local, { modelId: 'qwen2.5-coder-1.5b', loopbackOnly: true, apiKey: 'k1' });
    try {
      const endpoint = new EndpointBackend({ ...config, baseUrl: `http://127.0.0.1:${await listen(qwenServer)}/v1`, model: 'qwen2.5-coder-1.5b' });
      const prefix = 'from geometry import area\n\nprint(';
      const suffix = ')\n';
      const snippets = [{ path: 'geometry.py', text: 'def area(radius):\n    return 3.14 * radius ** 2' }];
      const request = { prefix, suffix, maxNewTokens: 12, temperature: 0, fileName: 'main.py', context: { snippets, maxTokens: 256, repoName: 'shapes', languageId: 'python' } };
      const result = await endpoint.complete(request);
      const qwen = fimFormat(FIM_FAMILIES.find((f) => f.family === 'qwen')!);
      const expected = repoPreamble('qwen', 'shapes', snippets, 'main.py') + qwen.build(prefix, suffix);
      expect(expected.startsWith('<|repo_name|>shapes\n<|file_sep|>geometry.py\ndef area(radius):')).toBe(true);
      // Greedy decoding of exactly that prompt gives exactly that text: the server got that prompt.
      const direct = await local.generate({ prompt: expected, maxNewTokens: 12, temperature: 0, stop: qwen.stopTokens.slice(0, 4) });
      expect(result.text).toBe(direct.text);
      // A model without repository tokens (the bundled one's id) gets the snippets as comments only when asked.
      const plain = new EndpointBackend(config);
      const commented = await plain.complete({ ...request, context: { ...request.context, asComments: true } });
      const commentedPrompt = qwen.build(`# Compare this snippet from geometry.py:\n# def area(radius):\n#     return 3.14 * radius ** 2\n${prefix}`, suffix);
      expect(commented.text).toBe((await local.generate({ prompt: commentedPrompt, maxNewTokens: 12, temperature: 0, stop: qwen.stopTokens.slice(0, 4) })).text);
      const auto = await plain.complete(request);
      expect(auto.text).toBe((await local.generate({ prompt: qwen.build(prefix, suffix), maxNewTokens: 12, temperature: 0, stop: qwen.stopTokens.slice(0, 4) })).text);
      // The three prompts lead to three different answers, so each check above tells the prompts apart.
      expect(new Set([result.text, commented.text, auto.text]).size).toBe(3);
    } finally {
      qwenServer.close();
    }
  });

  it('scores a text over the wire (echo + logprobs) as the engine scores it here', async () => {
    const endpoint = new EndpointBackend(config);
    const code = 'for i in range(10):\n    print(i * i)\n';
    const remote = await endpoint.surprisal(code);
    const here = await local.surprisal(code);
    const textTokens = here.tokens.map((token, index) => ({ token, index })).filter(({ token }) => token.start >= 0);
    expect(remote.tokens.map((t) => t.text)).toEqual(textTokens.map(({ token }) => token.text));
    expect(remote.tokens.map((t) => t.start)).toEqual(textTokens.map(({ token }) => token.start));
    remote.surprisal.forEach((bits, i) => expect(bits).toBeCloseTo(here.surprisal[textTokens[i]!.index]!, 3));
    expect(remote.predictions.map((p) => p[0]?.text)).toEqual(textTokens.map(({ index }) => here.predictions[index]![0]?.text));
  });

  it('Stop aborts the HTTP request, and the server stops generating', async () => {
    const endpoint = new EndpointBackend(config);
    const controller = new AbortController();
    const deltas: string[] = [];
    const call = endpoint.generate({ prompt: 'def quicksort(items):\n', maxNewTokens: 1000, temperature: 0.8, seed: 3 }, {
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type !== 'delta') return;
        deltas.push(event.text);
        if (deltas.length === 3) controller.abort();
      },
    });
    expect((await failureOf(call)).code).toBe('cancelled');
    expect(endpoint.pendingCalls).toBe(0);
    const deadline = Date.now() + 5_000;
    while (local.pendingCalls > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(local.pendingCalls).toBe(0);
    expect(deltas.length).toBeLessThan(50);
  });

  it('a wrong key and a wrong model id are said plainly', async () => {
    const wrongKey = await failureOf(new EndpointBackend({ ...config, apiKey: 'nope' }).ensureLoaded());
    expect(wrongKey.code).toBe('unauthorized');
    expect(wrongKey.message).toMatch(/API key is missing or wrong/);
    const wrongModel = new EndpointBackend({ ...config, model: 'qwen2.5-coder:7b' });
    const error = await failureOf(wrongModel.ensureLoaded());
    expect(error.code).toBe('not-found');
    expect(error.message).toContain(`it has: ${MODEL}`);
    expect(wrongModel.state.kind).toBe('error');
  });
});

/** A server that misbehaves in the way `mode` says; records the Authorization headers it saw. */
function faultyServer(mode: () => string, seen: string[]): http.Server {
  const chunk = (text: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })}\n\n`;
  const end = `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 3 } })}\n\ndata: [DONE]\n\n`;
  return http.createServer((request, response) => {
    seen.push(request.headers.authorization ?? '');
    request.resume();
    request.on('end', () => {
      switch (mode()) {
        case '401':
          response.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { message: 'Invalid API key' } }));
          return;
        case '404':
          response.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { message: 'model "x" not found' } }));
          return;
        case '429':
          response.writeHead(429, { 'Retry-After': '7', 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { message: 'Too many requests' } }));
          return;
        case '500':
          response.writeHead(500, { 'Content-Type': 'text/plain' }).end('CUDA out of memory');
          return;
        case 'redirect':
          response.writeHead(307, { Location: 'http://elsewhere.example/v1/chat/completions' }).end();
          return;
        case 'cut':
          response.writeHead(200, { 'Content-Type': 'text/event-stream' });
          response.write(chunk('Hello') + chunk(', wor'));
          setTimeout(() => response.socket?.destroy(), 50);
          return;
        case 'garbage':
          response.writeHead(200, { 'Content-Type': 'text/event-stream' });
          response.end(chunk('one ') + 'data: {"choices": [ {broken\n\n' + ': keep-alive\n\n' + chunk('two') + end);
          return;
        case 'stall':
          response.writeHead(200, { 'Content-Type': 'text/event-stream' });
          response.write(chunk('slow'));
          return; // never another byte
        case 'huge':
          response.writeHead(200, { 'Content-Type': 'text/event-stream' });
          for (let i = 0; i < 2_000; i++) response.write(chunk('x'.repeat(100)));
          response.end(end);
          return;
        case 'base-model':
          // No model list, no chat template: only raw completions work.
          if (request.url?.endsWith('/completions') && !request.url.includes('chat')) {
            response.writeHead(200, { 'Content-Type': 'text/event-stream' });
            response.end(`data: ${JSON.stringify({ choices: [{ index: 0, text: ' x', finish_reason: 'length' }] })}\n\ndata: [DONE]\n\n`);
          } else {
            response.writeHead(request.method === 'GET' ? 404 : 400, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { message: 'this model has no chat template' } }));
          }
          return;
        case 'echo-answer-only':
          // llama.cpp's server today: echo is accepted, but only the generated token is scored (offset 0 of the answer).
          response.writeHead(200, { 'Content-Type': 'application/json' }).end(
            JSON.stringify({ choices: [{ index: 0, text: ' 1', logprobs: { tokens: [' 1'], token_logprobs: [-0.4], text_offset: [0], top_logprobs: [{ ' 1': -0.4 }] } }] }),
          );
          return;
        case 'echo-bos':
          // The prompt "x = 1" echoed after a BOS the server put in front, then the generated token.
          response.writeHead(200, { 'Content-Type': 'application/json' }).end(
            JSON.stringify({
              choices: [{ index: 0, text: 'x = 1\n', logprobs: { tokens: ['<s>', 'x', ' =', ' 1', '\n'], token_logprobs: [null, -1, -2, -3, -0.5], text_offset: [0, 0, 1, 3, 5], top_logprobs: [null, { x: -1, y: -1.5 }, { ' =': -2 }, { ' 2': -1, ' 1': -3 }, { '\n': -0.5 }] } }],
            }),
          );
          return;
        case 'plain-json':
          response.writeHead(200, { 'Content-Type': 'application/json' }).end(
            JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: 'Whole answer' }, finish_reason: 'stop' }], usage: { prompt_tokens: 4, completion_tokens: 2 } }),
          );
          return;
        default:
          response.writeHead(200, { 'Content-Type': 'text/event-stream' });
          response.end(chunk('fine') + end);
      }
    });
  });
}

describe('endpoint backend against a misbehaving server', () => {
  let mode = 'ok';
  const seen: string[] = [];
  let server: http.Server;
  let config: EndpointConfig;
  const logged: string[] = [];

  beforeAll(async () => {
    server = faultyServer(() => mode, seen);
    const port = await listen(server);
    config = { baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm', apiKey: 'secret', contextLength: 4096, idleTimeoutMs: 400, maxResponseBytes: 64 * 1024, log: (line) => logged.push(line) };
  });

  afterAll(() => server?.close());

  const chat = (backend = new EndpointBackend(config), onDelta?: (text: string) => void) =>
    backend.chat({ messages: [{ role: 'user', content: 'hi' }], maxNewTokens: 8 }, { onEvent: (e) => e.type === 'delta' && onDelta?.(e.text) });

  it('connection refused, and TLS to a server that speaks plain HTTP', async () => {
    const closed = http.createServer();
    const port = await listen(closed);
    closed.close();
    const refused = await failureOf(chat(new EndpointBackend({ ...config, baseUrl: `http://127.0.0.1:${port}/v1` })));
    expect(refused.code).toBe('unreachable');
    expect(refused.message).toMatch(/connection refused/);
    const tls = await failureOf(chat(new EndpointBackend({ ...config, baseUrl: config.baseUrl.replace('http:', 'https:') })));
    expect(tls.code).toBe('unreachable');
    expect(tls.message).toMatch(/TLS|SSL|wrong version/i);
  });

  it('a host name that does not resolve (DNS failure) says so', async () => {
    // .invalid never resolves (RFC 6761): the resolver says so at once (ENOTFOUND), or, unreachable itself, EAI_AGAIN.
    const failure = await failureOf(chat(new EndpointBackend({ ...config, baseUrl: 'https://attentive-test.invalid/v1' })));
    expect(failure.code).toBe('unreachable');
    expect(failure.message).toMatch(/Cannot find the host attentive-test\.invalid \(DNS: (ENOTFOUND|EAI_AGAIN)\)/);
  }, 30_000);

  it('401, 404, 429 with Retry-After, 500: each its own error with the server\'s words', async () => {
    mode = '401';
    expect(await failureOf(chat())).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/HTTP 401.*Invalid API key/) });
    mode = '404';
    expect(await failureOf(chat())).toMatchObject({ code: 'not-found', message: expect.stringContaining('model "x" not found') });
    mode = '429';
    expect(await failureOf(chat())).toMatchObject({ code: 'rate-limited', retryAfterSeconds: 7, message: expect.stringContaining('retry after 7 s') });
    mode = '500';
    expect(await failureOf(chat())).toMatchObject({ code: 'server-error', message: expect.stringContaining('CUDA out of memory') });
  });

  it('a stream cut half-way keeps what came and says it was interrupted', async () => {
    mode = 'cut';
    const deltas: string[] = [];
    const error = await failureOf(chat(undefined, (text) => deltas.push(text)));
    expect(error.code).toBe('interrupted');
    expect(deltas.join('')).toBe('Hello, wor');
  });

  it('a malformed line is skipped and logged; the reply goes on', async () => {
    mode = 'garbage';
    logged.length = 0;
    const result = await chat();
    expect(result.text).toBe('one two');
    expect(result.usage).toMatchObject({ promptTokens: 5, generatedTokens: 3 });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/skipped a malformed stream line/);
  });

  it('a server that stops sending times out; an oversize answer is cut off', async () => {
    mode = 'stall';
    const started = Date.now();
    expect((await failureOf(chat())).code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(3_000);
    mode = 'huge';
    expect(await failureOf(chat())).toMatchObject({ code: 'server-error', message: expect.stringMatching(/sent more than/) });
  });

  it('surprisal: a BOS the server puts in front has no place in the text; a server that scores only its answer is "unsupported"', async () => {
    mode = 'echo-bos';
    const scored = await new EndpointBackend(config).surprisal('x = 1');
    expect(scored.tokens).toEqual([
      { text: '<s>', start: -1, end: -1 },
      { text: 'x', start: 0, end: 1 },
      { text: ' =', start: 1, end: 3 },
      { text: ' 1', start: 3, end: 5 },
    ]);
    expect(scored.surprisal[0]).toBeNaN();
    scored.surprisal.slice(1).forEach((bits, i) => expect(bits).toBeCloseTo([1, 2, 3][i]! / Math.LN2, 6));
    expect(scored.predictions[3]!.map((p) => p.text)).toEqual([' 2', ' 1']);
    mode = 'echo-answer-only';
    await expect(new EndpointBackend(config).surprisal('x = 1')).rejects.toMatchObject({ code: 'unsupported', message: expect.stringMatching(/not for the prompt/) });
    mode = 'ok';
  });

  it('Stop between the answer\'s headers and its first read is a clean cancellation, not an uncaught error', async () => {
    mode = 'stall'; // headers and one chunk, then nothing
    const controller = new AbortController();
    const response = await send({ url: `${config.baseUrl}/chat/completions`, method: 'POST', headers: {}, body: {}, signal: controller.signal, connectTimeoutMs: 5_000, idleTimeoutMs: 5_000, maxBytes: 1 << 20 });
    expect(response.status).toBe(200);
    controller.abort();
    // An 'error' on the response with no listener yet would be an uncaught exception (vitest fails the run on one).
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await failureOf(readText(response))).toMatchObject({ code: 'cancelled' });
    mode = 'ok';
  });

  it('a redirect is not followed, so the key never reaches another host', async () => {
    mode = 'redirect';
    seen.length = 0;
    expect(await failureOf(chat())).toMatchObject({ code: 'server-error', message: expect.stringContaining('redirects to http://elsewhere.example') });
    expect(seen).toEqual(['Bearer secret']);
  });

  it('a server that ignores `stream` and a /models that fails still work', async () => {
    mode = 'plain-json';
    const result = await chat();
    expect(result.text).toBe('Whole answer');
    // GET /models answers with the plain chat JSON (no model list): the check falls back to a one-token request.
    mode = 'ok';
    const backend = new EndpointBackend(config);
    await expect(backend.ensureLoaded()).resolves.toMatchObject({ name: 'm' });
  });

  it('sends nothing until the user allows the host, asks once, and refuses plain http to another machine', async () => {
    mode = 'ok';
    seen.length = 0;
    const asked: string[] = [];
    const declined = new EndpointBackend({ ...config, confirm: async (host) => (asked.push(host), false) });
    expect(await failureOf(chat(declined))).toMatchObject({ code: 'not-allowed' });
    expect(seen).toEqual([]);
    const allowed = new EndpointBackend({ ...config, confirm: async (host) => (asked.push(host), true) });
    await Promise.all([chat(allowed), chat(allowed)]);
    await chat(allowed);
    expect(asked).toEqual([new URL(config.baseUrl).host, new URL(config.baseUrl).host]);
    expect(seen).toHaveLength(3);
    const insecure = await failureOf(chat(new EndpointBackend({ ...config, baseUrl: 'http://10.11.12.13:8000/v1' })));
    expect(insecure).toMatchObject({ code: 'not-allowed', message: expect.stringContaining('unencrypted') });
  });

  it('the state shows a server that stopped answering, and recovers once it answers again', async () => {
    mode = 'ok';
    const backend = new EndpointBackend(config);
    await backend.ensureLoaded();
    expect(backend.state.kind).toBe('ready');
    mode = '401';
    await failureOf(chat(backend));
    expect(backend.state).toMatchObject({ kind: 'error', message: expect.stringContaining('HTTP 401') });
    mode = 'ok';
    await backend.ensureLoaded();
    expect(backend.state.kind).toBe('ready');
    // One cut stream is bad luck, not a server down: the state stays.
    mode = 'cut';
    await failureOf(chat(backend));
    expect(backend.state.kind).toBe('ready');
  });

  it('a base model behind a server without a model list passes the check with a one-token completion', async () => {
    mode = 'base-model';
    const backend = new EndpointBackend(config);
    await expect(backend.ensureLoaded()).resolves.toMatchObject({ name: 'm' });
    expect((await backend.generate({ prompt: 'def', maxNewTokens: 1 })).text).toBe(' x');
  });

  it('a busy server leaves the backend ready with a notice until the next answer', async () => {
    mode = 'ok';
    const backend = new EndpointBackend(config);
    await backend.ensureLoaded();
    mode = '429';
    await failureOf(chat(backend));
    expect(backend.state).toMatchObject({ kind: 'ready', notice: 'busy, asked to wait 7 s' });
    mode = 'ok';
    await chat(backend);
    expect(backend.state.kind).toBe('ready');
    expect((backend.state as { notice?: string }).notice).toBeUndefined();
  });

  it('calls on an endpoint never checked (inline completion does not check first) set its state from their answers', async () => {
    mode = '429';
    const busy = new EndpointBackend(config);
    expect(busy.state.kind).toBe('not-loaded');
    await failureOf(busy.complete({ prefix: 'def f():\n    return ', suffix: '', maxNewTokens: 4 }));
    expect(busy.state).toMatchObject({ kind: 'ready', model: { name: 'm' }, notice: 'busy, asked to wait 7 s' });
    mode = 'ok';
    const fine = new EndpointBackend(config);
    await fine.generate({ prompt: 'def', maxNewTokens: 1 });
    expect(fine.state).toMatchObject({ kind: 'ready', model: { name: 'm' } });
    mode = '404';
    const wrongModel = new EndpointBackend(config);
    await failureOf(wrongModel.generate({ prompt: 'def', maxNewTokens: 1 }));
    expect(wrongModel.state).toMatchObject({ kind: 'error', message: expect.stringContaining('not found') });
    mode = 'ok';
  });
});

