// The chat in a real VS Code extension host: requests stream into the conversation through the engine worker,
// Stop keeps the partial reply, Explain Selection attaches the code, code blocks go into the editor, and history
// survives on disk.

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AttentiveApi } from '../../../src/extension/extension';
import type { ChatEntry } from '../../../src/protocol/chat';

async function api(): Promise<AttentiveApi> {
  const extension = vscode.extensions.getExtension<AttentiveApi>('attentive.attentive');
  assert.ok(extension);
  return extension.activate();
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A real file in the test workspace, shown in an editor (untitled documents would prompt to save on close). */
async function openFile(name: string, content: string): Promise<{ document: vscode.TextDocument; editor: vscode.TextEditor }> {
  const folder = vscode.workspace.workspaceFolders![0]!.uri;
  const uri = vscode.Uri.joinPath(folder, name);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(content));
  const document = await vscode.workspace.openTextDocument(uri);
  const editor = await vscode.window.showTextDocument(document, { preview: false });
  return { document, editor };
}

async function closeAll(): Promise<void> {
  await vscode.workspace.saveAll(false);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

const lastReply = (entries: ChatEntry[]) => entries.filter((e) => e.role === 'assistant').at(-1);
const finished = (entry: ChatEntry | undefined) => !!entry && ['done', 'stopped', 'error'].includes(entry.status);

export function chatSuite(): void {
  describe('Attentive chat', () => {
    it('answers a request, streaming, with stats, and saves it', async () => {
      const { chat } = await api();
      chat.newChat();
      chat.sendRequest('Write a Python function that adds two numbers.');
      const reply = await until('a finished reply', () => {
        const r = lastReply(chat.state().conversation.entries);
        return finished(r) && r;
      });
      assert.equal(reply.status, 'done', reply.error);
      assert.ok(reply.content.length > 0);
      assert.ok(reply.stats && reply.stats.generatedTokens > 0 && reply.stats.model === 'attentive-code-14m');
      const state = chat.state();
      assert.equal(state.conversation.title, 'Write a Python function that adds two numbers.');
      assert.ok(state.conversations.some((c) => c.id === state.conversation.id), 'the conversation is not in the history');
    });

    it('stops a reply at once and keeps the partial text marked as stopped', async () => {
      const { chat } = await api();
      await vscode.workspace.getConfiguration('attentive').update('maxNewTokens', 400, vscode.ConfigurationTarget.Global);
      try {
        // A sampled reply can end on its own before Stop arrives: try a few long requests.
        const requests = ['Explain how a hash map works, in detail.', 'Write a long Python module with many classes.', 'Write ten Python functions for string processing.'];
        let reply: ChatEntry | undefined;
        for (const request of requests) {
          chat.newChat();
          chat.sendRequest(request);
          await until('streamed text', () => (lastReply(chat.state().conversation.entries)?.content.length ?? 0) > 5);
          chat.stop();
          reply = await until('the finished reply', () => {
            const r = lastReply(chat.state().conversation.entries);
            return finished(r) && r;
          }, 5_000);
          if (reply.status === 'stopped') break;
        }
        assert.equal(reply?.status, 'stopped');
        assert.ok(reply.content.length > 0);
        assert.ok((reply.stats?.generatedTokens ?? 0) < 400);
      } finally {
        await vscode.workspace.getConfiguration('attentive').update('maxNewTokens', undefined, vscode.ConfigurationTarget.Global);
      }
    });

    it('Explain Selection attaches the selected code and explains it', async () => {
      const { chat } = await api();
      chat.newChat();
      const { document, editor } = await openFile('square.py', 'def square(x):\n    return x * x\n');
      editor.selection = new vscode.Selection(0, 0, 1, 16);
      await vscode.commands.executeCommand('attentive.explainSelection', document.uri); // as the context menu calls it
      const entries = await until('a reply', () => {
        const e = chat.state().conversation.entries;
        return finished(lastReply(e)) && e;
      });
      const request = entries.find((e) => e.role === 'user')!;
      assert.equal(request.content, '/explain');
      assert.equal(request.attachments?.[0]?.language, 'python');
      assert.equal(request.attachments?.[0]?.text, 'def square(x):\n    return x * x');
      assert.equal(request.attachments![0]!.label, 'square.py:1-2');
      await closeAll();
    });

    it('with no selection, Explain Selection takes the block around the cursor', async () => {
      const { chat } = await api();
      chat.newChat();
      const { document, editor } = await openFile('cube.py', 'x = 1\n\ndef cube(y):\n    z = y * y\n    return z * y\n');
      editor.selection = new vscode.Selection(3, 2, 3, 2);
      await vscode.commands.executeCommand('attentive.explainSelection', document.uri);
      const request = await until('the request', () => chat.state().conversation.entries.find((e) => e.role === 'user'));
      assert.equal(request.attachments?.[0]?.text, 'def cube(y):\n    z = y * y\n    return z * y');
      chat.stop();
      await closeAll();
    });

    it('inserts a code block at the cursor and replaces the selection', async () => {
      const { chat } = await api();
      const { document, editor } = await openFile('edit.py', 'a = 1\nb = 2\n');
      editor.selection = new vscode.Selection(1, 0, 1, 0);
      await chat.handle({ type: 'codeAction', action: 'insert', code: 'c = 3\n', language: 'python' });
      assert.equal(document.getText(), 'a = 1\nc = 3\nb = 2\n');
      editor.selection = new vscode.Selection(0, 0, 0, 5);
      await chat.handle({ type: 'codeAction', action: 'replace', code: 'a = 10', language: 'python' });
      assert.equal(document.getText(), 'a = 10\nc = 3\nb = 2\n');
      await chat.handle({ type: 'codeAction', action: 'copy', code: 'copied!', language: 'python' });
      assert.equal(await vscode.env.clipboard.readText(), 'copied!');
      await closeAll();
    });
  });
}
