// Inline-completion prompts in the engine: token-budget windows by whole lines, FIM or prefix-only, the line cap,
// and the reuse of the previous call's keys and values (which must not change a single generated token).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledModelFolder } from '../../src/backend/local/bundledModel';
import { fitCompletionWindows, SUFFIX_SHARE } from '../../src/worker/completionPrompt';
import { LoadedModel } from '../../src/worker/engine';
import { modelCopy } from '../helpers/modelCopy';

const ROOT = path.resolve(__dirname, '../..');
const TINY = path.join(ROOT, 'test/fixtures/models/attentive-tiny');
/** One token per character: easy budgets to reason about. */
const chars = (text: string) => text.length;

describe('fitCompletionWindows', () => {
  const prefix = 'line1\nline2\nline3\n    cur';
  const suffix = 'sor()\nnext1\nnext2';

  it('keeps everything that fits', () => {
    const fitted = fitCompletionWindows(prefix, suffix, 1000, chars);
    expect(fitted).toEqual({ prefix, suffix, prefixLinesDropped: 0, suffixLinesDropped: 0, tokens: prefix.length + suffix.length });
  });

  it('drops the oldest prefix lines and the last suffix lines, whole lines only', () => {
    // Suffix cap 0.25 * 40 = 10: "sor()" (5) fits, "\nnext1" (6) does not. Prefix gets 40 - 5 = 35.
    const fitted = fitCompletionWindows(prefix, suffix, 40, chars);
    expect(fitted.suffix).toBe('sor()');
    expect(fitted.suffixLinesDropped).toBe(2);
    expect(fitted.prefix).toBe(prefix); // 24 characters fit in 35
    const tight = fitCompletionWindows(prefix, suffix, 24, chars);
    // Suffix cap 6: "sor()" (5). Prefix 19: "    cur" (7) + "line3\n" (6) + "line2\n" (6) = 19.
    expect(tight.prefix).toBe('line2\nline3\n    cur');
    expect(tight.prefixLinesDropped).toBe(1);
  });

  it('gives the suffix at most its share, and the prefix what the suffix leaves', () => {
    const longSuffix = Array.from({ length: 100 }, (_, i) => `s${i}`).join('\n');
    const longPrefix = Array.from({ length: 100 }, (_, i) => `p${i}`).join('\n');
    const fitted = fitCompletionWindows(longPrefix, longSuffix, 200, chars);
    expect(fitted.suffix.length).toBeLessThanOrEqual(200 * SUFFIX_SHARE);
    expect(fitted.prefix.length + fitted.suffix.length).toBeLessThanOrEqual(200);
    expect(fitted.prefix.length).toBeGreaterThan(200 * (1 - SUFFIX_SHARE) - 5);
    expect(fitted.prefix.endsWith('p99')).toBe(true);
    expect(fitted.suffix.startsWith('s0\ns1')).toBe(true);
  });

  it('keeps the part of an over-long cursor line nearest the cursor', () => {
    const minified = 'x'.repeat(5000) + 'END';
    const fitted = fitCompletionWindows(`a\n${minified}`, '', 100, chars);
    expect(fitted.prefix.endsWith('END')).toBe(true);
    expect(fitted.prefix.length).toBeLessThan(5000);
    expect(fitted.prefixLinesDropped).toBe(1);
  });
});

describe('complete() on the bundled model', () => {
  let model: LoadedModel;
  beforeAll(async () => {
    model = await LoadedModel.load(bundledModelFolder(ROOT), { threads: 1 });
  });
  afterAll(() => model.release());

  it('completes with its suffix-first fill-in-the-middle prompt (config.json: prompt "spm", recommended)', async () => {
    expect(model.info().fim).toMatchObject({ order: 'spm', recommended: true });
    const result = await model.complete({ prefix: 'def add(a, b):\n    return ', suffix: '\n\nprint(add(1, 2))\n', maxNewTokens: 8, temperature: 0 });
    expect(result.completionPrompt?.format).toBe('fim');
    const prefixOnly = await model.complete({ prefix: 'def add(a, b):\n    return ', suffix: '\n\nprint(add(1, 2))\n', fillInTheMiddle: false, maxNewTokens: 8, temperature: 0 });
    expect(prefixOnly.completionPrompt?.format).toBe('prefix');
  });

  it('stops after maxLines lines', async () => {
    const prefix = 'class Stack:\n    def __init__(self):\n';
    const free = await model.complete({ prefix, maxNewTokens: 48, temperature: 0 });
    expect(free.text.split('\n').length).toBeGreaterThan(1); // the model writes several lines here
    const one = await model.complete({ prefix, maxNewTokens: 48, temperature: 0, maxLines: 1 });
    expect(one.text).not.toContain('\n');
    expect(free.text.startsWith(one.text)).toBe(true);
    expect(one.finishReason).toBe('stop');
  });

  it('stops at the time limit', async () => {
    const unlimited = await model.complete({ prefix: 'class Stack:\n', maxNewTokens: 100, minNewTokens: 100, temperature: 0 });
    expect(unlimited.usage.generatedTokens).toBe(100);
    const limited = await model.complete({ prefix: 'class Stack:\n', maxNewTokens: 100, minNewTokens: 100, temperature: 0, timeLimitMs: 1 });
    expect(limited.finishReason).toBe('length');
    expect(limited.text).toMatch(/\S/); // never cut before something visible
    expect(limited.usage.generatedTokens).toBeLessThan(5);
    expect(unlimited.text.startsWith(limited.text)).toBe(true);
  });

  it('fits a huge file into the budget by dropping its oldest lines', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `value_${i} = compute(${i})`);
    const result = await model.complete({ prefix: `${lines.join('\n')}\nvalue_20000 = `, maxNewTokens: 4, temperature: 0, maxPromptTokens: 256 });
    expect(result.usage.promptTokens).toBeLessThanOrEqual(256);
    expect(result.usage.trimmedPromptTokens).toBe(0); // fitted by lines before tokenizing, not cut by tokens
    expect(result.completionPrompt!.prefixLinesDropped).toBeGreaterThan(19_900);
  });

  it('reuses the previous prompt: same tokens as a fresh engine, with most of the prompt not recomputed', async () => {
    const fresh = await LoadedModel.load(bundledModelFolder(ROOT), { threads: 1 });
    try {
      const base = 'import os\n\n\ndef list_python_files(root):\n    """Return the Python files under root."""\n    result = []\n    for';
      await model.complete({ prefix: base, maxNewTokens: 12, temperature: 0 });
      // The user typed on: the new prompt extends the old one.
      const typed = `${base} dirpath, dirnames, filenames in os.walk(root):\n        for name in filenames:\n            if`;
      const reused = await model.complete({ prefix: typed, maxNewTokens: 12, temperature: 0 });
      const reference = await fresh.complete({ prefix: typed, maxNewTokens: 12, temperature: 0 });
      expect(reused.tokenIds).toEqual(reference.tokenIds);
      expect(reference.completionPrompt!.reusedPromptTokens).toBe(0);
      expect(reused.completionPrompt!.reusedPromptTokens).toBeGreaterThan(20);
      expect(reused.completionPrompt!.reusedPromptTokens).toBeLessThan(reused.usage.promptTokens);
      // An edit earlier in the file: only the part before it is reused, and the output is still exact.
      const edited = typed.replace('list_python_files', 'python_files');
      const afterEdit = await model.complete({ prefix: edited, maxNewTokens: 12, temperature: 0 });
      const editReference = await fresh.complete({ prefix: edited, maxNewTokens: 12, temperature: 0 });
      expect(afterEdit.tokenIds).toEqual(editReference.tokenIds);
      expect(afterEdit.completionPrompt!.reusedPromptTokens).toBeLessThan(10);
    } finally {
      await fresh.release();
    }
  });
});

describe('completions between chat replies (one engine, one reusable prompt cache)', () => {
  it('leave the replies exactly as without them', async () => {
    const model = await LoadedModel.load(bundledModelFolder(ROOT), { threads: 1 });
    try {
      const messages = [{ role: 'user' as const, content: 'Write a Python function that reverses a string.' }];
      const alone = await model.chat({ messages, maxNewTokens: 24, temperature: 0 });
      await model.complete({ prefix: 'import json\n\ndef load(path):\n    with open(path) as f:\n        return ', maxNewTokens: 8, temperature: 0 });
      const after = await model.chat({ messages, maxNewTokens: 24, temperature: 0 });
      expect(after.tokenIds).toEqual(alone.tokenIds);
      await model.complete({ prefix: 'const total = values.reduce(', maxNewTokens: 8, temperature: 0 });
      const followUp = [...messages, { role: 'assistant' as const, content: after.text }, { role: 'user' as const, content: 'Now in TypeScript.' }];
      const fresh = await LoadedModel.load(bundledModelFolder(ROOT), { threads: 1 });
      try {
        expect((await model.chat({ messages: followUp, maxNewTokens: 24, temperature: 0 })).tokenIds).toEqual(
          (await fresh.chat({ messages: followUp, maxNewTokens: 24, temperature: 0 })).tokenIds,
        );
      } finally {
        await fresh.release();
      }
    } finally {
      await model.release();
    }
  });
});

describe('complete() with fill-in-the-middle (fixture model whose config does not discourage it)', () => {
  let model: LoadedModel;
  beforeAll(async () => {
    model = await LoadedModel.load(TINY, { quantization: ['fp32'], threads: 1 });
  });
  afterAll(() => model.release());

  it('uses the FIM format when asked and there is a suffix, and the prefix alone otherwise', async () => {
    expect(model.info().fim?.recommended).toBe(true);
    const fim = await model.complete({ prefix: 'a = 1\nb = ', suffix: '\nc = 3\n', maxNewTokens: 3, temperature: 0 });
    expect(fim.completionPrompt?.format).toBe('fim');
    const noSuffix = await model.complete({ prefix: 'a = 1\nb = ', maxNewTokens: 3, temperature: 0 });
    expect(noSuffix.completionPrompt?.format).toBe('prefix');
    const off = await model.complete({ prefix: 'a = 1\nb = ', suffix: '\nc = 3\n', fillInTheMiddle: false, maxNewTokens: 3, temperature: 0 });
    expect(off.completionPrompt?.format).toBe('prefix');
  });

  it('keeps a FIM prompt whole within the context however long prefix and suffix are', async () => {
    const context = model.info().contextLength;
    const side = Array.from({ length: 3000 }, (_, i) => `x${i} = ${i}`).join('\n');
    const result = await model.complete({ prefix: `${side}\ny = `, suffix: `\n${side}`, maxNewTokens: 4, temperature: 0 });
    expect(result.completionPrompt?.format).toBe('fim');
    expect(result.usage.promptTokens + 4).toBeLessThanOrEqual(context);
    expect(result.usage.trimmedPromptTokens).toBe(0);
    expect(result.completionPrompt!.suffixLinesDropped).toBeGreaterThan(0);
  });
});

describe('complete() with an SPM prompt (config.json attentive.fim.prompt "spm")', () => {
  let model: LoadedModel;
  let folder: string;
  beforeAll(async () => {
    folder = modelCopy<{ attentive: { fim: Record<string, unknown> } }>(TINY, 'config.json', (config) => {
      config.attentive.fim.prompt = 'spm';
    });
    model = await LoadedModel.load(folder, { quantization: ['fp32'], threads: 1, reusePromptCache: false });
  });
  afterAll(async () => {
    await model.release();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('prompts suffix first and heals the end of the prefix, exactly as a generate() of that prompt', async () => {
    expect(model.info().fim?.order).toBe('spm');
    const prefix = 'def add(a, b):\n    return a +';
    const suffix = '\n\nprint(add(1, 2))\n';
    const completed = await model.complete({ prefix, suffix, fillInTheMiddle: true, maxNewTokens: 6, temperature: 0 });
    expect(completed.completionPrompt?.format).toBe('fim');
    const prompt = `<|fim_prefix|><|fim_suffix|>${suffix}<|fim_middle|>${prefix}`;
    const generated = await model.generate({ prompt, maxNewTokens: 6, temperature: 0, tokenHealing: true });
    expect(completed.text).toBe(generated.text);
    expect(completed.usage.promptTokens).toBe(generated.usage.promptTokens);
  });
});
