// The local engine as a Backend: an EngineClient over a transport (a worker thread in the extension, the caller's
// thread in the CLI and tests), loading whatever model the caller's configuration names at the time of the load.

import type { LoadParams, ModelInfo } from '../../protocol/engine';
import type { TransportFactory } from '../../protocol/transport';
import type { Backend, BackendCapabilities, BackendState, Disposable, RequestOptions, TextSurprisal } from '../backend';
import { EngineClient } from './engineClient';

export class LocalBackend implements Backend<ModelInfo> {
  readonly capabilities: BackendCapabilities = { attention: true, tokenProbabilities: true };
  private readonly client: EngineClient;
  private configured = false;

  constructor(
    createTransport: TransportFactory,
    /** What to load: read at every (re)load, so a settings change takes effect at the next one. */
    private readonly loadParams: () => LoadParams,
  ) {
    this.client = new EngineClient(createTransport);
  }

  get state(): BackendState<ModelInfo> {
    return this.client.state;
  }

  onStateChange(listener: (state: BackendState<ModelInfo>) => void): Disposable {
    return this.client.onStateChange(listener);
  }

  get pendingCalls(): number {
    return this.client.pendingCalls;
  }

  ensureLoaded(): Promise<ModelInfo> {
    if (!this.configured) return this.reload();
    return this.client.ready();
  }

  reload(): Promise<ModelInfo> {
    this.configured = true;
    return this.client.load(this.loadParams());
  }

  /** Whether a model was asked for yet (a settings change reloads only then). */
  get loadRequested(): boolean {
    return this.configured;
  }

  async generate(params: Parameters<Backend['generate']>[0], options?: RequestOptions) {
    await this.ensureLoaded();
    return this.client.call('generate', params, options);
  }

  async chat(params: Parameters<Backend['chat']>[0], options?: RequestOptions) {
    await this.ensureLoaded();
    return this.client.call('chat', params, options);
  }

  async complete(params: Parameters<Backend['complete']>[0], options?: RequestOptions) {
    await this.ensureLoaded();
    return this.client.call('complete', params, options);
  }

  async attention(params: Parameters<Backend['attention']>[0], options?: RequestOptions) {
    await this.ensureLoaded();
    return this.client.call('attention', params, options);
  }

  async surprisal(text: string, options?: RequestOptions): Promise<TextSurprisal> {
    await this.ensureLoaded();
    const { tokens, surprisal, predictions } = await this.client.call('surprisal', { text }, options);
    return { tokens: tokens.map(({ text: tokenText, start, end }) => ({ text: tokenText, start, end })), surprisal, predictions };
  }

  async tokenize(text: string, options?: RequestOptions): Promise<number[]> {
    await this.ensureLoaded();
    return (await this.client.call('tokenize', { text }, options)).ids;
  }

  async countTokens(texts: string[], options?: RequestOptions): Promise<number[]> {
    await this.ensureLoaded();
    return (await this.client.call('countTokens', { texts }, options)).counts;
  }

  async truncateToTokens(text: string, maxTokens: number, options?: RequestOptions): Promise<string> {
    await this.ensureLoaded();
    return (await this.client.call('truncateToTokens', { text, maxTokens }, options)).text;
  }

  /**
   * Deletes what the engine derived from a model folder (its external-weights copy, graphs rewritten from it) in
   * `cacheDir`, before the folder itself is deleted. Returns the bytes freed.
   */
  async deleteModelCaches(folder: string, cacheDir: string): Promise<number> {
    return (await this.client.call('deleteModelCaches', { folder, cacheDir })).freedBytes;
  }

  dispose(): Promise<void> {
    return this.client.dispose();
  }
}
