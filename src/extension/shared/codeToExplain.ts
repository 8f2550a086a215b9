// What "explain" commands act on: the selection, or else the function or block around the cursor (chat's Explain
// Selection, Explain Attention and the surprise map use it), and what they say when it had to be cut.

import * as vscode from 'vscode';
import { documentLines } from './documentLines';
import { indentationBlock, innermostSymbol, type SymbolRange } from './enclosingBlock';
import type { ModelInfo } from '../../protocol/engine';
import { megabytes } from '../../protocol/estimates';

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
  const lines = documentLines(document);
  const block = innermostSymbol(toSymbolRanges(symbols.filter((s) => 'children' in s)), line) ?? indentationBlock(lines, line);
  if (!block) return undefined;
  return new vscode.Range(block.start, 0, block.end, document.lineAt(block.end).text.length);
}

/** The editor a command acts on: the one showing `uri` (the editor context menu passes it), else the active one. */
export function commandEditor(uri: unknown): vscode.TextEditor | undefined {
  return (uri instanceof vscode.Uri && vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString())) || vscode.window.activeTextEditor;
}

/** What a view says when only the start of the code fitted the model's context (`kept`: that start). */
export function contextCutNote(kept: string, done: 'explained' | 'scored', contextLength: number): string {
  return `Only ${firstLinesOf(kept)} were ${done}: the selection is longer than the model's context of ${contextLength} tokens.`;
}

/** "the first 12 lines" of `kept`. */
function firstLinesOf(kept: string): string {
  const lines = kept.split('\n').length - (kept.endsWith('\n') ? 1 : 0);
  return `the first ${lines} line${lines === 1 ? '' : 's'}`;
}

/** What Explain Attention says when only the start of the code fitted the engine's memory budget for attention maps. */
export function attentionCutNote(kept: string, model: Pick<ModelInfo, 'attentionTokenLimit' | 'attentionBudgetBytes' | 'layers' | 'heads'>): string {
  return `Only ${firstLinesOf(kept)} were explained: this model's attention maps fit ${model.attentionTokenLimit} tokens (${model.layers} layers x ${model.heads} heads x tokens² x 4 bytes within ${megabytes(model.attentionBudgetBytes)} of memory).`;
}
