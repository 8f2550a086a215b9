// Fitting a prompt and its answer into the model's context window.
// Policy: keep the pinned prefix (the system prompt) and the newest text; drop the oldest tokens between them.

import { EngineError } from '../protocol/engine';

export interface FittedPrompt {
  ids: number[];
  /** How many prompt tokens were dropped. */
  trimmed: number;
  /** New-token budget after fitting (never more than asked for). */
  maxNewTokens: number;
}

export type OverflowPolicy = 'trim' | 'error';

/**
 * @param keepPrefix number of leading tokens that must survive trimming (e.g. the system prompt)
 * Reserves room for `maxNewTokens` (at most half the window, so a huge budget cannot crowd out the whole prompt).
 */
export function fitPrompt(
  ids: readonly number[],
  keepPrefix: number,
  contextLength: number,
  maxNewTokens: number,
  policy: OverflowPolicy = 'trim',
): FittedPrompt {
  const reserved = Math.min(maxNewTokens, Math.floor(contextLength / 2));
  const budget = contextLength - reserved;
  if (ids.length <= budget) {
    return { ids: [...ids], trimmed: 0, maxNewTokens: Math.min(maxNewTokens, contextLength - ids.length) };
  }
  if (policy === 'error') {
    throw new EngineError(
      `The prompt has ${ids.length} tokens; with ${reserved} new tokens it does not fit the model's context of ${contextLength} tokens`,
      'prompt-too-long',
    );
  }
  const pinned = Math.min(keepPrefix, ids.length);
  const newest = budget - pinned;
  if (newest <= 0) {
    throw new EngineError(`The pinned prompt prefix (${pinned} tokens) leaves no room in a context of ${contextLength} tokens`, 'prompt-too-long');
  }
  const kept = [...ids.slice(0, pinned), ...ids.slice(ids.length - newest)];
  return { ids: kept, trimmed: ids.length - kept.length, maxNewTokens: reserved };
}
