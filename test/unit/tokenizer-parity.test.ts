// The engine's tokenizer (@huggingface/tokenizers, JavaScript) against Python `tokenizers` on tokenizer.json files in
// each family's real format (training/fixtures/tokenizer_parity.py: Qwen2's byte-level BPE behind its split regex,
// Llama's SentencePiece-style BPE with byte fallback, GPT-2's byte-level BPE): the same ids for a code corpus with
// unicode, tabs, CRLF, emoji, long lines and special tokens in the text, with and without the special tokens the
// tokenizer adds, and the same text decoded back.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelTokenizer } from '../../src/worker/tokenizer';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'tokenizers');
const GENERATOR = path.join(ROOT, 'training', 'fixtures', 'tokenizer_parity.py');
const FAMILIES = ['qwen2', 'llama', 'gpt2'];

interface Expected {
  generator_sha256: string;
  samples: Array<{ text: string; ids: number[]; ids_with_special: number[]; decoded: string }>;
}

const expectedOf = (family: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, family, 'expected.json'), 'utf8')) as Expected;

it('the fixtures come from the generator as it is now', () => {
  const sha = crypto.createHash('sha256').update(fs.readFileSync(GENERATOR)).digest('hex');
  for (const family of FAMILIES) expect(expectedOf(family).generator_sha256, `${family} is stale: run npm run fixtures:tokenizers`).toBe(sha);
});

for (const family of FAMILIES) {
  describe(`tokenizer parity: ${family}`, () => {
    const tokenizer = new ModelTokenizer(JSON.parse(fs.readFileSync(path.join(FIXTURES, family, 'tokenizer.json'), 'utf8')) as Record<string, unknown>, {});
    for (const [index, sample] of expectedOf(family).samples.entries()) {
      it(`sample ${index}: ${JSON.stringify(sample.text.slice(0, 40))}`, () => {
        expect(tokenizer.encode(sample.text)).toEqual(sample.ids);
        expect(tokenizer.encode(sample.text, true)).toEqual(sample.ids_with_special);
        expect(tokenizer.decode(sample.ids, false)).toBe(sample.decoded);
      });
    }
  });
}

describe('chat templates render as transformers\' apply_chat_template renders them', () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'chat_templates.json'), 'utf8')) as {
    generator_sha256: string;
    bos_token: string;
    eos_token: string;
    templates: Record<string, string>;
    conversations: Array<Array<{ role: 'system' | 'user' | 'assistant'; content: string }>>;
    rendered: Record<string, string[]>;
  };
  const tokenizerJson = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'qwen2', 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  it('comes from the generator as it is now', () => {
    expect(fixture.generator_sha256).toBe(crypto.createHash('sha256').update(fs.readFileSync(GENERATOR)).digest('hex'));
  });
  for (const [name, template] of Object.entries(fixture.templates)) {
    it(name, () => {
      const tokenizer = new ModelTokenizer(tokenizerJson, { chat_template: template, bos_token: fixture.bos_token, eos_token: fixture.eos_token });
      fixture.conversations.forEach((messages, i) => expect(tokenizer.applyChatTemplate(messages)).toBe(fixture.rendered[name]![i]));
    });
  }
});
