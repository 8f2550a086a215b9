// The other files inline completion takes context from: the visible editors and the documents most recently viewed
// or edited (while still open), each cut into windows (neighbourSnippets.ts) shortly after it opens or changes, never
// at request time. A request only compares the lines before the cursor with those windows (~1 ms), and the snippets
// are chosen once per cursor line: while one line is typed the prompt's start stays the same, so the engine keeps
// reusing its cached prompt.

import * as vscode from 'vscode';
import type { ContextSnippet } from '../../protocol/repoContext';
import { FileWindows, SNIPPET_LINES, queryWords, similarSnippets } from './neighbourSnippets';

/** Documents remembered, most recent first. */
const MAX_RECENT = 10;
/** Documents larger than this are not used (a generated or minified file is no guide to the code being written). */
const MAX_DOCUMENT_CHARS = 1_000_000;
const INDEX_DELAY_MS = 300;
const SCHEMES = new Set(['file', 'untitled']);

export class NeighbourFiles implements vscode.Disposable {
  /** URIs, most recently viewed or edited first. */
  private recent: string[] = [];
  private readonly windows = new Map<string, { version: number; file: FileWindows }>();
  private readonly stale = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastChoice: { uri: string; line: number; snippets: ContextSnippet[] } | undefined;
  private readonly subscriptions: vscode.Disposable[];

  constructor() {
    for (const editor of vscode.window.visibleTextEditors) this.touch(editor.document);
    this.subscriptions = [
      vscode.window.onDidChangeActiveTextEditor((editor) => editor && this.touch(editor.document)),
      vscode.workspace.onDidChangeTextDocument((event) => event.contentChanges.length > 0 && this.touch(event.document)),
      vscode.workspace.onDidCloseTextDocument((document) => this.forget(document.uri.toString())),
    ];
  }

  /**
   * Snippets of other files most similar to the lines before `line` of `document`, best first (at most `max`): the
   * same as the last request's while the cursor stays on its line.
   */
  snippetsFor(document: vscode.TextDocument, line: number, max: number): ContextSnippet[] {
    const uri = document.uri.toString();
    if (this.lastChoice?.uri === uri && this.lastChoice.line === line) return this.lastChoice.snippets;
    const start = Math.max(0, line - SNIPPET_LINES);
    const query = queryWords(document.getText(new vscode.Range(start, 0, line, document.lineAt(line).text.length)));
    const files = this.recent.filter((other) => other !== uri).flatMap((other) => this.windows.get(other)?.file ?? []);
    const snippets = similarSnippets(query, files, max);
    this.lastChoice = { uri, line, snippets };
    return snippets;
  }

  private touch(document: vscode.TextDocument): void {
    if (!SCHEMES.has(document.uri.scheme)) return;
    const uri = document.uri.toString();
    this.recent = [uri, ...this.recent.filter((other) => other !== uri)];
    for (const dropped of this.recent.splice(MAX_RECENT)) this.forget(dropped);
    if (this.windows.get(uri)?.version === document.version) return;
    this.stale.add(uri);
    if (this.timer === undefined) this.timer = setTimeout(() => this.index(), INDEX_DELAY_MS);
  }

  /** Cuts the documents that changed into windows (off the request path: a timer after the changes). */
  private index(): void {
    this.timer = undefined;
    const open = new Map(vscode.workspace.textDocuments.map((document) => [document.uri.toString(), document]));
    for (const uri of this.stale) {
      const document = open.get(uri);
      if (!document || !this.recent.includes(uri)) continue;
      // Another file changed: the next request chooses again (edits to the file being typed in change nothing here).
      if (uri !== this.lastChoice?.uri) this.lastChoice = undefined;
      const text = document.getText();
      if (text.length > MAX_DOCUMENT_CHARS) this.windows.delete(uri);
      else this.windows.set(uri, { version: document.version, file: new FileWindows(vscode.workspace.asRelativePath(document.uri, false), text) });
    }
    this.stale.clear();
  }

  private forget(uri: string): void {
    this.recent = this.recent.filter((other) => other !== uri);
    this.windows.delete(uri);
    this.stale.delete(uri);
    if (this.lastChoice?.uri === uri) this.lastChoice = undefined;
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
