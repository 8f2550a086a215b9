// The product's transport: the engine server in a worker thread, so `session.run` never blocks the extension host.
// This file only names the worker's script; ONNX Runtime is loaded by that script, never into the host's thread.

import { Worker } from 'node:worker_threads';
import type { HostToWorker, WorkerToHost } from '../../protocol/engine';
import type { TransportFactory } from '../../protocol/transport';

// ONNX Runtime reads this switch with getenv() when it creates its environment, and a worker thread's process.env is
// a copy that native code never sees: it must be set on the main thread before the worker starts (src/worker/noTelemetry.ts).
process.env['ORT_DISABLE_TELEMETRY'] = '1';

const SHUTDOWN_TIMEOUT_MS = 5000;

/**
 * V8's space for new objects in the worker. Its default grows to tens of MB while a tokenizer is built (a 152k-entry
 * vocabulary) and is never given back; 3 MB measured 17-39 MB lower peak RSS on the Qwen2.5-Coder-0.5B shape
 * (bench/real-shape.mjs, docs/PERFORMANCE.md) with no measurable cost in speed: each step makes little JS garbage.
 */
const WORKER_YOUNG_GENERATION_MB = 3;

export interface WorkerOptions {
  /** The worker honours the test-mode messages 'crash-for-test' and 'hold-thread-for-test' (the extension's own tests only). */
  testHooks?: boolean;
}

/** Runs the engine in a worker thread so `session.run` never blocks the extension host. */
export function workerTransport(workerScript: string, options: WorkerOptions = {}): TransportFactory {
  return (handlers) => {
    // How many ONNX Runtime calls the worker is inside (src/worker/nativeRuns.ts).
    const nativeRuns = new SharedArrayBuffer(4);
    const worker = new Worker(workerScript, {
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
      workerData: { testHooks: options.testHooks === true, nativeRuns },
    });
    const nativeRunCount = new Int32Array(nativeRuns);
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
      post: (message) => worker.postMessage(message),
      inNativeRun: () => Atomics.load(nativeRunCount, 0) > 0,
      terminate: async ({ force = false } = {}) => {
        exited = true;
        if (force) {
          await worker.terminate();
          return;
        }
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
