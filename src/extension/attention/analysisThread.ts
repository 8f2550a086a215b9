// The analysis thread: a worker_threads Worker (bundled as dist/analysis.js) that computes what reads all of the
// attention maps (mean, max and rollout matrices, every head's thumbnail and statistics), so the extension host's
// event loop stays free while it runs (rollout through 24 layers at 446 tokens: ~0.7 s). The maps are the engine's
// SharedArrayBuffers, read in place. Pure JavaScript: the host may terminate it at any moment (unlike the engine).

import { parentPort } from 'node:worker_threads';
import { headDetails, viewMatrix, type AttentionMaps } from './analysis';
import type { AnalysisReply, AnalysisRequest } from './analysisMessages';

const port = parentPort;
if (!port) throw new Error('analysisThread.ts runs as a worker thread');

let maps: AttentionMaps | undefined;

port.on('message', (request: AnalysisRequest) => {
  if (request.kind === 'maps') {
    maps = { seq: request.seq, layers: request.layers, heads: request.heads, weights: request.buffers.map((buffer) => new Float32Array(buffer)) };
    return;
  }
  try {
    if (!maps) throw new Error('no attention maps yet');
    if (request.kind === 'matrix') {
      const matrix = viewMatrix(maps, request.view);
      port.postMessage({ id: request.id, matrix } satisfies AnalysisReply, [matrix.buffer as ArrayBuffer]);
    } else {
      const details = headDetails(maps, request.tokens, request.thumbnailSize);
      port.postMessage({ id: request.id, details } satisfies AnalysisReply, [details.thumbnails.buffer as ArrayBuffer]);
    }
  } catch (error) {
    port.postMessage({ id: request.id, error: (error as Error).message } satisfies AnalysisReply);
  }
});
