// Runs ONNX decoders in onnxruntime-node for the Python tests (there is no Python onnxruntime here).
//
//   node training/tests/ort_run.mjs jobs.json out.json
//
// jobs.json: a list of jobs, each
//   {"cmd": "run", "model": path, "feeds": {name: {"dims": [...], "type": "int64"|"float32", "data": [...]}},
//    "fetch": [names] | null, "opt": "all"|"basic"|"disabled"}
//       -> {"outputs": {name: {"dims": [...], "data": [...]}}, "inputNames": [...], "outputNames": [...]}
//   {"cmd": "greedy", "model": path, "prompt": [ids], "steps": n, "opt": ...}
//       -> {"tokens": [...], "prefill_logits": [last position logits], "ms_per_token": x}
//     greedy decoding with the KV cache, batch 1: the prefill starts from an empty past (dimension 0);
//     position_ids is fed only if the graph declares it; past shapes come from inputMetadata.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'package.json'));
const ort = require('onnxruntime-node');

const [jobsPath, outPath] = process.argv.slice(2);
const jobs = JSON.parse(readFileSync(jobsPath, 'utf8'));

function tensor(spec) {
  if (spec.type === 'int64') return new ort.Tensor('int64', BigInt64Array.from(spec.data.map((x) => BigInt(x))), spec.dims);
  if (spec.type === 'bool') return new ort.Tensor('bool', Uint8Array.from(spec.data), spec.dims);
  return new ort.Tensor('float32', Float32Array.from(spec.data), spec.dims);
}

function plain(t) {
  const data = t.type === 'int64' ? Array.from(t.data, (x) => Number(x)) : Array.from(t.data);
  return { dims: t.dims, type: t.type, data };
}

const sessions = new Map();
async function session(model, opt = 'all') {
  const key = `${model}|${opt}`;
  if (!sessions.has(key)) {
    sessions.set(key, await ort.InferenceSession.create(model, {
      graphOptimizationLevel: opt, intraOpNumThreads: 2, interOpNumThreads: 1,
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    }));
  }
  return sessions.get(key);
}

function kvShape(sess, name) {
  const meta = sess.inputMetadata?.find?.((m) => m.name === name) ?? null;
  return meta && meta.shape ? meta.shape : null;
}

function argmax(arr, off, n) {
  let best = 0; let bv = -Infinity;
  for (let i = 0; i < n; i++) { const v = arr[off + i]; if (v > bv) { bv = v; best = i; } }
  return best;
}

async function greedy(job) {
  const sess = await session(job.model, job.opt);
  const names = sess.inputNames;
  const pastNames = names.filter((n) => n.startsWith('past_key_values.'));
  const hasPos = names.includes('position_ids');
  const hasCacheBranch = names.includes('use_cache_branch');
  const feeds = {};
  for (const n of pastNames) {
    const shape = kvShape(sess, n);
    const heads = job.kv_heads ?? (shape ? shape[1] : null);
    const hd = job.head_dim ?? (shape ? shape[3] : null);
    feeds[n] = new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, hd]);
  }
  let ids = job.prompt.slice();
  let past = 0;
  const tokens = [];
  let prefill = null;
  const times = [];
  for (let step = 0; step < job.steps; step++) {
    const t0 = performance.now();
    const T = ids.length;
    feeds.input_ids = new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, T]);
    feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(past + T).fill(1n), [1, past + T]);
    if (hasPos) feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: T }, (_, i) => BigInt(past + i)), [1, T]);
    if (hasCacheBranch) feeds.use_cache_branch = new ort.Tensor('bool', Uint8Array.from([past > 0 ? 1 : 0]), [1]);
    const fetch = ['logits', ...sess.outputNames.filter((n) => n.startsWith('present'))];
    const out = await sess.run(feeds, fetch);
    const logits = out.logits;
    const V = logits.dims[2];
    const off = (T - 1) * V;
    if (step === 0) prefill = Array.from(logits.data.subarray(off, off + V));
    const next = argmax(logits.data, off, V);
    tokens.push(next);
    for (const n of pastNames) feeds[n] = out[n.replace('past_key_values.', 'present.')];
    past += T;
    ids = [next];
    if (step > 0) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { tokens, prefill_logits: prefill, ms_per_token: times.length ? times[Math.floor(times.length / 2)] : null };
}

async function run(job) {
  const sess = await session(job.model, job.opt);
  const feeds = {};
  for (const [k, v] of Object.entries(job.feeds)) feeds[k] = tensor(v);
  const out = await sess.run(feeds, job.fetch ?? undefined);
  const res = {};
  for (const [k, v] of Object.entries(out)) res[k] = plain(v);
  return { outputs: res, inputNames: sess.inputNames, outputNames: sess.outputNames };
}

const results = [];
for (const job of jobs) {
  try {
    results.push(job.cmd === 'greedy' ? await greedy(job) : await run(job));
  } catch (e) {
    results.push({ error: String(e && e.stack ? e.stack : e) });
  }
}
writeFileSync(outPath, JSON.stringify(results));
