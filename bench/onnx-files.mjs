// Decode speed of several ONNX files of one model, interleaved in the same run (so the machine's noise hits all of
// them alike): a bare ONNX Runtime greedy loop with the engine's session options, 200-token prompt, 128 new tokens.
//   node bench/onnx-files.mjs FILE.onnx [FILE.onnx ...] [--threads 1] [--runs 9]
// Prints per file the median decode tokens/s, the median time to first token, the speed ratio against the first
// file, and where its greedy tokens first differ from the first file's (-1: identical).

import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
// ONNX Runtime's usage telemetry off before its first session, as the engine does (src/worker/noTelemetry.ts).
process.env.ORT_DISABLE_TELEMETRY = '1';
const ort = require('onnxruntime-node');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { threads: { type: 'string', default: '1' }, runs: { type: 'string', default: '9' }, 'new-tokens': { type: 'string', default: '128' } },
});
if (positionals.length === 0) {
  console.error('usage: node bench/onnx-files.mjs FILE.onnx [FILE.onnx ...] [--threads 1] [--runs 9]');
  process.exit(2);
}
const threads = Number(values.threads);
const newTokens = Number(values['new-tokens']);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const sessions = [];
for (const file of positionals) {
  sessions.push(
    await ort.InferenceSession.create(file, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    }),
  );
}

/** Greedy decoding with the KV cache; the prompt is a fixed pseudo-random id sequence (speed does not depend on it). */
async function decode(session, steps) {
  const pastNames = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
  const meta = session.inputMetadata.find((m) => m.name === pastNames[0]);
  const [kvHeads, headDim] = [meta.shape[1], meta.shape[3]];
  const fetches = ['logits', ...pastNames.map((n) => n.replace('past_key_values.', 'present.'))];
  let past = Object.fromEntries(pastNames.map((n) => [n, new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim])]));
  let ids = Array.from({ length: 200 }, (_, i) => ((i * 37) % 4000) + 10);
  let length = 0;
  const tokens = [];
  const started = performance.now();
  let firstAt = 0;
  for (let step = 0; step < steps; step++) {
    const total = length + ids.length;
    const feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]), // [batch, seq]
      attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]), // [batch, past+seq]
      ...past,
    };
    if (session.inputNames.includes('position_ids')) {
      feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: ids.length }, (_, i) => BigInt(length + i)), [1, ids.length]);
    }
    const results = await session.run(feeds, fetches);
    const logits = results.logits.data; // [batch, seq, vocab]
    const vocab = logits.length / ids.length;
    const offset = logits.length - vocab;
    let best = 0;
    for (let v = 1; v < vocab; v++) if (logits[offset + v] > logits[offset + best]) best = v;
    tokens.push(best);
    past = Object.fromEntries(pastNames.map((n) => [n, results[n.replace('past_key_values.', 'present.')]]));
    length = total;
    ids = [best];
    if (step === 0) firstAt = performance.now();
  }
  const finished = performance.now();
  return { ttft: firstAt - started, tokensPerSecond: ((steps - 1) * 1000) / (finished - firstAt), tokens };
}

for (const session of sessions) await decode(session, 20); // warm-up
const results = sessions.map(() => []);
for (let run = 0; run < Number(values.runs); run++) {
  for (const [i, session] of sessions.entries()) results[i].push(await decode(session, newTokens));
}
const reference = median(results[0].map((r) => r.tokensPerSecond));
console.log(`${threads} thread(s), 200-token prompt, ${newTokens} new tokens, median of ${values.runs} interleaved runs`);
console.log('| file | decode tokens/s | ratio to first | time to first token (ms) | greedy tokens first differ at |');
console.log('|---|---:|---:|---:|---:|');
for (const [i, file] of positionals.entries()) {
  const speed = median(results[i].map((r) => r.tokensPerSecond));
  const differ = results[i][0].tokens.findIndex((t, k) => t !== results[0][0].tokens[k]);
  console.log(`| ${file} | ${speed.toFixed(0)} | ${(speed / reference).toFixed(2)} | ${median(results[i].map((r) => r.ttft)).toFixed(1)} | ${differ} |`);
}
