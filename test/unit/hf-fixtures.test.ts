// The engine on fixtures made from GENUINE Hugging Face transformers classes (training/fixtures/hf_fixtures.py: Qwen2,
// Llama, GPT-2, GPT-BigCode, Starcoder2, Phi-3, CodeGen with random weights, exported with Optimum's KV-cache names and layouts), against
// transformers' own logits and greedy `generate`. The fixtures are committed; this also checks they come from the generator as it is now.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG } from '../../src/extension/models/catalog';
import { quantizationOfFile } from '../../src/protocol/onnxFiles';
import { DEFAULT_QUANTIZATION } from '../../src/worker/modelFolder';
import { weightBytes } from '../../src/worker/memoryCheck';
import * as ort from 'onnxruntime-node';
import { LoadedModel } from '../../src/worker/engine';
import { argmax } from '../../src/worker/sampling';
import { cosine, maxAbsDiff } from '../helpers/logits';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'hf');
const GENERATOR = path.join(ROOT, 'training', 'fixtures', 'hf_fixtures.py');
/** float32 ONNX Runtime against float32 PyTorch: the greedy margins in the references are ~6e-3, far above this. */
const FP32_MAX_ABS_LOGIT_DIFF = 1e-4;

interface Reference {
  generator_sha256: string;
  class: string;
  min_greedy_margin: number;
  prompts: Array<{ ids: number[]; last_logits: number[]; greedy: number[] }>;
}

const EXPECTED: Record<string, { cls: string; layers: number; heads: number; kvHeads: number }> = {
  'qwen2-tiny': { cls: 'Qwen2ForCausalLM', layers: 2, heads: 4, kvHeads: 2 },
  'llama-tiny': { cls: 'LlamaForCausalLM', layers: 2, heads: 4, kvHeads: 2 },
  'gpt2-tiny': { cls: 'GPT2LMHeadModel', layers: 2, heads: 4, kvHeads: 4 },
  // Multi-query, its cache packed as past_key_values.{i}.key_value [batch, past, 2 * head_dim].
  'gpt-bigcode-tiny': { cls: 'GPTBigCodeForCausalLM', layers: 2, heads: 4, kvHeads: 1 },
  // A sliding window of 8 positions: the second prompt (17 tokens) and its continuation run past it.
  'starcoder2-tiny': { cls: 'Starcoder2ForCausalLM', layers: 2, heads: 4, kvHeads: 2 },
  'phi3-tiny': { cls: 'Phi3ForCausalLM', layers: 2, heads: 4, kvHeads: 2 },
  'codegen-tiny': { cls: 'CodeGenForCausalLM', layers: 2, heads: 4, kvHeads: 4 },
};

it('every architecture the generator makes is here, made by the generator as it is now', () => {
  expect(fs.readdirSync(FIXTURES).sort()).toEqual(Object.keys(EXPECTED).sort());
  const sha = crypto.createHash('sha256').update(fs.readFileSync(GENERATOR)).digest('hex');
  for (const name of Object.keys(EXPECTED)) {
    const reference = JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'reference.json'), 'utf8')) as Reference;
    expect(reference.generator_sha256, `${name} is stale: run npm run fixtures:hf`).toBe(sha);
    expect(reference.class).toBe(EXPECTED[name]!.cls);
  }
});

for (const [name, expected] of Object.entries(EXPECTED)) {
  describe(`engine on ${name} (transformers ${expected.cls})`, () => {
    const folder = path.join(FIXTURES, name);
    const reference = JSON.parse(fs.readFileSync(path.join(folder, 'reference.json'), 'utf8')) as Reference;
    let model: LoadedModel;
    beforeAll(async () => {
      model = await LoadedModel.load(folder, { quantization: ['fp32'], threads: 1 });
    });
    afterAll(() => model?.release());

    it('loads the folder unchanged and reads its shape from the config', () => {
      const info = model.info();
      expect(model.session.layers).toBe(expected.layers);
      expect({ layers: info.layers, heads: info.heads, kvHeads: info.kvHeads, vocab: info.vocabSize }).toEqual({ layers: expected.layers, heads: expected.heads, kvHeads: expected.kvHeads, vocab: 512 });
    });

    it('gives transformers\' logits for each prompt and its 32 greedy tokens through the KV cache', async () => {
      expect(reference.min_greedy_margin).toBeGreaterThan(10 * FP32_MAX_ABS_LOGIT_DIFF);
      for (const prompt of reference.prompts) {
        let step = await model.session.step(prompt.ids, model.session.emptyCache());
        expect(maxAbsDiff(step.lastLogits, prompt.last_logits)).toBeLessThan(FP32_MAX_ABS_LOGIT_DIFF);
        const tokens: number[] = [];
        for (let i = 0; i < prompt.greedy.length; i++) {
          const token = argmax(step.lastLogits);
          tokens.push(token);
          step = await model.session.step([token], step.cache);
        }
        expect(tokens).toEqual(prompt.greedy);
      }
    });

    it('a cache cut back to a prefix continues exactly (the prompt reuse between requests)', async () => {
      const ids = reference.prompts[1]!.ids;
      const full = await model.session.step(ids, model.session.emptyCache());
      const cut = model.session.truncateCache(full.cache, 5);
      expect(cut.length).toBe(5);
      const resumed = await model.session.step(ids.slice(5), cut);
      expect(maxAbsDiff(resumed.lastLogits, full.lastLogits)).toBeLessThan(FP32_MAX_ABS_LOGIT_DIFF);
    });
  });
}

describe('graph layouts of real exports', () => {
  const inputNames = async (file: string) => {
    const session = await ort.InferenceSession.create(file);
    try {
      return session.inputNames;
    } finally {
      await session.release();
    }
  };

  it('GPT-BigCode has no position_ids input (Optimum\'s export): the model numbers positions from its cache, and the engine feeds none', async () => {
    for (const file of ['model.onnx', 'decoder_model_merged.onnx']) {
      const inputs = await inputNames(path.join(FIXTURES, 'gpt-bigcode-tiny', 'onnx', file));
      expect(inputs).toContain('attention_mask');
      expect(inputs).not.toContain('position_ids');
    }
  });

  for (const [name, input] of [['llama-tiny', 'num_logits_to_keep'], ['phi3-tiny', 'logits_to_keep']] as const) {
    it(`${input} (${name}): fed 1 for generation, 0 when every position's logits are wanted`, async () => {
      const folder = path.join(FIXTURES, name);
      expect(await inputNames(path.join(folder, 'onnx', 'model.onnx'))).toContain(input);
      const reference = JSON.parse(fs.readFileSync(path.join(folder, 'reference.json'), 'utf8')) as Reference;
      const model = await LoadedModel.load(folder, { quantization: ['fp32'], threads: 1 });
      try {
        const ids = reference.prompts[1]!.ids;
        const all = await model.session.step(ids, model.session.emptyCache(), { wantAllLogits: true });
        const vocab = model.session.vocabSize;
        expect(all.allLogits).toHaveLength(ids.length * vocab);
        expect(maxAbsDiff(all.allLogits!.subarray((ids.length - 1) * vocab), reference.prompts[1]!.last_logits)).toBeLessThan(FP32_MAX_ABS_LOGIT_DIFF);
        // Each row is its own position's: the first row is what the first token alone predicts.
        const first = await model.session.step(ids.slice(0, 1), model.session.emptyCache());
        expect(maxAbsDiff(all.allLogits!.subarray(0, vocab), first.lastLogits)).toBeLessThan(FP32_MAX_ABS_LOGIT_DIFF);
        expect(maxAbsDiff(first.lastLogits, all.lastLogits)).toBeGreaterThan(0.1);
      } finally {
        await model.release();
      }
    });
  }

  it('external data in two files (Phi-3\'s model.onnx_data, model.onnx_data_1): loaded, counted, and a missing part named', async () => {
    const source = path.join(FIXTURES, 'phi3-tiny');
    const onnxDir = path.join(source, 'onnx');
    const dataBytes = ['model.onnx_data', 'model.onnx_data_1'].map((file) => fs.statSync(path.join(onnxDir, file)).size);
    expect(Math.min(...dataBytes)).toBeGreaterThan(0);
    expect(weightBytes(path.join(onnxDir, 'model.onnx'))).toBe(fs.statSync(path.join(onnxDir, 'model.onnx')).size + dataBytes[0]! + dataBytes[1]!);
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-hf-external-'));
    try {
      fs.cpSync(source, broken, { recursive: true });
      fs.rmSync(path.join(broken, 'onnx', 'model.onnx_data_1'));
      await expect(LoadedModel.load(broken, { quantization: ['fp32'], threads: 1 })).rejects.toThrow(/could not load .*model\.onnx/);
    } finally {
      fs.rmSync(broken, { recursive: true, force: true });
    }
  });
});

/**
 * The ONNX files beside model.onnx, each loaded alone (a folder holding only that file), against transformers' fp32.
 * Tolerances, measured on these fixtures (2026-12-06, `node bench/hf-variants.mjs`, table in PERFORMANCE.md): 8-bit
 * cosine to transformers' fp32 logits 0.9934-0.9997, largest logit error 0.08-0.38; 4-bit (q4, q4f16, bnb4)
 * 0.874-0.996, errors 0.31-2.5; float16 0.999998, errors 0.004-0.007. Random weights have no structure for quantization
 * to keep, and 4-bit blocks span a whole row of a hidden size of 32: trained models lose far less. The greedy margins
 * here (3e-3 to 2e-2) are below those errors, so greedy tokens are compared only for the files with float32 weights.
 */
interface Variant {
  file: string;
  minCosine: number;
  maxAbsDiff: number;
  /** Only these fixtures have the file (the families whose Hub repositories carry it). */
  only?: string[];
  /** The file loaded is this one under `file`'s name (transformers.js makes both with the same call). */
  bytesOf?: string;
  /** Greedy tokens too: the same float32 weights as model.onnx. */
  exact?: boolean;
}
/** The fixtures with every plain file (GPT-BigCode and CodeGen, in the merged layout, have only model_quantized and model_q4). */
const EVERY_PLAIN_FILE = ['qwen2-tiny', 'llama-tiny', 'gpt2-tiny', 'starcoder2-tiny', 'phi3-tiny'];
const VARIANTS: Variant[] = [
  { file: 'model_quantized.onnx', minCosine: 0.99, maxAbsDiff: 0.5 },
  { file: 'model_int8.onnx', minCosine: 0.99, maxAbsDiff: 0.5, only: EVERY_PLAIN_FILE },
  { file: 'model_uint8.onnx', bytesOf: 'model_quantized.onnx', minCosine: 0.99, maxAbsDiff: 0.5, only: ['qwen2-tiny'] },
  { file: 'model_q4.onnx', minCosine: 0.8, maxAbsDiff: 3.5 },
  { file: 'model_bnb4.onnx', minCosine: 0.8, maxAbsDiff: 3.5, only: EVERY_PLAIN_FILE },
  // float16 weights and activations: Qwen2's as Optimum exports them (float16 cache and logits), Llama's as
  // transformers.js's script converts them (float32 inputs and outputs).
  { file: 'model_fp16.onnx', minCosine: 0.9999, maxAbsDiff: 0.05, only: ['qwen2-tiny', 'llama-tiny'] },
  { file: 'model_q4f16.onnx', minCosine: 0.8, maxAbsDiff: 3.5, only: ['qwen2-tiny', 'llama-tiny'] },
  // Optimum's older merged decoder (an If on use_cache_branch): the same float32 weights, so exact, greedy tokens too.
  { file: 'decoder_model_merged.onnx', minCosine: 0.99999, maxAbsDiff: 1e-4, only: ['starcoder2-tiny', 'gpt-bigcode-tiny', 'codegen-tiny'], exact: true },
  { file: 'decoder_model_merged_quantized.onnx', minCosine: 0.99, maxAbsDiff: 0.5, only: ['gpt-bigcode-tiny', 'codegen-tiny'] },
  { file: 'decoder_model_merged_q4.onnx', minCosine: 0.8, maxAbsDiff: 3.5, only: ['gpt-bigcode-tiny', 'codegen-tiny'] },
];
/** The fixtures whose float16 files keep their cache in float16 (Optimum's float16 export). */
const FLOAT16_CACHE = new Set(['qwen2-tiny']);

const variantsOf = (name: string) => VARIANTS.filter((v) => !v.only || v.only.includes(name));

it('every ONNX file of every fixture is checked against transformers below', () => {
  for (const name of Object.keys(EXPECTED)) {
    const files = fs.readdirSync(path.join(FIXTURES, name, 'onnx')).filter((file) => file.endsWith('.onnx'));
    expect(files.sort()).toEqual(['model.onnx', ...variantsOf(name).filter((v) => !v.bytesOf).map((v) => v.file)].sort());
  }
});

it('the catalog is the contract: each entry\'s architecture has a checked fixture of every precision the engine would download for it', () => {
  // Every Hub repository in the transformers.js layout has model.onnx, which the quantized files are made from, so
  // the default preference (q4, int8, fp32, fp16) stops at fp32 at the latest. Older repositories (Xenova's
  // GPT-BigCode and CodeGen exports) hold the merged decoder instead, in fp32, int8 and 4-bit.
  const typeOf = (name: string) => (JSON.parse(fs.readFileSync(path.join(FIXTURES, name, 'config.json'), 'utf8')) as { model_type: string }).model_type;
  const reachable = DEFAULT_QUANTIZATION.slice(0, DEFAULT_QUANTIZATION.indexOf('fp32') + 1);
  for (const entry of CATALOG) {
    const fixtures = Object.keys(EXPECTED).filter((name) => typeOf(name) === entry.modelType);
    expect(fixtures, `${entry.repo} (${entry.modelType}) has no fixture`).not.toHaveLength(0);
    const checked = fixtures.flatMap((name) => ['model.onnx', ...variantsOf(name).map((v) => v.file)]);
    for (const quantization of reachable) {
      const plain = checked.filter((file) => file.startsWith('model') && quantizationOfFile(file) === quantization);
      expect(plain, `${entry.repo}: no ${quantization} fixture of ${entry.modelType}`).not.toHaveLength(0);
    }
    if (entry.modelType === 'gpt_bigcode' || entry.modelType === 'codegen') {
      expect(checked).toEqual(expect.arrayContaining(['decoder_model_merged.onnx', 'decoder_model_merged_quantized.onnx', 'decoder_model_merged_q4.onnx']));
    }
  }
});

describe('quantized variants, made as the Hub makes them, against transformers (fp32)', () => {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-hf-variants-'));
  afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));
  for (const name of Object.keys(EXPECTED)) {
    for (const variant of variantsOf(name)) {
      it(`${name} ${variant.file}`, async () => {
        const source = path.join(FIXTURES, name);
        const folder = path.join(temp, `${name}-${variant.file}`);
        fs.mkdirSync(path.join(folder, 'onnx'), { recursive: true });
        for (const file of fs.readdirSync(source)) if (file !== 'onnx') fs.symlinkSync(path.join(source, file), path.join(folder, file));
        fs.symlinkSync(path.join(source, 'onnx', variant.bytesOf ?? variant.file), path.join(folder, 'onnx', variant.file));
        const quantization = quantizationOfFile(variant.file)!;
        const reference = JSON.parse(fs.readFileSync(path.join(source, 'reference.json'), 'utf8')) as Reference;
        const model = await LoadedModel.load(folder, { quantization: [quantization], threads: 1 });
        try {
          expect(path.basename(model.info().onnxFile)).toBe(variant.file);
          for (const prompt of reference.prompts) {
            const { lastLogits, cache } = await model.session.step(prompt.ids, model.session.emptyCache());
            expect(cosine(lastLogits, prompt.last_logits)).toBeGreaterThanOrEqual(variant.minCosine);
            expect(maxAbsDiff(lastLogits, prompt.last_logits)).toBeLessThan(variant.maxAbsDiff);
            // The cache comes back in the model's precision and feeds the next step.
            const float16 = /(q4f16|fp16)/.test(variant.file) && FLOAT16_CACHE.has(name);
            expect([...cache.tensors.values()].every((t) => t.type === (float16 ? 'float16' : 'float32'))).toBe(true);
            const next = await model.session.step([argmax(lastLogits)], cache);
            expect(next.lastLogits.every(Number.isFinite)).toBe(true);
            if (variant.exact) {
              // Every later step runs the with-past branch: wrong use_cache_branch feeding would show here.
              let step = next;
              const tokens = [argmax(lastLogits)];
              while (tokens.length < prompt.greedy.length) {
                tokens.push(argmax(step.lastLogits));
                step = await model.session.step([tokens.at(-1)!], step.cache);
              }
              expect(tokens).toEqual(prompt.greedy);
            }
          }
        } finally {
          await model.release();
        }
      });
    }
  }
});

describe('Explain Attention on the new layouts (the attention graph rewrite)', () => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-hf-attention-'));
  afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));
  const cases = [['gpt-bigcode-tiny', 'fp32'], ['qwen2-tiny', 'fp16'], ['llama-tiny', 'q4'], ['llama-tiny', 'fp32'], ['phi3-tiny', 'fp32']] as const;
  for (const [name, quantization] of cases) {
    it(`${name} (${quantization}): every layer's rows are causal probability distributions, as float32`, async () => {
      const model = await LoadedModel.load(path.join(FIXTURES, name), { quantization: [quantization], threads: 1, cacheDir });
      try {
        expect(model.info().quantization).toBe(quantization);
        const result = await model.attention({ text: 'def f(x):\n    return x * 2\n' });
        const seq = result.tokens.length;
        expect(result.weights).toHaveLength(EXPECTED[name]!.layers);
        for (const layer of result.weights) {
          expect(layer).toBeInstanceOf(Float32Array);
          expect(layer.length).toBe(result.heads * seq * seq);
          for (let row = 0; row < result.heads * seq; row++) {
            const q = row % seq;
            let sum = 0;
            for (let k = 0; k < seq; k++) {
              if (k > q) expect(layer[row * seq + k]).toBe(0);
              sum += layer[row * seq + k]!;
            }
            expect(sum).toBeCloseTo(1, 2);
          }
        }
      } finally {
        await model.release();
      }
    });
  }
});
