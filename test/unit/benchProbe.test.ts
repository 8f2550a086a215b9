// The chat benchmark's host probe (src/extension/chat/benchProbe.ts) on the real event loop: a reply window that
// blocks the loop shows that lag, the idle window after it does not, and the record lands in the file.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChatBenchProbe, type BenchRecord } from '../../src/extension/chat/benchProbe';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('ChatBenchProbe', () => {
  it('is off unless ATTENTIVE_BENCH names a file', () => {
    expect(ChatBenchProbe.fromEnvironment({})).toBeUndefined();
    expect(ChatBenchProbe.fromEnvironment({ ATTENTIVE_BENCH: '/tmp/x.jsonl' })).toBeInstanceOf(ChatBenchProbe);
  });

  it('records the marks, the lag of a blocked loop during the reply, and an idle reference after it', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-bench-')), 'chat.jsonl');
    const probe = new ChatBenchProbe(file);
    probe.mark('r1', 'send');
    await sleep(20);
    probe.mark('r1', 'call');
    probe.mark('r1', 'started');
    block(60); // a stalled host
    await sleep(20);
    probe.mark('r1', 'firstDelta');
    probe.mark('r1', 'firstDelta'); // only the first counts
    await sleep(100);
    probe.finish('r1', { promptTokens: 5, generatedTokens: 7, timeToFirstTokenMs: 12.5, decodeTokensPerSecond: 100, trimmedPromptTokens: 0 });
    probe.finish('unknown', undefined); // never marked: ignored
    for (let i = 0; i < 100 && !fs.existsSync(file); i++) await sleep(20);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!) as BenchRecord;
    const { send, call, started, firstDelta, end } = record.marks;
    expect(send! < call! && call! <= started! && started! < firstDelta! && firstDelta! < end!).toBe(true);
    expect(firstDelta! - started!).toBeGreaterThanOrEqual(75);
    expect(record.engine).toEqual({ timeToFirstTokenMs: 12.5, generatedTokens: 7, decodeTokensPerSecond: 100 });
    expect(record.lag.max).toBeGreaterThanOrEqual(50);
    expect(record.lag.samples).toBeGreaterThan(10);
    expect(record.idleLag.samples).toBeGreaterThan(10);
    expect(record.idleLag.max).toBeLessThan(record.lag.max);
    // 60 of the reply's ~200 ms were spent blocking the loop; the idle window spent next to nothing.
    expect(record.utilization).toBeGreaterThan(0.2);
    expect(record.idleUtilization).toBeLessThan(record.utilization);
  });
});
