// The host side of the engine RPC, under LocalBackend (in the extension host and the CLI; no `vscode` import).
// Starts the server lazily, rejects every pending call with a clear error when the worker dies, and starts a new
// one (reloading the last model) on the next call.

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
import type { Transport, TransportFactory } from '../../protocol/transport';
import type { BackendState, RequestOptions } from '../backend';

/** Calls that do not run the model (its info, the tokenizer, cache files): the model is not 'generating' meanwhile. */
const TEXT_ONLY_METHODS: ReadonlySet<EngineMethod> = new Set<EngineMethod>(['info', 'tokenize', 'countTokens', 'truncateToTokens', 'deleteModelCaches']);

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

  constructor(private readonly createTransport: TransportFactory) {}

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
