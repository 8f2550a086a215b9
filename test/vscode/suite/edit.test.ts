// Edits in a real extension host: "Edit Selection" streams the bundled model's rewrite into an inline diff (what the
// document holds mid-stream and at the end, accept all as one undo step), Stop mid-stream restores the file byte for
// byte, and code proposed from the chat ("Apply", Insert) goes through the same diff: accept one of two hunks, reject
// all, a CRLF file, typing above and below the diff meanwhile, typing inside it. On a model server (`attentive
// serve` over real HTTP): the request it receives, and a follow-up instruction that continues the conversation.

import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Proposal } from '../../../src/extension/edit/proposal';
import type { EditResult } from '../../../src/extension/edit/editController';
import { EDIT_SYSTEM_PROMPT } from '../../../src/extension/edit/editPrompt';
import { startAttentiveServe, type AttentiveServer } from '../../helpers/attentiveServe';
import { modelCopy } from '../../helpers/modelCopy';
import { startRecordingProxy, type RecordingProxy } from '../../helpers/recordingProxy';
import { api, closeAll, openFile, until } from './harness';

const CODE = [
  'import math',
  '',
  '',
  'def area(r):',
  '    return math.pi * r * r',
  '',
  '',
  'def total(items):',
  '    s = 0',
  '    for i in items:',
  '        s += i',
  '    return s',
  '',
  '',
  'print(total([1, 2]))',
  '',
].join('\n');

/** Waits until a diff is open in `document` and written (the document no longer reads `before`). */
async function diffShown(document: vscode.TextDocument, before: string) {
  const { edits } = await api();
  return until('the diff', () => document.getText() !== before && edits.session(document));
}

/** CODE in a new file, `selection` of it edited as `instruction` says; resolves once the answer has started to stream in. */
async function streamingEdit(name: string, selection: vscode.Selection, instruction: string) {
  const { edits } = await api();
  const { document, editor } = await openFile(name, CODE);
  editor.selection = selection;
  const running = vscode.commands.executeCommand<EditResult>('attentive.editSelection', { instruction });
  await until('the first streamed write', () => edits.session(document)?.diff.isStreaming && document.getText() !== CODE, 120_000, 0);
  return { document, editor, running };
}

/** Waits until the edit session of `document` is gone (decided, restored or left). */
async function sessionEnded(document: vscode.TextDocument): Promise<void> {
  const { edits } = await api();
  await until('the diff to end', () => !edits.session(document));
}

export function editSuite(): void {
  describe('Attentive: edits through an inline diff', function () {
    this.timeout(300_000);
    afterEach(closeAll);

    it('Edit Selection streams the model\'s rewrite into the diff; Accept All is one undo step', async () => {
      const { edits } = await api();
      const { document, editor } = await openFile('edit_stream.py', CODE);
      editor.selection = new vscode.Selection(7, 0, 11, 12);
      // Every state of the document until the answer is in: the code outside the region never changes, and the
      // region's original lines are all still there, in order (pending, or struck through beside the new ones).
      const states: string[] = [];
      const listener = vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.document === document) states.push(document.getText());
      });
      let result: EditResult;
      try {
        result = (await vscode.commands.executeCommand<EditResult>('attentive.editSelection', { instruction: 'add type hints' }))!;
      } finally {
        listener.dispose();
      }
      const lines = CODE.split('\n');
      const original = lines.slice(7, 12);
      assert.equal(result.kind, 'shown', JSON.stringify(result));
      const shown = result as Extract<EditResult, { kind: 'shown' }>;
      assert.ok(states.length >= 2, `the diff was written ${states.length} times as the answer came: ${JSON.stringify(shown.proposed)}`);
      for (const state of states) {
        const now = state.split('\n');
        assert.deepEqual(now.slice(0, 7), lines.slice(0, 7));
        assert.deepEqual(now.slice(-4), lines.slice(-4));
        let at = 7;
        for (const line of original) at = now.indexOf(line, at) + 1 || assert.fail(`"${line}" missing mid-stream:\n${state}`);
      }
      // What the document shows now: both sides of every hunk of the answer's code against the region.
      const expected = new Proposal(original, shown.proposed, false).display().map((l) => l.text);
      assert.equal(document.getText(), [...lines.slice(0, 7), ...expected, ...lines.slice(12)].join('\n'));
      assert.equal(edits.session(document)!.diff.openHunks().length, shown.hunks);

      await vscode.commands.executeCommand('attentive.edit.acceptAll');
      await sessionEnded(document);
      assert.equal(document.getText(), [...lines.slice(0, 7), ...shown.proposed, ...lines.slice(12)].join('\n'));
      await vscode.commands.executeCommand('undo');
      assert.equal(document.getText(), CODE, 'one Undo brings back the original');
    });

    it('the user types above and below while the answer streams: the diff moves along and Accept All keeps the typing', async () => {
      const { document, editor, running } = await streamingEdit('edit_stream_typing.py', new vscode.Selection(7, 0, 11, 12), 'add type hints');
      // Typed as keystrokes are (VS Code's "type" command at the cursor), while the answer still streams.
      editor.selection = new vscode.Selection(0, 0, 0, 0);
      await vscode.commands.executeCommand('type', { text: '# typed above\n' });
      const end = document.lineAt(document.lineCount - 1).range.end;
      editor.selection = new vscode.Selection(end, end);
      await vscode.commands.executeCommand('type', { text: 'typed_below = 1\n' });
      const result = (await running)!;
      assert.equal(result.kind, 'shown', JSON.stringify(result));
      await vscode.commands.executeCommand('attentive.edit.acceptAll');
      await sessionEnded(document);
      const lines = CODE.split('\n');
      const proposed = (result as Extract<EditResult, { kind: 'shown' }>).proposed;
      assert.equal(document.getText(), ['# typed above', ...lines.slice(0, 7), ...proposed, ...lines.slice(12, -1), 'typed_below = 1', ''].join('\n'));
    });

    it('Apply puts the code in the file the request\'s selection came from, even with another file active', async () => {
      const { chat } = await api();
      const { document, editor } = await openFile('edit_source.py', CODE);
      chat.newChat();
      chat.attachSelection(editor, new vscode.Range(3, 0, 4, 28));
      chat.sendRequest('Explain this.');
      const reply = await until('the reply', () => {
        const last = chat.openConversation.entries.at(-1);
        return last?.role === 'assistant' && ['done', 'stopped', 'error'].includes(last.status) && last;
      });
      await openFile('edit_other.py', 'x = 1\n');
      await chat.handle({ type: 'codeAction', action: 'apply', code: 'def area(r):\n    return math.pi * r ** 2\n', language: 'python', entryId: reply.id });
      await diffShown(document, CODE);
      assert.equal(vscode.window.activeTextEditor?.document, document);
      await vscode.commands.executeCommand('attentive.edit.acceptAll');
      await sessionEnded(document);
      assert.equal(document.getText(), CODE.replace('math.pi * r * r', 'math.pi * r ** 2'));
    });

    it('Stop while the answer streams leaves the file byte-identical', async () => {
      const { document, running } = await streamingEdit('edit_stop.py', new vscode.Selection(0, 0, 15, 0), 'rewrite this module as a class with docstrings');
      await vscode.commands.executeCommand('attentive.edit.rejectAll');
      assert.deepEqual(await running, { kind: 'stopped' });
      await sessionEnded(document);
      assert.equal(document.getText(), CODE);
    });

    it('Apply from a chat code block: the definition it rewrites, two hunks, one accepted and one rejected', async () => {
      const { chat, edits } = await api();
      const { document, editor } = await openFile('edit_apply.py', CODE);
      editor.selection = new vscode.Selection(0, 0, 0, 0);
      const block = 'def total(items: list[int]) -> int:\n    s = 0\n    for i in items:\n        s += i\n    # the sum\n    return s\n';
      await chat.handle({ type: 'codeAction', action: 'apply', code: block, language: 'python' });
      const session = await diffShown(document, CODE);
      const hunks = session.diff.openHunks();
      assert.deepEqual(hunks.map((h) => h.line), [7, 12], 'the header change at the definition, the comment before return');
      assert.equal(document.lineAt(7).text, 'def total(items):');
      assert.equal(document.lineAt(8).text, 'def total(items: list[int]) -> int:');
      // The second hunk by its CodeLens arguments, the first from the cursor (as Alt+N does).
      await vscode.commands.executeCommand('attentive.edit.acceptChange', { uri: document.uri.toString(), hunk: 1 });
      assert.ok(edits.session(document), 'one hunk is still open');
      editor.selection = new vscode.Selection(8, 3, 8, 3);
      await vscode.commands.executeCommand('attentive.edit.rejectChange');
      await sessionEnded(document);
      assert.equal(document.getText(), CODE.replace('        s += i\n    return s', '        s += i\n    # the sum\n    return s'));
    });

    it('Reject All restores the file exactly, in a CRLF file too; Insert goes through the diff', async () => {
      const { chat } = await api();
      const crlf = CODE.replace(/\n/g, '\r\n');
      const { document, editor } = await openFile('edit_crlf.py', crlf);
      assert.equal(document.eol, vscode.EndOfLine.CRLF);
      editor.selection = new vscode.Selection(4, 0, 4, 0);
      await chat.handle({ type: 'codeAction', action: 'apply', code: 'def area(r):\n    return math.pi * r ** 2\n', language: 'python' });
      await diffShown(document, crlf);
      assert.ok(document.getText().includes('    return math.pi * r * r\r\n    return math.pi * r ** 2\r\n'), document.getText());
      await vscode.commands.executeCommand('attentive.edit.rejectAll');
      await sessionEnded(document);
      assert.equal(document.getText(), crlf);

      editor.selection = new vscode.Selection(14, 0, 14, 0);
      await chat.handle({ type: 'codeAction', action: 'insert', code: 'x = 1\n', language: 'python' });
      await diffShown(document, crlf);
      await vscode.commands.executeCommand('attentive.edit.acceptAll');
      await sessionEnded(document);
      assert.equal(document.getText(), crlf.replace('print(total', 'x = 1\r\nprint(total'));
    });

    it('typing above and below the diff moves it along; typing inside it ends it with both sides kept', async () => {
      const { edits } = await api();
      const { document } = await openFile('edit_typing.py', CODE);
      const outcome = edits.propose(document, 3, 4, 'def area(r: float) -> float:\n    return math.pi * r * r', 'test');
      const session = await diffShown(document, CODE);
      assert.equal(session.diff.lines.start, 3);
      // Two lines above, one below, as the user types elsewhere in the file.
      const typing = new vscode.WorkspaceEdit();
      typing.insert(document.uri, new vscode.Position(1, 0), '# one\n# two\n');
      typing.insert(document.uri, new vscode.Position(14, 0), 'y = 2\n');
      assert.ok(await vscode.workspace.applyEdit(typing));
      assert.equal(edits.session(document)!.diff.lines.start, 5);
      await vscode.commands.executeCommand('attentive.edit.acceptAll', { uri: document.uri.toString() });
      assert.equal(await outcome, 'accepted');
      const expected = CODE.replace('import math\n', 'import math\n# one\n# two\n').replace('def area(r):', 'def area(r: float) -> float:').replace('\n\nprint(', '\ny = 2\n\nprint(');
      assert.equal(document.getText(), expected);

      const second = edits.propose(document, 5, 6, 'def area(r):\n    return 0', 'test');
      await diffShown(document, expected);
      const inside = new vscode.WorkspaceEdit();
      inside.insert(document.uri, new vscode.Position(6, 0), '#');
      assert.ok(await vscode.workspace.applyEdit(inside));
      assert.equal(await second, 'left as shown');
      assert.ok(!edits.session(document));
      assert.match(document.getText(), /\ndef area\(r: float\) -> float:\n# {4}return math\.pi \* r \* r\ndef area\(r\):\n {4}return 0\n/);
    });

    it('a change to the whole file opens in the diff editor too, whose title bar accepts it; the tab closes after', async () => {
      const { edits } = await api();
      const { document } = await openFile('edit_whole.py', CODE);
      const rewritten = CODE.replace(/total/g, 'sum_of').replace('r * r', 'r ** 2');
      const outcome = edits.propose(document, 0, document.lineCount - 1, rewritten, 'rename');
      const diffTab = () =>
        vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.scheme === 'attentive-proposal');
      const tab = await until('the diff editor', diffTab);
      const input = tab.input as vscode.TabInputTextDiff;
      assert.equal((await vscode.workspace.openTextDocument(input.original)).getText(), CODE);
      assert.equal((await vscode.workspace.openTextDocument(input.modified)).getText(), rewritten);
      // The title bar's Accept All passes the right side's URI.
      await vscode.commands.executeCommand('attentive.edit.acceptAll', input.modified);
      assert.equal(await outcome, 'accepted');
      assert.equal(document.getText(), rewritten);
      await until('the diff editor to close', () => !diffTab());
    });

    it('a 10 MB selection is refused with the reason before anything is sent, and the file is left as it was', async () => {
      const { edits } = await api();
      const big = 'x = 1  # filler\n'.repeat(655_360);
      const { document, editor } = await openFile('edit_big.py', big);
      editor.selection = new vscode.Selection(0, 0, document.lineCount - 1, 0);
      const started = Date.now();
      const result = await vscode.commands.executeCommand<EditResult>('attentive.editSelection', { instruction: 'simplify' });
      assert.equal(result?.kind, 'error');
      assert.match((result as Extract<EditResult, { kind: 'error' }>).message, /10,485,759 characters: far more than the model's context/);
      assert.ok(Date.now() - started < 5000, `refused in ${Date.now() - started} ms`);
      assert.ok(!edits.session(document));
      assert.equal(document.getText(), big);
    });

    it('a base model (no chat template) is asked through the edit template; what it writes is shown the same way', async () => {
      const { backend } = await api();
      const fixture = path.join(vscode.extensions.getExtension('attentive.attentive')!.extensionPath, 'test', 'fixtures', 'models', 'gpt2-tiny');
      const folder = modelCopy(fixture, 'tokenizer_config.json', (json) => delete json['chat_template']);
      const config = vscode.workspace.getConfiguration('attentive');
      await config.update('model', folder, vscode.ConfigurationTarget.Global);
      try {
        const info = await backend.reload();
        assert.equal(info.folder, folder);
        assert.equal(info.hasChatTemplate, false);
        const { document, editor } = await openFile('edit_base.py', CODE);
        editor.selection = new vscode.Selection(3, 0, 4, 26);
        const result = (await vscode.commands.executeCommand<EditResult>('attentive.editSelection', { instruction: 'use r ** 2' }))!;
        const lines = CODE.split('\n');
        if (result.kind === 'shown') {
          const expected = new Proposal(lines.slice(3, 5), result.proposed, false).display().map((l) => l.text);
          assert.equal(document.getText(), [...lines.slice(0, 3), ...expected, ...lines.slice(5)].join('\n'));
          await vscode.commands.executeCommand('attentive.edit.rejectAll');
          await sessionEnded(document);
        } else assert.equal(result.kind, 'unusable', JSON.stringify(result)); // random weights may answer nothing usable
        assert.equal(document.getText(), CODE);
      } finally {
        await config.update('model', undefined, vscode.ConfigurationTarget.Global);
        assert.notEqual((await backend.reload()).folder, folder);
      }
    });

    it('a read-only document is refused before anything is written', async () => {
      const { edits } = await api();
      const provider = vscode.workspace.registerTextDocumentContentProvider('attentive-test-readonly', { provideTextDocumentContent: () => CODE });
      try {
        const document = await vscode.workspace.openTextDocument(vscode.Uri.parse('attentive-test-readonly:/code.py'));
        await vscode.window.showTextDocument(document);
        assert.equal(await edits.propose(document, 3, 4, 'def area(r: float) -> float:\n    return 0', 'test'), 'read-only');
        assert.equal(document.getText(), CODE);
        assert.ok(!edits.session(document));
      } finally {
        provider.dispose();
      }
    });

    it('a second edit in a file with one open is refused', async () => {
      const { edits } = await api();
      const { document } = await openFile('edit_busy.py', CODE);
      const first = edits.propose(document, 0, 0, 'import math, os', 'test');
      await diffShown(document, CODE);
      assert.equal(await edits.propose(document, 8, 8, '    s = 1', 'test'), 'busy');
      await vscode.commands.executeCommand('attentive.edit.rejectAll');
      assert.equal(await first, 'rejected');
      assert.equal(document.getText(), CODE);
    });
  });

  describe('Attentive: edits on a model server', function () {
    this.timeout(300_000);
    let server: AttentiveServer;
    let proxy: RecordingProxy;

    before(async function () {
      this.timeout(300_000);
      server = await startAttentiveServe();
      proxy = await startRecordingProxy(server.baseUrl);
      const config = vscode.workspace.getConfiguration('attentive');
      await config.update('endpoints', [{ name: 'srv', baseUrl: proxy.baseUrl, model: server.modelId, contextLength: 2048 }], vscode.ConfigurationTarget.Global);
      await config.update('chat.backend', 'srv', vscode.ConfigurationTarget.Global);
      const { servers } = await api();
      await servers.refresh();
      await servers.allowHost(new URL(proxy.baseUrl).host);
    });

    after(async () => {
      const config = vscode.workspace.getConfiguration('attentive');
      await config.update('endpoints', undefined, vscode.ConfigurationTarget.Global);
      await config.update('chat.backend', undefined, vscode.ConfigurationTarget.Global);
      await (await api()).servers.refresh();
      await closeAll();
      await proxy?.close();
      await server?.stop();
    });

    it('the server gets the edit prompt; Refine sends the last answer and the new instruction; Reject All restores the file', async () => {
      const { edits } = await api();
      const { document, editor } = await openFile('edit_server.py', CODE);
      editor.selection = new vscode.Selection(7, 0, 11, 12);
      const chatRequests = () => proxy.exchanges.filter((e) => e.path.endsWith('/chat/completions'));
      const first = (await vscode.commands.executeCommand<EditResult>('attentive.editSelection', { instruction: 'add type hints' }))!;
      assert.equal(first.kind, 'shown', JSON.stringify(first));
      const sent = chatRequests().at(-1)!.request!;
      const messages = sent['messages'] as Array<{ role: string; content: string }>;
      assert.deepEqual(messages.map((m) => m.role), ['system', 'user']);
      assert.equal(messages[0]!.content, EDIT_SYSTEM_PROMPT);
      assert.ok(messages[1]!.content.startsWith('Rewrite this code from edit_server.py:\n```python\n' + CODE.split('\n').slice(7, 12).join('\n') + '\n```'), messages[1]!.content);
      assert.match(messages[1]!.content, /Instruction: add type hints$/);
      assert.equal(sent['stream'], true);

      const proposed = (first as Extract<EditResult, { kind: 'shown' }>).proposed;
      const refined = (await vscode.commands.executeCommand<EditResult>('attentive.edit.refine', { uri: document.uri.toString(), instruction: 'also add a docstring' }))!;
      const followUp = chatRequests().at(-1)!.request!['messages'] as Array<{ role: string; content: string }>;
      assert.deepEqual(followUp.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
      assert.equal(followUp[1]!.content, messages[1]!.content);
      assert.equal(followUp[2]!.content, '```python\n' + proposed.join('\n') + '\n```');
      assert.equal(followUp[3]!.content, 'Instruction: also add a docstring');
      // The refined proposal replaces the first against the same original lines (an unusable one: the first again).
      if (refined.kind !== 'shown') assert.equal(refined.kind, 'unusable', JSON.stringify(refined));
      const now = refined.kind === 'shown' ? refined.proposed : proposed;
      const lines = CODE.split('\n');
      const expected = new Proposal(lines.slice(7, 12), now, false).display().map((l) => l.text);
      assert.equal(document.getText(), [...lines.slice(0, 7), ...expected, ...lines.slice(12)].join('\n'));
      await vscode.commands.executeCommand('attentive.edit.rejectAll');
      await sessionEnded(document);
      assert.ok(!edits.session(document));
      assert.equal(document.getText(), CODE);
    });
  });
}
