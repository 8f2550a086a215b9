// Inline completion under real typing: replays editing sessions (lines of real files from this repository typed
// character by character, at human speed, into the rest of the file) through the completion service (window, cache,
// post-processing: the code the VS Code provider runs) and the engine worker, with the provider's debounce and
// cancellation (each keystroke cancels the pending and the running request).
//   npm run build && node bench/completion.mjs [--lines 12] [--debounce 150] [--seed 1] [--reference] [--model DIR] [--json FILE]
// Prints latency from request to answer (p50, p95; the debounce excluded), requests cancelled, cache hit rate,
// CPU seconds per minute of typing, CPU while idle, and the process RSS (the worker is a thread of it).
// --reference also replays the same sessions with the completion cache and the engine's prompt reuse off
// (each request recomputes its whole prompt) and prints the ratio. --while-indexing <folder> also replays them while
// the workspace index (dist/indexer.js, the @workspace thread) builds an index of the folder over and over, in the
// same process as the engine, as a first @workspace in a large workspace would (issue 18: completions unaffected).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { EngineClient, workerTransport, bundledModelFolder, CompletionService, DEFAULT_COMPLETION_SETTINGS, createRandom, textLineSource } = require(path.join(ROOT, 'dist', 'bench.js'));

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '12' },
    debounce: { type: 'string', default: '150' },
    seed: { type: 'string', default: '1' },
    reference: { type: 'boolean', default: false },
    'while-indexing': { type: 'string' },
    model: { type: 'string' },
    json: { type: 'string' },
  },
});
const LINES = Number(values.lines);
const DEBOUNCE_MS = Number(values.debounce);

/** Sessions: a block of lines in the middle of a real file, typed into the file with that block removed. */
const SESSIONS = [
  { file: 'src/worker/engine.ts', languageId: 'typescript', startLine: 150 },
  { file: 'training/model/model.py', languageId: 'python', startLine: 95 },
  { file: 'src/extension/chat/chatController.ts', languageId: 'typescript', startLine: 60 },
];

/** Keystroke gaps of a fast typist: 60-180 ms between characters, 300-900 ms after a line, 600-1500 ms now and then (thinking). */
function typingDelay(next, char) {
  if (char === '\n') return 300 + next() * 600;
  if (next() < 0.03) return 600 + next() * 900;
  return 60 + next() * 120;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (xs, p) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN);

/** One editing session replayed at human speed; returns the figures. */
async function replay(service, session, next) {
  const source = fs.readFileSync(path.join(ROOT, session.file), 'utf8').split('\n');
  const before = source.slice(0, session.startLine).join('\n') + '\n';
  const typed = source.slice(session.startLine, session.startLine + LINES).join('\n') + '\n';
  const after = source.slice(session.startLine + LINES).join('\n');
  const latencies = { engine: [], cache: [] };
  let debounceCancelled = 0;
  let timer = null;
  let inFlight = null;
  const pending = new Set();

  const request = (text) => {
    const controller = new AbortController();
    inFlight = controller;
    // The cursor sits at the end of what was typed, before the rest of the file.
    const prefixLines = text.slice(0, text.length - after.length).split('\n');
    const promise = service
      .provide({ document: textLineSource(text), line: prefixLines.length - 1, character: prefixLines.at(-1).length, languageId: session.languageId }, controller.signal)
      .then((outcome) => {
        if (outcome) latencies[outcome.source].push(outcome.latencyMs);
      });
    pending.add(promise);
    void promise.finally(() => pending.delete(promise));
  };

  const started = performance.now();
  for (let i = 1; i <= typed.length; i++) {
    // A keystroke: the editor cancels the pending debounce and the running request, then debounces a new one.
    if (timer) {
      clearTimeout(timer);
      debounceCancelled++;
    }
    inFlight?.abort();
    const text = before + typed.slice(0, i) + after;
    timer = setTimeout(() => {
      timer = null;
      request(text);
    }, DEBOUNCE_MS);
    await sleep(typingDelay(next, typed[i - 1]));
  }
  await sleep(DEBOUNCE_MS + 50);
  await Promise.all([...pending]);
  return { latencies, debounceCancelled, keystrokes: typed.length, typingMs: performance.now() - started };
}

/** Keeps the workspace index thread building an index of `folder` (a new build as each ends) until stopped. */
function keepIndexing(folder) {
  let builds = 0;
  let worker;
  let stopped = false;
  const start = () => {
    worker = new Worker(path.join(ROOT, 'dist', 'indexer.js'));
    worker.on('message', (reply) => {
      if (reply.kind !== 'ready') return;
      builds++;
      void worker.terminate().then(() => !stopped && start());
    });
    worker.postMessage({ kind: 'start', roots: [folder], exclude: [], savedPath: undefined, wasmDir: path.join(ROOT, 'dist', 'tree-sitter'), limits: { maxFileBytes: 512 * 1024, maxTotalBytes: 256 * 1024 * 1024 } });
  };
  start();
  return async () => {
    stopped = true;
    await worker.terminate();
    return builds;
  };
}

async function run(label, reuse, indexFolder) {
  const stopIndexing = indexFolder ? keepIndexing(indexFolder) : undefined;
  const client = new EngineClient(workerTransport(path.join(ROOT, 'dist', 'worker.js')));
  const rssBefore = process.memoryUsage().rss;
  const info = await client.load({ folder: values.model ? path.resolve(values.model) : bundledModelFolder(ROOT), options: { reusePromptCache: reuse } });
  const service = new CompletionService((params, signal) => client.call('complete', params, { priority: 'high', signal }), () => DEFAULT_COMPLETION_SETTINGS, reuse);
  const next = createRandom(Number(values.seed)); // the engine's mulberry32: both runs type with the same rhythm
  const all = { engine: [], cache: [] };
  let keystrokes = 0;
  let debounceCancelled = 0;
  let typingMs = 0;
  const cpuStart = process.cpuUsage();
  for (const session of SESSIONS) {
    const result = await replay(service, session, next);
    all.engine.push(...result.latencies.engine);
    all.cache.push(...result.latencies.cache);
    keystrokes += result.keystrokes;
    debounceCancelled += result.debounceCancelled;
    typingMs += result.typingMs;
  }
  const cpu = process.cpuUsage(cpuStart);
  // Idle: nobody types for 5 s; the engine must not use the CPU.
  const idleStart = process.cpuUsage();
  await sleep(5000);
  const idle = process.cpuUsage(idleStart);
  const rss = process.memoryUsage().rss;
  await client.dispose();
  if (stopIndexing) console.log(`${label}: ${await stopIndexing()} complete index builds of ${indexFolder} during the replay`);
  const answered = [...all.engine, ...all.cache];
  const lookups = service.cache.hits + service.cache.misses;
  return {
    label,
    model: `${info.name} (${info.quantization}, ${info.threads} thread${info.threads > 1 ? 's' : ''})`,
    keystrokes,
    requests: answered.length + service.cancelled,
    debounceCancelled,
    engineCancelled: service.cancelled,
    p50: percentile(answered, 50),
    p95: percentile(answered, 95),
    engineP50: percentile(all.engine, 50),
    engineP95: percentile(all.engine, 95),
    cacheHitRate: lookups ? service.cache.hits / lookups : 0,
    cpuSecondsPerMinute: (cpu.user + cpu.system) / 1e6 / (typingMs / 60_000),
    idleCpuPercent: ((idle.user + idle.system) / 1e6 / 5) * 100,
    rssMB: rss / 2 ** 20,
    rssAddedMB: (rss - rssBefore) / 2 ** 20,
  };
}

const runs = [await run('Attentive (cache + prompt reuse)', true)];
if (values.reference) runs.push(await run('reference: no cache, no prompt reuse', false));
if (values['while-indexing']) runs.push(await run('while the workspace index builds', true, path.resolve(values['while-indexing'])));

const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
console.log(`${SESSIONS.length} sessions of ${LINES} lines typed (${runs[0].keystrokes} keystrokes), debounce ${DEBOUNCE_MS} ms, model ${runs[0].model}`);
console.log('| run | latency p50 ms | p95 ms | engine-answered p50 / p95 ms | requests sent | cancelled in engine | debounced away | cache hit rate | CPU s per typing minute | CPU idle % | RSS MB |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of runs) {
  console.log(`| ${r.label} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.engineP50)} / ${f(r.engineP95)} | ${r.requests} | ${r.engineCancelled} | ${r.debounceCancelled} | ${f(r.cacheHitRate * 100)}% | ${f(r.cpuSecondsPerMinute, 1)} | ${f(r.idleCpuPercent, 1)} | ${f(r.rssMB)} |`);
}
for (const other of runs.slice(1)) {
  console.log(`p50 ratio (${other.label} ÷ Attentive): ${f(other.p50 / runs[0].p50, 2)}; p95 ratio: ${f(other.p95 / runs[0].p95, 2)}`);
}
console.log('targets (issue 5): p50 < 80 ms, p95 < 200 ms, CPU idle between bursts');
if (values.json) fs.writeFileSync(values.json, JSON.stringify(runs));
