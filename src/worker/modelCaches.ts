// What the engine keeps in its cache folder per model, and how a model's share of it goes when the model is deleted.
// The layout is the worker's own: the host only ever names the cache folder (EngineOptions.cacheDir).

import { attentionGraphsDir } from './attentionRewrite';
import { deleteExternalWeightsCopies, externalWeightsDir } from './externalWeights';
import { lastLogitsGraphsDir } from './lastLogitsRewrite';

/** Deletes a model folder's external-weights copy and the graphs rewritten from it; returns the copy's bytes. */
export function deleteModelCaches(modelFolder: string, cacheDir: string): number {
  return deleteExternalWeightsCopies(modelFolder, externalWeightsDir(cacheDir), [attentionGraphsDir(cacheDir), lastLogitsGraphsDir(cacheDir)]);
}
