// Entry point of the extension host side: one backend (the local engine), one register function per feature.

import * as vscode from 'vscode';
import type { ModelInfo } from '../protocol/engine';
import type { Backend } from '../backend/backend';
import type { AttentionController } from './attention/attentionPanel';
import { registerAttention } from './attention/registerAttention';
import type { ChatController } from './chat/chatController';
import { registerChat } from './chat/registerChat';
import { registerCompletion, type AttentiveInlineCompletionProvider } from './completion/registerCompletion';
import { registerModels } from './models/registerModels';
import { DisplayedState } from './shared/displayedState';
import { createLocalEngine } from './shared/localEngine';
import { registerStatus } from './status/registerStatus';

export interface AttentiveApi {
  /** The backend every feature uses, for the extension's own integration tests. */
  readonly backend: Backend<ModelInfo>;
  /** Its state as the status bar and the Model view show it. */
  readonly displayed: DisplayedState;
  readonly chat: ChatController;
  readonly completion: AttentiveInlineCompletionProvider;
  readonly attention: AttentionController;
  /** Only when the extension runs under its tests (ExtensionMode.Test): hooks that no user path can reach. */
  readonly test?: {
    /** Kills the engine worker mid-whatever-it-is-doing, as a crash would; false when none is running. */
    crashEngineWorker(): boolean;
    /** The extension's global storage folder (rewritten attention graphs are kept there). */
    globalStoragePath: string;
  };
}

export function activate(context: vscode.ExtensionContext): AttentiveApi {
  const output = vscode.window.createOutputChannel('Attentive');
  const local = createLocalEngine(context);
  const backend: Backend<ModelInfo> = local.backend;
  const displayed = new DisplayedState(backend);
  context.subscriptions.push(output, displayed);
  registerStatus(context, backend, displayed, output);
  registerModels(context, local.backend, output);
  const chat = registerChat(context, backend, displayed, output);
  const completion = registerCompletion(context, backend, output);
  const attention = registerAttention(context, backend, output);
  const api = { backend, displayed, chat, completion, attention };
  if (!local.crashWorker) return api;
  return { ...api, test: { crashEngineWorker: local.crashWorker, globalStoragePath: context.globalStorageUri.fsPath } };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
