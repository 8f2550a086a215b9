// Attention for models that do not export attentions.{i} (public Optimum exports): the ONNX graph is rewritten once
// to expose each layer's Softmax, cached, and the probabilities equal the PyTorch reference. Real ONNX Runtime on the
// fixture models, no mocks.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attentionGraphsDir, exposeAttention, rewrittenModelPath } from '../../src/worker/attentionRewrite';
import { LoadedModel } from '../../src/worker/engine';
import { validateParams } from '../../src/worker/validate';
import { EngineError } from '../../src/protocol/engine';

const FIXTURES = path.resolve(__dirname, '../fixtures');
const MODELS = path.join(FIXTURES, 'models');

/** python3-onnx (a documented set-up dependency) writes the external-data variant of a fixture. */
const pythonOnnx = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;

interface AttentionReference {
  text: string;
  ids: number[];
  tolerance: number;
  /** Per layer [heads][query][key]. */
  attentions: number[][][][];
}

let cacheDir: string;
beforeAll(() => {
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-rewrite-test-'));
});
afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));
/** Where the engine keeps rewritten graphs under its cacheDir. */
const attentionGraphs = () => attentionGraphsDir(cacheDir);

for (const name of ['llama-tiny', 'gpt2-tiny']) {
  describe(`attention of ${name} through the rewritten graph`, () => {
    const folder = path.join(MODELS, name);
    const reference = JSON.parse(fs.readFileSync(path.join(folder, 'attention_reference.json'), 'utf8')) as AttentionReference;
    let model: LoadedModel;
    beforeAll(async () => {
      model = await LoadedModel.load(folder, { quantization: ['fp32'], threads: 1, cacheDir });
    });
    afterAll(() => model.release());

    it('has no attention outputs of its own; generation keeps the original graph', () => {
      expect(model.session.hasAttention).toBe(false);
      expect(model.info().hasAttentionOutputs).toBe(false);
    });

    it('returns causal rows that sum to 1 and equal the PyTorch reference (1e-4)', async () => {
      const result = await model.attention({ text: reference.text });
      const seq = reference.ids.length;
      expect(result.tokens.map((t) => t.id)).toEqual(reference.ids);
      expect(result.tokens).toHaveLength(seq);
      expect(result.layers).toBe(reference.attentions.length);
      expect(result.heads).toBe(reference.attentions[0]!.length);
      let maxDiff = 0;
      result.weights.forEach((layer, l) => {
        expect(layer.length).toBe(result.heads * seq * seq);
        for (let h = 0; h < result.heads; h++) {
          for (let q = 0; q < seq; q++) {
            const row = layer.subarray((h * seq + q) * seq, (h * seq + q + 1) * seq);
            let sum = 0;
            for (let k = 0; k < seq; k++) {
              if (k > q) expect(row[k]).toBe(0);
              sum += row[k]!;
              maxDiff = Math.max(maxDiff, Math.abs(row[k]! - reference.attentions[l]![h]![q]![k]!));
            }
            expect(sum).toBeCloseTo(1, 5);
          }
        }
      });
      expect(maxDiff).toBeLessThan(reference.tolerance);
      // The text has GQA (llama-tiny: 4 heads over 2 KV heads) and RoPE; the heads must differ from each other.
      const first = result.weights[0]!;
      expect(first.subarray(0, seq * seq)).not.toEqual(first.subarray(seq * seq, 2 * seq * seq));
    });

    it('rewrites the graph once and reuses it from the cache', async () => {
      const source = model.folder.onnxPath;
      const graphsDir = attentionGraphs();
      const first = rewrittenModelPath(source, graphsDir, 2);
      expect(first.created).toBe(false); // written by the attention call above
      const mtime = fs.statSync(first.path).mtimeMs;
      // A second engine on the same model reuses the file: same path, untouched.
      const again = await LoadedModel.load(folder, { quantization: ['fp32'], threads: 1, cacheDir });
      try {
        const result = await again.attention({ text: 'x = 1' });
        expect(result.layers).toBe(2);
      } finally {
        await again.release();
      }
      expect(fs.statSync(first.path).mtimeMs).toBe(mtime);
      expect(rewrittenModelPath(source, graphsDir, 2)).toEqual({ path: first.path, created: false });
      // The original file is never modified.
      expect(first.path.startsWith(graphsDir)).toBe(true);
    });
  });
}

describe('the graph rewrite', () => {
  it('keys the cache on the source file: a changed file is rewritten anew', () => {
    const folder = fs.mkdtempSync(path.join(cacheDir, 'source-'));
    const source = path.join(folder, 'model.onnx');
    fs.copyFileSync(path.join(MODELS, 'gpt2-tiny', 'onnx', 'model.onnx'), source);
    const first = rewrittenModelPath(source, cacheDir, 2);
    expect(first.created).toBe(true);
    expect(rewrittenModelPath(source, cacheDir, 2).created).toBe(false);
    fs.utimesSync(source, new Date(), new Date(Date.now() + 5000));
    const second = rewrittenModelPath(source, cacheDir, 2);
    expect(second.created).toBe(true);
    expect(second.path).not.toBe(first.path);
  });

  it('rewrites a damaged cached graph again', async () => {
    const folder = path.join(MODELS, 'gpt2-tiny-nopos');
    const cached = rewrittenModelPath(path.join(folder, 'onnx', 'model.onnx'), attentionGraphs(), 2);
    fs.writeFileSync(cached.path, 'half a file');
    const model = await LoadedModel.load(folder, { quantization: ['fp32'], threads: 1, cacheDir });
    try {
      expect((await model.attention({ text: 'x = 1' })).layers).toBe(2);
    } finally {
      await model.release();
    }
    expect(fs.statSync(cached.path).size).toBeGreaterThan(100_000);
  });

  it('refuses external data that would be linked outside the cache folder', () => {
    // The Phi-3 fixture keeps its weights in model.onnx_data and model.onnx_data_1; the same bytes with both
    // locations pointing two folders up (same length, so the protobuf stays valid).
    const folder = path.join(cacheDir, 'escaping');
    fs.mkdirSync(folder, { recursive: true });
    const source = path.join(folder, 'model.onnx');
    const bytes = fs.readFileSync(path.join(MODELS, '..', 'hf', 'phi3-tiny', 'onnx', 'model.onnx'));
    const escaping = Buffer.from(bytes.toString('latin1').replaceAll('model.onnx_data', '../../evil_data'), 'latin1');
    expect(escaping.length).toBe(bytes.length);
    fs.writeFileSync(source, escaping);
    expect(() => rewrittenModelPath(source, attentionGraphs(), 2)).toThrow('The model\'s external data location "../../evil_data" is not a file beside the model: refused');
    expect(fs.existsSync(path.join(attentionGraphs(), '..', 'evil_data'))).toBe(false);
    expect(fs.readdirSync(path.dirname(attentionGraphs())).some((name) => name.startsWith('evil'))).toBe(false);
  });

  it.skipIf(!pythonOnnx)('keeps external data (.onnx_data) reachable: linked next to the rewritten file', async () => {
    // gpt2-tiny saved with its weights in an external data file (python3-onnx, as large Optimum exports are).
    const folder = path.join(cacheDir, 'gpt2-external');
    fs.cpSync(path.join(MODELS, 'gpt2-tiny'), folder, { recursive: true });
    fs.rmSync(path.join(folder, 'onnx', 'model_quantized.onnx'));
    const onnxPath = path.join(folder, 'onnx', 'model.onnx');
    const script =
      'import onnx, sys; m = onnx.load(sys.argv[1]); ' +
      'onnx.save_model(m, sys.argv[1], save_as_external_data=True, all_tensors_to_one_file=True, location="model.onnx_data", size_threshold=0)';
    const run = spawnSync('/usr/bin/python3', ['-c', script, onnxPath], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(fs.existsSync(path.join(folder, 'onnx', 'model.onnx_data'))).toBe(true);
    const model = await LoadedModel.load(folder, { quantization: ['fp32'], threads: 1, cacheDir });
    try {
      const reference = JSON.parse(fs.readFileSync(path.join(MODELS, 'gpt2-tiny', 'attention_reference.json'), 'utf8')) as AttentionReference;
      const result = await model.attention({ text: reference.text });
      const seq = reference.ids.length;
      expect(result.weights[1]![seq * seq - 1]).toBeCloseTo(reference.attentions[1]![0]![seq - 1]![seq - 1]!, 4);
    } finally {
      await model.release();
    }
    const rewritten = rewrittenModelPath(onnxPath, attentionGraphs(), 2);
    expect(rewritten.created).toBe(false);
    expect(fs.existsSync(path.join(path.dirname(rewritten.path), 'model.onnx_data'))).toBe(true);
    expect(fs.statSync(rewritten.path).size).toBeLessThan(100_000); // the weights stayed outside
  });

  it('exposes the Softmax of both branches of a merged decoder (If on use_cache_branch)', async () => {
    const folder = path.join(MODELS, 'gpt2-tiny-merged');
    const model = await LoadedModel.load(folder, { quantization: ['fp32'], threads: 1, cacheDir });
    try {
      const reference = JSON.parse(fs.readFileSync(path.join(MODELS, 'gpt2-tiny', 'attention_reference.json'), 'utf8')) as AttentionReference;
      const result = await model.attention({ text: reference.text });
      const seq = reference.ids.length;
      let maxDiff = 0;
      result.weights.forEach((layer, l) => {
        for (let i = 0; i < layer.length; i++) {
          const h = Math.floor(i / (seq * seq));
          const q = Math.floor(i / seq) % seq;
          maxDiff = Math.max(maxDiff, Math.abs(layer[i]! - reference.attentions[l]![h]![q]![i % seq]!));
        }
      });
      // Same weights as gpt2-tiny.
      expect(maxDiff).toBeLessThan(reference.tolerance);
    } finally {
      await model.release();
    }
  });

  it('finds one probability tensor per layer in the order of the layers', () => {
    const { summary } = exposeAttention(fs.readFileSync(path.join(MODELS, 'llama-tiny', 'onnx', 'model.onnx')), 2);
    expect(summary.sources).toEqual(['/model/model/model/layers.0/self_attn/Softmax_output_0', '/model/model/model/layers.1/self_attn/Softmax_output_0']);
    expect(() => exposeAttention(fs.readFileSync(path.join(MODELS, 'llama-tiny', 'onnx', 'model.onnx')), 3)).toThrow(/2 attention Softmax nodes .* 3 layers/);
  });

  it('says plainly when attention is one fused operator with no probability tensor', () => {
    const source = path.join(FIXTURES, 'fused-attention', 'model.onnx');
    let error: unknown;
    try {
      rewrittenModelPath(source, cacheDir);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).message).toMatch(/fused operator \(com\.microsoft Attention\).*cannot be shown/);
    expect(fs.readdirSync(cacheDir).some((entry) => entry.startsWith('model-') && fs.readdirSync(path.join(cacheDir, entry)).length === 0)).toBe(false);
  });

  it('checks cacheDir at the worker boundary', () => {
    expect(() => validateParams('load', { folder: 'm', options: { cacheDir: 3 } })).toThrow(/cacheDir must be a folder path/);
    expect(() => validateParams('load', { folder: 'm', options: { cacheDir: '' } })).toThrow(/cacheDir/);
    expect(validateParams('load', { folder: 'm', options: { cacheDir: '/tmp/graphs' } }).options?.cacheDir).toBe('/tmp/graphs');
  });

  it('refuses a file that is not an ONNX model', () => {
    expect(() => exposeAttention(Buffer.from('not a protobuf at all, just text'))).toThrow(EngineError);
  });
});
