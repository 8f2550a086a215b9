// Rewritten graphs (attentionRewrite.ts, lastLogitsRewrite.ts) are written once into the engine's cache, a folder per
// source file keyed by its path, size and modification time, and reused at later loads. Models with external data
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

/** The folder in `cacheDir` of the graphs rewritten from `source`. */
export function rewriteFolder(source: string, cacheDir: string): string {
  return path.join(cacheDir, `${path.basename(source, '.onnx')}-${cacheKey(source)}`);
}

/** `rewrite(source's bytes)` saved as `cacheDir/<name>-<key>/<name>.onnx`, or that file when it is there from before. */
export function cachedRewrite(source: string, cacheDir: string, rewrite: (model: Buffer) => Buffer): RewrittenModel {
  const folder = rewriteFolder(source, cacheDir);
  const target = path.join(folder, path.basename(source));
  if (fs.existsSync(target)) return { path: target, created: false };
  const bytes = rewrite(fs.readFileSync(source));
  fs.mkdirSync(folder, { recursive: true });
  for (const location of externalDataLocations(bytes)) linkExternalData(path.join(path.dirname(source), location), path.join(folder, location));
  // Write then rename, so a crash never leaves a half-written file that the next run would trust.
  const temporary = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, bytes);
  fs.renameSync(temporary, target);
  return { path: target, created: true };
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
