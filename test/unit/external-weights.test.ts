// Large single-file models are loaded from a copy with their weights in an external data file (memory-mapped by ONNX
// Runtime): the copy computes exactly what the original does, is written once and reused, old copies are evicted, and
// a damaged copy never stops the model from loading. Real ONNX Runtime on the fixtures, with the size threshold at 0.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecoderSession } from '../../src/worker/decoderSession';
import { openSession } from '../../src/worker/openSession';
import { deleteExternalWeightsCopies, externalWeightsDir, externalWeightsPath } from '../../src/worker/externalWeights';
import { lastPositionLogits } from '../../src/worker/lastLogitsRewrite';
import { readModelFolder } from '../../src/worker/modelFolder';
import { externalDataLocations, GRAPH_INITIALIZER, MODEL_GRAPH, parseFields, TENSOR_EXTERNAL_DATA, TENSOR_RAW_DATA, text, type Field } from '../../src/worker/onnxProtobuf';
import { cachedRewrite } from '../../src/worker/rewriteCache';

const FIXTURES = path.resolve(__dirname, '../fixtures/models');
const IDS = [5, 17, 42, 99, 7, 300];

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-external-weights-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The main graph's initializers: name -> TensorProto fields. */
function initializers(model: Buffer): Map<string, Field[]> {
  const graph = parseFields(parseFields(model).find((f) => f.field === MODEL_GRAPH)!.value!);
  const tensors = new Map<string, Field[]>();
  for (const field of graph.filter((f) => f.field === GRAPH_INITIALIZER)) {
    const parts = parseFields(field.value!);
    tensors.set(text(parts.find((p) => p.field === 8)!), parts); // TensorProto.name
  }
  return tensors;
}

function rawTensors(model: Buffer): Map<string, Buffer> {
  const raw = new Map<string, Buffer>();
  for (const [name, parts] of initializers(model)) {
    const data = parts.find((p) => p.field === TENSOR_RAW_DATA);
    if (data?.value) raw.set(name, data.value);
  }
  return raw;
}

function externalTensors(model: Buffer): Map<string, { offset: number; length: number }> {
  const moved = new Map<string, { offset: number; length: number }>();
  for (const [name, parts] of initializers(model)) {
    const entries = parts.filter((p) => p.field === TENSOR_EXTERNAL_DATA).map((p) => parseFields(p.value!).map(text));
    const value = (key: string) => Number(entries.find(([k]) => k === key)?.[1]);
    if (entries.length) moved.set(name, { offset: value('offset'), length: value('length') });
  }
  return moved;
}

async function lastLogits(file: string, name: string): Promise<Float32Array> {
  const session = await DecoderSession.create(file, readModelFolder(path.join(FIXTURES, name), ['fp32']).config, 1);
  try {
    return (await session.step(IDS, session.emptyCache())).lastLogits;
  } finally {
    await session.release();
  }
}

describe('external weights', () => {
  for (const name of ['llama-tiny', 'gpt2-tiny-merged']) {
    it(`${name}: the copy keeps every weight outside the graph and computes exactly the same logits`, async () => {
      const source = readModelFolder(path.join(FIXTURES, name), ['fp32']).onnxPath;
      const cache = path.join(dir, name);
      const copy = externalWeightsPath(source, cache, 0);
      expect(copy).not.toBe(source);
      expect(path.basename(copy)).toBe(path.basename(source));
      const data = `${copy}_data`;
      expect(externalDataLocations(fs.readFileSync(copy))).toEqual([path.basename(data)]);
      expect(fs.statSync(copy).size).toBeLessThan(fs.statSync(source).size / 4);
      expect(fs.statSync(data).size).toBeGreaterThan(fs.statSync(source).size * 0.75);
      expect(await lastLogits(copy, name)).toEqual(await lastLogits(source, name));
      // Every moved tensor sits at a 4 KiB-aligned offset of the data file, byte for byte as it was in the graph.
      const moved = externalTensors(fs.readFileSync(copy));
      const originals = rawTensors(fs.readFileSync(source));
      const dataBytes = fs.readFileSync(data);
      expect(moved.size).toBeGreaterThan(3);
      for (const [tensor, { offset, length }] of moved) {
        expect(offset % 4096).toBe(0);
        expect(dataBytes.subarray(offset, offset + length).equals(originals.get(tensor)!)).toBe(true);
      }
      // Written once: the next load reuses it untouched.
      const mtime = fs.statSync(copy).mtimeMs;
      expect(externalWeightsPath(source, cache, 0)).toBe(copy);
      expect(fs.statSync(copy).mtimeMs).toBe(mtime);
    });
  }

  it('leaves small files and files that already have external data as they are', () => {
    const source = readModelFolder(path.join(FIXTURES, 'llama-tiny'), ['fp32']).onnxPath;
    expect(externalWeightsPath(source, path.join(dir, 'small'))).toBe(source); // default threshold: 100 MB
    const copy = externalWeightsPath(source, path.join(dir, 'twice'), 0);
    expect(externalWeightsPath(copy, path.join(dir, 'twice-again'), 0)).toBe(copy);
    expect(fs.existsSync(path.join(dir, 'twice-again'))).toBe(false);
  });

  it('keeps the two most recently used copies', () => {
    const cache = path.join(dir, 'evict');
    const sources = ['a', 'b', 'c'].map((name) => {
      const folder = path.join(dir, `source-${name}`);
      fs.mkdirSync(folder);
      const file = path.join(folder, 'model.onnx');
      fs.copyFileSync(readModelFolder(path.join(FIXTURES, 'llama-tiny'), ['fp32']).onnxPath, file);
      return file;
    });
    const copies = sources.map((source, i) => {
      const copy = externalWeightsPath(source, cache, 0);
      const past = new Date(Date.now() - (10 - i) * 1000); // distinct last-use times, oldest first
      fs.utimesSync(path.dirname(copy), past, past);
      return copy;
    });
    expect(fs.existsSync(copies[0]!)).toBe(false);
    expect(fs.existsSync(copies[1]!) && fs.existsSync(copies[2]!)).toBe(true);
    // Using the older one again marks it as recent: the next new copy evicts the other one.
    externalWeightsPath(sources[1]!, cache, 0);
    externalWeightsPath(sources[0]!, cache, 0);
    expect(fs.readdirSync(cache).length).toBe(2);
    expect(fs.existsSync(copies[1]!)).toBe(true);
    expect(fs.existsSync(copies[2]!)).toBe(false);
  });

  it('deleting a model deletes its copies, and only its copies', () => {
    const cache = path.join(dir, 'delete');
    const folders = ['one', 'two'].map((name) => {
      const folder = path.join(dir, `model-${name}`);
      fs.cpSync(path.join(FIXTURES, 'llama-tiny'), folder, { recursive: true });
      return folder;
    });
    const copies = folders.map((folder) => externalWeightsPath(path.join(folder, 'onnx', 'model.onnx'), cache, 0));
    const bytes = fs.statSync(copies[0]!).size + fs.statSync(`${copies[0]!}_data`).size;
    const rewrites = path.join(dir, 'rewrites');
    const rewritten = copies.map((copy) => cachedRewrite(copy, rewrites, lastPositionLogits).path);
    expect(deleteExternalWeightsCopies(folders[0]!, cache, [rewrites])).toBe(bytes);
    expect(fs.existsSync(path.dirname(copies[0]!))).toBe(false);
    expect(fs.existsSync(path.dirname(rewritten[0]!))).toBe(false); // its hard link would keep the data on disk
    expect(fs.existsSync(rewritten[1]!)).toBe(true);
    expect(fs.existsSync(copies[1]!)).toBe(true);
    expect(deleteExternalWeightsCopies(folders[0]!, cache)).toBe(0);
    expect(deleteExternalWeightsCopies(path.join(dir, 'no-such-model'), cache)).toBe(0);
  });

  it('a damaged copy is deleted and the original loads', async () => {
    const model = readModelFolder(path.join(FIXTURES, 'llama-tiny'), ['fp32']);
    const cache = path.join(dir, 'damaged');
    const copy = externalWeightsPath(model.onnxPath, externalWeightsDir(cache), 0);
    fs.writeFileSync(copy, Buffer.from('not a protobuf at all'));
    const { session, sessionPath } = await openSession(model, cache, 1, 0);
    try {
      expect(sessionPath).toBe(model.onnxPath);
      expect(fs.existsSync(path.dirname(copy))).toBe(false);
      expect((await session.step(IDS, session.emptyCache())).lastLogits).toEqual(await lastLogits(model.onnxPath, 'llama-tiny'));
    } finally {
      await session.release();
    }
    // The next load writes the copy again and uses it.
    const again = await openSession(model, cache, 1, 0);
    expect(again.sessionPath).toBe(copy);
    await again.session.release();
  });
});
