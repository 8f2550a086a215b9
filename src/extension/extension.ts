// Entry point of the extension host side: the local engine, the backend of each role, one register function per feature.

import * as vscode from 'vscode';
import type { ModelInfo } from '../protocol/engine';
import type { Backend } from '../backend/backend';
import type { AttentionController } from './attention/attentionPanel';
import { registerAttention } from './attention/registerAttention';
import type { ChatController } from './chat/chatController';
import { registerChat } from './chat/registerChat';
import type { EditController } from './edit/editController';
import { registerEdit } from './edit/registerEdit';
import { registerCompletion, type AttentiveInlineCompletionProvider } from './completion/registerCompletion';
import { registerModels, type ModelFlows } from './models/registerModels';
import { Backends } from './shared/backends';
import { DisplayedState } from './shared/displayedState';
import { createLocalEngine } from './shared/localEngine';
import { registerServers, type ServerFlows } from './servers/registerServers';
import { registerStatus } from './status/registerStatus';
import { registerSurprise } from './surprise/registerSurprise';
import type { SurpriseController } from './surprise/surpriseMap';

export interface AttentiveApi {
  /** The backend every feature uses, for the extension's own integration tests. */
  readonly backend: Backend<ModelInfo>;
  /** Its state as the status bar and the Model view show it. */
  readonly displayed: DisplayedState<ModelInfo>;
  /** The backend of each role (the local engine or a model server from the settings). */
  readonly servers: Backends;
  readonly chat: ChatController;
  readonly completion: AttentiveInlineCompletionProvider;
  readonly attention: AttentionController;
  readonly surprise: SurpriseController;
  /** Edits by instruction and code applied from the chat, as inline diffs. */
  readonly edits: EditController;
  /** Only when the extension runs under its tests (ExtensionMode.Test): hooks that no user path can reach. */
  readonly test?: {
    /** Kills the engine worker mid-whatever-it-is-doing, as a crash would; false when none is running. */
    crashEngineWorker(): boolean;
    /** The extension's global storage folder (rewritten attention graphs are kept there). */
    globalStoragePath: string;
    /** "Add Model Server..." and "Set Model Server API Key..." with the questions answered by the test. */
    servers: ServerFlows;
    /** "Select Model" with arguments ({ folder } or { repo }), its confirmation answered by the test. */
    models: ModelFlows;
  };
}

export function activate(context: vscode.ExtensionContext): AttentiveApi {
  const output = vscode.window.createOutputChannel('Attentive');
  const local = createLocalEngine(context);
  const backend: Backend<ModelInfo> = local.backend;
  const displayed = new DisplayedState(backend);
  // Chat and completion run where the settings say: the local engine or a model server. Under the extension's tests no
  // dialog may block: a server the tests did not allow (api.servers.allowHost) is refused.
  const testMode = context.extensionMode === vscode.ExtensionMode.Test;
  const servers = new Backends(context, backend, output, testMode ? async () => false : undefined);
  void servers.refresh();
  const chatDisplayed = new DisplayedState(servers.chat);
  context.subscriptions.push(output, displayed, servers, chatDisplayed);
  registerStatus(context, backend, displayed, servers, output);
  const modelFlows = registerModels(context, local.backend, output);
  const serverFlows = registerServers(context, servers);
  // Edits run where the chat does; the chat's code blocks are applied through the edit feature's diff.
  const edits = registerEdit(context, servers.chat, output);
  const chat = registerChat(context, servers, chatDisplayed, { current: () => servers.where('chat'), onDidChange: servers.onDidChange }, output, (...args) => edits.propose(...args));
  const completion = registerCompletion(context, servers.completion, output);
  // Attention maps need the weights: always the local model.
  const attention = registerAttention(context, backend, output, () => {
    const chatRunsOn = servers.where('chat');
    return chatRunsOn.kind === 'server' ? chatRunsOn.description : undefined;
  });
  // The surprise map needs only log-probabilities: the Explain Selection model's, wherever it runs.
  const surprise = registerSurprise(context, { backend: servers.explain, describe: () => servers.describe('explain') }, backend, output);
  const api = { backend, displayed, servers, chat, completion, attention, surprise, edits };
  if (!local.crashWorker) return api;
  return { ...api, test: { crashEngineWorker: local.crashWorker, globalStoragePath: context.globalStorageUri.fsPath, servers: serverFlows, models: modelFlows } };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
