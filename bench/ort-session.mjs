// A bare ONNX Runtime session on one decoder file, outside the engine: where the memory goes and what session options
// do to speed. The figures behind the "where it goes" notes of docs/PERFORMANCE.md (issue 8) come from it.
//   node bench/ort-session.mjs FILE.onnx [--threads 2] [--prompt 512] [--chunk 0] [--decode 64]
//        [--spin] [--no-arena] [--config key=value ...] [--gc-every-step]   (--gc-every-step needs node --expose-gc)
// --config sets ONNX Runtime session config entries, e.g. session.disable_prepacking=1. Prints the load time and RSS
// after loading, then per repetition (two): prompt tokens/s (the prompt in chunks of --chunk tokens, 0 = one run),
// decode tokens/s, RSS and peak RSS, and the process's resident memory split into anonymous and file-backed pages
// (the memory-mapped weights of a model with external data are file-backed). Token ids are spread over the vocabulary.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ort = require(path.join(ROOT, 'node_modules', 'onnxruntime-node'));

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    threads: { type: 'string', default: '2' },
    prompt: { type: 'string', default: '512' },
    chunk: { type: 'string', default: '0' },
    decode: { type: 'string', default: '64' },
    spin: { type: 'boolean', default: false },
    'no-arena': { type: 'boolean', default: false },
    config: { type: 'string', multiple: true, default: [] },
    'gc-every-step': { type: 'boolean', default: false },
  },
});
const file = positionals[0];
if (!file) throw new Error('usage: node bench/ort-session.mjs FILE.onnx [options]');
if (values['gc-every-step'] && !globalThis.gc) throw new Error('--gc-every-step needs node --expose-gc');

const mb = (kb) => (kb / 1024).toFixed(0);
function memory() {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))[1]);
  return `RSS ${mb(kb('VmRSS'))} MB (anonymous ${mb(kb('RssAnon'))}, file-backed ${mb(kb('RssFile'))}, of which the mapped weights ${mb(mappedWeightsKb())}), peak ${mb(kb('VmHWM'))} MB`;
}

/** Resident kB of this process's mappings of external-data files (`*.onnx_data`), from /proc/self/smaps. */
function mappedWeightsKb() {
  let total = 0;
  let inWeights = false;
  for (const line of fs.readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const mapping = line.match(/^[0-9a-f]+-[0-9a-f]+ /);
    if (mapping) inWeights = line.trimEnd().endsWith('.onnx_data');
    else if (inWeights && line.startsWith('Rss:')) total += Number(line.match(/(\d+) kB/)[1]);
  }
  return total;
}

const configEntries = Object.fromEntries(values.config.map((entry) => entry.split('=')));
const loadStart = performance.now();
const session = await ort.InferenceSession.create(file, {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  intraOpNumThreads: Number(values.threads),
  interOpNumThreads: 1,
  enableCpuMemArena: !values['no-arena'],
  extra: { session: { intra_op: { allow_spinning: values.spin ? '1' : '0' }, inter_op: { allow_spinning: '0' } }, ...configEntries },
});
console.log(`${path.basename(file)}: loaded in ${(performance.now() - loadStart).toFixed(0)} ms; ${memory()}`);

const pastNames = session.inputNames.filter((name) => name.startsWith('past_key_values.'));
const pastMeta = session.inputMetadata.find((m) => m.name === pastNames[0]);
const [kvHeads, headDim] = [pastMeta.shape[1], pastMeta.shape[3]];
const vocab = session.outputMetadata.find((m) => m.name === 'logits').shape[2];

let cache;
let length;
async function step(ids) {
  const total = length + ids.length;
  const feeds = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
    ...cache,
  };
  if (session.inputNames.includes('position_ids')) {
    feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from(ids, (_, i) => BigInt(length + i)), [1, ids.length]);
  }
  const out = await session.run(feeds);
  if (values['gc-every-step']) globalThis.gc();
  cache = Object.fromEntries(pastNames.map((name) => [name, out[name.replace('past_key_values.', 'present.')]]));
  length = total;
  const logits = out.logits.data; // [1, seq, vocab]: greedy on the last position
  let best = 0;
  for (let v = 1; v < vocab; v++) if (logits[(ids.length - 1) * vocab + v] > logits[(ids.length - 1) * vocab + best]) best = v;
  return best;
}

const promptTokens = Number(values.prompt);
const chunk = Number(values.chunk) || promptTokens;
const decodeTokens = Number(values.decode);
for (let repetition = 1; repetition <= 2; repetition++) {
  cache = Object.fromEntries(pastNames.map((name) => [name, new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim])]));
  length = 0;
  const prompt = Array.from({ length: promptTokens }, (_, i) => ((i * 7919) % (vocab - 10)) + 10);
  const promptStart = performance.now();
  let next = 0;
  for (let start = 0; start < prompt.length; start += chunk) next = await step(prompt.slice(start, start + chunk));
  const promptMs = performance.now() - promptStart;
  const decodeStart = performance.now();
  for (let i = 0; i < decodeTokens; i++) next = await step([next]);
  const decodeMs = performance.now() - decodeStart;
  console.log(
    `repetition ${repetition}: prompt ${promptTokens} tokens at ${((promptTokens * 1000) / promptMs).toFixed(0)} tokens/s (chunks of ${chunk}), ` +
      `decode ${((decodeTokens * 1000) / decodeMs).toFixed(1)} tokens/s; ${memory()}`,
  );
}
await session.release();
