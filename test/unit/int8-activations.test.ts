// MatMulNBits without accuracy_level (as Hub exports come) gets int8 activations in the graph the engine generates
// with: the rewrite sets the attribute on every 4- and 8-bit MatMulNBits, leaves other nodes and files without
// MatMulNBits as they are, and the result computes what a file exported with the attribute computes. Real ONNX
// Runtime on the bundled model (4-bit, exported with accuracy_level 4) and a copy of it with the attribute at 0.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecoderSession } from '../../src/worker/decoderSession';
import { INT8_ACTIVATIONS, withAccuracyLevel } from '../../src/worker/int8Activations';
import { readModelFolder, type ModelFolder } from '../../src/worker/modelFolder';
import { ATTRIBUTE_NAME, bytesField, GRAPH_NODE, MODEL_GRAPH, NODE_ATTRIBUTE, parseFields, splice, text, type Field } from '../../src/worker/onnxProtobuf';

const ROOT = path.resolve(__dirname, '../..');
const IDS = [5, 17, 42, 99, 7, 300, 1200, 64];

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-int8-activations-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The model with no accuracy_level attribute on any node of the main graph (as MatMul4BitsQuantizer writes it). */
function withoutAccuracyLevel(model: Buffer): Buffer {
  const graphField = parseFields(model).find((f) => f.field === MODEL_GRAPH)!;
  const nodes = new Map<Field, Buffer>();
  for (const node of parseFields(graphField.value!).filter((f) => f.field === GRAPH_NODE)) {
    const attributes = parseFields(node.value!).filter((f) => f.field === NODE_ATTRIBUTE);
    const levels = attributes.filter((a) => parseFields(a.value!).some((p) => p.field === ATTRIBUTE_NAME && text(p) === 'accuracy_level'));
    if (levels.length) nodes.set(node, bytesField(GRAPH_NODE, splice(node.value!, new Map(levels.map((a) => [a, Buffer.alloc(0)])))));
  }
  return splice(model, new Map([[graphField, bytesField(MODEL_GRAPH, splice(graphField.value!, nodes))]]));
}

async function lastLogits(file: string, model: ModelFolder): Promise<Float32Array> {
  const session = await DecoderSession.create(file, model.config, 1);
  try {
    return (await session.step(IDS, session.emptyCache())).lastLogits;
  } finally {
    await session.release();
  }
}

describe('int8 activations', () => {
  it('sets accuracy_level 4 on every MatMulNBits, and the model computes what the one exported with it does', async () => {
    const model = readModelFolder(path.join(ROOT, 'models', 'attentive-code-14m'), ['q4']);
    const original = fs.readFileSync(model.onnxPath);
    expect(withAccuracyLevel(original).changed).toBe(0); // exported with it already

    // At 0, the attribute is replaced where it is; and setting it back gives the export byte for byte.
    const zero = withAccuracyLevel(original, 0);
    expect(zero.changed).toBeGreaterThan(20);
    const restored = withAccuracyLevel(zero.bytes, INT8_ACTIVATIONS);
    expect(restored.changed).toBe(zero.changed);
    expect(restored.bytes.equals(original)).toBe(true);

    // Absent, as a Hub export comes: it is added.
    const hubLike = withoutAccuracyLevel(original);
    expect(hubLike.length).toBeLessThan(original.length);
    const hubLikeFile = path.join(dir, 'hub-like.onnx');
    fs.writeFileSync(hubLikeFile, hubLike);
    const rewritten = withAccuracyLevel(hubLike);
    expect(rewritten.changed).toBe(zero.changed);
    const fixed = path.join(dir, 'fixed.onnx');
    fs.writeFileSync(fixed, rewritten.bytes);

    const [exported, float32Activations, int8Activations] = [await lastLogits(model.onnxPath, model), await lastLogits(hubLikeFile, model), await lastLogits(fixed, model)];
    expect(int8Activations).toEqual(exported);
    // Float32 activations compute something slightly different (a check that the attribute is what changed).
    let difference = 0;
    for (let i = 0; i < exported.length; i++) difference = Math.max(difference, Math.abs(float32Activations[i]! - exported[i]!));
    expect(difference).toBeGreaterThan(0);
    expect(difference).toBeLessThan(1);
  });

  it('leaves models without MatMulNBits untouched', () => {
    const fixture = readModelFolder(path.join(ROOT, 'test', 'fixtures', 'models', 'gpt2-tiny-merged'), ['fp32']);
    const bytes = fs.readFileSync(fixture.onnxPath);
    const result = withAccuracyLevel(bytes);
    expect(result.changed).toBe(0);
    expect(result.bytes).toBe(bytes);
  });
});
