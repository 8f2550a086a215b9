// Large models generate from a graph whose LM head sees only the last position (lastLogitsRewrite.ts): the logits it
// returns are those of the original graph's last position, prompts longer than a prefill chunk give the same result,
// graphs it does not fit (logits from an If, a model that returns its attentions) are refused with the reason, and
// openSession uses it for generation while the attention rewrite starts from the graph with every position's logits.
// Real ONNX Runtime on the fixtures, with the size threshold at 0.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecoderSession } from '../../src/worker/decoderSession';
import { openSession } from '../../src/worker/openSession';
import { lastPositionLogits } from '../../src/worker/lastLogitsRewrite';
import { readModelFolder, type ModelFolder } from '../../src/worker/modelFolder';

const FIXTURES = path.resolve(__dirname, '../fixtures/models');
const IDS = [5, 17, 42, 99, 7, 300];

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-last-logits-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function rewritten(model: ModelFolder, name: string): string {
  const file = path.join(dir, `${name}.onnx`);
  fs.writeFileSync(file, lastPositionLogits(fs.readFileSync(model.onnxPath)));
  return file;
}

async function lastLogits(file: string, model: ModelFolder, ids: number[], lastLogitsOnly = false): Promise<Float32Array> {
  const session = await DecoderSession.create(file, model.config, 1, { lastLogitsOnly });
  try {
    let cache = session.emptyCache();
    let logits: Float32Array = new Float32Array(0);
    // The prompt, then one more token: the rewritten graph also serves decoding steps.
    for (const step of [ids, [ids[0]!]]) ({ lastLogits: logits, cache } = await session.step(step, cache));
    return logits;
  } finally {
    await session.release();
  }
}

/** Opens llama-tiny once with the threshold at 0 (writing its generation graph): the graph's cache folder. */
async function openedOnce(cache: string): Promise<{ model: ModelFolder; sessionPath: string; graphs: string; folder: string }> {
  const model = readModelFolder(path.join(FIXTURES, 'llama-tiny'), ['fp32']);
  const { session, sessionPath } = await openSession(model, cache, 1, 0);
  await session.release();
  const graphs = path.join(cache, 'last-logits-graphs');
  return { model, sessionPath, graphs, folder: fs.readdirSync(graphs)[0]! };
}

function expectClose(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  const scale = Math.max(...expected.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThan(1e-5 * scale);
}

describe('last-position logits', () => {
  for (const [name, quantization, onnxFile] of [
    ['llama-tiny', 'fp32'],
    ['gpt2-tiny', 'fp32'],
    ['gpt2-tiny', 'int8'],
    ['gpt2-tiny-merged', 'fp32'], // logits from an If: both branches rewritten
    // Genuine transformers exports (test/fixtures/hf): a packed multi-query cache, a num_logits_to_keep input, float16
    // logits, a 4-bit head (MatMulNBits), onnxruntime.quantization's 8-bit heads (DynamicQuantizeLinear ->
    // MatMulInteger -> Cast -> Mul; CodeGen's with a bias after it), also in a merged decoder.
    ['../hf/gpt-bigcode-tiny', 'fp32'],
    ['../hf/llama-tiny', 'fp32'],
    ['../hf/qwen2-tiny', 'fp16'],
    ['../hf/qwen2-tiny', 'q4'],
    ['../hf/qwen2-tiny', 'int8'],
    ['../hf/codegen-tiny', 'int8'],
    ['../hf/codegen-tiny', 'int8', 'decoder_model_merged_quantized.onnx'],
    ['../hf/gpt-bigcode-tiny', 'q4', 'decoder_model_merged_q4.onnx'],
  ] as [string, 'fp32' | 'fp16' | 'q4' | 'int8', string?][]) {
    it(`${name} (${onnxFile ?? quantization}): returns [1, 1, vocab], the original's last-position logits, for a prompt and a decoding step`, async () => {
      const picked = readModelFolder(path.join(FIXTURES, name), [quantization]);
      const model = onnxFile ? { ...picked, onnxPath: path.join(path.dirname(picked.onnxPath), onnxFile) } : picked;
      const file = rewritten(model, `${path.basename(name)}-${path.basename(model.onnxPath, '.onnx')}`);
      expectClose(await lastLogits(file, model, IDS, true), await lastLogits(model.onnxPath, model, IDS));
    });
  }

  it('a prompt longer than a prefill chunk runs in chunks with the same result', async () => {
    const model = readModelFolder(path.join(FIXTURES, 'llama-tiny'), ['fp32']);
    const file = rewritten(model, 'llama-long');
    const session = await DecoderSession.create(file, model.config, 1, { lastLogitsOnly: true });
    const ids = Array.from({ length: session.prefillChunkTokens * 2 + 5 }, (_, i) => (i * 37) % 500);
    await session.release();
    expectClose(await lastLogits(file, model, ids, true), await lastLogits(model.onnxPath, model, ids));
  });

  it('refuses graphs it does not fit, saying why', () => {
    const ours = readModelFolder(path.join(FIXTURES, 'attentive-tiny'), ['fp32']);
    expect(() => lastPositionLogits(fs.readFileSync(ours.onnxPath))).toThrow(/returns its attentions/);
  });

  it('openSession generates from it and keeps the graph with every position for the attention rewrite', async () => {
    const model = readModelFolder(path.join(FIXTURES, 'llama-tiny'), ['fp32']);
    const cache = path.join(dir, 'cache');
    const { session, sessionPath } = await openSession(model, cache, 1, 0);
    try {
      expect(session.lastLogitsOnly).toBe(true);
      expect(sessionPath.startsWith(path.join(cache, 'external-weights'))).toBe(true);
      expect(fs.readdirSync(path.join(cache, 'last-logits-graphs'))).toHaveLength(1);
      await expect(session.step(IDS, session.emptyCache(), { wantAllLogits: true })).rejects.toThrow(/only the last position/);
      expectClose((await session.step(IDS, session.emptyCache())).lastLogits, (await (async () => {
        const original = await DecoderSession.create(model.onnxPath, model.config, 1);
        try {
          return (await original.step(IDS, original.emptyCache())).lastLogits;
        } finally {
          await original.release();
        }
      })()));
    } finally {
      await session.release();
    }
    // A model that returns its attentions keeps one session with every position's logits.
    const ours = await openSession(readModelFolder(path.join(FIXTURES, 'attentive-tiny'), ['fp32']), path.join(dir, 'ours'), 1, 0);
    expect(ours.session.lastLogitsOnly).toBe(false);
    await ours.session.release();
  });

  it('a graph the rewrite does not fit is marked once and runs with every position', async () => {
    const ours = readModelFolder(path.join(FIXTURES, 'attentive-tiny'), ['fp32']);
    const cache = path.join(dir, 'unfit');
    for (let load = 0; load < 2; load++) {
      const { session } = await openSession(ours, cache, 1, 0);
      try {
        expect(session.lastLogitsOnly).toBe(false);
        expect((await session.step(IDS, session.emptyCache())).lastLogits.length).toBe(session.vocabSize);
      } finally {
        await session.release();
      }
      const [folder] = fs.readdirSync(path.join(cache, 'last-logits-graphs'));
      expect(fs.readdirSync(path.join(cache, 'last-logits-graphs', folder!))).toEqual(['unusable.txt']);
      expect(fs.readFileSync(path.join(cache, 'last-logits-graphs', folder!, 'unusable.txt'), 'utf8')).toMatch(/returns its attentions/);
    }
  });

  it('a damaged last-position graph is deleted, the full graph runs, and the next load writes it again', async () => {
    const cache = path.join(dir, 'damaged');
    const { model, sessionPath, graphs, folder } = await openedOnce(cache);
    fs.writeFileSync(path.join(graphs, folder, 'model.onnx'), 'not a protobuf at all');
    const second = await openSession(model, cache, 1, 0);
    expect(second.session.lastLogitsOnly).toBe(false);
    expect(second.sessionPath).toBe(sessionPath);
    await second.session.release();
    expect(fs.readdirSync(graphs)).toEqual([]);
    const third = await openSession(model, cache, 1, 0);
    expect(third.session.lastLogitsOnly).toBe(true);
    await third.session.release();
  });

  it('a generation graph written by another version of the rewrite is never loaded', async () => {
    const cache = path.join(dir, 'versions');
    const { model, graphs, folder: current } = await openedOnce(cache);
    expect(current).toMatch(/-g\d+$/);
    // As an older version left it: another folder name, a graph that would not even load.
    const older = path.join(graphs, current.replace(/-g\d+$/, ''));
    fs.renameSync(path.join(graphs, current), older);
    fs.writeFileSync(path.join(older, 'model.onnx'), 'not a protobuf at all');
    const second = await openSession(model, cache, 1, 0);
    expect(second.session.lastLogitsOnly).toBe(true);
    await second.session.release();
    expect(fs.readdirSync(graphs).sort()).toEqual([path.basename(older), current].sort());
  });
});
