// Rewritten graphs (attentionRewrite.ts, lastLogitsRewrite.ts) are written once into the engine's cache, a folder per
// source file keyed by its path, size and modification time (and the rewrite's version, so that a graph written by an
// older version of a rewrite is never loaded as the new one), and reused at later loads. Models with external data
// (`.onnx_data`) get their data files hard-linked (or, across file systems, symlinked) next to the rewritten graph,
// where ONNX Runtime looks for them, so the weights are never copied.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError } from '../protocol/engine';
import { cacheKey, externalDataLocations } from './onnxProtobuf';

export interface RewrittenModel {
  /** The rewritten ONNX file. */
  path: string;
  /** False when it came from the cache. */
  created: boolean;
}

/** The start of the names of the folders in a cache of the graphs rewritten from `source` (any version). */
export function rewriteFolderPrefix(source: string): string {
  return `${path.basename(source, '.onnx')}-${cacheKey(source)}`;
}

/** The folder in `cacheDir` of the graph rewritten from `source` by version `version` of a rewrite. */
export function rewriteFolder(source: string, cacheDir: string, version = ''): string {
  return path.join(cacheDir, version ? `${rewriteFolderPrefix(source)}-${version}` : rewriteFolderPrefix(source));
}

/** `rewrite(source's bytes)` saved as `cacheDir/<name>-<key>[-<version>]/<name>.onnx`, or that file when it is there. */
export function cachedRewrite(source: string, cacheDir: string, rewrite: (model: Buffer) => Buffer, version = ''): RewrittenModel {
  const folder = rewriteFolder(source, cacheDir, version);
  const target = path.join(folder, path.basename(source));
  if (fs.existsSync(target)) return { path: target, created: false };
  const bytes = rewrite(fs.readFileSync(source));
  fs.mkdirSync(folder, { recursive: true });
  for (const location of externalDataLocations(bytes)) linkExternalData(path.join(path.dirname(source), confined(location)), path.join(folder, location));
  // Write then rename, so a crash never leaves a half-written file that the next run would trust.
  const temporary = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, bytes);
  fs.renameSync(temporary, target);
  return { path: target, created: true };
}

/**
 * An external-data location as ONNX allows it: a file in the model's folder or below. Anything else (absolute, "..",
 * a drive or backslashes) would make the link reach outside the cache folder, or read outside the model's.
 */
function confined(location: string): string {
  const parts = location.split('/');
  if (path.isAbsolute(location) || /[\\:]/.test(location) || parts.some((part) => part === '' || part === '.' || part === '..')) {
    throw new EngineError(`The model's external data location ${JSON.stringify(location)} is not a file beside the model: refused`, 'model-invalid');
  }
  return location;
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
