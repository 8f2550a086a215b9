// The extension's local engine: a LocalBackend whose worker thread starts on first use and loads the model the
// settings name; a change to those settings reloads it. The engine's derived files live in the extension's storage.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { bundledModelFolder } from '../../backend/local/bundledModel';
import { LocalBackend } from '../../backend/local/localBackend';
import { workerTransport } from '../../backend/local/workerTransport';
import type { Transport, TransportFactory } from '../../protocol/transport';
import { reportEngineError } from './reportError';
import { affectsModel, engineOptions, readSettings } from './settings';

/** The engine's cache (EngineOptions.cacheDir) in the extension's global storage. */
export function modelCacheDir(context: vscode.ExtensionContext): string {
  return path.join(context.globalStorageUri.fsPath, 'model-cache');
}

/** The model folder the settings name (the bundled one by default). */
export function configuredModelFolder(context: vscode.ExtensionContext): string {
  const { model } = readSettings();
  return model === 'bundled' ? bundledModelFolder(context.extensionPath) : path.resolve(model);
}

export interface LocalEngine {
  backend: LocalBackend;
  /** Only in ExtensionMode.Test: kills the engine worker as a bug in it would; false when none is running. */
  crashWorker?: () => boolean;
}

export function createLocalEngine(context: vscode.ExtensionContext): LocalEngine {
  const testMode = context.extensionMode === vscode.ExtensionMode.Test;
  const startWorker = workerTransport(path.join(context.extensionPath, 'dist', 'worker.js'), { testHooks: testMode });
  // The current worker's transport, kept only to reach it with the test-mode crash message.
  let transport: Transport | null = null;
  const createTransport: TransportFactory = testMode ? (handlers) => (transport = startWorker(handlers)) : startWorker;
  const backend = new LocalBackend(createTransport, () => ({
    folder: configuredModelFolder(context),
    options: { ...engineOptions(readSettings()), cacheDir: modelCacheDir(context) },
  }));
  context.subscriptions.push(
    { dispose: () => void backend.dispose() },
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (affectsModel(event) && backend.loadRequested) void backend.reload().catch(reportEngineError);
    }),
  );
  if (!testMode) return { backend };
  return {
    backend,
    crashWorker: () => {
      if (!transport || backend.state.kind === 'not-loaded') return false;
      transport.post({ kind: 'crash-for-test' });
      return true;
    },
  };
}
