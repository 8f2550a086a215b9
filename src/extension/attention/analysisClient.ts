// The host side of the analysis thread (analysisThread.ts): one per explained text, started on its first request and
// terminated when the text is no longer shown, which also ends a computation in progress. Each request has a deadline.

import { Worker } from 'node:worker_threads';
import type { AttentionView, HeadDetails } from '../../protocol/attention';
import { durationText } from '../../protocol/estimates';
import type { AttentionMaps } from './analysis';
import type { AnalysisQuery, AnalysisReply, AnalysisRequest } from './analysisMessages';

/** The longest one computation may run; at the attention budget's largest maps rollout takes a few seconds. */
export const ANALYSIS_DEADLINE_MS = 30_000;

interface Pending {
  resolve: (reply: AnalysisReply) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class AnalysisClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private disposed = false;

  constructor(
    /** The bundled thread's file (dist/analysis.js). */
    private readonly script: string,
    private readonly maps: AttentionMaps,
    private readonly deadlineMs = ANALYSIS_DEADLINE_MS,
  ) {}

  /** A view's [seq, seq] matrix (a new array). */
  async matrix(view: AttentionView): Promise<Float32Array> {
    const reply = await this.request({ kind: 'matrix', view });
    if (!('matrix' in reply)) throw new Error('the analysis thread answered a matrix request with something else');
    return reply.matrix;
  }

  /** Every head's thumbnail and statistics. */
  async details(tokens: string[], thumbnailSize: number): Promise<HeadDetails> {
    const reply = await this.request({ kind: 'details', tokens, thumbnailSize });
    if (!('details' in reply)) throw new Error('the analysis thread answered a details request with something else');
    return reply.details;
  }

  /** Ends the thread and whatever it computes; pending requests reject. */
  dispose(): void {
    this.disposed = true;
    this.stop(new Error('The attention analysis was stopped: the explained code changed or its view closed.'));
  }

  private request(query: AnalysisQuery): Promise<AnalysisReply> {
    if (this.disposed) return Promise.reject(new Error('The attention analysis was stopped.'));
    const worker = this.started();
    const id = this.nextId++;
    return new Promise<AnalysisReply>((resolve, reject) => {
      const timer = setTimeout(
        () => this.stop(new Error(`The attention analysis took over ${durationText(this.deadlineMs)} and was stopped (${this.maps.seq} tokens x ${this.maps.layers} layers).`)),
        this.deadlineMs,
      );
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ ...query, id } satisfies AnalysisRequest);
    }).then((reply) => {
      if ('error' in reply) throw new Error(`The attention analysis failed: ${reply.error}`);
      return reply;
    });
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.script);
    worker.unref();
    worker.on('message', (reply: AnalysisReply) => {
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      this.pending.delete(reply.id);
      clearTimeout(pending.timer);
      pending.resolve(reply);
    });
    worker.on('error', (error) => this.stop(new Error(`The attention analysis thread failed: ${error.message}`)));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.stop(new Error(`The attention analysis thread exited with code ${code}.`));
    });
    const { seq, layers, heads, weights } = this.maps;
    worker.postMessage({ kind: 'maps', seq, layers, heads, buffers: weights.map(sharedBuffer) } satisfies AnalysisRequest);
    this.worker = worker;
    return worker;
  }

  /** Terminates the thread (a later request starts a new one) and rejects what is pending with `reason`. */
  private stop(reason: Error): void {
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(reason);
    }
    this.pending.clear();
  }
}

/** The array's bytes as a SharedArrayBuffer: the engine's own when it made one (no copy), else a shared copy. */
function sharedBuffer(array: Float32Array): SharedArrayBuffer {
  const buffer = array.buffer;
  if (buffer instanceof SharedArrayBuffer && array.byteOffset === 0 && array.byteLength === buffer.byteLength) return buffer;
  const shared = new Float32Array(new SharedArrayBuffer(array.byteLength));
  shared.set(array);
  return shared.buffer as SharedArrayBuffer;
}
