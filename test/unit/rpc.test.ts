// The host side of the engine RPC with real worker threads: a dying worker rejects every pending call with a
// clear error and the next call starts a new worker (reloading the model); shutting down mid-generation is safe.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { BackendState as EngineState } from '../../src/backend/backend';
import { EngineClient } from '../../src/backend/local/engineClient';
import { workerTransport } from '../../src/backend/local/workerTransport';
import { inProcessTransport } from '../../src/worker/inProcessTransport';

const ROOT = path.resolve(__dirname, '../..');
const CRASHING_WORKER = path.join(ROOT, 'test/fixtures/workers/crashing-worker.mjs');
const FIXTURE = path.join(ROOT, 'test/fixtures/models/attentive-tiny');

describe('EngineClient over a worker that dies', () => {
  it('rejects pending calls when the worker throws, then restarts and reloads', async () => {
    let started = 0;
    const factory = workerTransport(CRASHING_WORKER);
    const client = new EngineClient((handlers) => {
      started++;
      return factory(handlers);
    });
    const states: EngineState['kind'][] = [];
    client.onStateChange((state) => states.push(state.kind));
    await client.load({ folder: '/models/x' });
    await expect(client.call('generate', { prompt: 'x' })).rejects.toThrow(/engine worker crashed: simulated engine bug; the next request starts a new engine/);
    expect(client.pendingCalls).toBe(0);
    expect(states).toEqual(['loading', 'ready', 'generating', 'error']);
    // The next call starts a second worker and loads the same model there first.
    await expect(client.call('info', {})).rejects.toThrow(/engine worker exited with code 7/);
    expect(started).toBe(2);
    expect(states.slice(4)).toEqual(['loading', 'ready', 'error']);
    await client.dispose();
  });

  it('rejects a call whose load fails, and loads again on the next call', async () => {
    const client = new EngineClient(inProcessTransport());
    await expect(client.load({ folder: '/nonexistent/model' })).rejects.toThrow(/Model folder not found: \/nonexistent\/model/);
    expect(client.state).toEqual({ kind: 'error', message: 'Model folder not found: /nonexistent/model' });
    await expect(client.call('info', {})).rejects.toThrow(/Model folder not found/);
    await client.load({ folder: FIXTURE });
    expect((await client.call('info', {})).name).toBe('attentive-tiny');
    await client.dispose();
  });
});

describe('EngineClient over the real engine worker', () => {
  it('shuts down in the middle of a generation without taking the process down', () => {
    // A separate process: if shutdown were unsafe, ONNX Runtime would abort the whole process (exit 134).
    const script = `
      const { EngineClient, workerTransport } = require(${JSON.stringify(path.join(ROOT, 'dist/bench.js'))});
      (async () => {
        const client = new EngineClient(workerTransport(${JSON.stringify(path.join(ROOT, 'dist/worker.js'))}));
        await client.load({ folder: ${JSON.stringify(FIXTURE)} });
        // Shut down at the first streamed token: the fixture fills its 256-token context in ~50 ms, so a fixed wait
        // could see the generation already finished.
        let firstToken;
        const streaming = new Promise((r) => (firstToken = r));
        const pending = client.call('generate', { prompt: 'class A:', maxNewTokens: 5000, minNewTokens: 5000 }, { onEvent: () => firstToken() })
          .then(() => 'resolved', (e) => 'rejected: ' + e.message);
        await streaming;
        await client.dispose();
        console.log(await pending);
      })();`;
    const output = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(output.trim()).toBe('rejected: The engine was shut down');
  });

  it('shuts down in the middle of an Explain Attention run within a chunk, without taking the process down', () => {
    // ~900 tokens of the bundled model: about a second of attention in one piece, ~30 ms a chunk of 32 tokens; the
    // shutdown waits for the chunk that runs (never mid-step), so it is done well within 300 ms.
    const script = `
      const fs = require('node:fs');
      const { EngineClient, workerTransport } = require(${JSON.stringify(path.join(ROOT, 'dist/bench.js'))});
      (async () => {
        const client = new EngineClient(workerTransport(${JSON.stringify(path.join(ROOT, 'dist/worker.js'))}));
        await client.load({ folder: ${JSON.stringify(path.join(ROOT, 'models/attentive-code-14m'))} });
        const text = fs.readFileSync(${JSON.stringify(path.join(ROOT, 'src/worker/engine.ts'))}, 'utf8').slice(0, 3000);
        let started;
        const running = new Promise((r) => (started = r));
        const pending = client.call('attention', { text }, { onEvent: (event) => event.type === 'started' && started() })
          .then(() => 'resolved', (e) => 'rejected: ' + e.message);
        await running;
        await new Promise((r) => setTimeout(r, 100));
        const before = Date.now();
        await client.dispose();
        const took = Date.now() - before;
        console.log(await pending, took < 300 ? 'at once' : 'after ' + took + ' ms');
      })();`;
    const output = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(output.trim()).toBe('rejected: The engine was shut down at once');
  });
});

describe('the watchdog', () => {
  it('stops a chat template that never finishes at its time limit; the same worker answers the next call', () => {
    // A model folder whose chat template loops 10^16 times: without a limit it would hold the worker's thread for good.
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-hostile-template-'));
    try {
      fs.cpSync(FIXTURE, folder, { recursive: true });
      const config = JSON.parse(fs.readFileSync(path.join(folder, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
      config['chat_template'] = '{% for i in range(100000000) %}{% for j in range(100000000) %}{{ "" }}{% endfor %}{% endfor %}';
      fs.writeFileSync(path.join(folder, 'tokenizer_config.json'), JSON.stringify(config));
      const script = `
        const { EngineClient, workerTransport } = require(${JSON.stringify(path.join(ROOT, 'dist/bench.js'))});
        (async () => {
          let workers = 0;
          const factory = workerTransport(${JSON.stringify(path.join(ROOT, 'dist/worker.js'))});
          const client = new EngineClient((handlers) => (workers++, factory(handlers)), { unresponsiveMs: 10000 });
          await client.load({ folder: ${JSON.stringify(folder)} });
          const started = Date.now();
          const chat = await client.call('chat', { messages: [{ role: 'user', content: 'hi' }], maxNewTokens: 2 }).then(() => 'resolved', (e) => e.code + ': ' + e.message);
          console.log(chat);
          console.log(Date.now() - started < 3000 ? 'within 3 s' : 'after ' + (Date.now() - started) + ' ms');
          const next = await client.call('generate', { prompt: 'x = ', maxNewTokens: 2 });
          console.log(next.tokenIds.length, client.state.kind, workers + ' worker');
          await client.dispose();
        })();`;
      const output = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 }).trim().split('\n');
      expect(output).toEqual([
        "model-invalid: The model's chat template (tokenizer_config.json) did not finish rendering within 1 s and was stopped.",
        'within 3 s',
        '2 ready 1 worker',
      ]);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('replaces a worker whose thread is held in JavaScript; the next call gets a fresh one', () => {
    // 3 s: loading the model in a busy machine's worker may itself hold the thread for a second.
    const script = `
      const { EngineClient, workerTransport } = require(${JSON.stringify(path.join(ROOT, 'dist/bench.js'))});
      (async () => {
        let transport;
        const factory = workerTransport(${JSON.stringify(path.join(ROOT, 'dist/worker.js'))}, { testHooks: true });
        const client = new EngineClient((handlers) => (transport = factory(handlers)), { unresponsiveMs: 3000 });
        await client.load({ folder: ${JSON.stringify(FIXTURE)} });
        // The worker's thread busy for a minute, as code that never finishes would hold it.
        transport.post({ kind: 'hold-thread-for-test', ms: 60000 });
        const started = Date.now();
        const held = await client.call('generate', { prompt: 'x = ', maxNewTokens: 2 }).then(() => 'resolved', (e) => e.message);
        console.log(held);
        console.log(Date.now() - started < 8000 ? 'within 8 s' : 'after ' + (Date.now() - started) + ' ms');
        console.log(client.state.kind);
        const next = await client.call('generate', { prompt: 'x = ', maxNewTokens: 2 });
        console.log(next.tokenIds.length, client.state.kind);
        await client.dispose();
      })();`;
    const output = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 }).trim().split('\n');
    expect(output).toEqual([
      'The engine stopped responding for 3 s and was stopped; the next request starts a new engine',
      'within 8 s',
      'error',
      '2 ready',
    ]);
  });

  it('never stops a worker inside an ONNX Runtime call, and leaves one that answers alone', async () => {
    // A worker that holds its thread: it answers no ping and no call. While it says it is inside ONNX Runtime the
    // watchdog waits (stopping it there would abort the process); once it is not, the watchdog stops it.
    let native = true;
    const terminated: Array<{ force?: boolean } | undefined> = [];
    const client = new EngineClient(
      () => ({ post: () => undefined, inNativeRun: () => native, terminate: async (options) => void terminated.push(options) }),
      { unresponsiveMs: 100 },
    );
    const call = client.load({ folder: '/models/x' }).then(() => 'resolved', (e: Error) => e.message);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(terminated).toEqual([]);
    expect(client.pendingCalls).toBe(1);
    native = false;
    expect(await call).toMatch(/^The engine stopped responding for 100 ms/);
    expect(terminated).toEqual([{ force: true }]);
    // The real worker answers its pings between steps: a generation several times longer than the window (the
    // bundled model, 400 tokens: seconds) is never stopped.
    const real = new EngineClient(workerTransport(path.join(ROOT, 'dist/worker.js')), { unresponsiveMs: 500 });
    await real.load({ folder: path.join(ROOT, 'models/attentive-code-14m') });
    const started = Date.now();
    const result = await real.call('generate', { prompt: 'class A:', maxNewTokens: 400, minNewTokens: 400 });
    expect(result.tokenIds).toHaveLength(400);
    expect(Date.now() - started).toBeGreaterThan(500);
    expect(real.state.kind).toBe('ready');
    await real.dispose();
  });
});
