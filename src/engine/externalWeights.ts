// Large single-file ONNX models load faster and in less memory with their weights in an external data file: ONNX
// Runtime then memory-maps the weights instead of copying the file's bytes into buffers of its own. Measured on the
// Qwen2.5-Coder-0.5B shapes (bench/real-shape.mjs; 4-bit, 454 MB): RSS after loading 807 -> 532 MB, peak while
// loading 872 -> 597 MB, load 3.4 -> 1.2 s. Most exports on the Hub are single files (under protobuf's 2 GB limit),
// so the engine writes such a file once, in that layout, into its cache and loads the copy. The copy is exact: every
// initializer's raw bytes move to `<name>.onnx_data` (each at a 4 KiB-aligned offset, for mmap) and the graph keeps
// `external_data` entries (location, offset, length) in their place; nothing else changes.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError } from '../protocol/engine';
import {
  bytesField,
  cacheKey,
  DATA_LOCATION_EXTERNAL,
  externalDataLocations,
  GRAPH_INITIALIZER,
  MODEL_GRAPH,
  parseFields,
  splice,
  TENSOR_DATA_LOCATION,
  TENSOR_EXTERNAL_DATA,
  TENSOR_RAW_DATA,
  varintField,
  type Field,
} from './onnxProtobuf';
import { rewriteFolder } from './rewriteCache';

/** The copies' folder under the engine's cache (EngineOptions.cacheDir). */
export function externalWeightsDir(cacheDir: string): string {
  return path.join(cacheDir, 'external-weights');
}
/** Files smaller than this load quickly as they are (the bundled model is 14 MB). */
export const EXTERNAL_WEIGHTS_MIN_FILE_BYTES = 100 * 1024 * 1024;
/** The model's weights on disk: the ONNX file and the external data files it names. */
export function weightBytes(source: string): number {
  const size = fs.statSync(source).size;
  if (size >= EXTERNAL_WEIGHTS_MIN_FILE_BYTES) return size; // large either way: not read just to add the rest
  const dir = path.dirname(source);
  return externalDataLocations(fs.readFileSync(source)).reduce((sum, location) => {
    const file = path.join(dir, location);
    return sum + (fs.existsSync(file) ? fs.statSync(file).size : 0);
  }, size);
}
/** Tensors smaller than this stay in the graph (shapes, scalars). */
const MIN_EXTERNAL_TENSOR_BYTES = 1024;
const ALIGNMENT = 4096;
/** Converted models kept in the cache; older ones are deleted (each is as large as its source). */
const KEPT_CONVERSIONS = 2;

export interface ExternalizedModel {
  /** The graph, with external_data entries instead of the weights' bytes. */
  model: Buffer;
  /** The data file's contents, in order (slices of the source buffer and zero padding). */
  data: Buffer[];
  tensors: number;
}

function externalDataEntry(key: string, value: string): Buffer {
  return bytesField(TENSOR_EXTERNAL_DATA, Buffer.concat([bytesField(1, key), bytesField(2, value)])); // StringStringEntryProto
}

/** Moves the raw bytes of the main graph's initializers of at least 1 KiB to the data file `location`. */
export function externalizeWeights(model: Buffer, location: string): ExternalizedModel {
  const modelFields = parseFields(model);
  const graphField = modelFields.find((f) => f.field === MODEL_GRAPH && f.value);
  if (!graphField) throw new EngineError('The ONNX file has no graph', 'model-invalid');
  const data: Buffer[] = [];
  let offset = 0;
  let tensors = 0;
  const initializers = new Map<Field, Buffer>();
  for (const field of parseFields(graphField.value!)) {
    if (field.field !== GRAPH_INITIALIZER || !field.value) continue;
    const tensorFields = parseFields(field.value);
    const raw = tensorFields.find((f) => f.field === TENSOR_RAW_DATA && f.value);
    if (!raw || raw.value!.length < MIN_EXTERNAL_TENSOR_BYTES || tensorFields.some((f) => f.field === TENSOR_DATA_LOCATION)) continue;
    const padding = (ALIGNMENT - (offset % ALIGNMENT)) % ALIGNMENT;
    if (padding) data.push(Buffer.alloc(padding));
    offset += padding;
    data.push(raw.value!);
    const entries = [
      externalDataEntry('location', location),
      externalDataEntry('offset', String(offset)),
      externalDataEntry('length', String(raw.value!.length)),
      varintField(TENSOR_DATA_LOCATION, DATA_LOCATION_EXTERNAL),
    ];
    offset += raw.value!.length;
    tensors++;
    initializers.set(field, bytesField(GRAPH_INITIALIZER, splice(field.value, new Map([[raw, Buffer.alloc(0)]]), entries)));
  }
  const graph = splice(graphField.value!, initializers);
  return { model: splice(model, new Map([[graphField, bytesField(MODEL_GRAPH, graph)]])), data, tensors };
}

/** Writes `parts` to `target` through a temporary file, so that a crash never leaves a half-written file behind. */
function writeAtomically(target: string, parts: Buffer[]): void {
  const temporary = `${target}.${process.pid}.tmp`;
  const fd = fs.openSync(temporary, 'w');
  try {
    for (const part of parts) fs.writeSync(fd, part);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, target);
}

/** Deletes all but the `keep` most recently used conversions in `dir`. */
function evictOldConversions(dir: string, keep: number): void {
  const entries = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({ folder: path.join(dir, entry.name), used: fs.statSync(path.join(dir, entry.name)).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  for (const { folder } of entries.slice(keep)) {
    try {
      fs.rmSync(folder, { recursive: true, force: true });
    } catch {
      // In use by another window's session (Windows keeps mapped files): evicted by a later load.
    }
  }
}

function copyFolder(source: string, dir: string): string {
  return path.join(dir, `${path.basename(source, '.onnx')}-${cacheKey(source)}`);
}

/**
 * Deletes the copies made of the ONNX files of `modelFolder` (before the model itself is deleted: the copies are
 * found by the files' path, size and time), and the graphs rewritten from those copies in `rewriteDirs` (their
 * hard links would keep the copies' data on disk); returns the bytes freed.
 */
export function deleteExternalWeightsCopies(modelFolder: string, dir: string, rewriteDirs: string[] = []): number {
  const onnxDir = path.join(modelFolder, 'onnx');
  if (!fs.existsSync(onnxDir) || !fs.existsSync(dir)) return 0;
  let freed = 0;
  for (const name of fs.readdirSync(onnxDir).filter((file) => file.endsWith('.onnx'))) {
    const folder = copyFolder(path.join(onnxDir, name), dir);
    if (!fs.existsSync(folder)) continue;
    const copy = path.join(folder, name);
    const rewrites = fs.existsSync(copy) ? rewriteDirs.map((rewriteDir) => rewriteFolder(copy, rewriteDir)) : [];
    const bytes = fs.readdirSync(folder).reduce((sum, file) => sum + fs.statSync(path.join(folder, file)).size, 0);
    try {
      for (const rewritten of rewrites) fs.rmSync(rewritten, { recursive: true, force: true });
      fs.rmSync(folder, { recursive: true, force: true });
      freed += bytes;
    } catch {
      // Still mapped by a session (Windows refuses): the eviction of a later load deletes it.
    }
  }
  return freed;
}

/**
 * The file ONNX Runtime should load for `source`: `source` itself when it is small or already keeps its weights
 * outside the graph, else its copy with external weights in `cacheDir` (written now unless it is there from before).
 */
export function externalWeightsPath(source: string, cacheDir: string, minFileBytes = EXTERNAL_WEIGHTS_MIN_FILE_BYTES): string {
  if (fs.statSync(source).size < minFileBytes) return source;
  const folder = copyFolder(source, cacheDir);
  const target = path.join(folder, path.basename(source));
  if (fs.existsSync(target)) {
    const now = new Date();
    fs.utimesSync(folder, now, now); // most recently used: kept by the eviction
    return target;
  }
  const bytes = fs.readFileSync(source);
  if (externalDataLocations(bytes).length > 0) return source;
  const location = `${path.basename(source)}_data`;
  const converted = externalizeWeights(bytes, location);
  if (converted.tensors === 0) return source;
  fs.mkdirSync(folder, { recursive: true });
  // The data first: a graph file in the cache always has its data beside it.
  writeAtomically(path.join(folder, location), converted.data);
  writeAtomically(target, [converted.model]);
  evictOldConversions(cacheDir, KEPT_CONVERSIONS);
  return target;
}
