// Speed and memory of the engine on the shapes of a real code model (issue 8): Qwen2.5-Coder-0.5B with random
// weights (training/fixtures/shape_model.py), 4-bit and 8-bit, against llama.cpp's figures for the same shapes on this kind
// of machine (quoted in issue 8: llama.cpp is not installed here).
//   node bench/real-shape.mjs [--model DIR] [--quantization q4,int8] [--threads 2] [--prompt-tokens 512] [--new-tokens 128] [--runs 3]
// Each file runs in a child process of its own, so its RSS is the engine's alone: the worker thread, ONNX Runtime,
// the weights, a KV cache of prompt + new tokens and the logits. Prints a table; writes only the engine's cache
// (.cache/model-cache: the copy with external weights that a first load writes, src/worker/externalWeights.ts).

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHAPE = 'qwen2.5-coder-0.5b';
/** The engine's cache (as the extension's global storage): a large single-file model loads from its copy there. */
const CACHE_DIR = path.join(ROOT, '.cache', 'model-cache');

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    quantization: { type: 'string', default: 'q4,int8' },
    threads: { type: 'string', default: '2' },
    'prompt-tokens': { type: 'string', default: '512' },
    'new-tokens': { type: 'string', default: '128' },
    runs: { type: 'string', default: '3' },
    child: { type: 'boolean', default: false },
    'load-only': { type: 'boolean', default: false },
    prompts: { type: 'string' },
  },
});
const folder = values.model ? path.resolve(values.model) : path.join(ROOT, '.cache', 'shape-models', SHAPE);

/** llama.cpp on this kind of machine with the same shapes (issue 8): tokens/s, [low, high]. */
const LLAMA_CPP = {
  q4: { file: 'Q4_K_M', decode: [39, 44], prompt: [154, 174] },
  int8: { file: 'Q8_0', decode: [35, 35], prompt: [193, 227] },
};

/** As llama-bench: prompt speed over a 512-token prompt (pp512), decode speed from an almost empty context (tg). */
const SHORT_PROMPT_TOKENS = 16;
/** Tokens generated after the long prompt: decode speed with 512 positions in the KV cache. */
const AFTER_PROMPT_TOKENS = 32;

const megabytes = (bytes) => (bytes / 1e6).toFixed(0);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Resident and peak resident memory of this process (Linux), in bytes. */
function residentMemory() {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const field = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))[1]) * 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

async function child() {
  const { EngineClient, workerTransport, readModelFolder } = require(path.join(ROOT, 'dist', 'bench.js'));
  const quantization = values.quantization;
  const model = readModelFolder(folder, [quantization]);
  const newTokens = Number(values['new-tokens']);
  // Made by the parent, so that no tokenizer of the bench's own counts in this process's memory.
  const { longPrompt, shortPrompt } = JSON.parse(values.prompts);
  const before = residentMemory();

  const client = new EngineClient(workerTransport(path.join(ROOT, 'dist', 'worker.js')));
  const loadStart = performance.now();
  await client.load({ folder, options: { threads: Number(values.threads), quantization: [quantization], reusePromptCache: false, cacheDir: CACHE_DIR } });
  const loadMs = performance.now() - loadStart;
  if (values['load-only']) {
    await client.dispose();
    process.stdout.write(JSON.stringify({ loadMs }));
    return;
  }
  const loaded = residentMemory();
  const generate = async (prompt, tokens) =>
    (await client.call('generate', { prompt, maxNewTokens: tokens, minNewTokens: tokens, temperature: 0 })).usage;
  const long = [];
  const short = [];
  // One warm-up of each (ONNX Runtime sizes its buffers on the first runs), then the two alternate.
  for (let run = 0; run < Number(values.runs) + 1; run++) {
    const afterLongPrompt = await generate(longPrompt, AFTER_PROMPT_TOKENS);
    const fromShortPrompt = await generate(shortPrompt, newTokens);
    if (run === 0) continue;
    long.push(afterLongPrompt);
    short.push(fromShortPrompt);
  }
  const after = residentMemory();
  await client.dispose();
  process.stdout.write(
    JSON.stringify({
      file: path.basename(model.onnxPath),
      fileBytes: fs.statSync(model.onnxPath).size,
      loadMs,
      promptTokens: long[0].promptTokens,
      generated: short[0].generatedTokens,
      promptTps: median(long.map((u) => (u.promptTokens * 1000) / u.timeToFirstTokenMs)),
      decodeTps: median(short.map((u) => u.decodeTokensPerSecond)),
      decodeAfterPromptTps: median(long.map((u) => u.decodeTokensPerSecond)),
      baseRss: before.rss,
      loadedRss: loaded.rss,
      rss: after.rss,
      peakRss: after.peak,
    }),
  );
}

function ensureModel() {
  if (fs.existsSync(path.join(folder, 'config.json'))) return;
  if (values.model) throw new Error(`${folder} has no config.json`);
  console.log(`Writing the ${SHAPE} shape model to ${folder} (once; several minutes)...`);
  execFileSync('bash', [path.join(ROOT, 'scripts', 'setup-serve-venv.sh')], { stdio: 'inherit' });
  execFileSync(path.join(ROOT, '.venv-serve', 'bin', 'python'), ['-m', 'training.fixtures.shape_model', '--shape', SHAPE, '--out', folder], { stdio: 'inherit', cwd: ROOT });
}

function parent() {
  ensureModel();
  // Code text cut to a number of ids and decoded back: the prompts the engine tokenizes.
  const { readModelFolder, ModelTokenizer } = require(path.join(ROOT, 'dist', 'bench.js'));
  const model = readModelFolder(folder);
  const tokenizer = new ModelTokenizer(model.tokenizerJson, model.tokenizerConfig);
  const source = fs.readFileSync(path.join(ROOT, 'src', 'worker', 'engine.ts'), 'utf8');
  const promptOf = (tokens) => tokenizer.decode(tokenizer.encode(source).slice(0, tokens), false);
  const prompts = JSON.stringify({ longPrompt: promptOf(Number(values['prompt-tokens'])), shortPrompt: promptOf(SHORT_PROMPT_TOKENS) });
  const rows = [];
  const runChild = (quantization, extra = []) => {
    const args = [fileURLToPath(import.meta.url), '--child', '--model', folder, '--quantization', quantization, '--prompts', prompts, ...extra];
    for (const name of ['threads', 'prompt-tokens', 'new-tokens', 'runs']) args.push(`--${name}`, values[name]);
    const result = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (result.status !== 0) throw new Error(`${quantization}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };
  for (const quantization of values.quantization.split(',')) {
    // A first load writes the copy with external weights into the cache (once per model file); the measured runs
    // load from it, as every later start does.
    fs.rmSync(CACHE_DIR, { recursive: true, force: true });
    const firstLoad = runChild(quantization, ['--load-only']);
    rows.push({ quantization, firstLoadMs: firstLoad.loadMs, ...runChild(quantization) });
  }
  const ratio = (value, [low, high]) => (low === high ? `${(value / low).toFixed(2)}x` : `${(value / high).toFixed(2)}-${(value / low).toFixed(2)}x`);
  const range = ([low, high]) => (low === high ? `${low}` : `${low}-${high}`);
  console.log(
    `${SHAPE} shape, random weights, ${values.threads} threads, median of ${values.runs}: prompt speed over ${rows[0].promptTokens} prompt tokens; ` +
      `decode speed generating ${rows[0].generated} tokens after a ${SHORT_PROMPT_TOKENS}-token prompt, and ${AFTER_PROMPT_TOKENS} after the long one`,
  );
  console.log('| file | size MB | prompt tok/s | llama.cpp | ratio | decode tok/s | llama.cpp | ratio | decode after prompt | RSS loaded MB | peak RSS MB | peak ÷ file | load s (first) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const reference = LLAMA_CPP[row.quantization];
    const cells = [
      `${row.file} (beside ${reference.file})`,
      megabytes(row.fileBytes),
      row.promptTps.toFixed(0),
      range(reference.prompt),
      ratio(row.promptTps, reference.prompt),
      row.decodeTps.toFixed(1),
      range(reference.decode),
      ratio(row.decodeTps, reference.decode),
      row.decodeAfterPromptTps.toFixed(1),
      megabytes(row.loadedRss),
      megabytes(row.peakRss),
      (row.peakRss / row.fileBytes).toFixed(2),
      `${(row.loadMs / 1000).toFixed(1)} (${(row.firstLoadMs / 1000).toFixed(1)})`,
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
  console.log(`RSS before loading (Node): ${rows.map((r) => megabytes(r.baseRss)).join(', ')} MB`);
}

if (values.child) await child();
else parent();
