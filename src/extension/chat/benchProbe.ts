// Measurements for bench/chat.mjs, off unless the extension host runs with ATTENTIVE_BENCH=<file>: the times at which
// the host handled each chat reply (epoch ms, comparable with the webview's performance.timeOrigin + now()), the
// engine's own time to first token, and the host's event-loop delay while the reply was produced, next to the delay
// of the same host idle for as long right after it (the reference). One JSON line per reply is appended to the file
// once its idle window has ended. No vscode import: unit-testable on its own.

import * as fs from 'node:fs';
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import type { Usage } from '../../protocol/engine';
import type { ReplyProgress } from './chatController';

/** ms between event-loop samples; the histogram's values are the intervals, so the lag is the value minus this. */
const RESOLUTION_MS = 1;

export type BenchMark = 'send' | 'call' | 'started' | 'firstDelta' | 'end';

export interface LagStats {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

export interface BenchRecord {
  entryId: string;
  /** Epoch ms (fractional) of each step on the host. */
  marks: Partial<Record<BenchMark, number>>;
  engine: { timeToFirstTokenMs: number; generatedTokens: number; decodeTokensPerSecond: number } | null;
  /** Event-loop lag from 'send' to 'end' of this reply, and for as long right after it (idle). */
  lag: LagStats;
  idleLag: LagStats;
  /** Share of each window the host's main thread was busy (not waiting for events), 0-1. */
  utilization: number;
  idleUtilization: number;
}

const now = () => performance.timeOrigin + performance.now();

/** Lag percentiles in ms: each sample is the interval between two samplers' runs minus the sampling interval. */
export function lagStats(histogram: IntervalHistogram, resolutionMs = RESOLUTION_MS): LagStats {
  const lag = (ns: number) => Math.max(0, Math.round((ns / 1e6 - resolutionMs) * 100) / 100);
  if (histogram.count === 0) return { samples: 0, p50: 0, p99: 0, max: 0 };
  return { samples: histogram.count, p50: lag(histogram.percentile(50)), p99: lag(histogram.percentile(99)), max: lag(histogram.max) };
}

export class ChatBenchProbe {
  // One histogram per window: a re-enabled histogram would record the whole pause as one interval.
  private readonly replies = new Map<string, { marks: BenchRecord['marks']; histogram: IntervalHistogram; elu: EventLoopUtilization }>();

  constructor(private readonly file: string) {}

  /** The probe when ATTENTIVE_BENCH names a file, else undefined (the product path). */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): ChatBenchProbe | undefined {
    const file = env['ATTENTIVE_BENCH'];
    return file ? new ChatBenchProbe(file) : undefined;
  }

  /** One step of a reply, as the chat controller reports it (onDidProgressReply). */
  record(progress: ReplyProgress): void {
    if (progress.step === 'end') this.finish(progress.entryId, progress.usage);
    else this.mark(progress.entryId, progress.step);
  }

  mark(entryId: string, mark: Exclude<BenchMark, 'end'>): void {
    if (mark === 'send') {
      const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      histogram.enable();
      this.replies.set(entryId, { marks: { send: now() }, histogram, elu: performance.eventLoopUtilization() });
      return;
    }
    const reply = this.replies.get(entryId);
    if (reply && reply.marks[mark] === undefined) reply.marks[mark] = now();
  }

  /** The reply ended (any way): stop its lag window, measure an idle window as long, then write the record. */
  finish(entryId: string, usage: Usage | undefined): void {
    const reply = this.replies.get(entryId);
    if (!reply) return;
    this.replies.delete(entryId);
    const end = now();
    reply.marks.end = end;
    reply.histogram.disable();
    const idleStart = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(idleStart, reply.elu).utilization;
    const idle = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    idle.enable();
    setTimeout(() => {
      idle.disable();
      const idleUtilization = performance.eventLoopUtilization(idleStart).utilization;
      const record: BenchRecord = {
        entryId,
        marks: reply.marks,
        engine: usage
          ? { timeToFirstTokenMs: usage.timeToFirstTokenMs, generatedTokens: usage.generatedTokens, decodeTokensPerSecond: usage.decodeTokensPerSecond }
          : null,
        lag: lagStats(reply.histogram),
        idleLag: lagStats(idle),
        utilization: Math.round(utilization * 1000) / 1000,
        idleUtilization: Math.round(idleUtilization * 1000) / 1000,
      };
      fs.appendFileSync(this.file, `${JSON.stringify(record)}\n`);
    }, Math.max(100, end - (reply.marks.send ?? end)));
  }
}
