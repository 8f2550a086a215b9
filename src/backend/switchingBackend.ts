// A Backend that stands for whichever backend a role uses now (the local engine, or a model server), so a feature
// keeps one Backend while the user changes the settings: calls go to the current target, its state changes come
// through, and a switch announces the new target's state.

import type { Backend, BackendCapabilities, BackendModel, BackendState, Disposable, RequestOptions } from './backend';
import type { AttentionParams, ChatParams, CompleteParams, GenerateParams } from '../protocol/engine';

export class SwitchingBackend implements Backend {
  private subscription: Disposable;
  private readonly listeners = new Set<(state: BackendState) => void>();

  constructor(private target: Backend) {
    this.subscription = this.follow(target);
  }

  /** The backend calls go to now. */
  get current(): Backend {
    return this.target;
  }

  switchTo(target: Backend): void {
    if (target === this.target) return;
    this.subscription.dispose();
    this.target = target;
    this.subscription = this.follow(target);
    this.emit(target.state);
  }

  private follow(target: Backend): Disposable {
    return target.onStateChange((state) => this.emit(state));
  }

  private emit(state: BackendState): void {
    for (const listener of this.listeners) listener(state);
  }

  get capabilities(): BackendCapabilities {
    return this.target.capabilities;
  }

  get state(): BackendState {
    return this.target.state;
  }

  onStateChange(listener: (state: BackendState) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  get pendingCalls(): number {
    return this.target.pendingCalls;
  }

  ensureLoaded(): Promise<BackendModel> {
    return this.target.ensureLoaded();
  }

  reload(): Promise<BackendModel> {
    return this.target.reload();
  }

  generate(params: GenerateParams, options?: RequestOptions) {
    return this.target.generate(params, options);
  }

  chat(params: ChatParams, options?: RequestOptions) {
    return this.target.chat(params, options);
  }

  complete(params: CompleteParams, options?: RequestOptions) {
    return this.target.complete(params, options);
  }

  attention(params: AttentionParams, options?: RequestOptions) {
    return this.target.attention(params, options);
  }

  surprisal(text: string, options?: RequestOptions) {
    return this.target.surprisal(text, options);
  }

  tokenize(text: string, options?: RequestOptions) {
    return this.target.tokenize(text, options);
  }

  countTokens(texts: string[], options?: RequestOptions) {
    return this.target.countTokens(texts, options);
  }

  truncateToTokens(text: string, maxTokens: number, options?: RequestOptions) {
    return this.target.truncateToTokens(text, maxTokens, options);
  }

  /** Stops following; the targets belong to whoever made them. */
  async dispose(): Promise<void> {
    this.subscription.dispose();
    this.listeners.clear();
  }
}
