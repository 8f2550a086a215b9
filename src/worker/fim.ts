// The fill-in-the-middle format of a local model, detected from its tokenizer's special tokens (the family table is
// src/protocol/fimFormats.ts, shared with model servers).

import { FIM_FAMILIES, fimFormat, type FimFormat, type FimOrder } from '../protocol/fimFormats';

export type { FimFormat, FimOrder } from '../protocol/fimFormats';

/** The FIM format whose three sentinels are all tokens of this vocabulary, or null (prefix-only completion). */
export function detectFimFormat(hasToken: (token: string) => boolean, order: FimOrder = 'psm'): FimFormat | null {
  for (const family of FIM_FAMILIES) {
    if (family.middle && hasToken(family.prefix) && hasToken(family.suffix) && hasToken(family.middle)) return fimFormat(family, order, hasToken);
  }
  return null;
}
