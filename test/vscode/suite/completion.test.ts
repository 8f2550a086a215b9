// Inline completion in a real VS Code extension host: the editor asks our provider, the ghost text comes from the
// bundled model through the engine worker, accepting it edits the document; typing bursts leave no stale work;
// pausing stops automatic suggestions.

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, closeAll, openFile, sleep, until } from './harness';

/** Puts the cursor at the end of the document and waits for our provider's suggestion there. */
async function suggestAtEnd(editor: vscode.TextEditor): Promise<{ before: string; suggestion: string }> {
  const { completion } = await api();
  const end = editor.document.lineAt(editor.document.lineCount - 1).range.end;
  editor.selection = new vscode.Selection(end, end);
  const before = editor.document.getText();
  const shown = completion.stats.shown;
  await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
  await until('a suggestion from the provider', () => completion.stats.shown > shown, 60_000);
  const suggestion = completion.lastShown!;
  assert.ok(suggestion.trim().length > 0, 'empty suggestion');
  return { before, suggestion };
}

/** Runs an accept command until the editor has rendered the ghost text and the document changes; returns what it inserted. */
async function accept(editor: vscode.TextEditor, before: string, command: string): Promise<string> {
  await until(`${command} to change the document`, () => {
    void vscode.commands.executeCommand(command);
    return editor.document.getText() !== before;
  }, 10_000);
  return editor.document.getText().slice(before.length);
}

/** Asks for a suggestion at the end of the document, accepts it whole, and returns the inserted text. */
async function suggestAndAccept(editor: vscode.TextEditor): Promise<string> {
  const { before, suggestion } = await suggestAtEnd(editor);
  const inserted = await accept(editor, before, 'editor.action.inlineSuggest.commit');
  assert.equal(inserted, suggestion);
  return inserted;
}

export function completionSuite(): void {
  describe('Attentive inline completion', () => {
    before(async () => {
      await vscode.workspace.getConfiguration('editor').update('inlineSuggest.enabled', true, vscode.ConfigurationTarget.Global);
    });
    afterEach(closeAll);

    it('suggests and inserts code in a Python file', async () => {
      const { editor } = await openFile('complete_me.py', 'import os\n\n\ndef list_python_files(root):\n    """Return the paths of the Python files under root."""\n    result = []\n    for ');
      const inserted = await suggestAndAccept(editor);
      assert.ok(!inserted.includes('\n'), `a single-line suggestion was expected mid-line: ${JSON.stringify(inserted)}`);
    });

    it('suggests and inserts code in a TypeScript file, several lines after an opening brace', async () => {
      // Time enough for several lines even on a cold engine (the default limit keeps completions quick).
      const settings = vscode.workspace.getConfiguration('attentive.completion');
      await settings.update('timeLimitMs', 5000, vscode.ConfigurationTarget.Global);
      const { editor } = await openFile('complete_me.ts', 'export function sum(values: number[]): number {\n  let total = 0;\n  for (const value of values) {\n');
      const inserted = await suggestAndAccept(editor).finally(() => settings.update('timeLimitMs', undefined, vscode.ConfigurationTarget.Global));
      // Several lines, starting with the loop's body inside the `for` (4 spaces: the file's indentation, one deeper).
      const lines = inserted.split('\n');
      assert.ok(lines.length >= 2, `one line only: ${JSON.stringify(inserted)}`);
      assert.match(lines[0]!, /^ {4}\S/, `not the loop's body: ${JSON.stringify(inserted)}`);
    });

    it('works in a CRLF file: the inserted text keeps the file\'s line endings', async () => {
      const { editor } = await openFile('crlf.py', 'import os\r\n\r\n\r\ndef home():\r\n    return os.');
      assert.equal(editor.document.eol, vscode.EndOfLine.CRLF);
      await suggestAndAccept(editor);
      assert.ok(!/[^\r]\n/.test(editor.document.getText()), 'a lone \\n in a CRLF document');
    });

    it("VS Code's Accept Next Word takes the suggestion's first word only", async () => {
      const { editor } = await openFile('partial.py', 'import os\n\n\ndef read_text(path):\n    with open(path) as handle:\n        return ');
      const { before, suggestion } = await suggestAtEnd(editor);
      const inserted = await accept(editor, before, 'editor.action.inlineSuggest.acceptNextWord');
      assert.ok(inserted.length > 0 && suggestion.startsWith(inserted), `${JSON.stringify(inserted)} is not a start of ${JSON.stringify(suggestion)}`);
      assert.ok(inserted.length < suggestion.length || !/\s/.test(suggestion.trim()), `the whole suggestion ${JSON.stringify(suggestion)} was accepted`);
    });

    it("VS Code's Accept Next Line takes the start of a multi-line suggestion, its first line included", async () => {
      // Time enough for several lines even on a cold engine (the subject here is VS Code's partial accept).
      const settings = vscode.workspace.getConfiguration('attentive.completion');
      await settings.update('timeLimitMs', 5000, vscode.ConfigurationTarget.Global);
      const { editor } = await openFile('partial_line.ts', 'export function product(values: number[]): number {\n  let result = 1;\n  for (const value of values) {\n');
      const { before, suggestion } = await suggestAtEnd(editor).finally(() => settings.update('timeLimitMs', undefined, vscode.ConfigurationTarget.Global));
      assert.ok(suggestion.includes('\n'), `a multi-line suggestion was expected after an opening brace: ${JSON.stringify(suggestion)}`);
      const inserted = await accept(editor, before, 'editor.action.inlineSuggest.acceptNextLine');
      assert.ok(suggestion.startsWith(inserted), `${JSON.stringify(inserted)} is not a start of ${JSON.stringify(suggestion)}`);
      // VS Code decides how much "the next line" is (it may run on to the next line's start); it must be a start of
      // our suggestion that holds its whole first line.
      const firstLine = suggestion.split('\n')[0]!;
      assert.ok(inserted.startsWith(firstLine), `${JSON.stringify(inserted)} does not hold the line ${JSON.stringify(firstLine)}`);
    });

    it('a burst of typing cancels stale requests and leaves no queued engine work', async () => {
      const { completion, backend } = await api();
      const { editor } = await openFile('burst.py', 'def greet(name):\n    ');
      const end = editor.document.lineAt(1).range.end;
      editor.selection = new vscode.Selection(end, end);
      const requestsBefore = completion.stats.requests;
      const text = 'return "Hello, " + name + "! Nice to meet you."';
      for (const ch of text) await vscode.commands.executeCommand('type', { text: ch });
      await sleep(1500); // the debounce passes and the last request finishes
      await until('the engine idle', () => backend.pendingCalls === 0, 20_000);
      assert.ok(editor.document.getText().includes(text));
      // Typing faster than the debounce: far fewer engine requests than keystrokes.
      const requests = completion.stats.requests - requestsBefore;
      assert.ok(requests < text.length / 2, `${requests} requests for ${text.length} keystrokes`);
    });

    it('pausing stops automatic suggestions; a manual trigger still works; the state survives in globalState', async () => {
      const { completion } = await api();
      const { document } = await openFile('paused.py', 'import os\nimport ');
      const position = document.lineAt(1).range.end;
      const automatic = { triggerKind: vscode.InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined };
      const manual = { triggerKind: vscode.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined };
      await vscode.commands.executeCommand('attentive.toggleCompletions');
      try {
        const token = new vscode.CancellationTokenSource().token;
        assert.equal(await completion.provideInlineCompletionItems(document, position, automatic, token), undefined);
        const items = await completion.provideInlineCompletionItems(document, position, manual, token);
        assert.ok(items && items.length === 1, 'a manual trigger must still answer while paused');
      } finally {
        await vscode.commands.executeCommand('attentive.toggleCompletions');
      }
      const token = new vscode.CancellationTokenSource().token;
      const items = await completion.provideInlineCompletionItems(document, position, automatic, token);
      assert.ok(items && items.length === 1, 'resumed: automatic suggestions are back');
    });
  });
}
