// Exports compute the logits of every input position, but generation needs only the last: for a 512-token prompt of
// a 152k vocabulary that is 311 MB of float32 (ONNX Runtime's buffer, then its copy in JS) and, in the LM head, a
// quarter of the prompt's arithmetic (896 x 151,936 multiply-adds per position for Qwen2.5-Coder-0.5B). The rewrite
// makes the LM head see only the last position: before the MatMul (or MatMulNBits) that produces `logits`, a Gather
// of index -1 on the sequence axis, so the output is [batch, 1, vocab]; in older merged decoders, whose logits come out
// of an If, in both of its branches (a constant bias added after it stays as it is). Nothing else changes. A graph whose logits come from another operator, or whose
// head input may be flattened to [batch * seq, hidden] (it comes from a Reshape, Flatten, Squeeze or Gemm; a Reshape
// to three dimensions, as GPT-2's, is fine), is not rewritten, nor one that returns its attentions (ours:
// small vocabularies, and Explain Attention needs every position's logits from that session). The engine runs a new
// rewrite once before trusting it (openSession); a graph that does not fit or does not run is marked in the cache and
// not tried again.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError } from '../protocol/engine';
import {
  ATTRIBUTE_GRAPH,
  ATTRIBUTE_TENSOR,
  ATTRIBUTE_TYPE,
  ATTRIBUTE_TYPE_TENSOR,
  attributeField,
  bytesField,
  encodeNode,
  GRAPH_NODE,
  GRAPH_OUTPUT,
  INT64,
  intAttributeField,
  MODEL_GRAPH,
  NODE_ATTRIBUTE,
  NODE_INPUT,
  parseFields,
  parseGraph,
  splice,
  TENSOR_DATA_TYPE,
  TENSOR_DIMS,
  TENSOR_INT64_DATA,
  text,
  varintField,
  type Field,
  type Graph,
} from './onnxProtobuf';
import { withAccuracyLevel } from './int8Activations';
import { cachedRewrite, rewriteFolder, type RewrittenModel } from './rewriteCache';

/** The rewritten graphs' folder under the engine's cache (EngineOptions.cacheDir). */
export function lastLogitsGraphsDir(cacheDir: string): string {
  return path.join(cacheDir, 'last-logits-graphs');
}

/** The operators whose first input is the hidden state [batch, seq, hidden] (MatMulInteger: quantized) when they produce the logits. */
const LM_HEADS = new Set(['MatMul', 'MatMulNBits', 'MatMulInteger']);
/** Producers of that input that may have flattened it to [batch * seq, hidden], where axis 1 is not the sequence. */
const MAY_FLATTEN = new Set(['Reshape', 'Flatten', 'Squeeze', 'Gemm']);
/** Part of the cache folder's name: a new one whenever what the generation graph rewrite writes changes. */
const GENERATION_GRAPH_VERSION = 'g2';
/** Left in a graph's cache folder when the rewrite does not fit it or its graph did not run: later loads skip it. */
const UNUSABLE_MARKER = 'unusable.txt';

/** The names of a graph's outputs, in order. */
function outputNames(graph: Graph): string[] {
  return graph.fields.filter((f) => f.field === GRAPH_OUTPUT && f.value).map((f) => text(parseFields(f.value!).find((v) => v.field === 1)!));
}

/** `graph` (GraphProto bytes) with the node producing `logits` fed only the last position; `tag` keeps names unique. */
function rewriteHead(graphBytes: Buffer, logits: string, tag: string): Buffer {
  const graph = parseGraph(graphBytes);
  const producing = (tensor: string) => graph.nodes.find((n) => n.outputs.includes(tensor));
  // Back from the logits to the head, through what acts on every position alike: Identity nodes (merged decoders'
  // branches end in them), casts, a constant bias (CodeGen's LM head has one: [vocab]), and the scale of a dynamically
  // quantized head (onnxruntime.quantization's 8-bit files: DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul).
  const positionFree = (tensor: string): boolean => {
    const node = producing(tensor);
    if (!node || node.opType === 'Constant') return true; // an initializer or a constant
    if (node.opType === 'DynamicQuantizeLinear') return node.outputs[0] !== tensor; // its scale or zero point: scalars
    // A quantized head's scale: the product of the input's scale (DynamicQuantizeLinear's) and the weights' (an initializer).
    return node.opType === 'Mul' && node.inputs.every((input) => {
      const source = producing(input);
      return !source || (['Constant', 'DynamicQuantizeLinear'].includes(source.opType) && source.outputs[0] !== input);
    });
  };
  const chain = [logits];
  let target = logits;
  let head = producing(target);
  while (head && !LM_HEADS.has(head.opType) && chain.length <= 6) {
    let next: string | undefined;
    if (head.opType === 'Identity' || head.opType === 'Cast') next = head.inputs[0];
    else if ((head.opType === 'Add' || head.opType === 'Mul') && head.inputs.length === 2) {
      const [a, b] = head.inputs as [string, string];
      next = positionFree(b) ? a : positionFree(a) ? b : undefined;
    }
    if (!next) break;
    chain.push((target = next));
    head = producing(target);
  }
  if (!head || !LM_HEADS.has(head.opType) || head.outputs[0] !== target || !head.inputs[0]) {
    throw new EngineError(`The logits come from ${head ? head.opType : 'no node'}, not from a MatMul on the hidden state`, 'model-invalid');
  }
  if (chain.some((tensor, i) => graph.nodes.filter((n) => n.inputs.includes(tensor)).length > (i === 0 ? 0 : 1))) {
    throw new EngineError('The LM head\'s output feeds other nodes than the logits', 'model-invalid');
  }
  // The head's hidden-state input (for MatMulInteger: the quantized one, gathered after its per-tensor quantization, so
  // the result is exactly the original's last row).
  const hidden = head.inputs[0];
  const quantizer = head.opType === 'MatMulInteger' ? producing(hidden) : undefined;
  if (head.opType === 'MatMulInteger' && (quantizer?.opType !== 'DynamicQuantizeLinear' || !quantizer.inputs[0])) {
    throw new EngineError('The quantized LM head\'s input does not come from DynamicQuantizeLinear', 'model-invalid');
  }
  const producer = producing(quantizer ? quantizer.inputs[0]! : hidden);
  // A Reshape to a shape built of three parts is [batch, seq, hidden]: GPT-2's view after its last LayerNorm.
  const toRank3 = producer?.opType === 'Reshape' && producer.inputs[1] !== undefined && producing(producer.inputs[1])?.opType === 'Concat' && producing(producer.inputs[1])!.inputs.length === 3;
  if (producer && MAY_FLATTEN.has(producer.opType) && !toRank3) {
    throw new EngineError(`The LM head's input comes from ${producer.opType}, which may have flattened the sequence axis`, 'model-invalid');
  }
  const index = `attentive/last_position${tag}/index`;
  const last = `attentive/last_position${tag}/${hidden}`;
  // Constant int64 [1] = [-1] (int64_data is packed varints; -1 is ten bytes).
  const minusOne = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  const indexTensor = Buffer.concat([varintField(TENSOR_DIMS, 1), varintField(TENSOR_DATA_TYPE, INT64), bytesField(TENSOR_INT64_DATA, minusOne)]);
  const constant = encodeNode('Constant', [], [index], `attentive/last_position${tag}/Constant`, [
    attributeField('value', [bytesField(ATTRIBUTE_TENSOR, indexTensor), varintField(ATTRIBUTE_TYPE, ATTRIBUTE_TYPE_TENSOR)]),
  ]);
  const gather = encodeNode('Gather', [hidden, index], [last], `attentive/last_position${tag}/Gather`, [intAttributeField('axis', 1)]);
  // The head again, its first input replaced; the new nodes go just before it (graphs list nodes in order).
  const firstInput = parseFields(head.field.value!).find((f: Field) => f.field === NODE_INPUT)!;
  const rewiredHead = bytesField(GRAPH_NODE, splice(head.field.value!, new Map([[firstInput, bytesField(NODE_INPUT, last)]])));
  const newNodes = [constant, gather].map((node) => bytesField(GRAPH_NODE, node));
  return splice(graphBytes, new Map([[head.field, Buffer.concat([...newNodes, rewiredHead])]]));
}

/** The model bytes with the LM head fed only the last position; throws an EngineError when the graph has no such head. */
export function lastPositionLogits(model: Buffer): Buffer {
  const modelFields = parseFields(model);
  const graphField = modelFields.find((f) => f.field === MODEL_GRAPH && f.value);
  if (!graphField) throw new EngineError('The ONNX file has no graph', 'model-invalid');
  const graph = parseGraph(graphField.value!);
  if (outputNames(graph).some((name) => /^attentions\.\d+$/.test(name))) {
    // Its one session also serves Explain Attention, which needs every position's logits (surprisal, predictions).
    throw new EngineError('The model returns its attentions: its logits stay per position', 'bad-request');
  }
  const producer = graph.nodes.find((n) => n.outputs.includes('logits'));
  let newGraph: Buffer;
  if (producer?.opType === 'If' && producer.graphs.has('then_branch') && producer.graphs.has('else_branch')) {
    // Merged decoder: If outputs are positional, so each branch's output at the logits' position is its LM head's.
    const position = producer.outputs.indexOf('logits');
    const attributes = new Map<Field, Buffer>();
    for (const key of ['then_branch', 'else_branch']) {
      const branch = producer.graphs.get(key)!;
      const branchLogits = outputNames(parseGraph(branch.graph.value!))[position];
      if (!branchLogits) throw new EngineError(`The ${key} of the merged decoder has no output for the logits`, 'model-invalid');
      const rewritten = rewriteHead(branch.graph.value!, branchLogits, `/${key}`);
      attributes.set(branch.attribute, bytesField(NODE_ATTRIBUTE, splice(branch.attribute.value!, new Map([[branch.graph, bytesField(ATTRIBUTE_GRAPH, rewritten)]]))));
    }
    newGraph = splice(graphField.value!, new Map([[producer.field, bytesField(GRAPH_NODE, splice(producer.field.value!, attributes))]]));
  } else {
    newGraph = rewriteHead(graphField.value!, 'logits', '');
  }
  return splice(model, new Map([[graphField, bytesField(MODEL_GRAPH, newGraph)]]));
}

/**
 * The graph of `source` with last-position logits (and int8 activations in MatMulNBits), from `cacheDir` or rewritten
 * now (`created`); null when it was found not to fit this model before (a marker in its cache folder), or does not
 * fit it now (the marker is left).
 */
export function lastLogitsGraph(source: string, cacheDir: string): RewrittenModel | null {
  const marker = path.join(rewriteFolder(source, cacheDir, GENERATION_GRAPH_VERSION), UNUSABLE_MARKER);
  if (fs.existsSync(marker)) return null;
  try {
    // The graph the engine generates with: also with int8 activations in MatMulNBits (int8Activations.ts).
    return cachedRewrite(source, cacheDir, (model) => withAccuracyLevel(lastPositionLogits(model)).bytes, GENERATION_GRAPH_VERSION);
  } catch (error) {
    if (error instanceof EngineError) markUnusable(marker, error.message);
    return null;
  }
}

/** Records that the last-position graph of `source` does not work for its model, and deletes it. */
export function markLastLogitsGraphUnusable(source: string, cacheDir: string, reason: string): void {
  const folder = rewriteFolder(source, cacheDir, GENERATION_GRAPH_VERSION);
  fs.rmSync(folder, { recursive: true, force: true });
  markUnusable(path.join(folder, UNUSABLE_MARKER), reason);
}

function markUnusable(marker: string, reason: string): void {
  fs.mkdirSync(path.dirname(marker), { recursive: true });
  fs.writeFileSync(marker, `${reason}\n`);
}
