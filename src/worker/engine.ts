// The engine: one loaded model, generation with the KV cache, and attention capture.
// Runs inside the worker thread (or in-process for the CLI and unit tests); never imports `vscode`.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  EngineError,
  type AttentionParams,
  type AttentionResult,
  type AttentionToken,
  type ChatParams,
  type CompleteParams,
  type CompletionPromptReport,
  type EngineEvent,
  type EngineOptions,
  type GenerateParams,
  type GenerateResult,
  type ModelInfo,
  type SurprisalResult,
} from '../protocol/engine';
import { attentionGraphsDir, rewrittenModelPath } from './attentionRewrite';
import { fitCompletionWindows } from './completionPrompt';
import { fitPrompt } from './contextWindow';
import { DecoderSession, defaultThreads, type KvCache } from './decoderSession';
import { detectFimFormat, type FimFormat } from './fim';
import { NO_REPO_CONTEXT, fitRepoContext, repoFormatOf } from '../protocol/repoContext';
import { estimateParameters, readModelFolder, type ModelFolder } from './modelFolder';
import { openSession } from './openSession';
import { createSampler } from './sampling';
import { TextStream } from './textStream';
import { checkMemory } from './memoryCheck';
import { ModelTokenizer, PLAIN_CHAT_STOP } from './tokenizer';
import { firstLines } from '../protocol/lines';
import { scoreInChunks } from './tokenScores';
import { ATTENTION_BUDGET_BYTES, attentionMapBytes, attentionTokenLimit, megabytes } from '../protocol/estimates';

export const DEFAULT_MAX_NEW_TOKENS = 256;

export interface RunContext {
  signal?: AbortSignal;
  emit?: (event: EngineEvent) => void;
}

interface InternalOptions {
  /** Tokens that end generation besides EOS (end of a chat turn, FIM sentinels). */
  extraStopIds?: number[];
  /** Text already removed from the prompt for token healing (by `complete`). */
  healedTail?: string;
  /** Let the tokenizer add its special tokens (false for chat templates, which write their own). */
  addSpecialTokens?: boolean;
  /** Stop after this many lines of output. */
  maxLines?: number;
}

/**
 * The token ids whose keys and values the cache holds, from the last call. The next call reuses the part its prompt
 * shares (positions are absolute and there is no padding, so a shared prefix has exactly the same keys and values):
 * typing one more character in an editor then costs a few tokens of prefill instead of the whole window.
 */
interface ReusableCache {
  ids: number[];
  cache: KvCache;
}

/** Yields to the event loop so a cancel message can arrive between decoding steps. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Explain Attention runs the text in chunks through the KV cache, so that a cancel or a shutdown takes effect between
 * chunks and ONNX Runtime's buffers hold one chunk's rows of the maps at a time: at most this many tokens a chunk...
 */
const ATTENTION_CHUNK_TOKENS = 32;
/**
 * ...and after the first, as many as take about this long (32 tokens of the Qwen2.5-Coder-0.5B shape take ~0.4 s with
 * every position's logits; of the bundled model ~30 ms): bench/attention-edge.mjs measures the time a cancel waits.
 */
const ATTENTION_CHUNK_MS = 100;

export class LoadedModel {
  private constructor(
    readonly folder: ModelFolder,
    readonly session: DecoderSession,
    readonly tokenizer: ModelTokenizer,
    readonly fim: FimFormat | null,
    private readonly eosIds: Set<number>,
    /** FIM sentinel ids: prompt structure, never generated. */
    private readonly fimSentinelIds: number[],
    /** From config.json (attentive.fim.use_for_completion); false when FIM output was measured not good enough. */
    private readonly fimRecommended: boolean,
  ) {}

  private reusePromptCache = true;
  private reusable: ReusableCache | null = null;
  /** Prompt tokens reused by the last generate call (reported by `complete`). */
  private lastReused = 0;
  /** The file the session runs: the model's, or its copy with external weights (see externalWeights.ts). */
  private sessionPath = '';
  /** Where rewritten graphs with attention outputs are kept (under EngineOptions.cacheDir). */
  private attentionGraphsDir = '';
  /** Most bytes of attention maps one call may produce (EngineOptions.attentionBudgetBytes). */
  private attentionBudgetBytes = ATTENTION_BUDGET_BYTES;
  /**
   * For a model without attentions.{i}: a second session on the graph rewritten to expose them, created on the first
   * attention call and used for attention only (generation keeps the original, faster graph).
   */
  private attentionSession: Promise<DecoderSession> | null = null;

  static async load(folder: string, options: EngineOptions = {}): Promise<LoadedModel> {
    const model = readModelFolder(folder, options.quantization);
    checkMemory(model.onnxPath, options.availableMemoryBytes);
    const tokenizer = new ModelTokenizer(model.tokenizerJson, model.tokenizerConfig);
    const cacheDir = options.cacheDir ?? path.join(os.tmpdir(), 'attentive-model-cache');
    const { session, sessionPath } = await openSession(model, cacheDir, options.threads ?? defaultThreads());
    if (tokenizer.vocabSize > session.vocabSize) {
      await session.release();
      throw new EngineError(
        `The tokenizer has ${tokenizer.vocabSize} tokens but the model's vocabulary has ${session.vocabSize}: tokenizer.json does not belong to this model`,
        'model-invalid',
      );
    }
    const eosIds = new Set(model.config.eosTokenIds);
    const eosToken = tokenizer.eosToken !== undefined ? tokenizer.tokenId(tokenizer.eosToken) : undefined;
    if (eosToken !== undefined) eosIds.add(eosToken);
    const attentive = model.config.raw['attentive'] as { fim?: { use_for_completion?: unknown; prompt?: unknown } } | undefined;
    const fimOrder = attentive?.fim?.prompt === 'spm' ? 'spm' : 'psm';
    const fim = detectFimFormat((token) => tokenizer.tokenId(token) !== undefined, fimOrder);
    const fimSentinelIds = fim ? [fim.prefix, fim.suffix, fim.middle].map((token) => tokenizer.tokenId(token)!) : [];
    const fimRecommended = attentive?.fim?.use_for_completion !== false;
    const loaded = new LoadedModel(model, session, tokenizer, fim, eosIds, fimSentinelIds, fimRecommended);
    loaded.reusePromptCache = options.reusePromptCache ?? true;
    loaded.sessionPath = sessionPath;
    loaded.attentionGraphsDir = attentionGraphsDir(cacheDir);
    loaded.attentionBudgetBytes = options.attentionBudgetBytes ?? Math.min(ATTENTION_BUDGET_BYTES, Math.floor(os.freemem() / 8));
    return loaded;
  }

  info(): ModelInfo {
    const { config } = this.folder;
    return {
      name: this.folder.name,
      folder: this.folder.folder,
      architecture: config.architecture,
      modelType: config.modelType,
      onnxFile: this.folder.onnxPath,
      quantization: this.folder.quantization,
      fileSizeBytes: fs.statSync(this.folder.onnxPath).size,
      parameters: estimateParameters(config.raw, config.vocabSize, config.hiddenSize, config.layers),
      layers: this.session.layers,
      heads: config.heads,
      kvHeads: this.session.kvHeads,
      headDim: this.session.headDim,
      hiddenSize: config.hiddenSize,
      vocabSize: this.session.vocabSize,
      contextLength: config.contextLength,
      attentionTokenLimit: this.attentionTokenLimit(),
      attentionBudgetBytes: this.attentionBudgetBytes,
      hasAttentionOutputs: this.session.hasAttention,
      hasChatTemplate: this.tokenizer.hasChatTemplate,
      fim: this.fim && {
        prefix: this.fim.prefix,
        suffix: this.fim.suffix,
        middle: this.fim.middle,
        order: this.fim.order,
        recommended: this.fimRecommended,
      },
      repoFormat: repoFormatOf((token) => this.tokenizer.tokenId(token) !== undefined),
      threads: this.session.threads,
    };
  }

  async generate(params: GenerateParams, context: RunContext = {}, internal: InternalOptions = {}): Promise<GenerateResult> {
    const started = performance.now();
    const maxNewTokens = params.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
    const { extraStopIds = [], healedTail, addSpecialTokens = true, maxLines } = internal;
    let prompt = params.prompt;
    let tail = healedTail ?? '';
    if (healedTail === undefined && params.tokenHealing) ({ prompt, tail } = this.tokenizer.healingSplit(prompt));
    if (!prompt.trim() && !tail) throw new EngineError('The prompt is empty', 'bad-request');
    // A raw prompt gets the tokenizer's special tokens (e.g. a BOS its post-processor adds), as HF's tokenizer(text) does.
    const promptIds = this.tokenizer.encode(prompt, addSpecialTokens);
    if (promptIds.length === 0) throw new EngineError('The prompt is empty', 'bad-request');
    const keepPrefix = params.keepPrefix ? this.tokenizer.encode(params.keepPrefix, addSpecialTokens).length : 0;
    const fitted = fitPrompt(promptIds, keepPrefix, this.folder.config.contextLength, maxNewTokens, params.overflow);

    const stopIds = new Set([...this.eosIds, ...extraStopIds]);
    const sampler = createSampler(params);
    const stream = new TextStream((ids) => this.tokenizer.decode(ids), params.stop ?? [], tail);
    const history = [...fitted.ids];
    const generated: number[] = [];
    const probabilities: number[] = [];
    let finishReason: GenerateResult['finishReason'] = 'length';
    let firstTokenAt = 0;

    let { input, cache } = this.reuseCache(fitted.ids);
    const fed = fitted.ids.slice(0, fitted.ids.length - input.length);
    while (generated.length < fitted.maxNewTokens) {
      if (context.signal?.aborted) {
        finishReason = 'cancelled';
        break;
      }
      const output = await this.session.step(input, cache);
      cache = output.cache;
      fed.push(...input);
      this.reusable = { ids: fed, cache };
      if (generated.length < (params.minNewTokens ?? 0)) for (const id of stopIds) output.lastLogits[id] = -Infinity;
      if (generated.length === 0 && tail) this.constrainToPrefix(output.lastLogits, tail);
      // FIM sentinels are prompt structure, never output: a prompt ending in a lone newline otherwise makes a small
      // model write <|fim_middle|> (measured: 34% of plain next-line prompts with the bundled model).
      for (const id of this.fimSentinelIds) output.lastLogits[id] = -Infinity;
      const { token, probability } = sampler.next(output.lastLogits, history);
      if (generated.length === 0) firstTokenAt = performance.now();
      if (stopIds.has(token)) {
        finishReason = 'eos';
        break;
      }
      generated.push(token);
      history.push(token);
      if (params.returnTokenProbabilities) probabilities.push(probability);
      const step = stream.push(token);
      if (step.delta) context.emit?.({ type: 'delta', text: step.delta });
      if (step.stopped || (maxLines !== undefined && countNewlines(stream.fullText) >= maxLines)) {
        finishReason = 'stop';
        break;
      }
      // Out of time, once something visible was written (indentation alone is no suggestion): finish reason 'length'.
      if (params.timeLimitMs !== undefined && performance.now() - started >= params.timeLimitMs && /\S/.test(stream.fullText)) break;
      input = [token];
      await yieldToEventLoop();
    }
    const heldBack = finishReason === 'stop' ? '' : stream.flush();
    if (heldBack) context.emit?.({ type: 'delta', text: heldBack });

    const finished = performance.now();
    const decodeSteps = Math.max(0, generated.length - 1);
    const result: GenerateResult = {
      text: maxLines !== undefined ? firstLines(stream.fullText, maxLines) : stream.fullText,
      tokenIds: generated,
      finishReason,
      usage: {
        promptTokens: fitted.ids.length,
        generatedTokens: generated.length,
        timeToFirstTokenMs: firstTokenAt ? firstTokenAt - started : 0,
        decodeTokensPerSecond: decodeSteps > 0 ? (decodeSteps * 1000) / (finished - firstTokenAt) : 0,
        trimmedPromptTokens: fitted.trimmed,
      },
    };
    if (params.returnTokenProbabilities) {
      result.tokenProbabilities = probabilities;
      result.tokenTexts = generated.map((id) => this.tokenizer.tokenText(id));
    }
    return result;
  }

  /** The cache of the last call cut to the prompt's shared prefix (at least one token is left to run). */
  private reuseCache(ids: number[]): { input: number[]; cache: KvCache } {
    const last = this.reusePromptCache ? this.reusable : null;
    let shared = 0;
    if (last) {
      const limit = Math.min(last.ids.length, last.cache.length, ids.length - 1);
      while (shared < limit && last.ids[shared] === ids[shared]) shared++;
    }
    this.lastReused = shared;
    if (!last || shared === 0) return { input: ids, cache: this.session.emptyCache() };
    return { input: ids.slice(shared), cache: this.session.truncateCache(last.cache, shared) };
  }

  /** Token healing: the first token must start with the text taken off the prompt. */
  private constrainToPrefix(logits: Float32Array, prefix: string): void {
    const texts = this.tokenizer.tokenTexts();
    for (let id = 0; id < logits.length; id++) if (!(texts[id] ?? '').startsWith(prefix)) logits[id] = -Infinity;
  }

  async chat(params: ChatParams, context: RunContext = {}): Promise<GenerateResult> {
    if (params.messages.length === 0) throw new EngineError('A chat needs at least one message', 'bad-request');
    const prompt = this.tokenizer.applyChatTemplate(params.messages);
    const system = params.messages[0]!.role === 'system' ? this.tokenizer.applyChatTemplate([params.messages[0]!]) : undefined;
    // Chat turns end with the template's end-of-turn token, which is not always the model's EOS.
    const endOfTurn = ['<|im_end|>', '<|eot_id|>', '<|end|>', '<|EOT|>']
      .map((token) => this.tokenizer.tokenId(token))
      .filter((id): id is number => id !== undefined);
    const { messages: _messages, ...rest } = params;
    const generateParams: GenerateParams = { ...rest, prompt };
    // Without a chat template the model continues a plain transcript: its next "User:" line ends the reply.
    if (!this.tokenizer.hasChatTemplate) generateParams.stop = [...(params.stop ?? []), PLAIN_CHAT_STOP];
    if (system !== undefined) generateParams.keepPrefix = system;
    // The chat template writes every special token itself (HF's apply_chat_template does not add more); the plain
    // transcript gets the tokenizer's own (a BOS), as any plain prompt.
    return this.generate(generateParams, context, { extraStopIds: endOfTurn, addSpecialTokens: !this.tokenizer.hasChatTemplate });
  }

  async complete(params: CompleteParams, context: RunContext = {}): Promise<GenerateResult> {
    const { prefix, suffix = '', maxPromptTokens, fillInTheMiddle = this.fimRecommended, maxLines, fileName, ...rest } = params;
    const healing = params.tokenHealing ?? true;
    const maxNewTokens = params.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
    const room = this.folder.config.contextLength - Math.min(maxNewTokens, Math.floor(this.folder.config.contextLength / 2));
    const fim = fillInTheMiddle && suffix ? this.fim : null;
    const header = fim && fileName ? this.fileHeader(fileName) : '';
    const count = (text: string) => this.tokenizer.encode(text).length;
    // Sentinels, the header and the tokenizer's own special tokens, with a few tokens of slack for merges at line joins.
    const overhead = count(header) + this.tokenizer.encode('', true).length + (fim ? 3 : 0) + 4;
    const budget = Math.max(1, Math.min(maxPromptTokens ?? room, room) - overhead);
    const windows = fitCompletionWindows(prefix, fim ? suffix : '', budget, count);
    // Other files get what the code around the cursor left, up to their own budget: they never push it out.
    const repo = params.context
      ? fitRepoContext(params.context, repoFormatOf((token) => this.tokenizer.tokenId(token) !== undefined), fileName ?? 'untitled', Math.min(params.context.maxTokens, room - overhead - windows.tokens), count)
      : NO_REPO_CONTEXT;
    const codePrefix = repo.commented + windows.prefix;
    const report: CompletionPromptReport = {
      format: fim ? 'fim' : 'prefix',
      prefixLinesDropped: windows.prefixLinesDropped,
      suffixLinesDropped: windows.suffixLinesDropped,
      reusedPromptTokens: 0,
      contextPaths: repo.paths,
    };
    const internal: InternalOptions = {};
    if (maxLines !== undefined) internal.maxLines = maxLines;
    let result: GenerateResult;
    if (!fim) {
      result = await this.generate({ ...rest, tokenHealing: healing, prompt: repo.preamble + codePrefix }, context, internal);
    } else {
      internal.extraStopIds = fim.stopTokens.map((token) => this.tokenizer.tokenId(token)).filter((id): id is number => id !== undefined);
      // Never trim a FIM prompt by tokens (that would cut its first sentinel): the windows above already fit.
      if (fim.order === 'spm') {
        // The prompt ends with the prefix, so token healing works as for a plain prompt.
        result = await this.generate({ ...rest, tokenHealing: healing, overflow: 'error', prompt: repo.preamble + header + fim.build(codePrefix, windows.suffix) }, context, internal);
      } else {
        // Heal the end of the prefix, which sits before the suffix in the FIM prompt, not at its end.
        const { prompt: healedPrefix, tail } = healing ? this.tokenizer.healingSplit(codePrefix) : { prompt: codePrefix, tail: '' };
        internal.healedTail = tail;
        result = await this.generate({ ...rest, overflow: 'error', prompt: repo.preamble + header + fim.build(healedPrefix, windows.suffix) }, context, internal);
      }
    }
    report.reusedPromptTokens = this.lastReused;
    result.completionPrompt = report;
    return result;
  }

  /** A file-name line before the prompt, in the formats that were trained with one (StarCoder's metadata). */
  private fileHeader(fileName: string): string {
    return this.tokenizer.tokenId('<filename>') !== undefined ? `<filename>${fileName}\n` : '';
  }

  /**
   * Every layer's and head's attention probabilities over the tokens of `text`, with each token's surprisal and the
   * model's top predictions at its position; run in chunks of ATTENTION_CHUNK_TOKENS, within the attention budget.
   */
  async attention(params: AttentionParams, context: RunContext = {}): Promise<AttentionResult> {
    const session = await this.attentionCapture();
    const input = this.textTokens(params);
    const seq = input.ids.length;
    const limit = this.attentionTokenLimit();
    if (seq > limit) {
      const { layers, heads } = this.folder.config;
      throw new EngineError(
        `The text is ${seq} tokens; this model's attention maps fit ${limit}: ${layers} layers x ${heads} heads x tokens² x 4 bytes must stay within ${megabytes(this.attentionBudgetBytes)} (${megabytes(attentionMapBytes(layers, heads, seq))} for ${seq}). Select less code.`,
        'bad-request',
      );
    }
    const maps: Float32Array[] = []; // per layer [heads, seq, seq]
    let runMs = 0;
    let lastStepDone = performance.now();
    const started = lastStepDone;
    const scores = await scoreInChunks({
      session,
      ids: input.ids,
      chunkTokens: ATTENTION_CHUNK_TOKENS,
      targetChunkMs: ATTENTION_CHUNK_MS,
      tokenText: (id) => this.tokenizer.tokenText(id),
      wantAttentions: true,
      ...(context.signal ? { signal: context.signal } : {}),
      onChunk: (output, start, length) => {
        runMs += performance.now() - lastStepDone;
        const total = start + length; // keys so far
        output.attentions!.forEach((attention, layer) => {
          // [heads, chunk, total] rows into the layer's [heads, seq, seq] map; keys after `total` stay 0 (causal).
          const heads = attention.length / (length * total);
          // Shared memory: posting the result to the host shares it instead of copying, and the host's analysis
          // thread (src/extension/attention/analysisThread.ts) reads the same bytes.
          maps[layer] ??= new Float32Array(new SharedArrayBuffer(heads * seq * seq * Float32Array.BYTES_PER_ELEMENT));
          for (let head = 0; head < heads; head++) {
            for (let q = 0; q < length; q++) {
              const row = (head * length + q) * total;
              maps[layer]!.set(attention.subarray(row, row + total), (head * seq + start + q) * seq);
            }
          }
        });
        lastStepDone = performance.now();
      },
    });
    return {
      tokens: input.tokens,
      layers: maps.length,
      heads: this.folder.config.heads,
      weights: maps,
      surprisal: scores.map((s) => s.bits),
      predictions: scores.map((s) => s.top),
      // ONNX Runtime's time, and the rest (copying the rows, scoring the tokens).
      timings: { runMs: Math.round(runMs), afterRunMs: Math.round(performance.now() - started - runMs) },
    };
  }

  /** The most tokens whose attention maps fit the budget. */
  private attentionTokenLimit(): number {
    return attentionTokenLimit(this.folder.config.layers, this.folder.config.heads, this.attentionBudgetBytes);
  }

  /**
   * Each token's surprisal and the model's top predictions at its position, without attention maps. The text runs in
   * chunks through the KV cache, so a long text never holds all its [seq, vocab] logits at once.
   */
  async surprisal(params: AttentionParams, context: RunContext = {}): Promise<SurprisalResult> {
    // A large model's generation graph may return only the last position's logits; the attention graph has them all.
    const session = this.session.lastLogitsOnly ? await this.attentionCapture() : this.session;
    const input = this.textTokens(params);
    const scores = await scoreInChunks({
      session,
      ids: input.ids,
      chunkTokens: session.prefillChunkTokens,
      tokenText: (id) => this.tokenizer.tokenText(id),
      ...(context.signal ? { signal: context.signal } : {}),
    });
    return { tokens: input.tokens, surprisal: scores.map((s) => s.bits), predictions: scores.map((s) => s.top) };
  }

  /** The ids to run for a text (with the tokenizer's leading special tokens) and each one's offsets in the text. */
  private textTokens(params: AttentionParams): { ids: number[]; tokens: AttentionToken[] } {
    const textIds = this.tokenizer.encode(params.text);
    if (textIds.length === 0) throw new EngineError('The text is empty', 'bad-request');
    // Tokens the tokenizer puts before the text (a BOS), when it adds them around an unchanged encoding.
    const withSpecial = params.addSpecialTokens === false ? textIds : this.tokenizer.encode(params.text, true);
    const lead = withSpecial.length - textIds.length;
    const sameText = lead >= 0 && withSpecial.slice(lead).every((id, i) => id === textIds[i]);
    const ids = sameText ? withSpecial.slice(0, lead + textIds.length) : textIds;
    const leading = sameText ? lead : 0;
    fitPrompt(ids, 0, this.folder.config.contextLength, 0, 'error');
    const offsets = this.tokenizer.offsets(textIds);
    // Offsets index the decoded text; it equals the input unless the tokenizer normalises it.
    const exact = this.tokenizer.decode(textIds, false) === params.text;
    const tokens = ids.map((id, i) => {
      const offset = i >= leading && exact ? offsets[i - leading]! : ([-1, -1] as const);
      return { id, text: this.tokenizer.decode([id], false), start: offset[0], end: offset[1] };
    });
    return { ids, tokens };
  }

  /** The session that returns attentions.{i}: the model's own, or one on its rewritten graph (created once). */
  private attentionCapture(): Promise<DecoderSession> {
    if (this.session.hasAttention) return Promise.resolve(this.session);
    if (!this.attentionSession) {
      const pending = this.openRewrittenSession();
      this.attentionSession = pending;
      // A failed attempt is not kept, so the next call tries again (after the user fixed the cause).
      pending.catch(() => {
        if (this.attentionSession === pending) this.attentionSession = null;
      });
    }
    return this.attentionSession;
  }

  private async openRewrittenSession(): Promise<DecoderSession> {
    const layers = this.session.layers;
    // From the file the session runs: a model with external weights gets them linked, not copied into the graph.
    let rewritten = rewrittenModelPath(this.sessionPath, this.attentionGraphsDir, layers);
    let session: DecoderSession;
    try {
      session = await DecoderSession.create(rewritten.path, this.folder.config, this.session.threads);
    } catch (error) {
      if (rewritten.created) throw error;
      // A damaged cached file (a disk error, an older rewrite): rewrite it once more.
      fs.rmSync(rewritten.path, { force: true });
      rewritten = rewrittenModelPath(this.sessionPath, this.attentionGraphsDir, layers);
      session = await DecoderSession.create(rewritten.path, this.folder.config, this.session.threads);
    }
    if (session.attentionOutputs.length !== layers) {
      await session.release();
      throw new EngineError(`The rewritten graph ${rewritten.path} lacks attention outputs for some of the ${layers} layers`, 'model-invalid');
    }
    return session;
  }

  async release(): Promise<void> {
    const attention = this.attentionSession;
    this.attentionSession = null;
    await this.session.release();
    if (attention) await attention.then((session) => session.release()).catch(() => undefined);
  }
}

function countNewlines(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return count;
}
