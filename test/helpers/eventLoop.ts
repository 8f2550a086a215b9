// How long work holds this thread's event loop: a 5 ms timer's longest gap while it runs (unit and extension-host tests).

/** Runs `work` while a 5 ms timer ticks; the longest gap between ticks is how long the event loop was held. */
export async function longestEventLoopGap<T>(work: () => Promise<T> | T): Promise<{ result: T; gapMs: number; ms: number }> {
  const started = performance.now();
  let last = started;
  let gapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    gapMs = Math.max(gapMs, now - last);
    last = now;
  }, 5);
  const result = await work();
  // One more turn: a computation that held the loop until its end shows as a gap here.
  await new Promise((resolve) => setTimeout(resolve, 10));
  clearInterval(timer);
  return { result, gapMs, ms: performance.now() - started };
}
