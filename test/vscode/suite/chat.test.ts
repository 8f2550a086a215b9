// The chat in a real VS Code extension host: requests stream into the conversation through the engine worker,
// Stop keeps the partial reply, Explain Selection (command and Code Action) attaches the code, a request sent during
// a reply is queued and New Chat or closing the view cancels both, an engine worker crash ends in an error entry with
// Retry, code blocks go into the editor, and history survives on disk.

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ChatController } from '../../../src/extension/chat/chatController';
import type { ChatEntry, Conversation } from '../../../src/protocol/chat';
import { api, closeAll, finished, lastReply, openFile, sleep, until } from './harness';

/** An entry's status now (the controller changes it behind TypeScript's narrowing). */
const statusOf = (entry: ChatEntry): ChatEntry['status'] => entry.status;

async function setMaxNewTokens(value: number | undefined): Promise<void> {
  await vscode.workspace.getConfiguration('attentive').update('maxNewTokens', value, vscode.ConfigurationTarget.Global);
}

/** Long greedy replies (400 tokens at most) for the requests below, or the defaults again. */
async function setLongReplies(on: boolean): Promise<void> {
  await setMaxNewTokens(on ? 400 : undefined);
  await vscode.workspace.getConfiguration('attentive').update('temperature', on ? 0 : undefined, vscode.ConfigurationTarget.Global);
}

/**
 * Requests whose greedy replies from the bundled model run to the token limit (the first one loops on `if
 * prime.is_Number`); the others are there in case a new model answers it briefly.
 */
const LONG_REQUESTS = [
  'Write a Python function that checks whether a number is prime.',
  'Write a long Python module with many classes.',
  'Write a Python class for a bank account with many methods.',
  'Write a long Python module with a class for a library and many methods.',
];

/**
 * Starts a long reply and, while it streams, sends a second request, which must wait its turn. Undefined when the
 * reply ended before it was seen streaming.
 */
async function queuedPair(chat: ChatController, request: string, followUp: string): Promise<{ conversation: Conversation; first: ChatEntry; second: ChatEntry } | undefined> {
  chat.newChat();
  chat.sendRequest(request);
  const conversation = chat.openConversation;
  const first = await until('a streaming reply', () => {
    const r = lastReply(conversation.entries);
    return (r?.status === 'streaming' || finished(r)) && r;
  });
  if (first.status !== 'streaming') {
    console.log(`[attentive] the reply to ${JSON.stringify(request)} ended (${first.status}) before it was seen streaming; trying another`);
    return undefined;
  }
  chat.sendRequest(followUp);
  const second = lastReply(conversation.entries)!;
  assert.notEqual(second.id, first.id);
  assert.equal(second.status, 'queued');
  assert.equal(chat.state().busy, true);
  return { conversation, first, second };
}

/**
 * With long greedy replies, for each long request in turn (`before` it, if given): a queued pair, and `check` on it,
 * until a check returns true; false means the reply ended too soon to test, so a longer one is tried. Fails with
 * `failure` when none could be tested.
 */
async function withQueuedPair(
  chat: ChatController,
  followUp: string,
  failure: string,
  check: (pair: { conversation: Conversation; first: ChatEntry; second: ChatEntry }, request: string) => Promise<boolean> | boolean,
  before?: () => Promise<void>,
): Promise<void> {
  await setLongReplies(true);
  let tested = false;
  try {
    for (const request of LONG_REQUESTS) {
      await before?.();
      const pair = await queuedPair(chat, request, followUp);
      if (pair && (await check(pair, request))) {
        tested = true;
        break;
      }
    }
  } finally {
    await setLongReplies(false);
  }
  assert.ok(tested, failure);
}

export function chatSuite(): void {
  describe('Attentive chat', () => {
    it('answers a request, streaming, with stats, and saves it', async () => {
      const { chat } = await api();
      chat.newChat();
      chat.sendRequest('Write a Python function that adds two numbers.');
      const reply = await until('a finished reply', () => {
        const r = lastReply(chat.openConversation.entries);
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
          // Checked after every message the host handles: polled every 50 ms, short replies had ended before Stop.
          await until('streamed text', () => (lastReply(chat.openConversation.entries)?.content.length ?? 0) > 5, 60_000, 0);
          chat.stop();
          reply = await until('the finished reply', () => {
            const r = lastReply(chat.openConversation.entries);
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
        const e = chat.openConversation.entries;
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
      const request = await until('the request', () => chat.openConversation.entries.find((e) => e.role === 'user'));
      assert.equal(request.attachments?.[0]?.text, 'def cube(y):\n    z = y * y\n    return z * y');
      chat.stop();
      await closeAll();
    });

    it('offers Explain Selection as a Code Action (lightbulb) on a selection, and running it explains the code', async () => {
      const { chat } = await api();
      chat.newChat();
      const { document, editor } = await openFile('half.py', 'def half(x):\n    return x / 2\n');
      const titles = async (range: vscode.Range) =>
        (await vscode.commands.executeCommand<Array<vscode.CodeAction | vscode.Command>>('vscode.executeCodeActionProvider', document.uri, range)).map((a) => a.title);
      // Nothing selected: no action from us (the lightbulb would offer to explain nothing).
      editor.selection = new vscode.Selection(1, 4, 1, 4);
      assert.ok(!(await titles(editor.selection)).includes('Attentive: Explain Selection'));
      editor.selection = new vscode.Selection(0, 0, 1, 16);
      const actions = await vscode.commands.executeCommand<Array<vscode.CodeAction | vscode.Command>>('vscode.executeCodeActionProvider', document.uri, editor.selection);
      const action = actions.find((a): a is vscode.CodeAction => a.title === 'Attentive: Explain Selection' && 'kind' in a);
      assert.ok(action?.command, `no Explain Selection among ${JSON.stringify(actions.map((a) => a.title))}`);
      assert.equal(action.kind?.value, 'attentive.explain');
      // What VS Code does when the action is chosen from the lightbulb.
      await vscode.commands.executeCommand(action.command.command, ...(action.command.arguments ?? []));
      const entries = await until('a reply', () => {
        const e = chat.openConversation.entries;
        return finished(lastReply(e)) && e;
      });
      const request = entries.find((e) => e.role === 'user')!;
      assert.equal(request.content, '/explain');
      assert.equal(request.attachments?.[0]?.text, 'def half(x):\n    return x / 2');
      assert.equal(request.attachments?.[0]?.label, 'half.py:1-2');
      assert.equal(lastReply(entries)?.status, 'done', lastReply(entries)?.error);
      await closeAll();
    });

    it('queues a request sent while a reply runs, and New Chat cancels both', async () => {
      const { chat, backend } = await api();
      // A reply can end on its own before New Chat: then try a longer one.
      await withQueuedPair(chat, 'Now the same in JavaScript.', 'every reply ended before New Chat', async ({ conversation, first, second }, request) => {
        for (const deadline = Date.now() + 150; Date.now() < deadline && statusOf(first) === 'streaming'; await sleep(10)) {
          assert.equal(statusOf(second), 'queued', 'the second request started while the first ran');
        }
        if (statusOf(first) !== 'streaming') {
          console.log(`[attentive] the reply to ${JSON.stringify(request)} ended before New Chat; trying another`);
          return false;
        }
        chat.newChat();
        assert.notEqual(chat.openConversation.id, conversation.id);
        await until('both requests ended', () => finished(first) && finished(second), 5_000);
        // The running reply keeps its text; the queued one never reached the engine.
        assert.equal(statusOf(second), 'stopped');
        assert.equal(second.content, '');
        if (statusOf(first) !== 'done') assert.equal(statusOf(first), 'stopped');
        await until('the engine idle', () => backend.pendingCalls === 0 && backend.state.kind === 'ready', 5_000);
        await sleep(300);
        assert.equal(backend.pendingCalls, 0, 'a cancelled request was sent to the engine');
        assert.equal(chat.state().busy, false);
        return true;
      });
    });

    it('keeps at most 8 requests waiting: one more is refused with its text left in the input', async () => {
      const { chat } = await api();
      await withQueuedPair(chat, 'waiting 1', 'every reply ended before the queue filled', ({ conversation, first }) => {
        for (let i = 2; i <= 8; i++) chat.sendRequest(`waiting ${i}`);
        const entries = conversation.entries.length;
        if (statusOf(first) !== 'streaming') return false; // it ended meanwhile: the queue moved on
        chat.sendRequest('one too many');
        assert.equal(conversation.entries.length, entries, 'the ninth waiting request was queued');
        assert.equal(chat.state().draft, 'one too many');
        assert.equal(conversation.entries.filter((e) => e.role === 'assistant' && e.status === 'queued').length, 8);
        chat.newChat();
        return true;
      });
    });

    it('refuses a message over 200,000 characters, keeping it and its attachments in the input; one at the limit is sent', async () => {
      const { chat } = await api();
      chat.newChat();
      const { editor } = await openFile('cap.py', 'def cap(x):\n    return x\n');
      chat.attachFile(editor);
      const long = 'a'.repeat(200_001);
      chat.sendRequest(long);
      assert.equal(chat.openConversation.entries.length, 0, 'the long message was sent');
      assert.equal(chat.state().draft, long);
      assert.deepEqual(chat.state().attachments.map((a) => a.label), ['cap.py']);
      chat.sendRequest(long.slice(1));
      assert.equal(chat.openConversation.entries[0]?.content.length, 200_000);
      assert.deepEqual(chat.openConversation.entries[0]?.attachments?.map((a) => a.label), ['cap.py']);
      chat.newChat();
      await closeAll();
    });

    it('attaches at most 200,000 characters of a file, cut at a line end, and says so on the chip, with its size in tokens', async () => {
      const { chat, backend } = await api();
      chat.newChat();
      const { editor } = await openFile('big.py', 'x = 1\n'.repeat(50_000)); // 300,000 characters
      const attachment = chat.attachFile(editor)!;
      assert.ok(attachment.text.length <= 200_000 && attachment.text.endsWith('x = 1\n'));
      assert.deepEqual(attachment.cut, { keptLines: 33_333, totalLines: 50_001 });
      assert.deepEqual(chat.state().attachments.map((a) => a.cut), [{ keptLines: 33_333, totalLines: 50_001 }]);
      // The chip gets the count from the model's own tokenizer, and the model's context to compare it with.
      const tokens = await until('the tokens counted', () => chat.state().attachments[0]?.tokens, 30_000);
      const [count] = await backend.countTokens([attachment.text]);
      const model = await backend.ensureLoaded();
      assert.deepEqual(tokens, { count, estimated: false, context: model.contextLength });
      assert.ok(count! > model.contextLength, `${count} tokens`);
      // The view gets chips, never the attached text: not with the input's chips, not with the sent request.
      assert.ok(!('text' in chat.state().attachments[0]!));
      chat.sendRequest('What does this do?');
      const sent = chat.state().conversation.entries.find((e) => e.role === 'user')!;
      assert.equal(sent.attachments?.[0]?.label, 'big.py');
      assert.ok(!('text' in sent.attachments![0]!));
      assert.equal(chat.openConversation.entries.find((e) => e.role === 'user')!.attachments?.[0]?.text, attachment.text);
      chat.newChat();
      await closeAll();
    });

    it('closing the chat view cancels its running and queued requests', async () => {
      const { chat, backend } = await api();
      const showView = async () => {
        await vscode.commands.executeCommand('attentive.focusChat');
        await until('the chat view', () => chat.hasView, 30_000);
      };
      try {
        await withQueuedPair(
          chat,
          'Add type hints.',
          'every reply ended before the view closed',
          async ({ first, second }) => {
            // "Hide 'Chat'" in the view's context menu: VS Code disposes the webview view.
            await vscode.commands.executeCommand('attentive.chat.removeView');
            await until('the view disposed', () => !chat.hasView, 10_000);
            await until('both requests ended', () => finished(first) && finished(second), 5_000);
            if (statusOf(second) === 'done') {
              console.log(`[attentive] both replies ended before the view closed; trying another`);
              return false;
            }
            assert.equal(statusOf(second), 'stopped');
            if (statusOf(first) !== 'done') assert.equal(statusOf(first), 'stopped');
            await until('the engine idle', () => backend.pendingCalls === 0, 5_000);
            return true;
          },
          showView,
        );
      } finally {
        await showView();
      }
    });

    it('an engine crash mid-reply shows the error with Retry, keeps the history, and Retry restarts the engine', async () => {
      const attentive = await api();
      const { chat, backend } = attentive;
      assert.ok(attentive.test, 'the test hooks are missing (the extension is not in ExtensionMode.Test)');
      let conversation = chat.openConversation;
      let crashed: ChatEntry | undefined;
      try {
        // The crash must land while a reply streams: a reply can end on its own first, so try a few.
        for (const request of LONG_REQUESTS) {
          await setLongReplies(false);
          chat.newChat();
          conversation = chat.openConversation;
          chat.sendRequest('What is a Python list?');
          await until('the first reply', () => finished(lastReply(conversation.entries)));
          await setLongReplies(true);
          chat.sendRequest(request);
          const reply = await until('streamed text', () => {
            const r = lastReply(conversation.entries);
            return r && (r.content.length > 5 || finished(r)) && r;
          });
          if (finished(reply)) continue;
          assert.ok(attentive.test.crashEngineWorker(), 'no engine worker to crash');
          await until('the reply to end', () => finished(reply), 10_000);
          if (reply.status === 'error') {
            crashed = reply;
            break;
          }
        }
      } finally {
        await setLongReplies(false);
      }
      assert.ok(crashed, 'every reply ended before the crash');
      assert.match(crashed.error ?? '', /^the engine worker crashed: .*; the next request starts a new engine$/);
      assert.ok(crashed.content.length > 5, 'the partial reply was lost');
      assert.equal(backend.state.kind, 'error');
      // The history is intact, on screen and on disk.
      const entries = conversation.entries;
      assert.deepEqual(entries.map((e) => [e.role, e.status]), [['user', 'done'], ['assistant', 'done'], ['user', 'done'], ['assistant', 'error']]);
      assert.equal(entries[0]!.content, 'What is a Python list?');
      assert.equal(chat.state().conversations.find((c) => c.id === conversation.id)?.messages, 4);
      assert.equal(chat.state().busy, false);
      // Retry, as the button in the conversation posts it: a new engine worker loads the model and answers.
      const states: string[] = [];
      const listener = backend.onStateChange((state) => states.push(state.kind));
      try {
        await setMaxNewTokens(24);
        await chat.handle({ type: 'retry' });
        const retried = await until('the retried reply', () => {
          const r = lastReply(conversation.entries);
          return r && r.id !== crashed.id && finished(r) && r;
        });
        assert.equal(retried.status, 'done', retried.error);
        assert.ok(retried.content.length > 0);
      } finally {
        listener.dispose();
        await setMaxNewTokens(undefined);
      }
      assert.deepEqual(states.slice(0, 3), ['loading', 'ready', 'generating']);
      assert.equal(backend.state.kind, 'ready');
      assert.equal(conversation.entries.length, 4);
      assert.equal(conversation.entries[1]!.status, 'done');
    });

    it('inserts a code block at the cursor and replaces the selection (attentive.chat.insertDirectly: without a diff)', async () => {
      const { chat } = await api();
      const config = vscode.workspace.getConfiguration('attentive');
      await config.update('chat.insertDirectly', true, vscode.ConfigurationTarget.Global);
      const { document, editor } = await openFile('edit.py', 'a = 1\nb = 2\n');
      editor.selection = new vscode.Selection(1, 0, 1, 0);
      await chat.handle({ type: 'codeAction', action: 'insert', code: 'c = 3\n', language: 'python' });
      assert.equal(document.getText(), 'a = 1\nc = 3\nb = 2\n');
      editor.selection = new vscode.Selection(0, 0, 0, 5);
      await chat.handle({ type: 'codeAction', action: 'replace', code: 'a = 10', language: 'python' });
      assert.equal(document.getText(), 'a = 10\nc = 3\nb = 2\n');
      await chat.handle({ type: 'codeAction', action: 'copy', code: 'copied!', language: 'python' });
      assert.equal(await vscode.env.clipboard.readText(), 'copied!');
      await config.update('chat.insertDirectly', undefined, vscode.ConfigurationTarget.Global);
      await closeAll();
    });
  });
}
