// One ONNX Runtime session of a decoder-only model with a KV cache. Input and output names, the layer count and the
// KV shapes are read from the session's metadata (Optimum's conventions), never hard-coded:
//   inputs  input_ids [batch, seq], attention_mask [batch, past+seq], position_ids [batch, seq] (optional),
//           past_key_values.{i}.key / .value [batch, kv_heads, past, head_dim], or .key_value (GPT-BigCode:
//           [batch, past, 2 * head_dim] multi-query), use_cache_branch [1] (merged exports),
//           num_logits_to_keep or logits_to_keep [] (logits of the last k positions only, 0 for all)
//   outputs logits [batch, seq, vocab], present.{i}.key / .value, attentions.{i} [batch, heads, seq, past+seq] (ours)

import * as os from 'node:os';
// Before onnxruntime-node: its telemetry off (see noTelemetry.ts).
import './noTelemetry';
import * as ort from 'onnxruntime-node';
import { EngineError } from '../protocol/engine';
import type { ModelConfig } from './modelFolder';
import { duringNativeRun } from './nativeRuns';

export interface KvCache {
  /** Number of positions already in the cache. */
  length: number;
  /** present.* tensors of the previous step, keyed by the past_key_values input name they feed. */
  tensors: Map<string, ort.Tensor>;
}

export interface StepOutput {
  /** Logits of the last position: [vocab]. */
  lastLogits: Float32Array;
  /** All positions' logits, [seq, vocab] row-major, only when asked for. */
  allLogits?: Float32Array;
  cache: KvCache;
  /** Per layer [heads, seq, past+seq] when attention was asked for. */
  attentions?: Float32Array[];
}

/** Prefill chunks keep a step's logits ([seq, vocab] float32) under this size... */
const LOGITS_BUDGET_BYTES = 32 * 1024 * 1024;
/** ...but never below this many tokens a step, so that a prompt still runs as matrix-matrix products. */
const MIN_PREFILL_CHUNK = 32;
/** A graph that returns only the last position's logits (lastLogitsRewrite.ts) prefills this many tokens a step. */
const LAST_LOGITS_PREFILL_CHUNK = 64;

export function defaultThreads(): number {
  return Math.max(1, Math.floor(os.cpus().length / 2));
}

interface PastInput {
  input: string;
  present: string;
}

export class DecoderSession {
  private readonly pastInputs: PastInput[];
  private readonly hasPositionIds: boolean;
  private readonly hasAttentionMask: boolean;
  private readonly hasCacheBranch: boolean;
  /** The graph's num_logits_to_keep (onnxruntime-genai exports) or logits_to_keep input: fed 1 unless every position's logits are wanted. */
  private readonly logitsToKeepInput: string | undefined;
  readonly attentionOutputs: string[];
  readonly kvHeads: number;
  readonly headDim: number;
  readonly layers: number;
  /** An empty cache tensor's shape, and which of its axes grows with the positions. */
  private readonly emptyDims: number[];
  private readonly pastAxis: number;
  /** float16 exports (model_fp16.onnx, model_q4f16.onnx) keep the cache in float16; logits are read as float32. */
  readonly cacheType: 'float32' | 'float16';
  readonly vocabSize: number;
  /** The most tokens one step runs when only the last logits are wanted (see step()). */
  prefillChunkTokens: number;

  private constructor(
    private readonly session: ort.InferenceSession,
    config: ModelConfig,
    readonly threads: number,
    /** The graph returns [batch, 1, vocab] logits: those of the last position (lastLogitsRewrite.ts). */
    readonly lastLogitsOnly = false,
  ) {
    const inputs = new Set(session.inputNames);
    const outputs = new Set(session.outputNames);
    if (!inputs.has('input_ids') || !outputs.has('logits')) {
      throw new EngineError('The ONNX model has no input_ids input or no logits output: not a decoder-only LM export', 'model-invalid');
    }
    this.hasPositionIds = inputs.has('position_ids');
    this.hasAttentionMask = inputs.has('attention_mask');
    this.hasCacheBranch = inputs.has('use_cache_branch');
    this.logitsToKeepInput = ['num_logits_to_keep', 'logits_to_keep'].find((name) => inputs.has(name));
    this.pastInputs = session.inputNames
      .filter((name) => name.startsWith('past_key_values.'))
      .map((input) => ({ input, present: input.replace('past_key_values.', 'present.') }));
    for (const { input, present } of this.pastInputs) {
      if (!outputs.has(present)) throw new EngineError(`The ONNX model has ${input} but no ${present} output`, 'model-invalid');
    }
    if (this.pastInputs.length === 0) {
      throw new EngineError('The ONNX model has no past_key_values inputs: export it with a KV cache (Optimum "text-generation-with-past")', 'model-invalid');
    }
    // Keys and values apart (.key / .value, [batch, kv_heads, past, head_dim]), or packed in one tensor per layer as
    // Optimum exports GPT-BigCode (.key_value: [batch, past, 2 * head_dim] multi-query, else [batch, heads, past, 2 * head_dim]).
    const packed = this.pastInputs.every(({ input }) => input.endsWith('.key_value'));
    if (!packed && this.pastInputs.some(({ input }) => !/\.(key|value)$/.test(input))) {
      throw new EngineError(`Unknown KV-cache inputs: ${this.pastInputs.map((p) => p.input).join(', ')}`, 'model-invalid');
    }
    this.layers = packed ? this.pastInputs.length : this.pastInputs.length / 2;
    this.attentionOutputs = session.outputNames
      .filter((name) => /^attentions\.\d+$/.test(name))
      .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));

    // KV shapes from the metadata where they are concrete numbers, else from config.json.
    const meta = session.inputMetadata.find((m) => m.name === this.pastInputs[0]!.input);
    const shape = meta && meta.isTensor ? meta.shape : [];
    const cacheType = meta && meta.isTensor ? meta.type : 'float32';
    if (cacheType !== 'float32' && cacheType !== 'float16') throw new EngineError(`The ONNX model keeps its KV cache as ${cacheType}, which is not supported`, 'model-invalid');
    this.cacheType = cacheType;
    if (packed && shape.length === 3) {
      this.kvHeads = 1;
      this.headDim = typeof shape[2] === 'number' ? shape[2] / 2 : config.headDim;
      this.emptyDims = [1, 0, 2 * this.headDim]; // [batch, past, 2 * head_dim]
      this.pastAxis = 1;
    } else {
      this.kvHeads = typeof shape[1] === 'number' ? shape[1] : config.kvHeads;
      this.headDim = typeof shape[3] === 'number' ? (packed ? shape[3] / 2 : shape[3]) : config.headDim;
      this.emptyDims = [1, this.kvHeads, 0, packed ? 2 * this.headDim : this.headDim]; // [batch, kv_heads, past, head_dim]
      this.pastAxis = 2;
    }
    // config.json must describe this graph: its numbers size the attention maps, the budgets and the views.
    if (this.layers !== config.layers) {
      throw new EngineError(`config.json says ${config.layers} layers, but the ONNX graph has ${this.layers}: they do not belong together`, 'model-invalid');
    }
    if (this.kvHeads !== config.kvHeads || this.headDim !== config.headDim) {
      throw new EngineError(
        `config.json says ${config.kvHeads} key/value heads of ${config.headDim}, but the ONNX graph's cache has ${this.kvHeads} of ${this.headDim}: they do not belong together`,
        'model-invalid',
      );
    }
    const logitsMeta = session.outputMetadata.find((m) => m.name === 'logits');
    const logitsShape = logitsMeta && logitsMeta.isTensor ? logitsMeta.shape : [];
    this.vocabSize = typeof logitsShape[2] === 'number' ? logitsShape[2] : config.vocabSize;
    this.prefillChunkTokens = lastLogitsOnly || this.logitsToKeepInput
      ? LAST_LOGITS_PREFILL_CHUNK
      : Math.max(MIN_PREFILL_CHUNK, Math.floor(LOGITS_BUDGET_BYTES / (4 * this.vocabSize)));
  }

  static async create(onnxPath: string, config: ModelConfig, threads = defaultThreads(), options: { lastLogitsOnly?: boolean } = {}): Promise<DecoderSession> {
    let session: ort.InferenceSession;
    try {
      session = await duringNativeRun(() => ort.InferenceSession.create(onnxPath, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        // An editor extension must not keep cores spinning between steps.
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      }));
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0];
      throw new EngineError(`ONNX Runtime could not load ${onnxPath}: ${reason}`, 'model-invalid');
    }
    try {
      return new DecoderSession(session, config, threads, options.lastLogitsOnly ?? false);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  get hasAttention(): boolean {
    return this.attentionOutputs.length > 0;
  }

  emptyCache(): KvCache {
    const tensors = new Map<string, ort.Tensor>();
    for (const { input } of this.pastInputs) {
      tensors.set(input, this.cacheType === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), this.emptyDims) : new ort.Tensor('float32', new Float32Array(0), this.emptyDims));
    }
    return { length: 0, tensors };
  }

  /** The first `length` positions of a cache (a copy; the cache passed in stays valid). */
  truncateCache(cache: KvCache, length: number): KvCache {
    if (length >= cache.length) return cache;
    const tensors = new Map<string, ort.Tensor>();
    for (const [name, tensor] of cache.tensors) {
      // [...rows, past, ...width]: each row keeps its first `length` positions.
      const dims = tensor.dims;
      const total = dims[this.pastAxis]!;
      const rows = dims.slice(0, this.pastAxis).reduce((a, b) => a * b, 1);
      const width = dims.slice(this.pastAxis + 1).reduce((a, b) => a * b, 1);
      const source = tensor.data as Float32Array | Uint16Array; // float32, or float16 bits
      const kept = source instanceof Uint16Array ? new Uint16Array(rows * length * width) : new Float32Array(rows * length * width);
      for (let row = 0; row < rows; row++) {
        kept.set(source.subarray(row * total * width, (row * total + length) * width), row * length * width);
      }
      const keptDims = dims.map((d, axis) => (axis === this.pastAxis ? length : d));
      tensors.set(name, kept instanceof Uint16Array ? new ort.Tensor('float16', kept, keptDims) : new ort.Tensor('float32', kept, keptDims));
    }
    return { length, tensors };
  }

  /**
   * Runs `ids` after the cached positions. Positions continue from the cache length.
   * `wantAttentions` fetches attentions.{i}; `wantAllLogits` keeps every position's logits.
   * A long prompt that needs only the last logits runs in chunks: exports compute logits for every position, and
   * 512 positions of a 152k vocabulary are 311 MB of float32 (twice: ONNX Runtime's buffer and its copy in JS).
   */
  async step(ids: readonly number[], cache: KvCache, options: { wantAttentions?: boolean; wantAllLogits?: boolean } = {}): Promise<StepOutput> {
    const chunk = this.prefillChunkTokens;
    if (ids.length <= chunk || options.wantAttentions || options.wantAllLogits) return this.run(ids, cache, options);
    let output: StepOutput | undefined;
    for (let start = 0; start < ids.length; start += chunk) {
      output = await this.run(ids.slice(start, start + chunk), output?.cache ?? cache, options);
    }
    return output!;
  }

  private async run(ids: readonly number[], cache: KvCache, options: { wantAttentions?: boolean; wantAllLogits?: boolean }): Promise<StepOutput> {
    if (options.wantAllLogits && this.lastLogitsOnly) throw new EngineError('This session returns only the last position\'s logits', 'internal');
    const seq = ids.length;
    const total = cache.length + seq;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (id) => BigInt(id)), [1, seq]), // [batch, seq]
    };
    if (this.hasAttentionMask) feeds['attention_mask'] = new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]); // [batch, past+seq]
    if (this.hasPositionIds) {
      feeds['position_ids'] = new ort.Tensor('int64', BigInt64Array.from({ length: seq }, (_, i) => BigInt(cache.length + i)), [1, seq]); // [batch, seq]
    }
    if (this.hasCacheBranch) feeds['use_cache_branch'] = new ort.Tensor('bool', new Uint8Array([cache.length > 0 ? 1 : 0]), [1]);
    const lastOnly = this.lastLogitsOnly || (this.logitsToKeepInput !== undefined && !options.wantAllLogits);
    if (this.logitsToKeepInput) feeds[this.logitsToKeepInput] = new ort.Tensor('int64', new BigInt64Array([lastOnly ? 1n : 0n]), []); // a scalar
    for (const [name, tensor] of cache.tensors) feeds[name] = tensor;

    const fetches = ['logits', ...this.pastInputs.map((p) => p.present)];
    if (options.wantAttentions) fetches.push(...this.attentionOutputs);
    const results = await duringNativeRun(() => this.session.run(feeds, fetches));

    const logits = asFloat32(results['logits']!); // [batch, seq, vocab], or [batch, 1, vocab]
    const rows = lastOnly ? 1 : seq;
    const vocab = logits.length / rows;
    if (lastOnly && vocab !== this.vocabSize) {
      throw new EngineError(`The last-position graph returned ${logits.length} logits for a vocabulary of ${this.vocabSize}`, 'model-invalid');
    }
    const next: KvCache = { length: total, tensors: new Map() };
    for (const { input, present } of this.pastInputs) next.tensors.set(input, results[present] as ort.Tensor);
    const output: StepOutput = { lastLogits: logits.slice((rows - 1) * vocab, rows * vocab), cache: next };
    if (options.wantAllLogits) output.allLogits = logits;
    if (options.wantAttentions) {
      output.attentions = this.attentionOutputs.map((name) => asFloat32(results[name]!)); // [batch, heads, seq, past+seq]
    }
    return output;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** float16 bit patterns -> float32 values, built on first use (256 KB). */
let halfTable: Float32Array | undefined;

function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    halfTable[bits] =
      exponent === 0 ? sign * 2 ** -14 * (fraction / 1024) : exponent === 31 ? (fraction ? Number.NaN : sign * Infinity) : sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
  return halfTable;
}

/** A float32 or float16 output as float32 values (float16 comes from ONNX Runtime as its bits, a Uint16Array). */
function asFloat32(tensor: ort.Tensor): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type !== 'float16') throw new EngineError(`Unexpected ${tensor.type} output from the model`, 'internal');
  if (!(tensor.data instanceof Uint16Array)) return Float32Array.from(tensor.data as ArrayLike<number>); // a runtime with Float16Array
  const bits = tensor.data;
  const table = halfToFloatTable();
  const values = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) values[i] = table[bits[i]!]!;
  return values;
}
