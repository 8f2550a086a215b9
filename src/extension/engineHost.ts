// The extension's one engine: a worker thread started lazily on first use, loading the model from the settings.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { bundledModelFolder } from '../engine/bundledModel';
import { EngineClient } from '../engine/client';
import { workerTransport } from '../engine/transport';
import type { ModelInfo } from '../protocol/engine';
import { reportEngineError } from './modelCommands';
import { affectsModel, engineOptions, readSettings } from './settings';

export class EngineHost implements vscode.Disposable {
  readonly client: EngineClient;
  private configured = false;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly context: vscode.ExtensionContext) {
    this.client = new EngineClient(workerTransport(path.join(context.extensionPath, 'dist', 'worker.js')));
    this.subscriptions.push(
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
    return this.client.load({ folder: this.modelFolder(), options: engineOptions(readSettings()) });
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    void this.client.dispose();
  }
}
