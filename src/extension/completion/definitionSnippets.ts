// Definitions of the names around the cursor, as VS Code's definition providers (the language extensions) find them,
// for the inline-completion prompt: looked up when the cursor settles on a line (never at request time), each lookup
// given a short deadline; a request takes what is ready for its line. A definition in the code around the cursor is
// left out: it is in the prompt already.

import * as vscode from 'vscode';
import type { ContextSnippet } from '../../protocol/repoContext';
import { blockEndLine } from '../shared/enclosingBlock';

/** The cursor must rest this long on a line before its names are looked up (typing moves it on). */
const SETTLE_MS = 250;
/** A provider slower than this is not waited for: the next line gets a new chance. */
const DEADLINE_MS = 300;
/** Names looked up per line: the nearest the cursor, on its line and the two above. */
const MAX_NAMES = 6;
/** Lines of a definition put in the prompt (its signature and start). */
const MAX_DEFINITION_LINES = 20;
/** A definition within this many lines of the cursor is in the prompt's own window. */
const NEARBY_LINES = 60;
const KEYWORDS = new Set('def return self class import from const let var function this new true false none null undefined await async for while if else elif try catch except finally with yield raise throw print len range str int float bool list dict set tuple string number boolean void any'.split(' '));

export class DefinitionSnippets implements vscode.Disposable {
  private ready: { uri: string; line: number; snippets: ContextSnippet[] } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly wanted: (document: vscode.TextDocument) => boolean) {
    this.subscription = vscode.window.onDidChangeTextEditorSelection((event) => this.settle(event.textEditor));
  }

  /** The definitions found for `line` of `document`, once its lookup is done (none before). */
  snippetsFor(document: vscode.TextDocument, line: number): ContextSnippet[] {
    return this.ready?.uri === document.uri.toString() && this.ready.line === line ? this.ready.snippets : [];
  }

  private settle(editor: vscode.TextEditor): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (!this.wanted(editor.document)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.lookUp(editor.document, editor.selection.active.line);
    }, SETTLE_MS);
  }

  private async lookUp(document: vscode.TextDocument, line: number): Promise<void> {
    const uri = document.uri.toString();
    if (this.ready?.uri === uri && this.ready.line === line) return;
    const names: vscode.Position[] = [];
    const seen = new Set<string>();
    for (let l = line; l >= Math.max(0, line - 2) && names.length < MAX_NAMES; l--) {
      const matches = [...document.lineAt(l).text.matchAll(/[A-Za-z_$][A-Za-z0-9_$]*/g)].reverse();
      for (const match of matches) {
        if (names.length >= MAX_NAMES) break;
        if (match[0].length < 3 || KEYWORDS.has(match[0]) || seen.has(match[0])) continue;
        seen.add(match[0]);
        names.push(new vscode.Position(l, match.index!));
      }
    }
    const found = await Promise.all(names.map((position) => withDeadline(vscode.commands.executeCommand<Array<vscode.Location | vscode.LocationLink>>('vscode.executeDefinitionProvider', document.uri, position))));
    const snippets: ContextSnippet[] = [];
    const taken = new Set<string>();
    for (const locations of found) {
      const location = locations?.[0];
      if (!location) continue;
      const target = 'targetUri' in location ? location.targetUri : location.uri;
      const range = 'targetUri' in location ? location.targetRange : location.range;
      if (target.toString() === uri && Math.abs(range.start.line - line) <= NEARBY_LINES) continue;
      const key = `${target.toString()}:${range.start.line}`;
      if (taken.has(key)) continue;
      taken.add(key);
      const definition = await vscode.workspace.openTextDocument(target);
      // A provider that gives the whole definition's range (LocationLink) or only its name's (Location).
      const end = range.end.line > range.start.line ? range.end.line : blockEndLine((l) => definition.lineAt(l).text, definition.lineCount, range.start.line);
      const last = Math.min(end, range.start.line + MAX_DEFINITION_LINES - 1);
      snippets.push({ path: vscode.workspace.asRelativePath(target, false), text: definition.getText(new vscode.Range(range.start.line, 0, last, definition.lineAt(last).text.length)) });
    }
    this.ready = { uri, line, snippets };
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.subscription.dispose();
  }
}

/** The provider's answer, or undefined when it takes longer than DEADLINE_MS or fails. */
function withDeadline<T>(answer: Thenable<T>): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), DEADLINE_MS);
    Promise.resolve(answer).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}
