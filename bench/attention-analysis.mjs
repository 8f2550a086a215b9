// What Explain Attention's aggregations cost on the extension host's thread at the edge of the attention budget
// (issue 17): rollout through every layer and every head's statistics (src/extension/attention/analysis.ts), on
// random causal maps of the Qwen2.5-Coder-0.5B shape at its token limit (24 layers x 14 heads, 446 tokens). The
// reference, in the same run: one layer's mean over heads (what the default view computes).
//   node bench/attention-analysis.mjs [--layers 24] [--heads 14] [--tokens 446] [--runs 3]

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

// analysis.ts imports no vscode: bundled alone.
const bundle = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-analysis-')), 'analysis.cjs');
await build({ entryPoints: [path.join(ROOT, 'src', 'extension', 'attention', 'analysis.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'error' });
const analysis = createRequire(import.meta.url)(bundle);

let state = 20261206;
const random = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
const weights = Array.from({ length: layers }, () => {
  const layer = new Float32Array(heads * seq * seq);
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
const time = (work) => median(Array.from({ length: runs }, () => {
  const started = performance.now();
  work();
  return performance.now() - started;
}));
const mean = time(() => analysis.meanOverHeads(maps, layers - 1));
const rollout = time(() => analysis.rollout(maps, layers - 1));
const summaries = time(() => analysis.summarizeHeads(maps, tokens));
console.log(`${layers} layers x ${heads} heads, ${seq} tokens, random causal maps; medians of ${runs}`);
console.log('| work | ms | ratio to one mean |');
console.log('|---|---:|---:|');
console.log(`| one layer's mean over heads (reference) | ${mean.toFixed(1)} | 1x |`);
console.log(`| rollout through every layer | ${rollout.toFixed(0)} | ${(rollout / mean).toFixed(0)}x |`);
console.log(`| every head's statistics | ${summaries.toFixed(0)} | ${(summaries / mean).toFixed(0)}x |`);
