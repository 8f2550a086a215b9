// The attention view's marks in the editor: the keys a hovered token attends to, shaded by weight in a few theme
// colours, and a border around the token itself.

import * as vscode from 'vscode';
import type { TokenRange } from './tokenRanges';

/** Attention weight levels in the editor, one contributed theme colour each (attentive.attention.levelNBackground). */
const LEVELS = 5;
/** Keys with less weight than this are not decorated. */
const MIN_DECORATED_WEIGHT = 0.02;

/** One decorated key. */
export interface AppliedDecoration {
  token: number;
  range: vscode.Range;
  weight: number;
}

export class KeyDecorations implements vscode.Disposable {
  private readonly levels: vscode.TextEditorDecorationType[];
  private readonly queryDecoration: vscode.TextEditorDecorationType;

  constructor() {
    this.levels = Array.from({ length: LEVELS }, (_, i) =>
      vscode.window.createTextEditorDecorationType({
        // Theme colours (orange by default, at most 0.8 alpha so the text stays legible); themes may change them.
        backgroundColor: new vscode.ThemeColor(`attentive.attention.level${i + 1}Background`),
        borderRadius: '2px',
      }),
    );
    this.queryDecoration = vscode.window.createTextEditorDecorationType({
      border: '1px solid',
      borderColor: new vscode.ThemeColor('focusBorder'),
      borderRadius: '2px',
    });
  }

  /**
   * Marks, in every visible editor of `uri`, the query token and each key by its weight (`weights[key]`, keys
   * 0..weights.length-1, `ranges[key]` where it is in the text); returns the keys marked.
   */
  show(uri: vscode.Uri, ranges: ReadonlyArray<TokenRange | null>, query: number, weights: Float32Array): AppliedDecoration[] {
    const byLevel: vscode.Range[][] = this.levels.map(() => []);
    const applied: AppliedDecoration[] = [];
    weights.forEach((weight, key) => {
      const range = ranges[key];
      if (!range || weight < MIN_DECORATED_WEIGHT) return;
      const vsRange = toRange(range);
      byLevel[Math.min(LEVELS, Math.max(1, Math.round(weight * LEVELS))) - 1]!.push(vsRange);
      applied.push({ token: key, range: vsRange, weight });
    });
    const queryRange = ranges[query];
    for (const editor of editorsOf(uri)) {
      this.levels.forEach((type, level) => editor.setDecorations(type, byLevel[level]!));
      editor.setDecorations(this.queryDecoration, queryRange ? [toRange(queryRange)] : []);
    }
    return applied;
  }

  /** Removes the marks from every visible editor. */
  clear(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      for (const type of this.levels) editor.setDecorations(type, []);
      editor.setDecorations(this.queryDecoration, []);
    }
  }

  dispose(): void {
    for (const type of this.levels) type.dispose();
    this.queryDecoration.dispose();
  }
}

export function editorsOf(uri: vscode.Uri): vscode.TextEditor[] {
  return vscode.window.visibleTextEditors.filter((e) => e.document.uri.toString() === uri.toString());
}

export function toRange(range: TokenRange): vscode.Range {
  return new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
}
