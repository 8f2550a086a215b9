// The worker-side scheduler with the real engine on a fixture: priorities, queue events, cancellation.

import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineServer } from '../../src/worker/server';
import type { EngineEvent, GenerateResult, HostToWorker, WorkerToHost } from '../../src/protocol/engine';

const FIXTURE = path.resolve(__dirname, '../fixtures/models/attentive-tiny');

class Harness {
  readonly messages: WorkerToHost[] = [];
  readonly server = new EngineServer((message) => this.messages.push(message));
  private nextId = 1;

  call(method: Extract<HostToWorker, { kind: 'call' }>['method'], params: unknown, priority: 'high' | 'normal' = 'normal'): number {
    const id = this.nextId++;
    this.server.handle({ kind: 'call', id, method, params, priority });
    return id;
  }

  async settled(id: number): Promise<WorkerToHost> {
    for (;;) {
      const done = this.messages.find((m) => m.kind !== 'pong' && m.id === id && m.kind !== 'event');
      if (done) return done;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  events(id: number): EngineEvent[] {
    return this.messages.filter((m): m is Extract<WorkerToHost, { kind: 'event' }> => m.kind === 'event' && m.id === id).map((m) => m.event);
  }

  order(): number[] {
    return this.messages.filter((m) => m.kind === 'result' || m.kind === 'error').map((m) => m.id);
  }
}

let harness: Harness;
afterEach(() => harness?.server.dispose());

describe('EngineServer', () => {
  it('runs one call at a time; a high-priority call goes before queued normal ones, never into the running one', async () => {
    harness = new Harness();
    await harness.settled(harness.call('load', { folder: FIXTURE, options: { threads: 1 } }, 'high'));
    const running = harness.call('generate', { prompt: 'def f(x):', maxNewTokens: 30, minNewTokens: 30 });
    const chat1 = harness.call('generate', { prompt: 'class A:', maxNewTokens: 5 });
    const chat2 = harness.call('generate', { prompt: 'import os', maxNewTokens: 5 });
    const completion = harness.call('complete', { prefix: 'x = ', suffix: '\n', maxNewTokens: 5 }, 'high');
    await Promise.all([running, chat1, chat2, completion].map((id) => harness.settled(id)));
    expect(harness.order().slice(1)).toEqual([running, completion, chat1, chat2]);
    // The running generation was not disturbed: it produced all its tokens.
    const result = (await harness.settled(running)) as Extract<WorkerToHost, { kind: 'result' }>;
    expect((result.result as GenerateResult).tokenIds).toHaveLength(30);
    // Queued calls were told their place, and when they started.
    expect(harness.events(chat2)).toContainEqual({ type: 'queued', position: 2 });
    expect(harness.events(chat2)).toContainEqual({ type: 'queued', position: 3 });
    expect(harness.events(chat2).at(-1)?.type).not.toBe('queued');
    expect(harness.events(completion)).toContainEqual({ type: 'started' });
  });

  it('cancels a running generation within one step, keeping the partial text', async () => {
    harness = new Harness();
    await harness.settled(harness.call('load', { folder: FIXTURE, options: { threads: 1 } }, 'high'));
    const id = harness.call('generate', { prompt: 'def f(x):', maxNewTokens: 200, minNewTokens: 200 });
    while (!harness.events(id).some((e) => e.type === 'delta')) await new Promise((r) => setTimeout(r, 1));
    harness.server.handle({ kind: 'cancel', id });
    const done = (await harness.settled(id)) as Extract<WorkerToHost, { kind: 'result' }>;
    const result = done.result as GenerateResult;
    expect(result.finishReason).toBe('cancelled');
    expect(result.tokenIds.length).toBeGreaterThan(0);
    expect(result.tokenIds.length).toBeLessThan(200);
  });

  it('cancels a queued call without running it', async () => {
    harness = new Harness();
    await harness.settled(harness.call('load', { folder: FIXTURE, options: { threads: 1 } }, 'high'));
    const first = harness.call('generate', { prompt: 'a', maxNewTokens: 20, minNewTokens: 20 });
    const queued = harness.call('generate', { prompt: 'b', maxNewTokens: 20 });
    harness.server.handle({ kind: 'cancel', id: queued });
    const done = await harness.settled(queued);
    expect(done).toMatchObject({ kind: 'error', error: { code: 'cancelled' } });
    expect(harness.events(queued)).not.toContainEqual({ type: 'started' });
    await harness.settled(first);
  });

  it('answers malformed calls with bad-request and keeps serving', async () => {
    harness = new Harness();
    await harness.settled(harness.call('load', { folder: FIXTURE, options: { threads: 1 } }, 'high'));
    const bad = [
      harness.call('generate', { prompt: 42 }),
      harness.call('generate', { prompt: 'x', temperature: -1 }),
      harness.call('chat', { messages: [{ role: 'robot', content: 'hi' }] }),
      harness.call('generate', null),
      harness.call('nonsense' as never, {}),
    ];
    for (const id of bad) expect(await harness.settled(id)).toMatchObject({ kind: 'error', error: { code: 'bad-request' } });
    const good = await harness.settled(harness.call('generate', { prompt: 'x', maxNewTokens: 3 }));
    expect(good.kind).toBe('result');
  });

  it("counts and cuts text with the model's tokenizer, for the chat's context budget", async () => {
    harness = new Harness();
    await harness.settled(harness.call('load', { folder: FIXTURE, options: { threads: 1 } }, 'high'));
    const text = Array.from({ length: 40 }, (_, i) => `line ${i}: value = compute(${i})`).join('\n');
    const ids = (await harness.settled(harness.call('tokenize', { text }))) as Extract<WorkerToHost, { kind: 'result' }>;
    const total = (ids.result as { ids: number[] }).ids.length;
    const counted = (await harness.settled(harness.call('countTokens', { texts: [text, '', 'line'] }))) as Extract<WorkerToHost, { kind: 'result' }>;
    expect(counted.result).toEqual({ counts: [total, 0, expect.any(Number)] });

    const cut = (await harness.settled(harness.call('truncateToTokens', { text, maxTokens: Math.floor(total / 3) }))) as Extract<WorkerToHost, { kind: 'result' }>;
    const prefix = (cut.result as { text: string }).text;
    expect(text.startsWith(prefix)).toBe(true);
    expect(text[prefix.length]).toBe('\n'); // cut at a line end
    const prefixCount = (((await harness.settled(harness.call('countTokens', { texts: [prefix] }))) as Extract<WorkerToHost, { kind: 'result' }>).result as { counts: number[] }).counts[0]!;
    expect(prefixCount).toBeLessThanOrEqual(Math.floor(total / 3));
    expect(prefixCount).toBeGreaterThan(Math.floor(total / 3) - 20); // no more than a line short
    const whole = (await harness.settled(harness.call('truncateToTokens', { text, maxTokens: total }))) as Extract<WorkerToHost, { kind: 'result' }>;
    expect(whole.result).toEqual({ text });
    // 4 MB on one line (superlinear to tokenize whole: seconds): only the start that can matter is tokenized.
    const huge = 'a'.repeat(4_000_000);
    const started = performance.now();
    const start = (((await harness.settled(harness.call('truncateToTokens', { text: huge, maxTokens: 100 }))) as Extract<WorkerToHost, { kind: 'result' }>).result as { text: string }).text;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(huge.startsWith(start) && start.length > 0).toBe(true);
    const startCount = (((await harness.settled(harness.call('countTokens', { texts: [start] }))) as Extract<WorkerToHost, { kind: 'result' }>).result as { counts: number[] }).counts[0]!;
    expect(startCount).toBeLessThanOrEqual(100);

    for (const params of [{ texts: 'x' }, { texts: [1] }, {}]) {
      expect(await harness.settled(harness.call('countTokens', params))).toMatchObject({ kind: 'error', error: { code: 'bad-request' } });
    }
    for (const params of [{ text: 'x', maxTokens: -1 }, { text: 'x', maxTokens: 1.5 }, { text: 3, maxTokens: 1 }]) {
      expect(await harness.settled(harness.call('truncateToTokens', params))).toMatchObject({ kind: 'error', error: { code: 'bad-request' } });
    }
  });

  it('answers calls before a model is loaded with not-loaded', async () => {
    harness = new Harness();
    expect(await harness.settled(harness.call('generate', { prompt: 'x' }))).toMatchObject({ kind: 'error', error: { code: 'not-loaded' } });
  });
});
