// The chat feature: the sidebar view, Explain Selection / Ask About Selection (commands, context menu, keybinding,
// lightbulb), and the commands that drive the view.

import * as vscode from 'vscode';
import type { Backend } from '../../backend/backend';
import { codeToExplain, commandEditor } from '../shared/codeToExplain';
import type { DisplayedState } from '../shared/displayedState';
import { ChatBenchProbe } from './benchProbe';
import { ChatController, type ChatLocation } from './chatController';
import { CHAT_VIEW_ID, ChatViewProvider } from './chatView';
import type { CodeProposer } from './codeActions';
import { HistoryStore } from './historyStore';
import { WorkspaceIndex } from '../shared/workspaceIndex';

export const COMMAND_EXPLAIN_SELECTION = 'attentive.explainSelection';
export const COMMAND_ASK_ABOUT_SELECTION = 'attentive.askAboutSelection';
export const COMMAND_NEW_CHAT = 'attentive.newChat';
export const COMMAND_FOCUS_CHAT = 'attentive.focusChat';

class ExplainCodeActionProvider implements vscode.CodeActionProvider {
  static readonly kind = vscode.CodeActionKind.Empty.append('attentive').append('explain');

  provideCodeActions(document: vscode.TextDocument, range: vscode.Range | vscode.Selection): vscode.CodeAction[] {
    if (range.isEmpty) return [];
    const action = new vscode.CodeAction('Attentive: Explain Selection', ExplainCodeActionProvider.kind);
    // The document, as the context menu passes it: the command explains that editor's selection.
    action.command = { command: COMMAND_EXPLAIN_SELECTION, title: 'Explain Selection', arguments: [document.uri] };
    return [action];
  }
}

export function registerChat(
  context: vscode.ExtensionContext,
  backends: { chat: Backend; explain: Backend },
  displayed: DisplayedState,
  location: ChatLocation,
  log: vscode.OutputChannel,
  proposeCode: CodeProposer,
): ChatController {
  const storage = (context.storageUri ?? context.globalStorageUri).fsPath;
  const workspaceIndex = new WorkspaceIndex(context.asAbsolutePath('dist/indexer.js'), context.asAbsolutePath('dist/tree-sitter'), context.storageUri, log);
  void workspaceIndex.startIfSaved();
  const controller = new ChatController(backends.chat, displayed, new HistoryStore(storage), log, location, backends.explain, workspaceIndex, proposeCode);
  // bench/chat.mjs's timings, only when the extension host runs with ATTENTIVE_BENCH=<file>.
  const probe = ChatBenchProbe.fromEnvironment();
  if (probe) context.subscriptions.push(controller.onDidProgressReply((progress) => probe.record(progress)));
  const provider = new ChatViewProvider(context.extensionUri, controller, log);

  /** The context menu passes the document's URI; from the palette or a keybinding it is the active editor. */
  async function explainOrAsk(ask: boolean, uri?: unknown): Promise<void> {
    const editor = commandEditor(uri);
    if (!editor) {
      void vscode.window.showInformationMessage('Attentive: open a file and select the code to explain.');
      return;
    }
    const range = await codeToExplain(editor);
    if (!range) {
      void vscode.window.showInformationMessage('Attentive: select some code (or put the cursor inside a function) to explain it.');
      return;
    }
    await provider.reveal();
    controller.attachSelection(editor, range);
    if (ask) await vscode.commands.executeCommand(COMMAND_FOCUS_CHAT);
    else controller.sendRequest('/explain');
  }

  context.subscriptions.push(
    workspaceIndex,
    controller,
    vscode.window.registerWebviewViewProvider(CHAT_VIEW_ID, provider),
    vscode.commands.registerCommand(COMMAND_EXPLAIN_SELECTION, (uri?: unknown) => explainOrAsk(false, uri)),
    vscode.commands.registerCommand(COMMAND_ASK_ABOUT_SELECTION, (uri?: unknown) => explainOrAsk(true, uri)),
    vscode.commands.registerCommand(COMMAND_NEW_CHAT, async () => {
      await provider.reveal();
      controller.newChat();
    }),
    vscode.commands.registerCommand(COMMAND_FOCUS_CHAT, async () => {
      await provider.reveal();
      controller.focusInput();
    }),
    vscode.languages.registerCodeActionsProvider({ scheme: '*' }, new ExplainCodeActionProvider(), {
      providedCodeActionKinds: [ExplainCodeActionProvider.kind],
    }),
  );
  return controller;
}
