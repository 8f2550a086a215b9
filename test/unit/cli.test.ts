// The `attentive` CLI as users run it (the built dist/cli.js in a child process): its JSON output, and one-line
// errors with a non-zero exit for bad input.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const FIXTURE = path.join(ROOT, 'test/fixtures/models/attentive-tiny');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-cli-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function cli(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A copy of the fixture model with one file replaced. */
function brokenCopy(name: string, file: string, content: string | Buffer | null): string {
  const dir = path.join(scratch, name);
  fs.cpSync(FIXTURE, dir, { recursive: true });
  if (content === null) fs.rmSync(path.join(dir, file));
  else fs.writeFileSync(path.join(dir, file), content);
  return dir;
}

function expectOneLineError(run: ReturnType<typeof cli>, pattern: RegExp, exitCode = 1) {
  expect(run.code).toBe(exitCode);
  const lines = run.stderr.trim().split('\n');
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('attentive CLI', () => {
  it('generates and prints one JSON object with text, ids and usage', () => {
    const run = cli('generate', '--model', FIXTURE, '--prompt', 'def add(a, b):', '--max-tokens', '8', '--temperature', '0', '--json');
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout);
    expect(output.tokenIds.length).toBeGreaterThan(0);
    expect(typeof output.text).toBe('string');
    expect(output.usage).toMatchObject({ promptTokens: expect.any(Number), generatedTokens: output.tokenIds.length });
    expect(output.usage.timeToFirstTokenMs).toBeGreaterThan(0);
  });

  it('streams text to stdout and usage to stderr without --json', () => {
    const json = JSON.parse(cli('generate', '--model', FIXTURE, '--prompt', 'import os', '--max-tokens', '8', '--temperature', '0', '--json').stdout);
    const run = cli('generate', '--model', FIXTURE, '--prompt', 'import os', '--max-tokens', '8', '--temperature', '0');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(json.text + '\n');
    expect(run.stderr).toMatch(/attentive-tiny: \d+ prompt \+ \d+ generated tokens/);
  });

  it('seeds sampling reproducibly', () => {
    const args = ['generate', '--model', FIXTURE, '--prompt', 'x', '--max-tokens', '12', '--temperature', '1', '--top-k', '50', '--top-p', '0.9', '--seed', '5', '--json'];
    expect(JSON.parse(cli(...args).stdout).tokenIds).toEqual(JSON.parse(cli(...args).stdout).tokenIds);
  });

  it('chats, completes with fill-in-the-middle, and reports info', () => {
    expect(cli('chat', '--model', FIXTURE, '--max-tokens', '4', '--json', 'hello').code).toBe(0);
    expect(cli('complete', '--model', FIXTURE, '--prefix', 'def f(', '--suffix', '):\n', '--max-tokens', '4', '--json').code).toBe(0);
    const info = JSON.parse(cli('info', '--model', FIXTURE, '--json').stdout);
    expect(info).toMatchObject({ layers: 2, heads: 4, vocabSize: 512, hasAttentionOutputs: true, hasChatTemplate: true });
    expect(info.fim).toEqual({ prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>', order: 'psm', recommended: true });
  });

  it('prints attention weights for every layer and head', () => {
    const run = cli('attention', '--model', FIXTURE, '--text', 'for i in range(3):', '--json');
    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout);
    const seq = output.tokens.length;
    expect(output.weights).toHaveLength(output.layers);
    expect(output.weights[0]).toHaveLength(output.heads * seq * seq);
    expect(output.tokens[0]).toMatchObject({ start: 0 });
  });

  it('fails in one line for a missing model folder', () => {
    expectOneLineError(cli('info', '--model', path.join(scratch, 'nope')), /^attentive: Model folder not found: /);
  });

  it('fails in one line for a missing or corrupt ONNX file', () => {
    const missing = brokenCopy('no-onnx', 'onnx/model.onnx', null);
    fs.rmSync(path.join(missing, 'onnx', 'model_quantized.onnx'));
    expectOneLineError(cli('info', '--model', missing), /^attentive: No ONNX model in .*onnx \(looked for/);
    const corrupt = brokenCopy('corrupt-onnx', 'onnx/model_quantized.onnx', Buffer.from('not a protobuf at all'));
    expectOneLineError(cli('info', '--model', corrupt), /^attentive: ONNX Runtime could not load .*model_quantized\.onnx: /);
  });

  it('fails in one line for a tokenizer that does not match the model', () => {
    const big = fs.readFileSync(path.join(ROOT, 'models/attentive-code-14m/tokenizer.json'));
    const mismatched = brokenCopy('mismatch', 'tokenizer.json', big);
    expectOneLineError(cli('info', '--model', mismatched), /^attentive: The tokenizer has 8192 tokens but the model's vocabulary has 512/);
  });

  it('fails in one line for broken JSON', () => {
    expectOneLineError(cli('info', '--model', brokenCopy('bad-config', 'config.json', '{ nope')), /^attentive: config\.json is not valid JSON/);
  });

  it('refuses a prompt longer than the context unless --trim is given', () => {
    const prompt = 'def f(x):\n    return x\n'.repeat(60);
    expectOneLineError(cli('generate', '--model', FIXTURE, '--prompt', prompt, '--max-tokens', '4'), /^attentive: The prompt has \d+ tokens; .* context of 256 tokens/);
    const trimmed = JSON.parse(cli('generate', '--model', FIXTURE, '--prompt', prompt, '--max-tokens', '4', '--trim', '--json').stdout);
    expect(trimmed.usage.trimmedPromptTokens).toBeGreaterThan(0);
    expect(trimmed.usage.promptTokens).toBe(252);
  });

  it('exits 2 with usage help for bad arguments', () => {
    expectOneLineError(cli('generate', '--model', FIXTURE, '--bogus'), /^attentive: Unknown option '--bogus'/, 2);
    expectOneLineError(cli('generate', '--model', FIXTURE), /^attentive: --prompt is required/, 2);
    expectOneLineError(cli('generate', '--model', FIXTURE, '--prompt', 'x', '--max-tokens', 'many'), /^attentive: --max-tokens must be a number/, 2);
  });
});
