// Exposes the attention probabilities of an ONNX decoder that does not return them (public Optimum exports).
//
// In each layer, the Softmax whose output is multiplied with the values (MatMul(probs, V), directly or through a
// Cast / Identity / Dropout) holds the attention probabilities [batch, heads, seq, past+seq]. The rewrite adds, per
// layer in the order the graph lists them, a Cast to float32 from that tensor to a new graph output `attentions.{i}`,
// the name our own exports use, so the engine reads them like ours. Older merged decoders (one `If` on
// use_cache_branch) get the same outputs added to both branches and to the If node.
//
// The file is rewritten once and cached (rewriteCache.ts). ONNX files are protobuf ModelProto
// messages; the rewrite touches only the bytes it must: it parses the top-level fields of ModelProto and GraphProto
// (and the nodes and, for an If, its branch attributes), appends the new nodes and outputs, and writes the corrected
// length prefixes. Everything else (weights included) is copied unchanged, so no ONNX library is needed.

import * as path from 'node:path';
import { EngineError } from '../protocol/engine';
import { cachedRewrite, type RewrittenModel } from './rewriteCache';
import {
  ATTRIBUTE_GRAPH,
  bytesField,
  encodeNode,
  intAttributeField,
  FLOAT,
  GRAPH_NODE,
  GRAPH_OUTPUT,
  MODEL_GRAPH,
  NODE_ATTRIBUTE,
  NODE_OUTPUT,
  parseFields,
  parseGraph,
  splice,
  varintField,
  type Field,
  type Graph,
  type Node,
} from './onnxProtobuf';

/** Operators that compute attention inside one kernel and never materialise the probabilities. */
const FUSED_ATTENTION = new Set([
  'Attention',
  'MultiHeadAttention',
  'GroupQueryAttention',
  'PackedAttention',
  'PackedMultiHeadAttention',
  'DecoderMaskedSelfAttention',
  'DecoderMaskedMultiHeadAttention',
  'SparseAttention',
]);

/** Ops between the Softmax and the MatMul that leave the probabilities as they are. */
const PASS_THROUGH = new Set(['Cast', 'Identity', 'Dropout']);

/** ValueInfoProto of a float tensor [batch, heads, seq, past+seq] (symbolic dims). */
function floatValueInfo(name: string): Buffer {
  const dims = ['batch_size', 'attention_heads', 'sequence_length', 'total_sequence_length'];
  const shape = Buffer.concat(dims.map((dim) => bytesField(1, bytesField(2, dim)))); // TensorShapeProto.dim.dim_param
  const tensorType = Buffer.concat([varintField(1, FLOAT), bytesField(2, shape)]); // TypeProto.Tensor elem_type, shape
  const type = bytesField(1, tensorType); // TypeProto.tensor_type
  return Buffer.concat([bytesField(1, name), bytesField(2, type)]);
}

// ------------------------------------------------------------------------------------------------
// Finding the probabilities
// ------------------------------------------------------------------------------------------------

/** The Softmax outputs that feed MatMul(probs, V), in graph order. */
function probabilityTensors(graph: Graph): string[] {
  const consumers = new Map<string, Node[]>();
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      if (!consumers.has(input)) consumers.set(input, []);
      consumers.get(input)!.push(node);
    }
  }
  const feedsValues = (tensor: string, depth: number): boolean =>
    (consumers.get(tensor) ?? []).some(
      (node) =>
        (node.opType === 'MatMul' && node.inputs[0] === tensor) ||
        (depth < 3 && PASS_THROUGH.has(node.opType) && node.outputs[0] !== undefined && feedsValues(node.outputs[0], depth + 1)),
    );
  const softmaxes = graph.nodes.filter((node) => node.opType === 'Softmax' && node.outputs[0] !== undefined && feedsValues(node.outputs[0], 0));
  // Layer order: by the layer number in the node names (/model/layers.3/self_attn/Softmax, /model/h.3/Softmax) when
  // every one has a distinct number, else the order of the graph (exports list the layers in order).
  const numbers = softmaxes.map((node) => /(?:^|[/.])(?:layers|layer|h|blocks|block)[./_](\d+)(?:[/.]|$)/.exec(node.name)?.[1]);
  if (numbers.every((n) => n !== undefined) && new Set(numbers).size === numbers.length) {
    const order = softmaxes.map((node, i) => ({ node, layer: Number(numbers[i]) })).sort((a, b) => a.layer - b.layer);
    return order.map(({ node }) => node.outputs[0]!);
  }
  return softmaxes.map((node) => node.outputs[0]!);
}

function fusedOperator(graph: Graph): Node | undefined {
  for (const node of graph.nodes) {
    if (FUSED_ATTENTION.has(node.opType)) return node;
    for (const { graph: sub } of node.graphs.values()) {
      const inner = fusedOperator(parseGraph(sub.value!));
      if (inner) return inner;
    }
  }
  return undefined;
}

/**
 * `graph` with a Cast to float32 from each source tensor to a new graph output of the given name (a no-op for float32
 * graphs; float16 exports get float32 probabilities, as the output declares).
 */
function addOutputs(buf: Buffer, outputs: Array<{ source: string; name: string }>): Buffer {
  const extra = outputs.flatMap(({ source, name }) => [
    bytesField(GRAPH_NODE, encodeNode('Cast', [source], [name], `attentive/expose/${name}`, [intAttributeField('to', FLOAT)])),
    bytesField(GRAPH_OUTPUT, floatValueInfo(name)),
  ]);
  return Buffer.concat([buf, ...extra]);
}

export interface RewriteSummary {
  /** The tensors exposed, one per layer, in layer order. */
  sources: string[];
  /** Whether they came from the branches of an If (older merged decoders). */
  viaIf: boolean;
}

/**
 * Returns the model bytes with `attentions.{i}` outputs added, or throws an EngineError saying why that is not possible.
 * `layers`, when given, is the count that must be found.
 */
export function exposeAttention(model: Buffer, layers?: number): { bytes: Buffer; summary: RewriteSummary } {
  let modelFields: Field[];
  let graphField: Field | undefined;
  let graph: Graph;
  try {
    modelFields = parseFields(model);
    graphField = modelFields.find((f) => f.field === MODEL_GRAPH && f.value);
    if (!graphField) throw new Error('no graph');
    graph = parseGraph(graphField.value!);
  } catch (error) {
    throw new EngineError(`The ONNX file could not be read to expose its attention: ${(error as Error).message}`, 'model-invalid');
  }
  const checkCount = (found: number) => {
    if (found === 0) {
      const fused = fusedOperator(graph);
      if (fused) {
        throw new EngineError(
          `This model computes attention in one fused operator (${fused.domain || 'ai.onnx'} ${fused.opType}), which never ` +
            'materialises the attention probabilities, so they cannot be shown. An export without attention fusion would have them.',
          'bad-request',
        );
      }
      throw new EngineError('This model has no attention outputs, and no Softmax feeding a MatMul with the values was found in its graph', 'bad-request');
    }
    if (layers !== undefined && found !== layers) {
      throw new EngineError(`Found ${found} attention Softmax nodes in the graph for ${layers} layers; cannot tell which are the attention probabilities`, 'bad-request');
    }
  };

  const names = (count: number) => Array.from({ length: count }, (_, i) => `attentions.${i}`);
  let newGraph: Buffer;
  let summary: RewriteSummary;
  const direct = probabilityTensors(graph);
  const ifNode = direct.length === 0 ? graph.nodes.find((node) => node.opType === 'If' && node.graphs.has('then_branch') && node.graphs.has('else_branch')) : undefined;
  if (direct.length > 0 || !ifNode) {
    checkCount(direct.length);
    newGraph = addOutputs(graphField.value!, names(direct.length).map((name, i) => ({ source: direct[i]!, name })));
    summary = { sources: direct, viaIf: false };
  } else {
    // Merged decoder: both branches get the outputs (If outputs are positional), the If node and the graph too.
    const branches = ['then_branch', 'else_branch'].map((key) => {
      const branch = ifNode.graphs.get(key)!;
      return { key, branch, sources: probabilityTensors(parseGraph(branch.graph.value!)) };
    });
    const count = branches[0]!.sources.length;
    if (branches[1]!.sources.length !== count) {
      throw new EngineError('The two branches of the merged decoder have different attention Softmax counts', 'bad-request');
    }
    checkCount(count);
    const nodeReplacements = new Map<Field, Buffer>();
    for (const { key, branch, sources } of branches) {
      const graphBytes = addOutputs(branch.graph.value!, sources.map((source, i) => ({ source, name: `attentions.${i}/${key}` })));
      const attribute = splice(branch.attribute.value!, new Map([[branch.graph, bytesField(ATTRIBUTE_GRAPH, graphBytes)]]));
      nodeReplacements.set(branch.attribute, bytesField(NODE_ATTRIBUTE, attribute));
    }
    // New outputs go after the existing ones: NodeProto.output is repeated, so appending fields appends outputs.
    const nodeBytes = splice(ifNode.field.value!, nodeReplacements);
    const withOutputs = Buffer.concat([nodeBytes, ...names(count).map((name) => bytesField(NODE_OUTPUT, name))]);
    const graphBytes = splice(graphField.value!, new Map([[ifNode.field, bytesField(GRAPH_NODE, withOutputs)]]));
    newGraph = Buffer.concat([graphBytes, ...names(count).map((name) => bytesField(GRAPH_OUTPUT, floatValueInfo(name)))]);
    summary = { sources: branches[0]!.sources, viaIf: true };
  }
  return { bytes: splice(model, new Map([[graphField, bytesField(MODEL_GRAPH, newGraph)]])), summary };
}

// ------------------------------------------------------------------------------------------------
// The cache
// ------------------------------------------------------------------------------------------------

/** The rewritten graphs' folder under the engine's cache (EngineOptions.cacheDir). */
export function attentionGraphsDir(cacheDir: string): string {
  return path.join(cacheDir, 'attention-graphs');
}

/** The ONNX file at `source` with `attentions.{i}` outputs, rewritten once into `cacheDir` (see rewriteCache.ts). */
export function rewrittenModelPath(source: string, cacheDir: string, layers?: number): RewrittenModel {
  return cachedRewrite(source, cacheDir, (bytes) => exposeAttention(bytes, layers).bytes);
}
