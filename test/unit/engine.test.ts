// Engine parity on every fixture model (real ONNX Runtime, real tokenizer): the ONNX logits equal the PyTorch
// reference, incremental decoding equals a full forward pass, greedy tokens are identical, and attention is a
// proper causal distribution.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadedModel } from '../../src/worker/engine';
import { argmax } from '../../src/worker/sampling';
import { scoreInChunks } from '../../src/worker/tokenScores';
import { cosine, maxAbsDiff } from '../helpers/logits';

const FIXTURES = path.resolve(__dirname, '../fixtures/models');
const MODELS = ['attentive-tiny', 'llama-tiny', 'gpt2-tiny', 'gpt2-tiny-nopos', 'gpt2-tiny-merged'];

interface Reference {
  tolerance: { fp32_max_abs_logit_diff: number; int8_min_cosine: number };
  prompts: Array<{ text: string; ids: number[]; last_logits: number[]; greedy: number[] }>;
  all_positions: { prompt: number; logits: number[][] };
}

/** Greedy decoding straight on the session, to compare with the PyTorch reference token by token. */
async function greedy(model: LoadedModel, ids: number[], steps: number): Promise<number[]> {
  let cache = model.session.emptyCache();
  let input = ids;
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const step = await model.session.step(input, cache);
    cache = step.cache;
    const token = argmax(step.lastLogits);
    out.push(token);
    input = [token];
  }
  return out;
}

/** The fixtures training/fixtures/fixtures.py quantizes (gpt2-tiny-nopos shares gpt2-tiny's weights; merged is a copy). */
const SHIPS_INT8 = new Set(['attentive-tiny', 'llama-tiny', 'gpt2-tiny']);

for (const name of MODELS) {
  describe(`engine on ${name}`, () => {
    const folder = path.join(FIXTURES, name);
    const reference = JSON.parse(fs.readFileSync(path.join(folder, 'reference.json'), 'utf8')) as Reference;
    let model: LoadedModel;

    beforeAll(async () => {
      model = await LoadedModel.load(folder, { quantization: ['fp32'], threads: 1 });
    });
    afterAll(() => model.release());

    it('tokenizes the reference prompts to the reference ids', () => {
      for (const prompt of reference.prompts) expect(model.tokenizer.encode(prompt.text)).toEqual(prompt.ids);
    });

    it('gives the PyTorch logits (fp32, 1e-4)', async () => {
      for (const prompt of reference.prompts) {
        const { lastLogits } = await model.session.step(prompt.ids, model.session.emptyCache());
        expect(maxAbsDiff(lastLogits, prompt.last_logits)).toBeLessThan(reference.tolerance.fp32_max_abs_logit_diff);
      }
      const all = reference.all_positions;
      const { allLogits } = await model.session.step(reference.prompts[all.prompt]!.ids, model.session.emptyCache(), { wantAllLogits: true });
      expect(maxAbsDiff(allLogits!, all.logits.flat())).toBeLessThan(reference.tolerance.fp32_max_abs_logit_diff);
    });

    it('decodes incrementally exactly as a full forward pass', async () => {
      const ids = reference.prompts[0]!.ids;
      const full = await model.session.step(ids, model.session.emptyCache());
      // Prefill half, then feed the rest one token at a time through the KV cache.
      const half = Math.floor(ids.length / 2);
      let step = await model.session.step(ids.slice(0, half), model.session.emptyCache());
      for (const id of ids.slice(half)) step = await model.session.step([id], step.cache);
      expect(step.cache.length).toBe(ids.length);
      expect(maxAbsDiff(step.lastLogits, full.lastLogits)).toBeLessThan(1e-4);
    });

    it('prefills a long prompt in chunks with the same logits and cache as one pass', async () => {
      const ids = reference.prompts[0]!.ids;
      const whole = model.session.prefillChunkTokens;
      expect(whole).toBeGreaterThanOrEqual(ids.length); // a small vocabulary: one pass
      const full = await model.session.step(ids, model.session.emptyCache());
      model.session.prefillChunkTokens = 3;
      try {
        const chunked = await model.session.step(ids, model.session.emptyCache());
        expect(chunked.cache.length).toBe(ids.length);
        expect(maxAbsDiff(chunked.lastLogits, full.lastLogits)).toBeLessThan(1e-4);
        for (const [name, tensor] of full.cache.tensors) {
          expect(chunked.cache.tensors.get(name)!.dims).toEqual(tensor.dims);
          expect(maxAbsDiff(chunked.cache.tensors.get(name)!.data as Float32Array, tensor.data as Float32Array)).toBeLessThan(1e-4);
        }
        // Attention and all-position logits need every position in one run.
        const { allLogits } = await model.session.step(ids, model.session.emptyCache(), { wantAllLogits: true });
        expect(allLogits!.length).toBe(ids.length * model.session.vocabSize);
      } finally {
        model.session.prefillChunkTokens = whole;
      }
    });

    it('generates the PyTorch greedy tokens, on the session and through generate()', async () => {
      for (const prompt of reference.prompts) {
        expect(await greedy(model, prompt.ids, prompt.greedy.length)).toEqual(prompt.greedy);
        const eos = prompt.greedy.findIndex((id) => model.folder.config.eosTokenIds.includes(id));
        const expected = eos >= 0 ? prompt.greedy.slice(0, eos) : prompt.greedy;
        const result = await model.generate({ prompt: prompt.text, maxNewTokens: prompt.greedy.length, temperature: 0 });
        expect(result.tokenIds).toEqual(expected);
        expect(result.usage.promptTokens).toBe(prompt.ids.length);
        expect(result.finishReason).toBe(eos >= 0 ? 'eos' : 'length');
      }
    });

    it(SHIPS_INT8.has(name) ? 'has an int8 file close to fp32 (cosine >= 0.999)' : 'ships no int8 file (the generator makes none for it)', async () => {
      expect(fs.existsSync(path.join(folder, 'onnx', 'model_quantized.onnx'))).toBe(SHIPS_INT8.has(name));
      if (!SHIPS_INT8.has(name)) return;
      const int8 = await LoadedModel.load(folder, { quantization: ['int8'], threads: 1 });
      try {
        expect(int8.folder.quantization).toBe('int8');
        for (const prompt of reference.prompts) {
          const { lastLogits } = await int8.session.step(prompt.ids, int8.session.emptyCache());
          expect(cosine(lastLogits, prompt.last_logits)).toBeGreaterThanOrEqual(reference.tolerance.int8_min_cosine);
        }
      } finally {
        await int8.release();
      }
    });
  });
}

describe('token healing (attentive-tiny)', () => {
  let model: LoadedModel;
  beforeAll(async () => {
    model = await LoadedModel.load(path.join(FIXTURES, 'attentive-tiny'), { quantization: ['fp32'], threads: 1 });
  });
  afterAll(() => model.release());

  it('backs the prompt up by its last token', () => {
    expect(model.tokenizer.healingSplit('import os\nimport ')).toEqual({ prompt: 'import os\nimport', tail: ' ' });
    expect(model.tokenizer.healingSplit('x')).toEqual({ prompt: 'x', tail: '' }); // a single token is kept
    expect(model.tokenizer.healingSplit('a<|im_end|>').tail).toBe(''); // never a special token
  });

  it('makes the first token start with the removed text, which is not repeated in the output', async () => {
    const prompt = 'def area(width, height):\n    return wid';
    const { tail } = model.tokenizer.healingSplit(prompt);
    expect(tail.length).toBeGreaterThan(0);
    const healed = await model.generate({ prompt, maxNewTokens: 6, temperature: 0, tokenHealing: true });
    const firstTokenText = model.tokenizer.decode([healed.tokenIds[0]!], false);
    expect(firstTokenText.startsWith(tail)).toBe(true);
    expect(healed.text).toBe(model.tokenizer.decode(healed.tokenIds).slice(tail.length));
    // complete() heals by default, also inside a fill-in-the-middle prompt.
    const completed = await model.complete({ prefix: prompt, suffix: '\n', maxNewTokens: 6, temperature: 0 });
    expect(model.tokenizer.decode([completed.tokenIds[0]!], false).startsWith(tail)).toBe(true);
  });
});

describe('attention capture (attentive-tiny)', () => {
  let model: LoadedModel;
  beforeAll(async () => {
    model = await LoadedModel.load(path.join(FIXTURES, 'attentive-tiny'), { quantization: ['fp32'], threads: 1 });
  });
  afterAll(() => model.release());

  it('returns causal probability rows for every layer and head, with token offsets into the text', async () => {
    const text = 'def add(a, b):\n    return a + b  # héllo';
    const result = await model.attention({ text });
    const seq = result.tokens.length;
    expect(result.layers).toBe(model.info().layers);
    expect(result.weights).toHaveLength(result.layers);
    for (const layer of result.weights) {
      expect(layer).toBeInstanceOf(Float32Array);
      expect(layer.length).toBe(result.heads * seq * seq);
      for (let h = 0; h < result.heads; h++) {
        for (let q = 0; q < seq; q++) {
          const row = layer.subarray((h * seq + q) * seq, (h * seq + q + 1) * seq);
          let sum = 0;
          for (let k = 0; k < seq; k++) {
            if (k > q) expect(row[k]).toBe(0);
            sum += row[k]!;
          }
          expect(sum).toBeCloseTo(1, 5);
        }
      }
    }
    // Offsets tile the text exactly.
    expect(result.tokens[0]!.start).toBe(0);
    expect(result.tokens.at(-1)!.end).toBe(text.length);
    for (let i = 1; i < seq; i++) expect(result.tokens[i]!.start).toBe(result.tokens[i - 1]!.end);
    expect(result.tokens.map((t) => text.slice(t.start, t.end)).join('')).toBe(text);
    // Surprisal and predictions: -log2 p(token | before), consistent with the top-5 probabilities.
    expect(result.surprisal).toHaveLength(seq);
    expect(result.surprisal[0]).toBeNaN();
    expect(result.predictions[0]).toEqual([]);
    for (let i = 1; i < seq; i++) {
      expect(result.surprisal[i]).toBeGreaterThanOrEqual(0);
      const top = result.predictions[i]!;
      expect(top).toHaveLength(5);
      for (let j = 1; j < 5; j++) expect(top[j]!.probability).toBeLessThanOrEqual(top[j - 1]!.probability);
      expect(top.reduce((sum, p) => sum + p.probability, 0)).toBeLessThanOrEqual(1 + 1e-6);
      const own = top.find((p) => p.text === result.tokens[i]!.text);
      if (own) expect(-Math.log2(own.probability)).toBeCloseTo(result.surprisal[i]!, 4);
      else expect(2 ** -result.surprisal[i]!).toBeLessThanOrEqual(top[4]!.probability + 1e-6);
    }
  });

  it('scores surprisal without attention maps, chunk by chunk through the KV cache, as the attention run does', async () => {
    const text = 'def add(a, b):\n    return a + b  # héllo\n\nprint(add(1, 2))';
    const withMaps = await model.attention({ text });
    const whole = model.session.prefillChunkTokens;
    for (const chunk of [whole, 3, 1]) {
      model.session.prefillChunkTokens = chunk;
      try {
        const result = await model.surprisal({ text });
        expect(result.tokens).toEqual(withMaps.tokens);
        expect(result.surprisal[0]).toBeNaN();
        result.surprisal.slice(1).forEach((bits, i) => expect(bits).toBeCloseTo(withMaps.surprisal[i + 1]!, 3));
        expect(result.predictions.map((top) => top.map((p) => p.text))).toEqual(withMaps.predictions.map((top) => top.map((p) => p.text)));
        expect(result).not.toHaveProperty('weights');
      } finally {
        model.session.prefillChunkTokens = whole;
      }
    }
    await expect(model.surprisal({ text: '' })).rejects.toMatchObject({ code: 'bad-request' });
    const controller = new AbortController();
    controller.abort();
    await expect(model.surprisal({ text }, { signal: controller.signal })).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('runs attention in chunks through the KV cache: a cancel ends it before the next chunk', async () => {
    const text = 'def add(a, b):\n    return a + b\n\n'.repeat(10); // more than four chunks of 32 tokens
    const whole = await model.attention({ text });
    expect(whole.tokens.length).toBeGreaterThan(4 * 32);
    const controller = new AbortController();
    const running = model.attention({ text }, { signal: controller.signal });
    setImmediate(() => controller.abort()); // while the first chunk runs
    await expect(running).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('sizes chunks by time when asked: contiguous chunks of at least 4 tokens, the same scores as one piece', async () => {
    const ids = model.tokenizer.encode('def add(a, b):\n    return a + b\n\n'.repeat(6));
    const tokenText = (id: number) => model.tokenizer.tokenText(id);
    const whole = await scoreInChunks({ session: model.session, ids, chunkTokens: 1000, tokenText });
    const chunks: Array<[number, number]> = [];
    const timed = await scoreInChunks({ session: model.session, ids, chunkTokens: 32, targetChunkMs: 1e-6, tokenText, onChunk: (_, start, length) => chunks.push([start, length]) });
    expect(chunks.every(([, length]) => length <= 4)).toBe(true); // a first chunk of 4, then the floor (a 1e-6 ms target)
    chunks.forEach(([start], i) => expect(start).toBe(i === 0 ? 0 : chunks[i - 1]![0] + chunks[i - 1]![1]));
    // With a generous target the chunks grow from 4 to the most allowed.
    const grown: number[] = [];
    await scoreInChunks({ session: model.session, ids, chunkTokens: 32, targetChunkMs: 60_000, tokenText, onChunk: (_, _start, length) => grown.push(length) });
    expect(grown.slice(0, 2)).toEqual([4, 32]);
    expect(chunks.at(-1)![0] + chunks.at(-1)![1]).toBe(ids.length);
    expect(timed).toHaveLength(ids.length);
    timed.slice(1).forEach((score, i) => expect(score.bits).toBeCloseTo(whole[i + 1]!.bits, 3));
  });

  it('keeps attention maps within a memory budget: a longer text is refused, saying how many tokens fit and why', async () => {
    const { layers, heads } = model.info();
    const budget = layers * heads * 4 * 20 * 20; // the maps of 20 tokens
    const small = await LoadedModel.load(path.join(FIXTURES, 'attentive-tiny'), { quantization: ['fp32'], threads: 1, attentionBudgetBytes: budget });
    try {
      expect(small.info()).toMatchObject({ attentionTokenLimit: 20, attentionBudgetBytes: budget });
      // The default: 256 MiB, or an eighth of the memory free at load when that is less.
      expect(model.info().attentionBudgetBytes).toBeGreaterThan(0);
      expect(model.info().attentionBudgetBytes).toBeLessThanOrEqual(256 * 1024 * 1024);
      const text = 'def add(a, b):\n    return a + b\n\nprint(add(1, 2))\n';
      const tokens = (await small.attention({ text: 'x = 1' })).tokens.length;
      expect(tokens).toBeLessThanOrEqual(20);
      const error = await small.attention({ text }).then(() => null, (e: unknown) => e as Error & { code: string });
      expect(error).toMatchObject({ code: 'bad-request' });
      expect(error!.message).toMatch(new RegExp(`^The text is \\d+ tokens; this model's attention maps fit 20: ${layers} layers x ${heads} heads x tokens² x 4 bytes must stay within`));
    } finally {
      await small.release();
    }
  });

  it('captures attention of a model without attention outputs through its rewritten graph (more in attention-rewrite.test.ts)', async () => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-engine-test-'));
    const llama = await LoadedModel.load(path.join(FIXTURES, 'llama-tiny'), { quantization: ['fp32'], threads: 1, cacheDir });
    try {
      const result = await llama.attention({ text: 'x = 1' });
      expect(result.layers).toBe(llama.info().layers);
      expect(result.weights[0]).toHaveLength(result.heads * result.tokens.length ** 2);
      // Surprisal alone runs the generation graph, with the same leading special tokens and numbers.
      const alone = await llama.surprisal({ text: 'x = 1' });
      expect(alone.tokens).toEqual(result.tokens);
      alone.surprisal.slice(1).forEach((bits, i) => expect(bits).toBeCloseTo(result.surprisal[i + 1]!, 3));
    } finally {
      await llama.release();
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
