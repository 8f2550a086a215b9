// Fill-in-the-middle prompt formats per model family, checked as token sequences: a real tokenizer (the gpt2-tiny
// fixture's byte-level BPE) gets each family's sentinels as added special tokens, and the prompt must encode to
// exactly the documented layout.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectFimFormat } from '../../src/worker/fim';
import { ModelTokenizer } from '../../src/worker/tokenizer';

const FIXTURE = path.resolve(__dirname, '../fixtures/models/gpt2-tiny');
const base = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'tokenizer.json'), 'utf8')) as {
  added_tokens: Array<{ id: number; content: string }>;
  model: { vocab: Record<string, number> };
};

/** The fixture's tokenizer with only `sentinels` as its special tokens (ids from 1000 up). */
function tokenizerWith(sentinels: string[]): ModelTokenizer {
  const json = structuredClone(base);
  for (const { content } of base.added_tokens) delete json.model.vocab[content]; // the fixture's own (our family's) sentinels
  json.added_tokens = sentinels.map((content, i) => ({ id: 1000 + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  return new ModelTokenizer(json as unknown as Record<string, unknown>, {});
}

const prefix = 'def add(a, b):\n    return ';
const suffix = '\n\nprint(add(1, 2))\n';

/** Each family's documented prompt, written out by hand. */
const FAMILIES = [
  { family: 'qwen', sentinels: ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|endoftext|>'], expected: (p: string, s: string) => ['<|fim_prefix|>', p, '<|fim_suffix|>', s, '<|fim_middle|>'] },
  { family: 'starcoder', sentinels: ['<fim_prefix>', '<fim_suffix>', '<fim_middle>', '<|endoftext|>'], expected: (p: string, s: string) => ['<fim_prefix>', p, '<fim_suffix>', s, '<fim_middle>'] },
  { family: 'deepseek', sentinels: ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>', '<｜end▁of▁sentence｜>'], expected: (p: string, s: string) => ['<｜fim▁begin｜>', p, '<｜fim▁hole｜>', s, '<｜fim▁end｜>'] },
  // CodeLlama: "<PRE> {prefix} <SUF>{suffix} <MID>" (Meta's infilling prompt: a space after <PRE> and before <SUF>/<MID>).
  { family: 'codellama', sentinels: ['▁<PRE>', '▁<SUF>', '▁<MID>', '▁<EOT>'], expected: (p: string, s: string) => ['▁<PRE>', ` ${p} `, '▁<SUF>', `${s} `, '▁<MID>'] },
];

describe('fill-in-the-middle formats', () => {
  for (const { family, sentinels, expected } of FAMILIES) {
    it(`${family}: detected from its sentinels, and the prompt encodes to the documented token sequence`, () => {
      const tokenizer = tokenizerWith(sentinels);
      const fim = detectFimFormat((token) => tokenizer.tokenId(token) !== undefined);
      expect(fim?.family).toBe(family);
      expect(fim!.stopTokens).toContain(sentinels[3]);
      const want = expected(prefix, suffix).flatMap((piece) => (sentinels.includes(piece) ? [tokenizer.tokenId(piece)!] : tokenizer.encode(piece)));
      expect(tokenizer.encode(fim!.build(prefix, suffix))).toEqual(want);
    });
  }

  it('SPM order (config.json attentive.fim.prompt "spm"): sentinels first, the suffix, then the prefix the middle continues', () => {
    const sentinels = ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|endoftext|>'];
    const tokenizer = tokenizerWith(sentinels);
    const fim = detectFimFormat((token) => tokenizer.tokenId(token) !== undefined, 'spm');
    expect(fim?.order).toBe('spm');
    const id = (token: string) => tokenizer.tokenId(token)!;
    const want = [id('<|fim_prefix|>'), id('<|fim_suffix|>'), ...tokenizer.encode(suffix), id('<|fim_middle|>'), ...tokenizer.encode(prefix)];
    expect(tokenizer.encode(fim!.build(prefix, suffix))).toEqual(want);
  });

  it('a vocabulary without all three sentinels has no format (prefix-only completion)', () => {
    const tokenizer = tokenizerWith(['<|fim_prefix|>', '<|fim_suffix|>']);
    expect(detectFimFormat((token) => tokenizer.tokenId(token) !== undefined)).toBeNull();
  });
});
