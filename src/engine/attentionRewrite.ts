// Exposes the attention probabilities of an ONNX decoder that does not return them (public Optimum exports).
//
// In each layer, the Softmax whose output is multiplied with the values (MatMul(probs, V), directly or through a
// Cast / Identity / Dropout) holds the attention probabilities [batch, heads, seq, past+seq]. The rewrite adds, per
// layer in the order the graph lists them, an Identity node from that tensor to a new graph output `attentions.{i}`,
// the name our own exports use, so the engine reads them like ours. Older merged decoders (one `If` on
// use_cache_branch) get the same outputs added to both branches and to the If node.
//
// The file is rewritten once and cached (key: source path, size and mtime). ONNX files are protobuf ModelProto
// messages; the rewrite touches only the bytes it must: it parses the top-level fields of ModelProto and GraphProto
// (and the nodes and, for an If, its branch attributes), appends the new nodes and outputs, and writes the corrected
// length prefixes. Everything else (weights included) is copied unchanged, so no ONNX library is needed.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError } from '../protocol/engine';

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

// ------------------------------------------------------------------------------------------------
// Protobuf wire format (only what the rewrite needs)
// ------------------------------------------------------------------------------------------------

interface Field {
  field: number;
  wire: number;
  /** Start of the tag. */
  start: number;
  /** End of the whole field. */
  end: number;
  /** The payload of a length-delimited field (wire type 2). */
  value?: Buffer;
  /** The value of a varint field (exact up to 2^53). */
  varint?: number;
}

function readVarint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos];
    scale *= 128;
    if (scale > 2 ** 70) throw new Error('varint too long');
  }
}

function parseFields(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [tag, afterTag] = readVarint(buf, pos);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    pos = afterTag;
    const entry: Field = { field, wire, start, end: pos };
    if (wire === 0) {
      [entry.varint, pos] = readVarint(buf, pos);
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else if (wire === 2) {
      const [length, afterLength] = readVarint(buf, pos);
      pos = afterLength + length;
      if (pos > buf.length) throw new Error('truncated field');
      entry.value = buf.subarray(afterLength, pos);
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
    if (pos > buf.length) throw new Error('truncated field');
    entry.end = pos;
    fields.push(entry);
  }
  return fields;
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

function bytesField(field: number, value: Buffer | string): Buffer {
  const payload = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([varint(field * 8 + 2), varint(payload.length), payload]);
}

function varintField(field: number, value: number): Buffer {
  return Buffer.concat([varint(field * 8), varint(value)]);
}

/** `buf` with the listed fields replaced by new bytes and `extra` appended (repeated fields keep their order). */
function splice(buf: Buffer, replacements: Map<Field, Buffer>, extra: Buffer[] = []): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  for (const [field, bytes] of [...replacements].sort((a, b) => a[0].start - b[0].start)) {
    parts.push(buf.subarray(pos, field.start), bytes);
    pos = field.end;
  }
  parts.push(buf.subarray(pos), ...extra);
  return Buffer.concat(parts);
}

// ONNX messages (field numbers from onnx.proto3)
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_OUTPUT = 12;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_NAME = 3;
const NODE_OP_TYPE = 4;
const NODE_ATTRIBUTE = 5;
const NODE_DOMAIN = 7;
const ATTRIBUTE_NAME = 1;
const ATTRIBUTE_GRAPH = 6;
const TENSOR_EXTERNAL_DATA = 13;
const FLOAT = 1;

interface Node {
  field: Field;
  inputs: string[];
  outputs: string[];
  name: string;
  opType: string;
  domain: string;
  /** Graph-valued attributes (If branches, Loop bodies) by attribute name. */
  graphs: Map<string, { attribute: Field; graph: Field; attributeFields: Field[] }>;
}

function text(field: Field): string {
  return field.value!.toString('utf8');
}

function parseNode(field: Field): Node {
  const node: Node = { field, inputs: [], outputs: [], name: '', opType: '', domain: '', graphs: new Map() };
  for (const f of parseFields(field.value!)) {
    if (f.field === NODE_INPUT && f.value) node.inputs.push(text(f));
    else if (f.field === NODE_OUTPUT && f.value) node.outputs.push(text(f));
    else if (f.field === NODE_NAME && f.value) node.name = text(f);
    else if (f.field === NODE_OP_TYPE && f.value) node.opType = text(f);
    else if (f.field === NODE_DOMAIN && f.value) node.domain = text(f);
    else if (f.field === NODE_ATTRIBUTE && f.value) {
      const attributeFields = parseFields(f.value);
      const name = attributeFields.find((a) => a.field === ATTRIBUTE_NAME);
      const graph = attributeFields.find((a) => a.field === ATTRIBUTE_GRAPH && a.value);
      if (name && graph) node.graphs.set(text(name), { attribute: f, graph, attributeFields });
    }
  }
  return node;
}

interface Graph {
  fields: Field[];
  nodes: Node[];
}

function parseGraph(buf: Buffer): Graph {
  const fields = parseFields(buf);
  return { fields, nodes: fields.filter((f) => f.field === GRAPH_NODE && f.value).map(parseNode) };
}

function encodeNode(opType: string, inputs: string[], outputs: string[], name: string): Buffer {
  return Buffer.concat([
    ...inputs.map((input) => bytesField(NODE_INPUT, input)),
    ...outputs.map((output) => bytesField(NODE_OUTPUT, output)),
    bytesField(NODE_NAME, name),
    bytesField(NODE_OP_TYPE, opType),
  ]);
}

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

/** `graph` with an Identity from each source tensor to a new graph output of the given name. */
function addOutputs(buf: Buffer, outputs: Array<{ source: string; name: string }>): Buffer {
  const extra = outputs.flatMap(({ source, name }) => [
    bytesField(GRAPH_NODE, encodeNode('Identity', [source], [name], `attentive/expose/${name}`)),
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

export interface RewrittenModel {
  /** The rewritten ONNX file. */
  path: string;
  /** False when it came from the cache. */
  created: boolean;
}

/** Cache key of a source file: its path, size and modification time. */
function cacheKey(source: string): string {
  const stat = fs.statSync(source);
  return crypto.createHash('sha256').update(`${path.resolve(source)}\n${stat.size}\n${stat.mtimeMs}`).digest('hex').slice(0, 20);
}

/**
 * The ONNX file at `source` with `attentions.{i}` outputs, from `cacheDir` when it was rewritten before, else
 * rewritten now and saved there (in a folder of its own per source file). Models with external data (`.onnx_data`)
 * get their data files hard-linked (or, across file systems, symlinked) next to the rewritten file, where ONNX
 * Runtime looks for them.
 */
export function rewrittenModelPath(source: string, cacheDir: string, layers?: number): RewrittenModel {
  const folder = path.join(cacheDir, `${path.basename(source, '.onnx')}-${cacheKey(source)}`);
  const target = path.join(folder, path.basename(source));
  if (fs.existsSync(target)) return { path: target, created: false };
  const { bytes } = exposeAttention(fs.readFileSync(source), layers);
  fs.mkdirSync(folder, { recursive: true });
  for (const location of externalDataLocations(bytes)) linkExternalData(path.join(path.dirname(source), location), path.join(folder, location));
  // Write then rename, so a crash never leaves a half-written file that the next run would trust.
  const temporary = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, bytes);
  fs.renameSync(temporary, target);
  return { path: target, created: true };
}

/** The `location` of every external-data initializer (relative to the model's folder). */
function externalDataLocations(model: Buffer): string[] {
  const locations = new Set<string>();
  const visit = (graph: Graph) => {
    for (const field of graph.fields) {
      if (field.field !== GRAPH_INITIALIZER || !field.value) continue;
      for (const entry of parseFields(field.value)) {
        if (entry.field !== TENSOR_EXTERNAL_DATA || !entry.value) continue;
        const pairs = parseFields(entry.value); // StringStringEntryProto: key=1, value=2
        const key = pairs.find((p) => p.field === 1 && p.value);
        const value = pairs.find((p) => p.field === 2 && p.value);
        if (key && value && text(key) === 'location') locations.add(text(value));
      }
    }
    for (const node of graph.nodes) for (const { graph: sub } of node.graphs.values()) visit(parseGraph(sub.value!));
  };
  const graphField = parseFields(model).find((f) => f.field === MODEL_GRAPH && f.value);
  if (graphField) visit(parseGraph(graphField.value!));
  return [...locations];
}

function linkExternalData(from: string, to: string): void {
  if (fs.existsSync(to)) return;
  if (!fs.existsSync(from)) throw new EngineError(`The model's external data file is missing: ${from}`, 'model-invalid');
  fs.mkdirSync(path.dirname(to), { recursive: true });
  try {
    fs.linkSync(from, to);
  } catch {
    try {
      fs.symlinkSync(path.resolve(from), to);
    } catch (error) {
      throw new EngineError(`Could not link the model's external data ${from} into ${path.dirname(to)}: ${(error as Error).message}`, 'internal');
    }
  }
}
