// The backend's state as the status bar, the Model view and the chat header show it. A call shows as 'generating'
// only once it has lasted SHOW_GENERATING_AFTER_MS: most calls (a completion, an attention map) end sooner, and a
// spinner that flashes at every keystroke is noise. Each flash also made the workbench repaint while the model ran:
// measured in headless Chromium on 2 cores, an attention run of 46-110 ms took 280-350 ms under the status bar's
// spinning icon.

import * as vscode from 'vscode';
import { assertNever } from '../../protocol/assertNever';
import type { Backend, BackendModel, BackendState } from '../../backend/backend';

export const SHOW_GENERATING_AFTER_MS = 600;

export class DisplayedState<M extends BackendModel = BackendModel> implements vscode.Disposable {
  private shown: BackendState<M>;
  private timer: NodeJS.Timeout | undefined;
  private readonly changed = new vscode.EventEmitter<BackendState<M>>();
  readonly onChange = this.changed.event;
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly backend: Backend<M>,
    private readonly delayMs = SHOW_GENERATING_AFTER_MS,
  ) {
    this.shown = backend.state;
    this.subscription = backend.onStateChange((state) => this.update(state));
  }

  get state(): BackendState<M> {
    return this.shown;
  }

  private update(state: BackendState<M>): void {
    if (state.kind === 'generating' && this.shown.kind === 'ready') {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        if (this.backend.state.kind === 'generating') this.show(this.backend.state);
      }, this.delayMs);
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    // A short call ended before its spinner showed: nothing changed on screen.
    if (state.kind === 'ready' && this.shown.kind === 'ready' && state.model === this.shown.model && state.notice === this.shown.notice) return;
    this.show(state);
  }

  private show(state: BackendState<M>): void {
    this.shown = state;
    this.changed.fire(state);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.subscription.dispose();
    this.changed.dispose();
  }
}

/** The state in the status bar's words: its text (with a codicon) and the longer tooltip other views reuse. */
export function describeState(state: BackendState): { text: string; tooltip: string } {
  switch (state.kind) {
    case 'not-loaded':
      return { text: '$(circle-outline) Attentive', tooltip: 'Attentive: model not loaded yet (it loads on first use)' };
    case 'loading':
      return { text: '$(loading~spin) Attentive: loading', tooltip: `Attentive: loading ${state.folder}` };
    case 'ready':
      return {
        text: `$(sparkle) ${state.model.name}`,
        tooltip: `Attentive: ${state.model.name} ready${'quantization' in state.model ? ` (${String(state.model.quantization)})` : ''}${state.notice ? `; ${state.notice}` : ''}`,
      };
    case 'generating':
      return { text: `$(loading~spin) ${state.model.name}`, tooltip: `Attentive: ${state.model.name} generating` };
    case 'error':
      return { text: '$(error) Attentive', tooltip: `Attentive: ${state.message}` };
    default:
      return assertNever(state, 'backend state');
  }
}
