// The session a model runs in: its own ONNX file, or for a large model faster graphs made from it and cached.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { lastLogitsGraph, lastLogitsGraphsDir, markLastLogitsGraphUnusable } from './lastLogitsRewrite';
import type { RewrittenModel } from './rewriteCache';
import { DecoderSession } from './decoderSession';
import { EXTERNAL_WEIGHTS_MIN_FILE_BYTES, externalWeightsDir, externalWeightsPath } from './externalWeights';
import { weightBytes } from './memoryCheck';
import type { ModelFolder } from './modelFolder';

/**
 * A session on the model's ONNX file or, for a large model, on a graph made from it in `cacheDir` (each written on
 * first use and reused): a single file's copy with external weights (externalWeights.ts), with its LM head fed only
 * the last position (lastLogitsRewrite.ts; not for graphs it does not fit) and int8 activations in its MatMulNBits
 * (int8Activations.ts). `sessionPath` is the graph with every
 * position's logits, which the attention rewrite starts from. The copies are optimisations: if one cannot be written
 * or loaded, the model's own file is used.
 */
export async function openSession(
  model: ModelFolder,
  cacheDir: string,
  threads: number,
  minWeightBytes = EXTERNAL_WEIGHTS_MIN_FILE_BYTES,
): Promise<{ session: DecoderSession; sessionPath: string }> {
  let sessionPath = model.onnxPath;
  let lastLogits: RewrittenModel | null = null;
  try {
    if (weightBytes(model.onnxPath) >= minWeightBytes) {
      sessionPath = externalWeightsPath(model.onnxPath, externalWeightsDir(cacheDir), minWeightBytes);
      lastLogits = lastLogitsGraph(sessionPath, lastLogitsGraphsDir(cacheDir));
    }
  } catch {
    // No space or no permission for the cache: the graph as it is.
  }
  if (lastLogits) {
    let session: DecoderSession | undefined;
    try {
      session = await DecoderSession.create(lastLogits.path, model.config, threads, { lastLogitsOnly: true });
      // A new rewrite runs once before it is trusted: a graph that computes its head otherwise fails here, not mid-chat.
      if (lastLogits.created) await session.step([0, 0], session.emptyCache());
      return { session, sessionPath };
    } catch (error) {
      await session?.release();
      if (lastLogits.created) markLastLogitsGraphUnusable(sessionPath, lastLogitsGraphsDir(cacheDir), (error as Error).message);
      else fs.rmSync(path.dirname(lastLogits.path), { recursive: true, force: true }); // damaged: written again next time
    }
  }
  if (sessionPath !== model.onnxPath) {
    try {
      return { session: await DecoderSession.create(sessionPath, model.config, threads), sessionPath };
    } catch {
      // A damaged copy (a disk error): delete it, so the next load writes it again, and load the original.
      try {
        fs.rmSync(path.dirname(sessionPath), { recursive: true, force: true });
      } catch {
        // Left for the eviction of a later load.
      }
    }
  }
  return { session: await DecoderSession.create(model.onnxPath, model.config, threads), sessionPath: model.onnxPath };
}
