// The engine server in the caller's own thread: for the CLI, tests and benchmarks, which may block on session.run.
// The extension never uses it (its bundle must not load ONNX Runtime): it starts the server in a worker thread.

import type { TransportFactory } from '../protocol/transport';
import { EngineServer } from './server';

/** Messages still go through structured cloning, as they would between threads. */
export function inProcessTransport(): TransportFactory {
  return (handlers) => {
    const server = new EngineServer((message) => queueMicrotask(() => handlers.onMessage(message)));
    return {
      post: (message) => server.handle(structuredClone(message)),
      terminate: () => server.dispose(),
    };
  };
}
