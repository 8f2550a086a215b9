// Entry point of the engine worker thread: wires the RPC server to the parent port.

import { parentPort, workerData } from 'node:worker_threads';
import type { HostToWorker } from '../protocol/engine';
import { shareNativeRunCounter } from './nativeRuns';
import { EngineServer } from './server';

if (!parentPort) throw new Error('The engine worker must run in a worker thread');
const port = parentPort;
const data = workerData as { testHooks?: boolean; nativeRuns?: SharedArrayBuffer } | null;
if (data?.nativeRuns) shareNativeRunCounter(data.nativeRuns);
const server = new EngineServer(
  (message, transfer) => port.postMessage(message, transfer ?? []),
  () => process.exit(0), // in a worker thread this ends the thread, not the extension host
  { testHooks: data?.testHooks === true },
);
port.on('message', (message: HostToWorker) => server.handle(message));
