// How the host reaches an EngineServer: a worker thread (the product) or the same thread (CLI, unit tests).

import { Worker } from 'node:worker_threads';
import './noTelemetry';
import type { HostToWorker, WorkerToHost } from '../protocol/engine';
import { EngineServer } from './server';

export interface Transport {
  post(message: HostToWorker): void;
  /** The worker thread, when there is one (diagnostics and crash tests). */
  readonly worker?: Worker;
  /** Stops the server; pending calls are the client's to reject. */
  terminate(): Promise<void>;
}

export interface TransportHandlers {
  onMessage(message: WorkerToHost): void;
  /** The server is gone (the worker exited or crashed). */
  onExit(reason: string): void;
}

export type TransportFactory = (handlers: TransportHandlers) => Transport;

const SHUTDOWN_TIMEOUT_MS = 5000;

/**
 * V8's space for new objects in the worker. Its default grows to tens of MB while a tokenizer is built (a 152k-entry
 * vocabulary) and is never given back; 3 MB measured 17-39 MB lower peak RSS on the Qwen2.5-Coder-0.5B shape
 * (bench/real-shape.mjs, docs/PERFORMANCE.md) with no measurable cost in speed: each step makes little JS garbage.
 */
const WORKER_YOUNG_GENERATION_MB = 3;

/** Runs the engine in a worker thread so `session.run` never blocks the extension host. */
export function workerTransport(workerScript: string): TransportFactory {
  return (handlers) => {
    const worker = new Worker(workerScript, { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    let exited = false;
    const exit = (reason: string) => {
      if (exited) return;
      exited = true;
      handlers.onExit(reason);
    };
    worker.on('message', (message: WorkerToHost) => handlers.onMessage(message));
    worker.on('error', (error) => exit(`the engine worker crashed: ${error.message}`));
    worker.on('exit', (code) => exit(`the engine worker exited with code ${code}`));
    return {
      worker,
      post: (message) => worker.postMessage(message),
      terminate: async () => {
        exited = true;
        // worker.terminate() during session.run aborts the whole process (ORT's callback throws into a dead
        // environment), so ask the worker to finish its step and exit; force it only if it does not.
        const gone = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        worker.postMessage({ kind: 'shutdown' } satisfies HostToWorker);
        const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), SHUTDOWN_TIMEOUT_MS).unref());
        if ((await Promise.race([gone, timer])) === 'timeout') await worker.terminate();
      },
    };
  };
}

/** The server in this thread: for the CLI and tests. Messages still go through structured cloning semantics. */
export function inProcessTransport(): TransportFactory {
  return (handlers) => {
    const server = new EngineServer((message) => queueMicrotask(() => handlers.onMessage(message)));
    return {
      post: (message) => server.handle(structuredClone(message)),
      terminate: () => server.dispose(),
    };
  };
}
