// The extension tokenizes with @huggingface/tokenizers (JS); the model was trained on ids from
// training/data/bpe.py (Python). Any difference is silent garbage at inference, so check they agree exactly.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readJson = (path: string) => JSON.parse(readFileSync(root + path, 'utf8'));
// clean_up_tokenization_spaces defaults to true in tokenizers.js and would rewrite " ." to "." when decoding code
const load = (path: string) => new Tokenizer(readJson(path), { clean_up_tokenization_spaces: false });

describe('tokenizer parity with training/data/bpe.py', () => {
  it('matches the committed fixture ids (specials parsed)', () => {
    const tok = load('test/fixtures/tokenizer/tokenizer.json');
    const { cases } = readJson('test/fixtures/tokenizer/expected.json') as { cases: { text: string; ids: number[] }[] };
    expect(cases.length).toBeGreaterThan(5);
    for (const { text, ids } of cases) {
      expect(tok.encode(text).ids, JSON.stringify(text)).toEqual(ids);
      if (ids.length) expect(tok.decode(ids)).toBe(text); // decode([]) throws in tokenizers.js
    }
    expect(tok.token_to_id('<|endoftext|>')).toBe(0);
    expect(tok.token_to_id('<|im_end|>')).toBe(5);
  });

  it('renders the chat template and encodes chats as training does', () => {
    const tok = load('test/fixtures/tokenizer/tokenizer.json');
    const { chat } = readJson('test/fixtures/tokenizer/expected.json') as {
      chat: { template: string; messages: { role: string; content: string }[]; rendered: string; ids: number[]; prompt_without_system: string };
    };
    const template = new Template(chat.template);
    const rendered = template.render({ messages: chat.messages, add_generation_prompt: false });
    expect(rendered).toBe(chat.rendered);
    expect(tok.encode(rendered).ids).toEqual(chat.ids);
    // no system message: the template supplies ours; the generation prompt ends where training's reply begins
    expect(template.render({ messages: chat.messages.slice(1, 2), add_generation_prompt: true })).toBe(chat.prompt_without_system);
  });

  // Only where `python3 -m training.data.prepare` has run (not in CI): every held-out file, whole.
  const dataTok = 'training/.data/tokenizer.json';
  const valDocs = 'training/.data/val_docs.jsonl';
  const valIds = 'training/.data/val_docs_ids.json'; // written by training/data/prepare.py
  const haveData = existsSync(root + dataTok) && existsSync(root + valDocs) && existsSync(root + valIds);

  it.skipIf(!haveData)('matches Python on the whole validation split', () => {
    const tok = load(dataTok);
    const docs = readFileSync(root + valDocs, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { path: string; text: string });
    const expected = readJson(valIds) as { path: string; ids: number[] }[];
    expect(expected.length).toBe(docs.length);
    let tokens = 0;
    for (let i = 0; i < docs.length; i++) {
      expect(expected[i].path).toBe(docs[i].path);
      const ids = tok.encode(docs[i].text).ids;
      tokens += ids.length;
      if (ids.length !== expected[i].ids.length || ids.some((id, j) => id !== expected[i].ids[j])) {
        expect(ids, docs[i].path).toEqual(expected[i].ids); // fails with a readable diff
      }
      expect(tok.decode(ids), docs[i].path).toBe(docs[i].text);
    }
    expect(tokens).toBeGreaterThan(0);
  }, 300_000);
});
