// What the buttons on a chat code block do in the editor: copy, insert at the cursor, replace the selection,
// or open the code in a new untitled file.

import * as vscode from 'vscode';
import { assertNever } from '../../protocol/assertNever';
import type { CodeAction } from '../../protocol/chat';

/** The editor the user was last working in (a focused webview is not a text editor). */
function targetEditor(): vscode.TextEditor | undefined {
  return vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors[0];
}

export async function applyCodeAction(action: CodeAction, code: string, language: string): Promise<void> {
  switch (action) {
    case 'copy':
      await vscode.env.clipboard.writeText(code);
      void vscode.window.setStatusBarMessage('Attentive: code copied', 2000);
      return;
    case 'insert':
    case 'replace': {
      const editor = targetEditor();
      if (!editor) {
        void vscode.window.showInformationMessage('Attentive: open a file to put the code in.');
        return;
      }
      await editor.edit((edit) => {
        for (const selection of editor.selections) {
          if (action === 'insert') edit.insert(selection.active, code);
          else edit.replace(selection, code);
        }
      });
      await vscode.window.showTextDocument(editor.document, editor.viewColumn);
      return;
    }
    case 'newFile': {
      const document = await vscode.workspace.openTextDocument({ content: code, language: language || 'plaintext' });
      await vscode.window.showTextDocument(document);
      return;
    }
    default:
      return assertNever(action, 'code action');
  }
}
