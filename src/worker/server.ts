// The worker side of the RPC: one model, one request at a time, a priority queue in front of it.
// A 'high' call (inline completion) goes ahead of queued 'normal' calls (chat) but never interrupts a running one.
// The same class serves in-process (CLI, unit tests) and inside the worker thread.

import {
  EngineError,
  type EngineEvent,
  type EngineMethod,
  type EngineMethods,
  type HostToWorker,
  type Priority,
  type WorkerToHost,
} from '../protocol/engine';
import { LoadedModel, type RunContext } from './engine';
import { deleteModelCaches } from './modelCaches';
import { validateParams } from './validate';

interface QueuedCall {
  id: number;
  method: EngineMethod;
  params: unknown;
  priority: Priority;
  controller: AbortController;
}

export class EngineServer {
  private model: LoadedModel | null = null;
  private readonly queue: QueuedCall[] = [];
  private running: QueuedCall | null = null;

  constructor(
    private readonly send: (message: WorkerToHost, transfer?: ArrayBuffer[]) => void,
    /** Called once a shutdown request has been carried out. */
    private readonly onShutdown?: () => void,
    private readonly options: { testHooks?: boolean } = {},
  ) {}

  /** Number of calls waiting (not counting the running one). */
  get pending(): number {
    return this.queue.length;
  }

  handle(message: HostToWorker): void {
    switch (message.kind) {
      case 'call': {
        const call: QueuedCall = { ...message, controller: new AbortController() };
        // High-priority calls go before every queued normal call, after earlier high ones.
        const index = call.priority === 'high' ? this.queue.findIndex((queued) => queued.priority !== 'high') : -1;
        if (index >= 0) this.queue.splice(index, 0, call);
        else this.queue.push(call);
        this.announceQueue();
        void this.pump();
        break;
      }
      case 'cancel':
        this.cancel(message.id);
        break;
      case 'shutdown':
        void this.dispose().finally(() => this.onShutdown?.());
        break;
      case 'ping':
        this.send({ kind: 'pong' });
        break;
      case 'crash-for-test':
        if (this.options.testHooks) throw new Error('crash requested by a test');
        break;
      case 'hold-thread-for-test':
        if (this.options.testHooks) for (const until = performance.now() + message.ms; performance.now() < until; );
        break;
      default:
        throw new EngineError(`Unknown message: ${JSON.stringify(message satisfies never)}`, 'bad-request');
    }
  }

  private cancel(id: number): void {
    if (this.running?.id === id) {
      this.running.controller.abort();
      return;
    }
    const index = this.queue.findIndex((call) => call.id === id);
    if (index >= 0) {
      this.queue.splice(index, 1);
      this.send({ kind: 'error', id, error: new EngineError('Cancelled before it started', 'cancelled').serialize() });
      this.announceQueue();
    }
  }

  private announceQueue(): void {
    this.queue.forEach((call, position) => this.emit(call.id, { type: 'queued', position: position + 1 }));
  }

  private emit(id: number, event: EngineEvent): void {
    this.send({ kind: 'event', id, event });
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    const call = this.queue.shift();
    if (!call) return;
    this.running = call;
    this.announceQueue();
    this.emit(call.id, { type: 'started' });
    try {
      const result = await this.execute(call);
      this.send({ kind: 'result', id: call.id, result }, transferables(result));
    } catch (error) {
      this.send({ kind: 'error', id: call.id, error: EngineError.from(error).serialize() });
    } finally {
      this.running = null;
      void this.pump();
    }
  }

  private async execute(call: QueuedCall): Promise<unknown> {
    const context: RunContext = { signal: call.controller.signal, emit: (event) => this.emit(call.id, event) };
    const method = call.method;
    switch (method) {
      case 'load': {
        const params = validateParams('load', call.params);
        const previous = this.model;
        this.model = null;
        await previous?.release();
        this.model = await LoadedModel.load(params.folder, params.options);
        return this.model.info();
      }
      case 'info':
        return this.requireModel().info();
      case 'generate':
        return this.requireModel().generate(validateParams('generate', call.params), context);
      case 'chat':
        return this.requireModel().chat(validateParams('chat', call.params), context);
      case 'complete':
        return this.requireModel().complete(validateParams('complete', call.params), context);
      case 'attention':
        return this.requireModel().attention(validateParams('attention', call.params), context);
      case 'surprisal':
        return this.requireModel().surprisal(validateParams('surprisal', call.params), context);
      case 'tokenize':
        return { ids: this.requireModel().tokenizer.encode(validateParams('tokenize', call.params).text) };
      case 'countTokens': {
        const tokenizer = this.requireModel().tokenizer;
        return { counts: validateParams('countTokens', call.params).texts.map((text) => tokenizer.encode(text).length) };
      }
      case 'truncateToTokens': {
        const { text, maxTokens } = validateParams('truncateToTokens', call.params);
        return { text: this.requireModel().tokenizer.truncate(text, maxTokens) };
      }
      case 'deleteModelCaches': {
        const { folder, cacheDir } = validateParams('deleteModelCaches', call.params);
        return { freedBytes: deleteModelCaches(folder, cacheDir) };
      }
      default:
        throw new EngineError(`Unknown method: ${JSON.stringify(method satisfies never)}`, 'bad-request');
    }
  }

  private requireModel(): LoadedModel {
    if (!this.model) throw new EngineError('No model is loaded', 'not-loaded');
    return this.model;
  }

  /** Cancels everything, waits for the running call to end (never mid-step), and releases the model. */
  async dispose(): Promise<void> {
    for (const call of this.queue.splice(0)) {
      this.send({ kind: 'error', id: call.id, error: new EngineError('The engine is shutting down', 'cancelled').serialize() });
    }
    this.running?.controller.abort();
    while (this.running) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.model?.release();
    this.model = null;
  }
}

/** Attention weights move to the host without a copy. */
function transferables(result: unknown): ArrayBuffer[] {
  const weights = (result as Partial<EngineMethods['attention']['result']> | null)?.weights;
  if (!Array.isArray(weights)) return [];
  // Attention maps live in SharedArrayBuffers (shared by postMessage, never transferred); anything else is moved.
  return weights.map((w) => w.buffer).filter((b, i, all): b is ArrayBuffer => b instanceof ArrayBuffer && all.indexOf(b) === i);
}
