// What "explain" commands act on: the selection, or else the function or block around the cursor (chat's Explain
// Selection and Explain Attention both use it).

import * as vscode from 'vscode';
import { indentationBlock, innermostSymbol, type SymbolRange } from './enclosingBlock';

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

/** The editor a command acts on: the one showing `uri` (the editor context menu passes it), else the active one. */
export function commandEditor(uri: unknown): vscode.TextEditor | undefined {
  return (uri instanceof vscode.Uri && vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString())) || vscode.window.activeTextEditor;
}
