// Reads a model folder in the Hugging Face layout and picks its ONNX file by quantization preference.
//   config.json, generation_config.json, tokenizer.json, tokenizer_config.json, onnx/*.onnx

import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError, type Quantization } from '../protocol/engine';
import { ONNX_FILES } from '../protocol/onnxFiles';

/** float16 last: on CPUs it runs slower than float32 (ONNX Runtime converts around ops without float16 kernels). */
export const DEFAULT_QUANTIZATION: Quantization[] = ['q4', 'int8', 'fp32', 'fp16'];


export interface ModelConfig {
  modelType: string;
  architecture: string;
  vocabSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  hiddenSize: number;
  headDim: number;
  contextLength: number;
  eosTokenIds: number[];
  raw: Record<string, unknown>;
}

export interface ModelFolder {
  folder: string;
  name: string;
  config: ModelConfig;
  generationConfig: Record<string, unknown>;
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  onnxPath: string;
  quantization: Quantization;
}

function readJson(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new EngineError(`Model folder is missing ${what} (${file})`, 'model-invalid');
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new EngineError(`${what} is not valid JSON (${file})`, 'model-invalid');
  }
}

function readOptionalJson(file: string, what: string): Record<string, unknown> {
  return fs.existsSync(file) ? readJson(file, what) : {};
}

/** The first of `keys` that config.json gives as a number (NaN and Infinity do not parse from JSON). */
function firstField(raw: Record<string, unknown>, keys: string[]): { key: string; value: number } | undefined {
  for (const key of keys) {
    const value = raw[key];
    if (typeof value === 'number' && Number.isFinite(value)) return { key, value };
  }
  return undefined;
}

/** Beyond every released model (the longest contexts are a few million tokens), so surely a typo or an attack. */
const LIMITS = { layers: 1024, heads: 4096, hiddenSize: 1 << 20, vocabSize: 1 << 24, contextLength: 1 << 24 };

/** `field`'s value when it is a whole number from 1 to `max`; else a one-line error naming the key. */
function count(field: { key: string; value: number }, max: number): number {
  if (!Number.isInteger(field.value) || field.value < 1 || field.value > max) {
    throw new EngineError(`config.json's ${field.key} is ${field.value}: it must be a whole number from 1 to ${max.toLocaleString('en-US')}`, 'model-invalid');
  }
  return field.value;
}

function tokenIds(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number');
  return [];
}

/** Normalises the field names of the model families we run (GPT-2, Llama/Qwen2, ours). */
export function parseModelConfig(raw: Record<string, unknown>, generationConfig: Record<string, unknown>): ModelConfig {
  const layersField = firstField(raw, ['num_hidden_layers', 'n_layer', 'num_layers']);
  const headsField = firstField(raw, ['num_attention_heads', 'n_head']);
  const hiddenField = firstField(raw, ['hidden_size', 'n_embd', 'd_model']);
  const vocabField = firstField(raw, ['vocab_size']);
  if (!layersField || !headsField || !hiddenField || !vocabField) {
    throw new EngineError('config.json lacks the layer count, head count, hidden size or vocabulary size', 'model-invalid');
  }
  const layers = count(layersField, LIMITS.layers);
  const heads = count(headsField, LIMITS.heads);
  const hiddenSize = count(hiddenField, LIMITS.hiddenSize);
  const vocabSize = count(vocabField, LIMITS.vocabSize);
  const multiQuery = raw['multi_query'] === true;
  const kvHeadsField = firstField(raw, ['num_key_value_heads']);
  const kvHeads = kvHeadsField ? count(kvHeadsField, heads) : multiQuery ? 1 : heads;
  if (heads % kvHeads !== 0) throw new EngineError(`config.json's ${headsField.key} (${heads}) is not a multiple of num_key_value_heads (${kvHeads})`, 'model-invalid');
  const headDimField = firstField(raw, ['head_dim']);
  if (!headDimField && hiddenSize % heads !== 0) {
    throw new EngineError(`config.json's ${hiddenField.key} (${hiddenSize}) is not a multiple of ${headsField.key} (${heads}), and it gives no head_dim`, 'model-invalid');
  }
  const headDim = headDimField ? count(headDimField, hiddenSize) : hiddenSize / heads;
  const contextField = firstField(raw, ['max_position_embeddings', 'n_positions', 'n_ctx', 'seq_length']);
  const contextLength = contextField ? count(contextField, LIMITS.contextLength) : 2048;
  const architectures = raw['architectures'];
  return {
    modelType: typeof raw['model_type'] === 'string' ? raw['model_type'] : 'unknown',
    architecture: Array.isArray(architectures) && typeof architectures[0] === 'string' ? architectures[0] : 'unknown',
    vocabSize,
    layers,
    heads,
    kvHeads,
    hiddenSize,
    headDim,
    contextLength,
    eosTokenIds: [...new Set([...tokenIds(generationConfig['eos_token_id']), ...tokenIds(raw['eos_token_id'])])],
    raw,
  };
}

export function pickOnnxFile(
  folder: string,
  preference: Quantization[] = DEFAULT_QUANTIZATION,
): { onnxPath: string; quantization: Quantization } {
  const onnxDir = path.join(folder, 'onnx');
  const present = new Set(fs.existsSync(onnxDir) ? fs.readdirSync(onnxDir) : []);
  for (const quantization of preference) {
    for (const name of ONNX_FILES[quantization]) {
      if (present.has(name)) return { onnxPath: path.join(onnxDir, name), quantization };
    }
  }
  const wanted = preference.flatMap((q) => ONNX_FILES[q]).join(', ');
  throw new EngineError(`No ONNX model in ${onnxDir} (looked for ${wanted})`, 'model-invalid');
}

export function readModelFolder(folder: string, preference?: Quantization[]): ModelFolder {
  const resolved = path.resolve(folder);
  if (!fs.existsSync(resolved) || !fs.statSync(resolved).isDirectory()) {
    throw new EngineError(`Model folder not found: ${resolved}`, 'model-not-found');
  }
  const generationConfig = readOptionalJson(path.join(resolved, 'generation_config.json'), 'generation_config.json');
  const config = parseModelConfig(readJson(path.join(resolved, 'config.json'), 'config.json'), generationConfig);
  const tokenizerJson = readJson(path.join(resolved, 'tokenizer.json'), 'tokenizer.json');
  const tokenizerConfig = readOptionalJson(path.join(resolved, 'tokenizer_config.json'), 'tokenizer_config.json');
  const { onnxPath, quantization } = pickOnnxFile(resolved, preference);
  return {
    folder: resolved,
    name: path.basename(resolved),
    config,
    generationConfig,
    tokenizerJson,
    tokenizerConfig,
    onnxPath,
    quantization,
  };
}

/** Parameter count from config.json when it states one, else a Transformer estimate (12·d² per layer + embeddings). */
export function estimateParameters(raw: Record<string, unknown>, vocab: number, hidden: number, layers: number): number {
  const stated = raw['num_parameters'];
  if (typeof stated === 'number') return stated;
  const intermediate = typeof raw['intermediate_size'] === 'number' ? raw['intermediate_size'] : 4 * hidden;
  return layers * (4 * hidden * hidden + 2 * hidden * intermediate) + vocab * hidden;
}
