// Runtime checks of call parameters at the worker boundary: a malformed call fails with 'bad-request',
// never with a crash deep inside generation.

import { EngineError, type EngineMethod, type EngineMethods, type Quantization } from '../protocol/engine';

type Params<M extends EngineMethod> = EngineMethods[M]['params'];

function fail(message: string): never {
  throw new EngineError(message, 'bad-request');
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${what} must be an object`);
  return value as Record<string, unknown>;
}

function string(value: unknown, what: string): string {
  if (typeof value !== 'string') fail(`${what} must be a string`);
  return value;
}

function optionalNumber(record: Record<string, unknown>, key: string, min: number, max: number): void {
  const value = record[key];
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(`${key} must be a number from ${min} to ${max}`);
  }
}

function optionalStrings(record: Record<string, unknown>, key: string): void {
  const value = record[key];
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) fail(`${key} must be a list of strings`);
}

function samplingFields(record: Record<string, unknown>): void {
  optionalNumber(record, 'maxNewTokens', 0, 1_000_000);
  optionalNumber(record, 'minNewTokens', 0, 1_000_000);
  optionalNumber(record, 'temperature', 0, 100);
  optionalNumber(record, 'topK', 0, 1_000_000);
  optionalNumber(record, 'topP', 0, 1);
  optionalNumber(record, 'repetitionPenalty', 0.01, 100);
  optionalNumber(record, 'seed', 0, Number.MAX_SAFE_INTEGER);
  optionalNumber(record, 'timeLimitMs', 0, 24 * 3600 * 1000);
  optionalStrings(record, 'stop');
  if (record['tokenHealing'] !== undefined && typeof record['tokenHealing'] !== 'boolean') fail('tokenHealing must be true or false');
  if (record['overflow'] !== undefined && record['overflow'] !== 'trim' && record['overflow'] !== 'error') fail('overflow must be "trim" or "error"');
}

const QUANTIZATIONS: readonly Quantization[] = ['q4', 'int8', 'fp32', 'fp16'];

export function validateParams<M extends EngineMethod>(method: M, raw: unknown): Params<M> {
  const record = object(raw, `${method} parameters`);
  switch (method) {
    case 'load': {
      string(record['folder'], 'folder');
      if (record['options'] !== undefined) {
        const options = object(record['options'], 'options');
        optionalNumber(options, 'threads', 1, 256);
        optionalNumber(options, 'availableMemoryBytes', 0, Number.MAX_SAFE_INTEGER);
        if (options['cacheDir'] !== undefined && (typeof options['cacheDir'] !== 'string' || options['cacheDir'] === '')) fail('cacheDir must be a folder path');
        if (options['reusePromptCache'] !== undefined && typeof options['reusePromptCache'] !== 'boolean') fail('reusePromptCache must be true or false');
        const quantization = options['quantization'];
        if (quantization !== undefined && (!Array.isArray(quantization) || quantization.some((q) => !QUANTIZATIONS.includes(q)))) {
          fail(`quantization must list some of ${QUANTIZATIONS.join(', ')}`);
        }
      }
      break;
    }
    case 'info':
      break;
    case 'generate':
      string(record['prompt'], 'prompt');
      if (record['keepPrefix'] !== undefined) string(record['keepPrefix'], 'keepPrefix');
      samplingFields(record);
      break;
    case 'chat': {
      const messages = record['messages'];
      if (!Array.isArray(messages)) fail('messages must be a list');
      for (const message of messages) {
        const m = object(message, 'a message');
        if (!['system', 'user', 'assistant'].includes(m['role'] as string)) fail('a message role must be system, user or assistant');
        string(m['content'], 'message content');
      }
      samplingFields(record);
      break;
    }
    case 'complete':
      string(record['prefix'], 'prefix');
      if (record['suffix'] !== undefined) string(record['suffix'], 'suffix');
      if (record['fileName'] !== undefined) string(record['fileName'], 'fileName');
      if (record['fillInTheMiddle'] !== undefined && typeof record['fillInTheMiddle'] !== 'boolean') fail('fillInTheMiddle must be true or false');
      optionalNumber(record, 'maxPromptTokens', 1, 1_000_000);
      optionalNumber(record, 'maxLines', 1, 1_000_000);
      samplingFields(record);
      break;
    case 'attention':
    case 'surprisal':
      string(record['text'], 'text');
      if (record['addSpecialTokens'] !== undefined && typeof record['addSpecialTokens'] !== 'boolean') fail('addSpecialTokens must be true or false');
      break;
    case 'tokenize':
      string(record['text'], 'text');
      break;
    case 'countTokens':
      if (!Array.isArray(record['texts']) || record['texts'].some((text) => typeof text !== 'string')) fail('texts must be an array of strings');
      break;
    case 'truncateToTokens':
      string(record['text'], 'text');
      if (typeof record['maxTokens'] !== 'number' || !Number.isInteger(record['maxTokens']) || record['maxTokens'] < 0) {
        fail('maxTokens must be a whole number of at least 0');
      }
      break;
    case 'deleteModelCaches':
      string(record['folder'], 'folder');
      string(record['cacheDir'], 'cacheDir');
      break;
    default:
      fail(`Unknown method ${String(method)}`);
  }
  return record as Params<M>;
}
