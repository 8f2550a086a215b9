// How close each ONNX file of the genuine-transformers fixtures (test/fixtures/hf/, training/fixtures/hf_fixtures.py)
// comes to transformers' own float32 logits: the figures behind the tolerances in test/unit/hf-fixtures.test.ts.
//   npm run build && node bench/hf-variants.mjs
// Per fixture and file: the cosine and the largest difference between the engine's last-position logits and
// transformers' for each of the two reference prompts (worst of the two printed), each file loaded alone.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { LoadedModel, quantizationOfFile } = require(path.join(ROOT, 'dist', 'bench.js'));
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'hf');

function compare(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
    max = Math.max(max, Math.abs(a[i] - b[i]));
  }
  return { cosine: dot / Math.sqrt(na * nb), max };
}

const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-hf-variants-'));
console.log('| fixture | file | cosine (worst) | largest logit error |');
console.log('|---|---|---:|---:|');
try {
  for (const name of fs.readdirSync(FIXTURES).sort()) {
    const source = path.join(FIXTURES, name);
    const reference = JSON.parse(fs.readFileSync(path.join(source, 'reference.json'), 'utf8'));
    const files = fs.readdirSync(path.join(source, 'onnx')).sort();
    for (const file of files.filter((f) => f.endsWith('.onnx'))) {
      const folder = path.join(temp, `${name}-${file}`);
      fs.mkdirSync(path.join(folder, 'onnx'), { recursive: true });
      for (const entry of fs.readdirSync(source)) if (entry !== 'onnx') fs.symlinkSync(path.join(source, entry), path.join(folder, entry));
      // The file and its external data (model.onnx_data, model.onnx_data_1, ...).
      for (const part of files.filter((f) => f === file || f.startsWith(`${file}_data`))) fs.symlinkSync(path.join(source, 'onnx', part), path.join(folder, 'onnx', part));
      const model = await LoadedModel.load(folder, { quantization: [quantizationOfFile(file)], threads: 1 });
      let worst = { cosine: 1, max: 0 };
      for (const prompt of reference.prompts) {
        const { lastLogits } = await model.session.step(prompt.ids, model.session.emptyCache());
        const { cosine, max } = compare(lastLogits, prompt.last_logits);
        worst = { cosine: Math.min(worst.cosine, cosine), max: Math.max(worst.max, max) };
      }
      await model.release();
      console.log(`| ${name} | ${file} | ${worst.cosine.toFixed(6)} | ${worst.max.toExponential(2)} |`);
    }
  }
} finally {
  fs.rmSync(temp, { recursive: true, force: true });
}
