// What Explain Attention's aggregations cost at the edge of the attention budget (issue 17): rollout through every
// layer and every head's thumbnail and statistics (src/extension/attention/analysis.ts), on random causal maps of the
// Qwen2.5-Coder-0.5B shape at its token limit (24 layers x 14 heads, 446 tokens), computed on the host's thread and in
// the analysis thread the view uses (dist/analysis.js through analysisClient.ts), with the longest time the host's
// event loop was held meanwhile. The reference, in the same run: one layer's mean over heads on the host.
//   npm run build && node bench/attention-analysis.mjs [--layers 24] [--heads 14] [--tokens 446] [--runs 3]

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { layers: { type: 'string', default: '24' }, heads: { type: 'string', default: '14' }, tokens: { type: 'string', default: '446' }, runs: { type: 'string', default: '3' } } });
const [layers, heads, seq, runs] = [values.layers, values.heads, values.tokens, values.runs].map(Number);

// analysis.ts and analysisClient.ts import no vscode: bundled alone.
const bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-analysis-'));
const load = async (name) => {
  const outfile = path.join(bundleDir, `${name}.cjs`);
  await build({ entryPoints: [path.join(ROOT, 'src', 'extension', 'attention', `${name}.ts`)], bundle: true, platform: 'node', format: 'cjs', outfile, logLevel: 'error' });
  return createRequire(import.meta.url)(outfile);
};
const analysis = await load('analysis');
const { AnalysisClient } = await load('analysisClient');
const THREAD_SCRIPT = path.join(ROOT, 'dist', 'analysis.js');

let state = 20261206;
const random = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
const weights = Array.from({ length: layers }, () => {
  const layer = new Float32Array(new SharedArrayBuffer(heads * seq * seq * 4)); // as the engine makes them
  for (let row = 0; row < heads * seq; row++) {
    const q = row % seq;
    let sum = 0;
    for (let k = 0; k <= q; k++) sum += layer[row * seq + k] = random();
    for (let k = 0; k <= q; k++) layer[row * seq + k] /= sum;
  }
  return layer;
});
const maps = { layers, heads, seq, weights };
const tokens = Array.from({ length: seq }, (_, i) => `t${i % 50}`);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median ms of `work` and median of the longest event-loop gap while it ran (a 5 ms timer's lateness). */
async function measure(work) {
  const times = [];
  const gaps = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    let last = started;
    let gap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      gap = Math.max(gap, now - last);
      last = now;
    }, 5);
    await work();
    times.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 10)); // a loop held to the end shows as a gap here
    clearInterval(timer);
    gaps.push(gap);
  }
  return { ms: median(times), gap: median(gaps) };
}

const mean = await measure(() => analysis.meanOverHeads(maps, layers - 1));
const rolloutHost = await measure(() => analysis.rollout(maps, layers - 1));
const detailsHost = await measure(() => analysis.headDetails(maps, tokens, 48));
// A new thread for each run, as the view starts one per explained text (its start-up counted).
const inThread = (ask) => async () => {
  const client = new AnalysisClient(THREAD_SCRIPT, maps);
  try {
    await ask(client);
  } finally {
    client.dispose();
  }
};
const rolloutThread = await measure(inThread((client) => client.matrix({ kind: 'rollout', layer: layers - 1 })));
const detailsThread = await measure(inThread((client) => client.details(tokens, 48)));
console.log(`${layers} layers x ${heads} heads, ${seq} tokens, random causal maps; medians of ${runs}`);
console.log('| work | on the host: ms | event loop held ms | in the analysis thread: ms | longest event-loop gap ms |');
console.log('|---|---:|---:|---:|---:|');
const row = (name, host, thread) => console.log(`| ${name} | ${host.ms.toFixed(0)} (${(host.ms / mean.ms).toFixed(0)}x the reference) | ${host.gap.toFixed(0)} | ${thread ? thread.ms.toFixed(0) : '-'} | ${thread ? thread.gap.toFixed(0) : '-'} |`);
console.log(`| one layer's mean over heads (reference) | ${mean.ms.toFixed(1)} | ${mean.gap.toFixed(0)} | - | - |`);
row('rollout through every layer', rolloutHost, rolloutThread);
row("every head's thumbnail and statistics", detailsHost, detailsThread);
