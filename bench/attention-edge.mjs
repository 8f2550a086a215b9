// Explain Attention at the edge of its memory budget (issue 17): on the Qwen2.5-Coder-0.5B shape (24 layers x 14
// heads; training/fixtures/shape_model.py), a text of exactly ModelInfo.attentionTokenLimit tokens, through the engine
// worker as the extension runs it. Each run is a child process of its own, so its peak RSS (VmHWM) is that run's:
//   - attention: the maps of every layer and head, the tokens' surprisal and predictions;
//   - the reference, in the same run: surprisal alone (the same tokens through the same engine, no maps);
//   - cancel: an attention run aborted 300 ms after it started, and how long the abort took to end it.
// Each child opens its sessions with a short call before the measured one.
//   npm run build && node bench/attention-edge.mjs [--model DIR] [--runs 3]

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: path.join(ROOT, '.cache', 'shape-models', 'qwen2.5-coder-0.5b') },
    runs: { type: 'string', default: '3' },
    child: { type: 'string' },
    text: { type: 'string' },
  },
});
const CACHE_DIR = path.join(ROOT, '.cache', 'model-cache');

const peakRssMB = () => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;

async function child(kind) {
  const { EngineClient, workerTransport } = require(path.join(ROOT, 'dist', 'bench.js'));
  const client = new EngineClient(workerTransport(path.join(ROOT, 'dist', 'worker.js')));
  await client.load({ folder: values.model, options: { cacheDir: CACHE_DIR } });
  const text = fs.readFileSync(values.text, 'utf8');
  // Both runs use the session on the graph with attention outputs (a large model generates from a last-position
  // graph): opened by a short call first, so the figures are the runs', not the session's creation (seconds, native,
  // and not interruptible).
  await client.call('surprisal', { text: 'x = 1' });
  const started = performance.now();
  let result = {};
  if (kind === 'cancel') {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const error = await client.call('attention', { text }, { signal: controller.signal }).then(() => null, (e) => e);
    result = { cancelled: error?.code === 'cancelled', endedAfterAbortMs: performance.now() - started - 300 };
  } else {
    const answer = await client.call(kind, { text });
    result = { tokens: answer.tokens.length, ms: performance.now() - started };
  }
  await client.dispose();
  console.log(JSON.stringify({ ...result, peakRssMB: peakRssMB() }));
}

function parent() {
  if (!fs.existsSync(path.join(values.model, 'config.json'))) {
    throw new Error(`${values.model} has no model: write it with .venv-serve/bin/python -m training.fixtures.shape_model`);
  }
  const { LoadedModel } = require(path.join(ROOT, 'dist', 'bench.js'));
  const measure = (kind, textFile) =>
    JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', kind, '--model', values.model, '--text', textFile], { encoding: 'utf8' }).trim().split('\n').at(-1));
  return (async () => {
    const model = await LoadedModel.load(values.model, { threads: 1, cacheDir: CACHE_DIR });
    const info = model.info();
    // Whole lines of our own code, cut to the limit with the model's own tokenizer (its leading tokens included).
    const code = ['src/worker/engine.ts', 'src/worker/decoderSession.ts', 'src/extension/attention/attentionPanel.ts'].map((f) => fs.readFileSync(path.join(ROOT, f), 'utf8')).join('\n');
    const text = model.tokenizer.truncate(code, info.attentionTokenLimit - 1);
    await model.release();
    const textFile = path.join(CACHE_DIR, 'attention-edge.txt');
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    fs.writeFileSync(textFile, text);
    measure('surprisal', textFile); // a first load writes the engine's cached graphs: not measured
    const rows = [];
    for (let run = 0; run < Number(values.runs); run++) {
      rows.push({ surprisal: measure('surprisal', textFile), attention: measure('attention', textFile), cancel: measure('cancel', textFile) });
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const mapsMB = (info.layers * info.heads * rows[0].attention.tokens ** 2 * 4) / 1e6;
    console.log(`${path.basename(values.model)}: ${info.layers} layers x ${info.heads} heads, budget ${(info.attentionBudgetBytes / 1e6).toFixed(0)} MB -> limit ${info.attentionTokenLimit} tokens; this text ${rows[0].attention.tokens} tokens (maps ${mapsMB.toFixed(0)} MB); ${rows.length} runs, medians`);
    console.log('| run | time s | peak RSS MB |');
    console.log('|---|---:|---:|');
    const time = (kind) => median(rows.map((r) => r[kind].ms)) / 1000;
    const rss = (kind) => median(rows.map((r) => r[kind].peakRssMB));
    console.log(`| surprisal alone (reference) | ${time('surprisal').toFixed(2)} | ${rss('surprisal').toFixed(0)} |`);
    console.log(`| attention at the limit | ${time('attention').toFixed(2)} | ${rss('attention').toFixed(0)} |`);
    console.log(`| ratio attention / reference | ${(time('attention') / time('surprisal')).toFixed(2)}x | ${(rss('attention') / rss('surprisal')).toFixed(2)}x (+${(rss('attention') - rss('surprisal')).toFixed(0)} MB) |`);
    console.log(`cancel 300 ms into an attention run: ended ${median(rows.map((r) => r.cancel.endedAfterAbortMs)).toFixed(0)} ms after the abort (${rows.filter((r) => r.cancel.cancelled).length}/${rows.length} runs cancelled)`);
  })();
}

await (values.child ? child(values.child) : parent());
