// What the buttons on a chat code block do in the editor: copy; apply (find where the block belongs and show the
// change as a diff to accept or reject); insert at the cursor or replace the selection (through the same diff, or
// straight into the file with attentive.chat.insertDirectly); open the code in a new untitled file.

import * as vscode from 'vscode';
import { assertNever } from '../../protocol/assertNever';
import type { Attachment, CodeAction } from '../../protocol/chat';
import { documentLines } from '../shared/documentLines';
import { SECTION } from '../shared/settings';
import { locateBlock } from './applyTarget';

/**
 * Shows `code` in place of lines [first, last] of a document (last < first: inserted before line `first`) as a diff
 * the user accepts or rejects (the edit feature's, passed in by the entry point); `reindent`: to the region's indentation.
 */
export type CodeProposer = (document: vscode.TextDocument, first: number, last: number, code: string, title: string, reindent?: boolean) => Promise<unknown>;

/** The editor the user was last working in (a focused webview is not a text editor). */
function targetEditor(): vscode.TextEditor | undefined {
  return vscode.window.activeTextEditor ?? vscode.window.visibleTextEditors[0];
}

/**
 * Where "Apply" puts a block: into the file an attachment of the request came from (the selection asked about, a
 * mentioned file or symbol), else the active editor's file; at the definition or lines it matches there, else at the
 * cursor of that file's editor.
 */
async function applyTarget(code: string, attachments: readonly Attachment[]): Promise<{ document: vscode.TextDocument; first: number; last: number } | undefined> {
  const block = code.replace(/\r\n?/g, '\n').replace(/\n$/, '').split('\n');
  const sources = attachments.filter((a) => a.source && ['selection', 'symbol', 'file', 'workspace'].includes(a.kind));
  for (const attachment of sources) {
    const uri = vscode.Uri.parse(attachment.source!.uri);
    const document = await vscode.workspace.openTextDocument(uri).then((d) => d, () => undefined);
    if (!document) continue;
    const lines = documentLines(document);
    const span = locateBlock(lines, block);
    if (span) return { document, ...span };
    // A rewrite of the selection that shares too little with it to be found: the selection's lines, if still there.
    if (attachment.kind === 'selection' && attachment.source!.line !== undefined) {
      const first = attachment.source!.line;
      const selected = attachment.text.replace(/\r\n?/g, '\n').split('\n');
      const last = first + selected.length - 1;
      if (last < document.lineCount && lines.slice(first, last + 1).join('\n') === selected.join('\n')) return { document, first, last };
    }
  }
  const editor = targetEditor();
  if (!editor) return undefined;
  const span = locateBlock(documentLines(editor.document), block);
  if (span) return { document: editor.document, ...span };
  // Nowhere it matches: as new lines below the cursor's line (or on it, when it is blank).
  const line = editor.selection.active.line;
  const blank = editor.document.lineAt(line).isEmptyOrWhitespace;
  return { document: editor.document, first: blank ? line : line + 1, last: blank ? line : line };
}

export async function applyCodeAction(action: CodeAction, code: string, language: string, attachments: readonly Attachment[], propose: CodeProposer): Promise<void> {
  switch (action) {
    case 'copy':
      await vscode.env.clipboard.writeText(code);
      void vscode.window.setStatusBarMessage('Attentive: code copied', 2000);
      return;
    case 'apply': {
      const target = await applyTarget(code, attachments);
      if (!target) {
        void vscode.window.showInformationMessage('Attentive: open a file to apply the code to.');
        return;
      }
      await vscode.window.showTextDocument(target.document, { preserveFocus: false });
      void propose(target.document, target.first, target.last, code.replace(/\r?\n$/, ''), 'Apply code from the chat', true);
      return;
    }
    case 'insert':
    case 'replace': {
      const editor = targetEditor();
      if (!editor) {
        void vscode.window.showInformationMessage('Attentive: open a file to put the code in.');
        return;
      }
      if (vscode.workspace.getConfiguration(SECTION).get<boolean>('chat.insertDirectly', false)) {
        await editor.edit((edit) => {
          for (const selection of editor.selections) {
            if (action === 'insert') edit.insert(selection.active, code);
            else edit.replace(selection, code);
          }
        });
      } else {
        // The lines the selection (or cursor) touches, rewritten with the code in place of the selection.
        const selection = action === 'insert' ? new vscode.Selection(editor.selection.active, editor.selection.active) : editor.selection;
        const document = editor.document;
        const first = selection.start.line;
        const last = selection.end.line;
        const text = document.lineAt(first).text.slice(0, selection.start.character) + code + document.lineAt(last).text.slice(selection.end.character);
        void propose(document, first, last, text, action === 'insert' ? 'Insert code from the chat' : 'Replace the selection with code from the chat');
      }
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
