// The host side of the engine RPC, under LocalBackend (in the extension host and the CLI; no `vscode` import).
// Starts the server lazily, rejects every pending call with a clear error when the worker dies or stops answering,
// and starts a new one (reloading the last model) on the next call.

import {
  EngineError,
  type EngineEvent,
  type EngineMethod,
  type EngineMethods,
  type LoadParams,
  MODEL_FREE_METHODS,
  type ModelInfo,
  type WorkerToHost,
} from '../../protocol/engine';
import { assertNever } from '../../protocol/assertNever';
import { durationText } from '../../protocol/estimates';
import type { Transport, TransportFactory } from '../../protocol/transport';
import type { BackendState, RequestOptions } from '../backend';

/** Calls that do not run the model (its info, the tokenizer, cache files): the model is not 'generating' meanwhile. */
const TEXT_ONLY_METHODS: ReadonlySet<EngineMethod> = new Set<EngineMethod>(['info', 'tokenize', 'countTokens', 'truncateToTokens', 'deleteModelCaches']);

/** How long a worker with calls in hand may go without answering before it is replaced. */
const UNRESPONSIVE_MS = 30_000;

export interface EngineClientOptions {
  /** How long the worker may go without answering while calls are pending (default 30 s). */
  unresponsiveMs?: number;
}

interface PendingCall {
  method: EngineMethod;
  resolve(result: unknown): void;
  reject(error: EngineError): void;
  onEvent?: (event: EngineEvent) => void;
}

export class EngineClient {
  private transport: Transport | null = null;
  private readonly pending = new Map<number, PendingCall>();
  private nextId = 1;
  private loadParams: LoadParams | null = null;
  private loaded: Promise<ModelInfo> | null = null;
  private currentState: BackendState<ModelInfo> = { kind: 'not-loaded' };
  private readonly listeners = new Set<(state: BackendState<ModelInfo>) => void>();
  /**
   * The watchdog, running while calls are pending: it pings the worker, whose event loop answers unless something
   * holds its thread. ONNX Runtime's runs do (a step at a time, and interrupting one aborts the process: never done);
   * JavaScript that does not finish (a chat template that loops) is stopped, the worker replaced.
   */
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private lastHeard = 0;
  private readonly unresponsiveMs: number;

  constructor(
    private readonly createTransport: TransportFactory,
    options: EngineClientOptions = {},
  ) {
    this.unresponsiveMs = options.unresponsiveMs ?? UNRESPONSIVE_MS;
  }

  get state(): BackendState<ModelInfo> {
    return this.currentState;
  }

  onStateChange(listener: (state: BackendState<ModelInfo>) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Loads (or switches to) a model; later calls wait for it. */
  load(params: LoadParams): Promise<ModelInfo> {
    this.loadParams = params;
    this.loaded = this.startLoad(params);
    return this.loaded;
  }

  /** The loaded model's info, loading it first if the worker was restarted. */
  async ready(): Promise<ModelInfo> {
    if (!this.loadParams) throw new EngineError('No model has been chosen', 'not-loaded');
    if (!this.loaded || !this.transport) this.loaded = this.startLoad(this.loadParams);
    return this.loaded;
  }

  async call<M extends Exclude<EngineMethod, 'load'>>(
    method: M,
    params: EngineMethods[M]['params'],
    options: RequestOptions = {},
  ): Promise<EngineMethods[M]['result']> {
    if ((MODEL_FREE_METHODS as readonly EngineMethod[]).includes(method)) {
      return (await this.send(method, params, options)) as EngineMethods[M]['result'];
    }
    const model = await this.ready();
    const generating = !TEXT_ONLY_METHODS.has(method);
    if (generating) this.setState({ kind: 'generating', model });
    try {
      return (await this.send(method, params, options)) as EngineMethods[M]['result'];
    } finally {
      if (generating && this.currentState.kind === 'generating' && this.activeGenerations() === 0) {
        this.setState({ kind: 'ready', model });
      }
    }
  }

  /** Number of calls sent and not yet answered. */
  get pendingCalls(): number {
    return this.pending.size;
  }

  async dispose(): Promise<void> {
    const transport = this.transport;
    this.transport = null;
    this.rejectAll('The engine was shut down', 'cancelled');
    await transport?.terminate();
  }

  private watch(): void {
    if (this.watchdog) return;
    this.lastHeard = Date.now();
    this.watchdog = setInterval(() => this.checkAlive(), Math.min(2000, Math.max(50, this.unresponsiveMs / 4)));
    this.watchdog.unref(); // never what keeps a process (the CLI) alive
  }

  private checkAlive(): void {
    const transport = this.transport;
    if (!transport || this.pending.size === 0) {
      if (this.watchdog) clearInterval(this.watchdog);
      this.watchdog = null;
      return;
    }
    if (Date.now() - this.lastHeard < this.unresponsiveMs) {
      transport.post({ kind: 'ping' });
      return;
    }
    if (transport.inNativeRun?.()) return; // a long ONNX Runtime step: it ends, and must not be interrupted
    const reason = `The engine stopped responding for ${durationText(this.unresponsiveMs)} and was stopped`;
    this.transport = null;
    this.loaded = null;
    void transport.terminate({ force: true });
    this.rejectAll(`${reason}; the next request starts a new engine`);
    this.setState({ kind: 'error', message: reason });
  }

  private activeGenerations(): number {
    let count = 0;
    for (const call of this.pending.values()) if (!TEXT_ONLY_METHODS.has(call.method)) count++;
    return count;
  }

  private async startLoad(params: LoadParams): Promise<ModelInfo> {
    this.setState({ kind: 'loading', folder: params.folder });
    try {
      const info = (await this.send('load', params, { priority: 'high' })) as ModelInfo;
      this.setState({ kind: 'ready', model: info });
      return info;
    } catch (error) {
      const engineError = EngineError.from(error);
      this.setState({ kind: 'error', message: engineError.message });
      this.loaded = null;
      throw engineError;
    }
  }

  private send(method: EngineMethod, params: unknown, options: RequestOptions): Promise<unknown> {
    const transport = this.ensureTransport();
    const id = this.nextId++;
    if (options.signal?.aborted) return Promise.reject(new EngineError('Cancelled', 'cancelled'));
    return new Promise((resolve, reject) => {
      const call: PendingCall = { method, resolve, reject };
      if (options.onEvent) call.onEvent = options.onEvent;
      this.pending.set(id, call);
      this.watch();
      options.signal?.addEventListener('abort', () => this.transport?.post({ kind: 'cancel', id }), { once: true });
      transport.post({ kind: 'call', id, method, params, priority: options.priority ?? 'normal' });
    });
  }

  private ensureTransport(): Transport {
    if (!this.transport) {
      this.transport = this.createTransport({
        onMessage: (message) => this.receive(message),
        onExit: (reason) => {
          this.transport = null;
          this.loaded = null;
          this.rejectAll(`${reason}; the next request starts a new engine`);
          this.setState({ kind: 'error', message: reason });
        },
      });
    }
    return this.transport;
  }

  private receive(message: WorkerToHost): void {
    this.lastHeard = Date.now();
    if (message.kind === 'pong') return;
    const call = this.pending.get(message.id);
    if (!call) return;
    switch (message.kind) {
      case 'event':
        call.onEvent?.(message.event);
        break;
      case 'result':
        this.pending.delete(message.id);
        call.resolve(message.result);
        break;
      case 'error':
        this.pending.delete(message.id);
        call.reject(new EngineError(message.error.message, message.error.code));
        break;
      default:
        assertNever(message, 'engine message');
    }
  }

  private rejectAll(reason: string, code: EngineError['code'] = 'worker-exited'): void {
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const call of calls) call.reject(new EngineError(reason, code));
  }

  private setState(state: BackendState<ModelInfo>): void {
    this.currentState = state;
    for (const listener of this.listeners) listener(state);
  }
}
