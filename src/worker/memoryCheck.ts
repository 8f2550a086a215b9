// Before a model loads: does this machine have the memory to run it? A model that does not fit would push the editor
// and everything else into swap; refusing with the figures is kinder.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineError } from '../protocol/engine';
import { memoryNeeded } from '../protocol/estimates';

/** Bytes of the ONNX file and its external-data files (model.onnx_data, model.onnx.data, model.onnx_data_1, ...). */
export function weightBytes(onnxPath: string): number {
  const dir = path.dirname(onnxPath);
  const base = path.basename(onnxPath);
  return fs
    .readdirSync(dir)
    .filter((name) => name === base || name.startsWith(`${base}_data`) || name === `${base}.data`)
    .reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0);
}

/**
 * Memory this process could take without swapping: Linux's MemAvailable (free plus reclaimable caches); elsewhere the
 * total memory (macOS and Windows report free memory without the caches they would give back, which would refuse
 * models that fit).
 */
export function availableMemory(): number {
  try {
    const match = fs.readFileSync('/proc/meminfo', 'utf8').match(/^MemAvailable:\s+(\d+) kB/m);
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux
  }
  return os.totalmem();
}

const gb = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(2)} GB`;

/** Throws 'model-too-large' with the figures when the model needs more memory than is available. */
export function checkMemory(onnxPath: string, available = availableMemory()): void {
  const weights = weightBytes(onnxPath);
  const needed = memoryNeeded(weights);
  if (needed > available) {
    throw new EngineError(
      `Not enough memory for ${path.basename(onnxPath)}: it needs about ${gb(needed)} (${gb(weights)} of weights plus runtime buffers) and ${gb(available)} is available. Close other programs or choose a smaller model or quantization.`,
      'model-too-large',
    );
  }
}
