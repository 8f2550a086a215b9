// The attention feature: "Attentive: Explain Attention" (editor context menu, palette, Ctrl+Alt+A) runs the selection,
// or the function/block around the cursor, through the engine and shows its attention beside the editor.

import * as vscode from 'vscode';
import type { ModelInfo } from '../../protocol/engine';
import type { Backend } from '../../backend/backend';
import { codeToExplain, commandEditor } from '../shared/codeToExplain';
import { AttentionController } from './attentionPanel';

export const COMMAND_EXPLAIN_ATTENTION = 'attentive.explainAttention';

export function registerAttention(
  context: vscode.ExtensionContext,
  backend: Backend<ModelInfo>,
  log: vscode.OutputChannel,
  chatServer?: () => string | undefined,
): AttentionController {
  const controller = new AttentionController(context.extensionUri, backend, log, chatServer);
  context.subscriptions.push(
    controller,
    // The context menu passes the document's URI; from the palette or a keybinding it is the active editor.
    vscode.commands.registerCommand(COMMAND_EXPLAIN_ATTENTION, async (uri?: unknown) => {
      const editor = commandEditor(uri);
      if (!editor) {
        void vscode.window.showInformationMessage('Attentive: open a file and select the code whose attention to show.');
        return;
      }
      const range = await codeToExplain(editor);
      if (!range || editor.document.getText(range).length === 0) {
        void vscode.window.showInformationMessage('Attentive: select some code (or put the cursor inside a function) to see its attention.');
        return;
      }
      await controller.explain(editor, range);
    }),
  );
  return controller;
}
