// Messages between the attention view's host side (analysisClient.ts) and its analysis thread (analysisThread.ts).

import type { AttentionView, HeadDetails } from '../../protocol/attention';

/** What the host asks the thread to compute from the maps. */
export type AnalysisQuery = { kind: 'matrix'; view: AttentionView } | { kind: 'details'; tokens: string[]; thumbnailSize: number };

export type AnalysisRequest =
  /** The maps every later query reads: one SharedArrayBuffer per layer, [heads, seq, seq] float32. */
  | { kind: 'maps'; seq: number; layers: number; heads: number; buffers: SharedArrayBuffer[] }
  | (AnalysisQuery & { id: number });

export type AnalysisReply = { id: number; matrix: Float32Array } | { id: number; details: HeadDetails } | { id: number; error: string };
