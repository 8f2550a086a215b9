// The bundled model (models/manifest.json) loads in the engine, completes code and answers in chat.
// Assertions are about behaviour a random or broken model would not show.

import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledModelFolder } from '../../src/backend/local/bundledModel';
import { LoadedModel } from '../../src/worker/engine';

const ROOT = path.resolve(__dirname, '../..');
let model: LoadedModel;

beforeAll(async () => {
  model = await LoadedModel.load(bundledModelFolder(ROOT));
});
afterAll(() => model.release());

describe('the bundled model', () => {
  it('is our architecture with attention outputs, a chat template and fill-in-the-middle', () => {
    const info = model.info();
    expect(info.modelType).toBe('attentive');
    expect(info.hasAttentionOutputs).toBe(true);
    expect(info.hasChatTemplate).toBe(true);
    expect(info.fim).not.toBeNull();
    expect(info.quantization).not.toBe('fp32');
    expect(info.fileSizeBytes).toBeLessThan(30 * 1024 * 1024);
  });

  it('completes Python: an import line continues with a module name (token healing after the space)', async () => {
    const result = await model.complete({ prefix: 'import os\nimport ', maxNewTokens: 4, temperature: 0 });
    expect(result.text).toMatch(/^[a-z_][a-z_0-9.]*/);
  });

  it('answers a chat request with code', async () => {
    const result = await model.chat({
      messages: [{ role: 'user', content: 'Write a Python function that returns the sum of a list of numbers.' }],
      maxNewTokens: 80,
      temperature: 0,
    });
    expect(result.text).toMatch(/def \w+\(/);
  });
});

describe('attention on the bundled model', () => {
  it('starts with the <|endoftext|> every training document started with, outside the text, and maps the rest to it', async () => {
    const text = 'for i in range(10):\n\tprint(i)  # é\r\n';
    const result = await model.attention({ text });
    expect(result.tokens[0]).toMatchObject({ text: '<|endoftext|>', start: -1, end: -1 });
    const rest = result.tokens.slice(1);
    expect(rest.map((t) => text.slice(t.start, t.end)).join('')).toBe(text);
    // Unusual code is more surprising than the same code's usual form.
    const usual = await model.attention({ text: 'import os\nimport sys\n' });
    const odd = await model.attention({ text: 'import os\nimport )(\n' });
    const last = (r: typeof usual) => r.surprisal[r.surprisal.length - 2]!;
    expect(last(odd)).toBeGreaterThan(last(usual));
    const plain = await model.attention({ text, addSpecialTokens: false });
    expect(plain.tokens).toHaveLength(result.tokens.length - 1);
  });
});

describe('the bundled tokenizer', () => {
  it('starts a raw prompt with <|endoftext|>, as every training document starts, but not a chat', () => {
    expect(model.tokenizer.encode('import os', true)[0]).toBe(0);
    expect(model.tokenizer.encode('import os', false)[0]).not.toBe(0);
  });
});

describe('plain generation never writes FIM sentinels', () => {
  it('even after a prompt ending in a lone newline inside a block', async () => {
    const result = await model.generate({ prompt: 'def f(x):\n    if x:\n', maxNewTokens: 24, minNewTokens: 24, temperature: 0 });
    const sentinels = ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'].map((t) => model.tokenizer.tokenId(t));
    expect(result.tokenIds.some((id) => sentinels.includes(id))).toBe(false);
  });
});
