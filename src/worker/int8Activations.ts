// ONNX Runtime's MatMulNBits (4- and 8-bit weights) computes in float32 unless its accuracy_level attribute is 4:
// then it quantizes each block of the activations to int8 and multiplies with integer dot products (AVX2 / AVX512-VNNI),
// as llama.cpp does for its quantized weights. Measured on the Qwen2.5-Coder-0.5B shapes (docs/PERFORMANCE.md): 4-bit
// decode about twice as fast, and ONNX Runtime 1.30 has no fast one-row kernel for 8-bit weights without it. Hub
// exports leave it unset (transformers.js's quantize script calls MatMul4BitsQuantizer without accuracy_level), so
// the engine sets it in the graph it generates with (lastLogitsRewrite.ts), in the main graph and every subgraph.

import {
  ATTRIBUTE_GRAPH,
  ATTRIBUTE_GRAPHS,
  ATTRIBUTE_INT,
  ATTRIBUTE_NAME,
  bytesField,
  GRAPH_NODE,
  intAttributeField,
  MODEL_GRAPH,
  NODE_ATTRIBUTE,
  NODE_OP_TYPE,
  parseFields,
  splice,
  text,
  type Field,
} from './onnxProtobuf';

/** MatMulNBits accuracy_level for int8 activations. */
export const INT8_ACTIVATIONS = 4;

/** `node` (NodeProto bytes) with accuracy_level `level` if it is a 4- or 8-bit MatMulNBits, its subgraphs rewritten. */
function rewriteNode(node: Buffer, level: number, counter: { changed: number }): Buffer {
  const fields = parseFields(node);
  const opType = fields.find((f) => f.field === NODE_OP_TYPE && f.value);
  const replacements = new Map<Field, Buffer>();
  const attributes = fields.filter((f) => f.field === NODE_ATTRIBUTE && f.value).map((field) => ({ field, parts: parseFields(field.value!) }));
  const named = (name: string) => attributes.find((a) => a.parts.some((p) => p.field === ATTRIBUTE_NAME && p.value && text(p) === name));
  if (opType && text(opType) === 'MatMulNBits') {
    const bits = named('bits')?.parts.find((p) => p.field === ATTRIBUTE_INT)?.varint;
    const current = named('accuracy_level');
    const currentLevel = current?.parts.find((p) => p.field === ATTRIBUTE_INT)?.varint ?? 0;
    if ((bits === 4 || bits === 8) && currentLevel !== level) {
      counter.changed++;
      if (current) replacements.set(current.field, intAttributeField('accuracy_level', level));
      else return Buffer.concat([node, intAttributeField('accuracy_level', level)]);
    }
    return splice(node, replacements);
  }
  // Subgraphs (If branches, Loop bodies): AttributeProto.g or .graphs.
  for (const { field, parts } of attributes) {
    const graphParts = parts.filter((p) => (p.field === ATTRIBUTE_GRAPH || p.field === ATTRIBUTE_GRAPHS) && p.value);
    if (graphParts.length === 0) continue;
    const inner = new Map(graphParts.map((p) => [p, bytesField(p.field, rewriteGraph(p.value!, level, counter))]));
    replacements.set(field, bytesField(NODE_ATTRIBUTE, splice(field.value!, inner)));
  }
  return splice(node, replacements);
}

function rewriteGraph(graph: Buffer, level: number, counter: { changed: number }): Buffer {
  const replacements = new Map<Field, Buffer>();
  for (const field of parseFields(graph)) {
    if (field.field === GRAPH_NODE && field.value) replacements.set(field, bytesField(GRAPH_NODE, rewriteNode(field.value, level, counter)));
  }
  return splice(graph, replacements);
}

/** The model with every 4- and 8-bit MatMulNBits at accuracy_level `level`, and how many nodes that changed. */
export function withAccuracyLevel(model: Buffer, level = INT8_ACTIVATIONS): { bytes: Buffer; changed: number } {
  const modelFields = parseFields(model);
  const graphField = modelFields.find((f) => f.field === MODEL_GRAPH && f.value);
  if (!graphField) return { bytes: model, changed: 0 };
  const counter = { changed: 0 };
  const graph = rewriteGraph(graphField.value!, level, counter);
  if (counter.changed === 0) return { bytes: model, changed: 0 };
  return { bytes: splice(model, new Map([[graphField, bytesField(MODEL_GRAPH, graph)]])), changed: counter.changed };
}
