// The extension's one engine: a worker thread started lazily on first use, loading the model from the settings.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { bundledModelFolder } from '../engine/bundledModel';
import { EngineClient } from '../engine/client';
import { workerTransport, type Transport } from '../engine/transport';
import type { ModelInfo } from '../protocol/engine';
import { DisplayedEngineState } from './displayedEngineState';
import { reportEngineError } from './modelCommands';
import { affectsModel, engineOptions, readSettings } from './settings';

/** The engine's cache (EngineOptions.cacheDir) in the extension's global storage. */
export function modelCacheDir(context: vscode.ExtensionContext): string {
  return path.join(context.globalStorageUri.fsPath, 'model-cache');
}

export class EngineHost implements vscode.Disposable {
  readonly client: EngineClient;
  /** The state as the status bar and the Model view show it (short calls do not flash 'generating'). */
  readonly displayed: DisplayedEngineState;
  /** The current worker's transport (null until the first call, replaced when a dead worker is restarted). */
  private transport: Transport | null = null;
  private configured = false;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly context: vscode.ExtensionContext) {
    const createTransport = workerTransport(path.join(context.extensionPath, 'dist', 'worker.js'));
    this.client = new EngineClient((handlers) => (this.transport = createTransport(handlers)));
    this.displayed = new DisplayedEngineState(this.client);
    this.subscriptions.push(
      this.displayed,
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (affectsModel(event) && this.configured) void this.reload().catch(reportEngineError);
      }),
    );
  }

  /** The model folder the settings name (the bundled one by default). */
  modelFolder(): string {
    const { model } = readSettings();
    return model === 'bundled' ? bundledModelFolder(this.context.extensionPath) : path.resolve(model);
  }

  /** Loads the configured model if it is not loaded yet; errors reach the caller (and the status bar). */
  async ensureLoaded(): Promise<ModelInfo> {
    if (!this.configured) return this.reload();
    return this.client.ready();
  }

  reload(): Promise<ModelInfo> {
    this.configured = true;
    // What the engine derives from model files (attention graphs, external-weights copies) lives in the extension's storage.
    return this.client.load({ folder: this.modelFolder(), options: { ...engineOptions(readSettings()), cacheDir: modelCacheDir(this.context) } });
  }

  /**
   * Test only (the extension exposes it in ExtensionMode.Test only): kills the engine worker the way a bug in it
   * would, with an uncaught exception in the worker thread. The worker's server throws on a message kind it does not
   * know, from its message handler, which runs only between decoding steps (never inside session.run). Returns false
   * when no worker is running.
   */
  crashWorkerForTest(): boolean {
    const worker = this.transport?.worker;
    if (!worker || this.client.state.kind === 'not-loaded') return false;
    worker.postMessage({ kind: 'crash-for-test' });
    return true;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    void this.client.dispose();
  }
}
