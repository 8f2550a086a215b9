// Large single-file ONNX models load faster and in less memory with their weights in an external data file: ONNX
// Runtime then memory-maps the weights instead of copying the file's bytes into buffers of its own. Measured on the
// Qwen2.5-Coder-0.5B shapes (bench/real-shape.mjs; 4-bit, 454 MB): RSS after loading 807 -> 532 MB, peak while
// loading 872 -> 597 MB, load 3.4 -> 1.2 s. Most exports on the Hub are single files (under protobuf's 2 GB limit),
// so the engine writes such a file once, in that layout, into its cache and loads the copy. The copy is exact: every
// initializer's raw bytes move to `<name>.onnx_data` (each at a 4 KiB-aligned offset, for mmap) and the graph keeps
// `external_data` entries (location, offset, length) in their place; nothing else changes. The file is converted field
// by field, so a first load holds one tensor in memory at a time, not the whole file.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError } from '../protocol/engine';
import {
  bytesField,
  cacheKey,
  DATA_LOCATION_EXTERNAL,
  externalDataLocations,
  fieldHeader,
  GRAPH_INITIALIZER,
  MODEL_GRAPH,
  parseFields,
  splice,
  TENSOR_DATA_LOCATION,
  TENSOR_EXTERNAL_DATA,
  TENSOR_RAW_DATA,
  varintField,
} from './onnxProtobuf';
import { rewriteFolderPrefix } from './rewriteCache';

/** The copies' folder under the engine's cache (EngineOptions.cacheDir). */
export function externalWeightsDir(cacheDir: string): string {
  return path.join(cacheDir, 'external-weights');
}
/** Files smaller than this load quickly as they are (the bundled model is 14 MB). */
export const EXTERNAL_WEIGHTS_MIN_FILE_BYTES = 100 * 1024 * 1024;
/** Tensors smaller than this stay in the graph (shapes, scalars). */
const MIN_EXTERNAL_TENSOR_BYTES = 1024;
const ALIGNMENT = 4096;
/** Converted models kept in the cache; older ones are deleted (each is as large as its source). */
const KEPT_CONVERSIONS = 2;

function externalDataEntry(key: string, value: string): Buffer {
  return bytesField(TENSOR_EXTERNAL_DATA, Buffer.concat([bytesField(1, key), bytesField(2, value)])); // StringStringEntryProto
}

/** A field of a message in a file: where its tag, payload and end are (the payload stays on disk until read). */
interface FileField {
  field: number;
  wire: number;
  start: number;
  payloadStart: number;
  end: number;
}

/** The fields of the message at [start, end) of the open file `fd`, read header by header. */
function* fileFields(fd: number, start: number, end: number): Generator<FileField> {
  const header = Buffer.alloc(20); // a tag and a length: at most 5 + 10 bytes
  let pos = start;
  while (pos < end) {
    const bytes = header.subarray(0, fs.readSync(fd, header, 0, Math.min(header.length, end - pos), pos));
    let field: ReturnType<typeof fieldHeader>;
    try {
      field = fieldHeader(bytes, 0);
    } catch (error) {
      throw new EngineError(`The ONNX file is not a protobuf message (${(error as Error).message} at byte ${pos})`, 'model-invalid');
    }
    const fieldEnd = pos + field.end;
    if (fieldEnd > end) throw new EngineError(`The ONNX file is truncated (a field at byte ${pos} ends past its message)`, 'model-invalid');
    yield { field: field.field, wire: field.wire, start: pos, payloadStart: pos + field.payloadStart, end: fieldEnd };
    pos = fieldEnd;
  }
}

function readRange(fd: number, start: number, end: number): Buffer {
  const buffer = Buffer.allocUnsafe(end - start);
  for (let done = 0; done < buffer.length; ) {
    const read = fs.readSync(fd, buffer, done, buffer.length - done, start + done);
    if (read === 0) throw new EngineError('The ONNX file ended early', 'model-invalid');
    done += read;
  }
  return buffer;
}

/** The file already keeps (some of) its weights outside: nothing to convert. */
class AlreadyExternal extends Error {}

/**
 * Writes the raw bytes of the main graph's initializers of at least 1 KiB from `source` into `dataFile` (each at a
 * 4 KiB-aligned offset) and returns the graph with `external_data` entries (location `location`) in their place. The
 * file is read field by field, so memory holds one tensor at a time, never the whole file. Throws AlreadyExternal
 * when an initializer already has external data. `dataFile` (and its folder) is created when the first tensor moves.
 */
function externalizeWeightsFile(source: string, dataFile: string, location: string): { model: Buffer; tensors: number } {
  const fd = fs.openSync(source, 'r');
  let out: number | undefined;
  try {
    const modelParts: Buffer[] = [];
    let offset = 0;
    let tensors = 0;
    let graphs = 0;
    for (const field of fileFields(fd, 0, fs.fstatSync(fd).size)) {
      if (field.field !== MODEL_GRAPH || field.wire !== 2 || graphs++ > 0) {
        modelParts.push(readRange(fd, field.start, field.end));
        continue;
      }
      const graphParts: Buffer[] = [];
      for (const entry of fileFields(fd, field.payloadStart, field.end)) {
        const bytes = readRange(fd, entry.start, entry.end);
        if (entry.field !== GRAPH_INITIALIZER || entry.wire !== 2) {
          graphParts.push(bytes);
          continue;
        }
        const tensor = bytes.subarray(entry.payloadStart - entry.start);
        const tensorFields = parseFields(tensor);
        if (tensorFields.some((f) => f.field === TENSOR_DATA_LOCATION)) throw new AlreadyExternal();
        const raw = tensorFields.find((f) => f.field === TENSOR_RAW_DATA && f.value);
        if (!raw || raw.value!.length < MIN_EXTERNAL_TENSOR_BYTES) {
          graphParts.push(bytes);
          continue;
        }
        offset += (ALIGNMENT - (offset % ALIGNMENT)) % ALIGNMENT; // the gap reads as zeros
        if (out === undefined) {
          fs.mkdirSync(path.dirname(dataFile), { recursive: true });
          out = fs.openSync(dataFile, 'w');
        }
        fs.writeSync(out, raw.value!, 0, raw.value!.length, offset);
        const entries = [
          externalDataEntry('location', location),
          externalDataEntry('offset', String(offset)),
          externalDataEntry('length', String(raw.value!.length)),
          varintField(TENSOR_DATA_LOCATION, DATA_LOCATION_EXTERNAL),
        ];
        offset += raw.value!.length;
        tensors++;
        graphParts.push(bytesField(GRAPH_INITIALIZER, splice(tensor, new Map([[raw, Buffer.alloc(0)]]), entries)));
      }
      modelParts.push(bytesField(MODEL_GRAPH, Buffer.concat(graphParts)));
    }
    if (graphs === 0) throw new EngineError('The ONNX file has no graph', 'model-invalid');
    return { model: Buffer.concat(modelParts), tensors };
  } finally {
    if (out !== undefined) fs.closeSync(out);
    fs.closeSync(fd);
  }
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
    const prefix = fs.existsSync(copy) ? rewriteFolderPrefix(copy) : undefined;
    const rewrites = prefix
      ? rewriteDirs.filter((rewriteDir) => fs.existsSync(rewriteDir)).flatMap((rewriteDir) =>
          fs.readdirSync(rewriteDir).filter((name) => name.startsWith(prefix)).map((name) => path.join(rewriteDir, name)),
        )
      : [];
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
  const location = `${path.basename(source)}_data`;
  const data = path.join(folder, location);
  const temporaryData = `${data}.${process.pid}.tmp`;
  let converted: { model: Buffer; tensors: number };
  try {
    converted = externalizeWeightsFile(source, temporaryData, location);
    // Weights in subgraphs that already sit in a file of their own: the model stays as it is.
    if (converted.tensors === 0 || externalDataLocations(converted.model).some((other) => other !== location)) throw new AlreadyExternal();
  } catch (error) {
    fs.rmSync(folder, { recursive: true, force: true });
    if (error instanceof AlreadyExternal) return source;
    throw error;
  }
  // The data first: a graph file in the cache always has its data beside it.
  fs.renameSync(temporaryData, data);
  writeAtomically(target, [converted.model]);
  evictOldConversions(cacheDir, KEPT_CONVERSIONS);
  return target;
}
