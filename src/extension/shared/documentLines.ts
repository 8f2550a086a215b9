// A document's lines as strings, without their line breaks (what the features that cut, match or rewrite whole lines
// work on).

import type * as vscode from 'vscode';

/** Lines [from, to) of `document` (by default all of them). */
export function documentLines(document: vscode.TextDocument, from = 0, to = document.lineCount): string[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => document.lineAt(from + i).text);
}
