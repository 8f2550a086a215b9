// The engine state as the status bar and the Model view show it. A call shows as 'generating' only once it has
// lasted SHOW_GENERATING_AFTER_MS: most calls (a completion, an attention map) end sooner, and a spinner that flashes
// at every keystroke is noise. Each flash also made the workbench repaint while the model ran: measured in headless
// Chromium on 2 cores, an attention run of 46-110 ms took 280-350 ms under the status bar's spinning icon.

import * as vscode from 'vscode';
import type { EngineClient, EngineState } from '../engine/client';

export const SHOW_GENERATING_AFTER_MS = 600;

export class DisplayedEngineState implements vscode.Disposable {
  private shown: EngineState;
  private timer: NodeJS.Timeout | undefined;
  private readonly changed = new vscode.EventEmitter<EngineState>();
  readonly onChange = this.changed.event;
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly client: EngineClient,
    private readonly delayMs = SHOW_GENERATING_AFTER_MS,
  ) {
    this.shown = client.state;
    this.subscription = client.onStateChange((state) => this.update(state));
  }

  get state(): EngineState {
    return this.shown;
  }

  private update(state: EngineState): void {
    if (state.kind === 'generating' && this.shown.kind === 'ready') {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        if (this.client.state.kind === 'generating') this.show(this.client.state);
      }, this.delayMs);
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    // A short call ended before its spinner showed: nothing changed on screen.
    if (state.kind === 'ready' && this.shown.kind === 'ready' && state.model === this.shown.model) return;
    this.show(state);
  }

  private show(state: EngineState): void {
    this.shown = state;
    this.changed.fire(state);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.subscription.dispose();
    this.changed.dispose();
  }
}
