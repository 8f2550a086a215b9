// The chat feature: the sidebar view, Explain Selection / Ask About Selection (commands, context menu, keybinding,
// lightbulb), and the commands that drive the view.

import * as vscode from 'vscode';
import type { EngineHost } from '../engineHost';
import { ChatBenchProbe } from './benchProbe';
import { ChatController } from './chatController';
import { CHAT_VIEW_ID, ChatViewProvider } from './chatView';
import { indentationBlock, innermostSymbol, type SymbolRange } from './enclosingBlock';
import { HistoryStore } from './historyStore';

export const COMMAND_EXPLAIN_SELECTION = 'attentive.explainSelection';
export const COMMAND_ASK_ABOUT_SELECTION = 'attentive.askAboutSelection';
export const COMMAND_NEW_CHAT = 'attentive.newChat';
export const COMMAND_FOCUS_CHAT = 'attentive.focusChat';

function toSymbolRanges(symbols: readonly vscode.DocumentSymbol[]): SymbolRange[] {
  const functionKinds = new Set([vscode.SymbolKind.Function, vscode.SymbolKind.Method, vscode.SymbolKind.Constructor]);
  return symbols.map((s) => ({
    start: s.range.start.line,
    end: s.range.end.line,
    kind: functionKinds.has(s.kind) ? 'function' : s.kind === vscode.SymbolKind.Class ? 'class' : 'other',
    children: toSymbolRanges(s.children ?? []),
  }));
}

/** The selection, or else the function/block around the cursor (undefined when there is nothing to explain). */
export async function codeToExplain(editor: vscode.TextEditor): Promise<vscode.Range | undefined> {
  if (!editor.selection.isEmpty) return editor.selection;
  const document = editor.document;
  const line = editor.selection.active.line;
  const symbols = await vscode.commands
    .executeCommand<vscode.DocumentSymbol[] | undefined>('vscode.executeDocumentSymbolProvider', document.uri)
    .then((s) => s ?? [], () => []);
  const lines = Array.from({ length: document.lineCount }, (_, i) => document.lineAt(i).text);
  const block = innermostSymbol(toSymbolRanges(symbols.filter((s) => 'children' in s)), line) ?? indentationBlock(lines, line);
  if (!block) return undefined;
  return new vscode.Range(block.start, 0, block.end, document.lineAt(block.end).text.length);
}

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

export function registerChat(context: vscode.ExtensionContext, engine: EngineHost, log: vscode.OutputChannel): ChatController {
  const storage = (context.storageUri ?? context.globalStorageUri).fsPath;
  const controller = new ChatController(engine, new HistoryStore(storage), log, ChatBenchProbe.fromEnvironment());
  const provider = new ChatViewProvider(context.extensionUri, controller, log);

  /** The context menu passes the document's URI; from the palette or a keybinding it is the active editor. */
  async function explainOrAsk(ask: boolean, uri?: unknown): Promise<void> {
    const editor =
      (uri instanceof vscode.Uri && vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString())) ||
      vscode.window.activeTextEditor;
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
