// Engine speed against its floor: decode tokens/s and time to first token of the Attentive engine (in its worker,
// through the RPC) beside a bare ONNX Runtime greedy loop over the same ONNX file, in the same run.
//   node bench/engine.mjs [--model DIR] [--quantization q4|int8|fp32] [--prompt-tokens 200] [--new-tokens 128] [--runs 9] [--threads N] [--json FILE]
// Prints a table and the engine's overhead ratio (bare tokens/s ÷ engine tokens/s; 1.00 = no overhead).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// ONNX Runtime's usage telemetry off before its first session, as the engine does (src/worker/noTelemetry.ts).
process.env.ORT_DISABLE_TELEMETRY = '1';
const ort = require('onnxruntime-node');
const { EngineClient, workerTransport, readModelFolder, bundledModelFolder, ModelTokenizer } = require(path.join(ROOT, 'dist', 'bench.js'));

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    'prompt-tokens': { type: 'string', default: '200' },
    'new-tokens': { type: 'string', default: '128' },
    runs: { type: 'string', default: '9' },
    threads: { type: 'string' },
    quantization: { type: 'string' },
    json: { type: 'string' },
  },
});
const folder = values.model ? path.resolve(values.model) : bundledModelFolder(ROOT);
const promptTokens = Number(values['prompt-tokens']);
const newTokens = Number(values['new-tokens']);
const runs = Number(values.runs);
const threads = values.threads ? Number(values.threads) : Math.max(1, Math.floor(os.cpus().length / 2));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const model = readModelFolder(folder, values.quantization ? values.quantization.split(',') : undefined);

/** The floor: ORT alone, same session options, greedy with the KV cache, no tokenizer, no RPC. */
async function createBareRunner(promptIds) {
  const session = await ort.InferenceSession.create(model.onnxPath, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
  const pastNames = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
  const meta = session.inputMetadata.find((m) => m.name === pastNames[0]);
  const kvHeads = typeof meta?.shape?.[1] === 'number' ? meta.shape[1] : model.config.kvHeads;
  const headDim = typeof meta?.shape?.[3] === 'number' ? meta.shape[3] : model.config.headDim;
  const runOnce = async () => {
    let past = Object.fromEntries(pastNames.map((n) => [n, new ort.Tensor('float32', new Float32Array(0), [1, kvHeads, 0, headDim])]));
    let ids = promptIds;
    let length = 0;
    const start = performance.now();
    let first = 0;
    for (let step = 0; step < newTokens; step++) {
      const feeds = { input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]), ...past };
      const total = length + ids.length;
      if (session.inputNames.includes('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]);
      if (session.inputNames.includes('position_ids')) {
        feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: ids.length }, (_, i) => BigInt(length + i)), [1, ids.length]);
      }
      if (session.inputNames.includes('use_cache_branch')) feeds.use_cache_branch = new ort.Tensor('bool', new Uint8Array([length > 0 ? 1 : 0]), [1]);
      const out = await session.run(feeds, ['logits', ...pastNames.map((n) => n.replace('past_key_values.', 'present.'))]);
      const logits = out.logits.data;
      const vocab = logits.length / ids.length;
      let best = 0;
      for (let v = 1; v < vocab; v++) if (logits[(ids.length - 1) * vocab + v] > logits[(ids.length - 1) * vocab + best]) best = v;
      if (step === 0) first = performance.now();
      past = Object.fromEntries(pastNames.map((n) => [n, out[n.replace('past_key_values.', 'present.')]]));
      length = total;
      ids = [best];
    }
    const end = performance.now();
    return { ttft: first - start, tps: ((newTokens - 1) * 1000) / (end - first) };
  };
  return { runOnce, release: () => session.release() };
}

async function createEngineRunner(prompt) {
  const client = new EngineClient(workerTransport(path.join(ROOT, 'dist', 'worker.js')));
  // Quantization preference pinned to the file the bare loop uses.
  // No reuse of the previous call's prompt: every run prefills its whole prompt, as the floor does.
  await client.load({ folder, options: { threads, quantization: [model.quantization], reusePromptCache: false } });
  const runOnce = async () => {
    const result = await client.call('generate', { prompt, maxNewTokens: newTokens, minNewTokens: newTokens, temperature: 0 });
    return { ttft: result.usage.timeToFirstTokenMs, tps: result.usage.decodeTokensPerSecond, n: result.usage.generatedTokens, p: result.usage.promptTokens };
  };
  return { runOnce, release: () => client.dispose() };
}

// A code prompt of about `promptTokens` tokens, cut to exactly that many ids for the bare loop.
const tokenizer = new ModelTokenizer(model.tokenizerJson, model.tokenizerConfig);
const source = 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n';
let text = source;
while (tokenizer.encode(text).length < promptTokens) text += source;
const promptIds = tokenizer.encode(text).slice(0, promptTokens);
const prompt = tokenizer.decode(promptIds, false);

// Runs alternate between the two (after two warm-up runs each), so load from elsewhere on the machine hits both alike.
const engineRunner = await createEngineRunner(prompt);
const bareRunner = await createBareRunner(promptIds);
const engine = [];
const bare = [];
for (let run = 0; run < runs + 2; run++) {
  const e = await engineRunner.runOnce();
  const b = await bareRunner.runOnce();
  if (run >= 2) {
    engine.push(e);
    bare.push(b);
  }
}
await engineRunner.release();
await bareRunner.release();
const engineTps = median(engine.map((r) => r.tps));
const bareTps = median(bare.map((r) => r.tps));
const engineTtft = median(engine.map((r) => r.ttft));
const bareTtft = median(bare.map((r) => r.ttft));
console.log(`model ${model.name} (${path.basename(model.onnxPath)}), ${threads} threads, prompt ${engine[0].p} tokens, ${newTokens} new tokens (engine generated ${engine[0].n}), median of ${runs}`);
console.log('| | decode tokens/s | time to first token (ms) |');
console.log('|---|---|---|');
console.log(`| bare ONNX Runtime loop (floor) | ${bareTps.toFixed(0)} | ${bareTtft.toFixed(1)} |`);
console.log(`| Attentive engine (worker + RPC) | ${engineTps.toFixed(0)} | ${engineTtft.toFixed(1)} |`);
console.log(`overhead ratio (bare ÷ engine tokens/s): ${(bareTps / engineTps).toFixed(2)}; TTFT ratio (engine ÷ bare): ${(engineTtft / bareTtft).toFixed(2)}`);
if (values.json) fs.writeFileSync(values.json, JSON.stringify({ engineTps, bareTps, engineTtft, bareTtft, promptTokens: engine[0].p, newTokens }));
