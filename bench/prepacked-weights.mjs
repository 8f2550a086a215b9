// ONNX Runtime's saved pre-packed weights: a session can write an optimised copy of a model with MatMulNBits' packed
// weights in its external data (session.save_external_prepacked_constant_initializers), so that later sessions map
// them instead of packing them onto the heap. Does the copy compute the same logits, and how fast does it load?
//   npm run build && node bench/prepacked-weights.mjs FILE.onnx [FILE.onnx ...]
// Each file is first given its weights as external data the way the engine loads large models
// (src/worker/externalWeights.ts; pre-packed weights are saved only for external initializers). Then: an ordinary
// session's logits for 8 prompt tokens against a session on the optimised copy (largest difference, NaN count), and
// the load time of each (the reference: the ordinary session on the same file, in the same run).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// ONNX Runtime's usage telemetry off before its first session, as the engine does (src/worker/noTelemetry.ts).
process.env.ORT_DISABLE_TELEMETRY = '1';
const ort = require('onnxruntime-node');
const { externalWeightsPath } = require(path.join(ROOT, 'dist', 'bench.js'));

const OPTIONS = {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  intraOpNumThreads: 2,
  interOpNumThreads: 1,
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } }, // as the engine
};
const PROMPT = [5, 17, 42, 99, 7, 300, 11, 64];

/** The first step's logits for PROMPT: [1, 8, vocab]. */
async function logits(session) {
  const feeds = {};
  for (const meta of session.inputMetadata) {
    const { name } = meta;
    if (name === 'input_ids') feeds[name] = new ort.Tensor('int64', BigInt64Array.from(PROMPT, BigInt), [1, PROMPT.length]);
    else if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', new BigInt64Array(PROMPT.length).fill(1n), [1, PROMPT.length]);
    else if (name === 'position_ids') feeds[name] = new ort.Tensor('int64', BigInt64Array.from(PROMPT, (_, i) => BigInt(i)), [1, PROMPT.length]);
    else if (name === 'use_cache_branch') feeds[name] = new ort.Tensor('bool', new Uint8Array([0]), [1]);
    else if (name.startsWith('past_key_values.')) {
      const dims = meta.shape.map((d) => (typeof d === 'number' ? d : d.includes('past') ? 0 : 1)); // [1, kv_heads, 0, head_dim]
      feeds[name] = new ort.Tensor(meta.type, meta.type === 'float16' ? new Uint16Array(0) : new Float32Array(0), dims);
    }
  }
  return (await session.run(feeds, ['logits'])).logits.data;
}

async function timedSession(file, options = OPTIONS) {
  const start = performance.now();
  const session = await ort.InferenceSession.create(file, options);
  return { session, seconds: (performance.now() - start) / 1000 };
}

console.log(`onnxruntime-node ${ort.env.versions.node}`);
console.log('| file | largest logit difference | NaN | load s (ordinary) | load s (pre-packed copy) | ratio |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const source of process.argv.slice(2)) {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-prepacked-'));
  try {
    let file = externalWeightsPath(path.resolve(source), temp, 0);
    if (!file.startsWith(temp)) {
      // Left as it was (no initializer to move, e.g. weights inside If branches): a copy, so nothing is written beside it.
      for (const part of fs.readdirSync(path.dirname(file)).filter((f) => f === path.basename(file) || f.startsWith(`${path.basename(file)}_data`))) {
        fs.copyFileSync(path.join(path.dirname(file), part), path.join(temp, part));
      }
      file = path.join(temp, path.basename(file));
    }
    const copy = path.join(path.dirname(file), 'prepacked.onnx');
    const ordinary = await timedSession(file);
    const expected = await logits(ordinary.session);
    await ordinary.session.release();
    const session = {
      ...OPTIONS.extra.session,
      save_external_prepacked_constant_initializers: '1',
      optimized_model_external_initializers_file_name: 'prepacked.onnx.data',
      optimized_model_external_initializers_min_size_in_bytes: '1024',
    };
    const writer = await ort.InferenceSession.create(file, { ...OPTIONS, optimizedModelFilePath: copy, logSeverityLevel: 3, extra: { session } });
    await writer.release();
    let row;
    try {
      const mapped = await timedSession(copy);
      const actual = await logits(mapped.session);
      await mapped.session.release();
      let largest = 0;
      let nan = 0;
      for (let i = 0; i < expected.length; i++) {
        if (Number.isNaN(actual[i])) nan++;
        else largest = Math.max(largest, Math.abs(actual[i] - expected[i]));
      }
      row = `${largest.toExponential(2)} | ${nan} of ${expected.length} | ${ordinary.seconds.toFixed(2)} | ${mapped.seconds.toFixed(2)} | ${(mapped.seconds / ordinary.seconds).toFixed(2)}x`;
    } catch (error) {
      row = `copy does not load: ${error.message.split('\n')[0].slice(0, 120)} | | ${ordinary.seconds.toFixed(2)} | | `;
    }
    console.log(`| ${path.relative(ROOT, path.resolve(source))} | ${row} |`);
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}
