// ONNX files are protobuf ModelProto messages. The engine's rewrites of them (attentionRewrite.ts: attention outputs;
// externalWeights.ts: weights moved to a data file) read and write the wire format directly, touching only the bytes
// they must: no ONNX or protobuf library, and the weights are never decoded.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Field {
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

export function readVarint(buf: Buffer, pos: number): [number, number] {
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

/**
 * The field whose tag starts at `pos` of `buf`: its number and wire type, where its payload starts and where it ends
 * (both may lie past the end of `buf` when `buf` holds only the field's start), and a varint field's value.
 */
export function fieldHeader(buf: Buffer, pos: number): { field: number; wire: number; payloadStart: number; end: number; varint?: number } {
  const [tag, afterTag] = readVarint(buf, pos);
  const field = Math.floor(tag / 8);
  const wire = tag % 8;
  if (wire === 0) {
    const [value, end] = readVarint(buf, afterTag);
    return { field, wire, payloadStart: afterTag, end, varint: value };
  }
  if (wire === 1) return { field, wire, payloadStart: afterTag, end: afterTag + 8 };
  if (wire === 5) return { field, wire, payloadStart: afterTag, end: afterTag + 4 };
  if (wire === 2) {
    const [length, afterLength] = readVarint(buf, afterTag);
    return { field, wire, payloadStart: afterLength, end: afterLength + length };
  }
  throw new Error(`unsupported wire type ${wire}`);
}

export function parseFields(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const header = fieldHeader(buf, pos);
    if (header.end > buf.length) throw new Error('truncated field');
    const entry: Field = { field: header.field, wire: header.wire, start: pos, end: header.end };
    if (header.wire === 0) entry.varint = header.varint;
    else if (header.wire === 2) entry.value = buf.subarray(header.payloadStart, header.end);
    fields.push(entry);
    pos = header.end;
  }
  return fields;
}

export function varint(value: number): Buffer {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

export function bytesField(field: number, value: Buffer | string): Buffer {
  const payload = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([varint(field * 8 + 2), varint(payload.length), payload]);
}

export function varintField(field: number, value: number): Buffer {
  return Buffer.concat([varint(field * 8), varint(value)]);
}

/** `buf` with the listed fields replaced by new bytes and `extra` appended (repeated fields keep their order). */
export function splice(buf: Buffer, replacements: Map<Field, Buffer>, extra: Buffer[] = []): Buffer {
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
export const MODEL_GRAPH = 7;
export const GRAPH_NODE = 1;
export const GRAPH_INITIALIZER = 5;
export const GRAPH_OUTPUT = 12;
export const NODE_INPUT = 1;
export const NODE_OUTPUT = 2;
export const NODE_NAME = 3;
export const NODE_OP_TYPE = 4;
export const NODE_ATTRIBUTE = 5;
export const NODE_DOMAIN = 7;
export const ATTRIBUTE_NAME = 1;
export const ATTRIBUTE_INT = 3;
export const ATTRIBUTE_TENSOR = 5;
export const ATTRIBUTE_GRAPH = 6;
export const ATTRIBUTE_GRAPHS = 11;
export const ATTRIBUTE_TYPE = 20;
/** AttributeProto.AttributeType values. */
export const ATTRIBUTE_TYPE_INT = 2;
export const ATTRIBUTE_TYPE_TENSOR = 4;
export const TENSOR_DIMS = 1;
export const TENSOR_DATA_TYPE = 2;
export const TENSOR_INT64_DATA = 7;
export const TENSOR_RAW_DATA = 9;
export const TENSOR_EXTERNAL_DATA = 13;
export const TENSOR_DATA_LOCATION = 14;
export const DATA_LOCATION_EXTERNAL = 1;
/** TensorProto.DataType values. */
export const FLOAT = 1;
export const INT64 = 7;

/** NodeProto bytes (the payload of a GraphProto.node field). */
export function encodeNode(opType: string, inputs: string[], outputs: string[], name: string, attributes: Buffer[] = []): Buffer {
  return Buffer.concat([
    ...inputs.map((input) => bytesField(NODE_INPUT, input)),
    ...outputs.map((output) => bytesField(NODE_OUTPUT, output)),
    bytesField(NODE_NAME, name),
    bytesField(NODE_OP_TYPE, opType),
    ...attributes,
  ]);
}

/** A NodeProto.attribute field: the name and `body` (the value's field and the AttributeProto.type). */
export function attributeField(name: string, body: Buffer[]): Buffer {
  return bytesField(NODE_ATTRIBUTE, Buffer.concat([bytesField(ATTRIBUTE_NAME, name), ...body]));
}

/** A NodeProto.attribute field of an int. */
export function intAttributeField(name: string, value: number): Buffer {
  return attributeField(name, [varintField(ATTRIBUTE_INT, value), varintField(ATTRIBUTE_TYPE, ATTRIBUTE_TYPE_INT)]);
}

export interface Node {
  field: Field;
  inputs: string[];
  outputs: string[];
  name: string;
  opType: string;
  domain: string;
  /** Graph-valued attributes (If branches, Loop bodies) by attribute name. */
  graphs: Map<string, { attribute: Field; graph: Field; attributeFields: Field[] }>;
}

export function text(field: Field): string {
  return field.value!.toString('utf8');
}

export function parseNode(field: Field): Node {
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

export interface Graph {
  fields: Field[];
  nodes: Node[];
}

export function parseGraph(buf: Buffer): Graph {
  const fields = parseFields(buf);
  return { fields, nodes: fields.filter((f) => f.field === GRAPH_NODE && f.value).map(parseNode) };
}

/** The `location` of every external-data initializer (relative to the model's folder). */
export function externalDataLocations(model: Buffer): string[] {
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

/** Cache key of a source file: its path, size and modification time. */
export function cacheKey(source: string): string {
  const stat = fs.statSync(source);
  return crypto.createHash('sha256').update(`${path.resolve(source)}\n${stat.size}\n${stat.mtimeMs}`).digest('hex').slice(0, 20);
}

