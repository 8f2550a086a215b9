// How an engine client reaches an engine server: the contract both sides of the RPC implement. The product's
// transport is a worker thread (src/backend/local/workerTransport.ts); the CLI and tests run the server in their own
// thread (src/worker/inProcessTransport.ts).

import type { HostToWorker, WorkerToHost } from './engine';

export interface Transport {
  post(message: HostToWorker): void;
  /**
   * Stops the server; pending calls are the client's to reject. `force`: at once, without waiting for the running
   * step (only for a server stuck in JavaScript: stopping a thread inside an ONNX Runtime run aborts the process).
   */
  terminate(options?: { force?: boolean }): Promise<void>;
  /** True while the server may be inside an ONNX Runtime call, which blocks its thread and must not be interrupted. */
  inNativeRun?(): boolean;
}

export interface TransportHandlers {
  onMessage(message: WorkerToHost): void;
  /** The server is gone (the worker exited or crashed). */
  onExit(reason: string): void;
}

export type TransportFactory = (handlers: TransportHandlers) => Transport;
