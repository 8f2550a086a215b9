// Which model shape the next bundled model can have (issue 20): for each candidate shape, a model folder with random
// weights exported as the bundled model is (training/export/random_shape.py), then, in the same run as the bundled
// model itself: 4-bit decode speed through the engine (bench/engine.mjs) and inline-completion latency under the
// typing replay (bench/completion.mjs), with the files' sizes. Targets: 4-bit decode >= 300 tokens/s, completion
// p95 < 200 ms on this machine's cores, VSIX < 40 MB. Random weights time the arithmetic, not the answers (a random
// model rarely stops early, so its completions run to their token or time limit: the latencies are upper bounds).
//   npm run build && node bench/model-shapes.mjs [--shapes 6x384x6,8x512x8] [--runs 5] [--keep DIR]

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { deflateRawSync } from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    shapes: { type: 'string', default: '6x384x6,6x512x8,8x512x8,10x512x8,8x640x10' },
    runs: { type: 'string', default: '5' },
    keep: { type: 'string' },
  },
});
const BUNDLED = path.join(ROOT, 'models', 'attentive-code-14m');
/** The VSIX as `npm run package` measured it with the bundled model's two ONNX files in it (docs/PERFORMANCE.md). */
const VSIX_MB = 30.3;
const TARGETS = { decode: 300, p95: 200, vsix: 40 };
const work = values.keep ? path.resolve(values.keep) : fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-shapes-'));

function run(command, args) {
  const child = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (child.status !== 0) throw new Error(`${command} ${args.join(' ')}:\n${child.stdout}\n${child.stderr}`);
  return child.stdout;
}

const megabytes = (file) => fs.statSync(file).size / 1e6;
/** A file's size once deflated, as a VSIX (a ZIP) stores it. */
const deflatedMegabytes = (file) => deflateRawSync(fs.readFileSync(file)).length / 1e6;

/** Engine decode speed and completion latency of a model folder, each bench in its own process. */
function measure(folder) {
  const engineJson = path.join(work, 'engine.json');
  const completionJson = path.join(work, 'completion.json');
  run(process.execPath, ['bench/engine.mjs', '--model', folder, '--quantization', 'q4', '--runs', values.runs, '--json', engineJson]);
  run(process.execPath, ['bench/completion.mjs', '--model', folder, '--json', completionJson]);
  const engine = JSON.parse(fs.readFileSync(engineJson, 'utf8'));
  const [completion] = JSON.parse(fs.readFileSync(completionJson, 'utf8'));
  const [q4File, int8File] = ['model_q4.onnx', 'model_quantized.onnx'].map((name) => path.join(folder, 'onnx', name));
  return {
    decode: engine.engineTps,
    ttft: engine.engineTtft,
    p50: completion.p50,
    p95: completion.p95,
    q4: megabytes(q4File),
    int8: megabytes(int8File),
    q4Zipped: deflatedMegabytes(q4File),
    int8Zipped: deflatedMegabytes(int8File),
  };
}

const rows = [{ label: 'attentive-code-14m (bundled, trained)', params: 13.8, ...measure(BUNDLED) }];
for (const shape of values.shapes.split(',')) {
  const [layers, embd, heads] = shape.split('x').map(Number);
  const folder = path.join(work, shape);
  let params;
  if (!fs.existsSync(path.join(folder, 'onnx', 'model_q4.onnx'))) {
    const printed = run('/usr/bin/python3', ['-m', 'training.export.random_shape', '--out', folder, '--layers', String(layers), '--embd', String(embd), '--heads', String(heads)]);
    params = Number(/([\d.]+)M parameters/.exec(printed)[1]);
  } else {
    params = JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8')).attentive.trained.params / 1e6;
  }
  rows.push({ label: `${layers} layers x ${embd} wide, ${heads} heads (random weights)`, params, ...measure(folder) });
}

const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const reference = rows[0];
console.log(`${os.cpus().length} cores; 4-bit files; engine decode after a 200-token prompt, median of ${values.runs}; completion: bench/completion.mjs's typing replay`);
console.log('| model | parameters (M) | 4-bit MB | int8 MB | VSIX MB, 4-bit only / with int8 (estimates) | decode tokens/s (ratio to bundled) | completion p50 / p95 ms (p95 ratio) | meets all three targets |');
console.log('|---|---:|---:|---:|---:|---:|---:|---|');
let chosen;
for (const r of rows) {
  // The engine picks the 4-bit file first; the int8 file is a fallback the VSIX may leave out.
  const vsix = VSIX_MB - reference.q4Zipped - reference.int8Zipped + r.q4Zipped;
  const meets = r.decode >= TARGETS.decode && r.p95 < TARGETS.p95 && vsix < TARGETS.vsix;
  if (meets && r !== reference && (!chosen || r.params > chosen.params)) chosen = r;
  console.log(`| ${r.label} | ${f(r.params, 1)} | ${f(r.q4, 1)} | ${f(r.int8, 1)} | ${f(vsix, 1)} / ${f(vsix + r.int8Zipped, 1)} | ${f(r.decode)} (${f(r.decode / reference.decode, 2)}) | ${f(r.p50)} / ${f(r.p95)} (${f(r.p95 / reference.p95, 2)}) | ${meets ? 'yes' : 'no'} |`);
}
console.log(`targets: 4-bit decode >= ${TARGETS.decode} tokens/s, completion p95 < ${TARGETS.p95} ms, VSIX < ${TARGETS.vsix} MB with the 4-bit file only (the estimate swaps the bundled model's ONNX files, as deflated in a ZIP, for the shape's)`);
console.log(chosen ? `largest shape meeting them: ${chosen.label}, ${f(chosen.params, 1)}M parameters` : 'no candidate shape meets all three targets');
if (!values.keep) fs.rmSync(work, { recursive: true, force: true });
