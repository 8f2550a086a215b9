// Entry point of the extension host side: one register function per feature.

import * as vscode from 'vscode';
import type { AttentionController } from './attention/attentionPanel';
import { registerAttention } from './attention/registerAttention';
import type { ChatController } from './chat/chatController';
import { registerChat } from './chat/registerChat';
import { registerCompletion, type AttentiveInlineCompletionProvider } from './completion/registerCompletion';
import { EngineHost } from './engineHost';
import { registerModelCommands } from './modelCommands';
import { registerModelView } from './modelView';
import { registerModels } from './models/registerModels';
import { registerStatusBar } from './statusBar';

export interface AttentiveApi {
  /** The engine host, for the extension's own integration tests. */
  readonly engine: EngineHost;
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
  const engine = new EngineHost(context);
  context.subscriptions.push(output, engine);
  registerStatusBar(context, engine);
  registerModelCommands(context, engine, output);
  registerModelView(context, engine);
  registerModels(context, output);
  const chat = registerChat(context, engine, output);
  const completion = registerCompletion(context, engine, output);
  const attention = registerAttention(context, engine, output);
  if (context.extensionMode !== vscode.ExtensionMode.Test) return { engine, chat, completion, attention };
  return { engine, chat, completion, attention, test: { crashEngineWorker: () => engine.crashWorkerForTest(), globalStoragePath: context.globalStorageUri.fsPath } };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
