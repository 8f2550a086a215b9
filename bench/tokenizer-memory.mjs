// What one copy of a model's tokenizer costs in memory: RSS and V8 heap of this Node process before and after
// building it (after full collections). The chat counts tokens in the engine's worker, so the extension host keeps no
// copy of its own (issue 8); this is the figure behind that.
//   npm run build && node --expose-gc bench/tokenizer-memory.mjs [MODEL_FOLDER]   (default: the Qwen2.5-Coder-0.5B shape
//   model of training/fixtures/shape_model.py, whose tokenizer has 151,936 entries; the bundled model's has 8,192)

import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (!globalThis.gc) throw new Error('run with node --expose-gc');
const { readModelFolder, ModelTokenizer } = require(path.join(ROOT, 'dist', 'bench.js'));

const folder = path.resolve(process.argv[2] ?? path.join(ROOT, '.cache', 'shape-models', 'qwen2.5-coder-0.5b'));
function memory() {
  globalThis.gc();
  globalThis.gc();
  const usage = process.memoryUsage();
  return { rss: usage.rss / 2 ** 20, heap: usage.heapUsed / 2 ** 20 };
}
const before = memory();
const model = readModelFolder(folder);
const tokenizer = new ModelTokenizer(model.tokenizerJson, model.tokenizerConfig);
tokenizer.encode('function add(a, b) {\n  return a + b;\n}');
const after = memory();
console.log(`${folder}: ${tokenizer.vocabSize} tokens`);
console.log(
  `RSS ${before.rss.toFixed(0)} -> ${after.rss.toFixed(0)} MB (+${(after.rss - before.rss).toFixed(0)}), ` +
    `V8 heap in use ${before.heap.toFixed(0)} -> ${after.heap.toFixed(0)} MB (+${(after.heap - before.heap).toFixed(0)})`,
);
