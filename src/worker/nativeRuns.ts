// Whether this thread may be inside ONNX Runtime: its calls (session.run, loading a model) block the worker's thread,
// and stopping a thread in the middle of one aborts the whole process. The host's watchdog reads the count through
// shared memory and replaces a worker that stopped answering only when it is stuck in JavaScript instead.

let counter: Int32Array | undefined;

/** The shared counter the host reads (workerData.nativeRuns of the worker thread). */
export function shareNativeRunCounter(buffer: SharedArrayBuffer): void {
  counter = new Int32Array(buffer);
}

/** Runs `call` (an ONNX Runtime call) counted as native for its whole duration. */
export async function duringNativeRun<T>(call: () => Promise<T>): Promise<T> {
  if (counter) Atomics.add(counter, 0, 1);
  try {
    return await call();
  } finally {
    if (counter) Atomics.sub(counter, 0, 1);
  }
}
