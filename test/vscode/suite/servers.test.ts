// Model servers in a real VS Code extension host: with attentive.endpoints pointing at Hugging Face's
// `transformers serve` (through a recording proxy on 127.0.0.1), nothing is sent until the host is allowed; then the
// chat streams its reply from the server and inline completion sends the model family's fill-in-the-middle prompt.

import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as vscode from 'vscode';
import type { ChatController } from '../../../src/extension/chat/chatController';
import type { ServerPrompts } from '../../../src/extension/servers/registerServers';
import type { SurpriseOutcome } from '../../../src/extension/surprise/registerSurprise';
import type { ChatEntry } from '../../../src/protocol/chat';
import { startAttentiveServe } from '../../helpers/attentiveServe';
import { startRecordingProxy, type RecordingProxy } from '../../helpers/recordingProxy';
import { startTransformersServe, type TransformersServer } from '../../helpers/transformersServe';
import { api, closeAll, finished, lastReply, openFile, sleep, until } from './harness';


/** The text of a streamed chat answer, from its server-sent events. */
function streamedText(body: string): string {
  return body
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
    .map((line) => (JSON.parse(line.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content ?? '')
    .join('');
}

/** The conversation's last reply once it has ended. */
function finishedReply(chat: ChatController, what: string): Promise<ChatEntry> {
  return until(what, () => {
    const r = lastReply(chat.openConversation.entries);
    return finished(r) && r;
  });
}

/** Starts a test's own server on a free port of 127.0.0.1; resolves to its API base. */
async function listenLocal(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

async function setSettings(values: Record<string, unknown>): Promise<void> {
  const config = vscode.workspace.getConfiguration('attentive');
  for (const [key, value] of Object.entries(values)) await config.update(key, value, vscode.ConfigurationTarget.Global);
  await (await api()).servers.refresh();
}

export function serversSuite(): void {
  describe('Attentive: model servers', function () {
    this.timeout(300_000);
    let server: TransformersServer;
    let proxy: RecordingProxy;
    /** The endpoint of transformers serve (behind the recording proxy) that most tests use. */
    const hf = () => ({ name: 'hf', baseUrl: proxy.baseUrl, model: server.modelId, contextLength: 2048, fimFamily: 'qwen' });

    before(async function () {
      this.timeout(900_000);
      server = await startTransformersServe();
      proxy = await startRecordingProxy(server.baseUrl);
      await setSettings({
        endpoints: [hf()],
        'chat.backend': 'hf',
        'completion.backend': 'hf',
      });
    });

    after(async () => {
      await setSettings({ endpoints: undefined, 'chat.backend': undefined, 'completion.backend': undefined });
      await closeAll();
      await proxy?.close();
      await server?.stop();
    });

    it('says where each role runs, and sends nothing to a server the user has not allowed', async () => {
      const { chat, servers } = await api();
      assert.equal(servers.describe('chat'), `${server.modelId} at ${new URL(proxy.baseUrl).host}`);
      assert.equal(servers.describe('completion'), `${server.modelId} at ${new URL(proxy.baseUrl).host}`);
      chat.newChat();
      chat.sendRequest('Hello');
      const reply = await finishedReply(chat, 'the refused reply');
      assert.equal(reply.status, 'error');
      assert.match(reply.error ?? '', /not allowed/);
      assert.deepEqual(proxy.exchanges, []);
    });

    it('streams a chat reply from the server: the request carries the message, the reply is what the server sent', async () => {
      const { chat, servers } = await api();
      await servers.allowHost(new URL(proxy.baseUrl).host);
      chat.newChat();
      chat.sendRequest('Write a Python function that adds two numbers.');
      const reply = await finishedReply(chat, 'a finished reply');
      assert.equal(reply.status, 'done', reply.error);
      const exchange = proxy.exchanges.filter((e) => e.path.endsWith('/chat/completions') && (e.request?.['max_tokens'] as number) > 1).at(-1);
      assert.ok(exchange, `no chat request reached the server: ${proxy.exchanges.map((e) => e.path).join(', ')}`);
      const messages = exchange.request!['messages'] as Array<{ role: string; content: string }>;
      assert.equal(messages.at(-1)!.role, 'user');
      assert.match(messages.at(-1)!.content, /Write a Python function that adds two numbers\./);
      assert.equal(exchange.request!['stream'], true);
      assert.equal(reply.content, streamedText(exchange.response));
      assert.equal(reply.stats?.model, server.modelId);
      assert.ok((reply.stats?.generatedTokens ?? 0) > 0);
    });

    it('Stop ends a streamed reply at once, marked stopped, and closes the connection to the server', async () => {
      const { chat, servers } = await api();
      await servers.allowHost(new URL(proxy.baseUrl).host);
      await setSettings({ maxNewTokens: 2048 });
      try {
        // This server sends a small model's reply in a few bursts (the first after ~80 ms, the last after ~2 s for
        // 2,048 tokens): Stop as soon as the request has reached it.
        chat.newChat();
        const before = proxy.exchanges.length;
        chat.sendRequest('Count from 1 to 1000.');
        const isChat = (e: (typeof proxy.exchanges)[number]) => e.path.endsWith('/chat/completions') && (e.request?.['max_tokens'] as number) > 1;
        const exchange = await until('the chat request at the server', () => proxy.exchanges.slice(before).find(isChat), 60_000, 0);
        const stoppedAt = Date.now();
        chat.stop();
        const reply = await finishedReply(chat, 'the stopped reply');
        assert.equal(reply.status, 'stopped');
        await until('the proxy to see the client go', () => exchange.clientClosedEarly, 5_000);
        assert.ok(Date.now() - stoppedAt < 1_500, `stopping took ${Date.now() - stoppedAt} ms`);
        // What the reply kept is what the server had sent before the connection closed.
        assert.ok(streamedText(exchange.response).startsWith(reply.content), `${JSON.stringify(reply.content)} vs ${JSON.stringify(streamedText(exchange.response))}`);
      } finally {
        await setSettings({ maxNewTokens: undefined });
      }
    });

    it('inline completion sends the Qwen fill-in-the-middle prompt with the family\'s stop tokens', async () => {
      const { completion } = await api();
      const { editor } = await openFile('served.py', 'def add(a, b):\n    return \n\nprint(add(1, 2))\n');
      editor.selection = new vscode.Selection(1, 11, 1, 11);
      const before = proxy.exchanges.length;
      const requests = completion.stats.requests;
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      const exchange = await until('a completion request at the server', () => proxy.exchanges.slice(before).find((e) => e.path.endsWith('/completions') && !e.path.includes('chat')), 60_000);
      assert.ok(completion.stats.requests > requests);
      const prompt = exchange.request!['prompt'] as string;
      assert.ok(prompt.startsWith('<|fim_prefix|>def add(a, b):\n    return '), JSON.stringify(prompt));
      assert.ok(prompt.includes('<|fim_suffix|>\n\nprint(add(1, 2))'), JSON.stringify(prompt));
      assert.ok(prompt.endsWith('<|fim_middle|>'), JSON.stringify(prompt));
      assert.ok((exchange.request!['stop'] as string[]).includes('<|endoftext|>'));
      assert.equal(exchange.request!['temperature'], 0);
    });

    it('inline completion carries the most similar window of another open file in the prompt the server receives', async () => {
      await setSettings({ 'completion.crossFileContext': 'on' });
      try {
        await openFile('geometry_lib.py', 'import math\n\n\ndef circle_area(radius):\n    return math.pi * radius ** 2\n\n\ndef ring_area(outer, inner):\n    return circle_area(outer) - circle_area(inner)\n');
        await openFile('notes.txt', 'shopping: apples, bread, cheese\n');
        const { editor } = await openFile('uses_geometry.py', 'import math\n\n\ndef disc_area(radius):\n    return \n');
        editor.selection = new vscode.Selection(4, 11, 4, 11);
        await sleep(600); // the other files are cut into windows shortly after they open, never at request time
        const before = proxy.exchanges.length;
        await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
        const exchange = await until('a completion request at the server', () => proxy.exchanges.slice(before).find((e) => e.path.endsWith('/completions') && !e.path.includes('chat')), 60_000);
        const prompt = exchange.request!['prompt'] as string;
        // This server's model has no repository tokens, so the snippet comes as comments above the code; the
        // unrelated notes are not similar enough to be sent.
        assert.ok(
          prompt.startsWith('<|fim_prefix|># Compare this snippet from geometry_lib.py:\n# import math\n#\n#\n# def circle_area(radius):\n#     return math.pi * radius ** 2\n'),
          JSON.stringify(prompt),
        );
        assert.ok(prompt.includes('# Compare this snippet from geometry_lib.py:') && !prompt.includes('notes.txt'), JSON.stringify(prompt));
        assert.ok(prompt.includes('\nimport math\n\n\ndef disc_area(radius):\n    return <|fim_suffix|>'), JSON.stringify(prompt));
      } finally {
        await setSettings({ 'completion.crossFileContext': undefined });
        await closeAll();
      }
    });

    it('inline completion carries the definition of a name at the cursor, from the TypeScript extension, though its file is not open', async () => {
      await setSettings({ 'completion.crossFileContext': 'on' });
      const folder = vscode.workspace.workspaceFolders![0]!.uri;
      await vscode.workspace.fs.writeFile(
        vscode.Uri.joinPath(folder, 'vectors.ts'),
        new TextEncoder().encode('export function scaleVector(values: number[], factor: number): number[] {\n  return values.map((v) => v * factor);\n}\n'),
      );
      try {
        const { editor, document } = await openFile('uses_vectors.ts', "import { scaleVector } from './vectors';\n\nconst doubled = scaleVector([1, 2], 2);\nconst tripled = \n");
        // The TypeScript server starts on the first TypeScript file: wait until it answers for the name.
        const deadline = Date.now() + 90_000;
        while (((await vscode.commands.executeCommand<unknown[]>('vscode.executeDefinitionProvider', document.uri, new vscode.Position(2, 18))) ?? []).length === 0) {
          if (Date.now() > deadline) throw new Error('no definition from the TypeScript extension');
          await sleep(500);
        }
        // The cursor settles on the line: its names are looked up then, not at request time.
        editor.selection = new vscode.Selection(0, 0, 0, 0);
        await sleep(100);
        editor.selection = new vscode.Selection(2, 40, 2, 40);
        await sleep(1_500);
        const before = proxy.exchanges.length;
        await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
        const exchange = await until('a completion request at the server', () => proxy.exchanges.slice(before).find((e) => e.path.endsWith('/completions') && !e.path.includes('chat')), 60_000);
        const prompt = exchange.request!['prompt'] as string;
        assert.ok(
          prompt.startsWith('<|fim_prefix|>// Compare this snippet from vectors.ts:\n// export function scaleVector(values: number[], factor: number): number[] {\n//   return values.map((v) => v * factor);\n// }\n'),
          JSON.stringify(prompt),
        );
      } finally {
        await setSettings({ 'completion.crossFileContext': undefined });
        await closeAll();
      }
    });

    it('a completion server that answers slowly never holds up typing: each edit lands at once, and the pending request is aborted', async () => {
      const { completion, servers } = await api();
      const opened: string[] = [];
      const closedEarly: string[] = [];
      // Holds every completion request open (a server busy with someone else's long prompt); answers /models.
      const slow = http.createServer((request, response) => {
        request.resume();
        if (request.method === 'GET') {
          response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ data: [{ id: 'slow' }] }));
          return;
        }
        opened.push(request.url ?? '');
        response.writeHead(200, { 'Content-Type': 'text/event-stream' });
        response.on('close', () => closedEarly.push(request.url ?? ''));
      });
      const slowUrl = await listenLocal(slow);
      try {
        await servers.allowHost(new URL(slowUrl).host);
        await setSettings({
          endpoints: [hf(), { name: 'slow', baseUrl: slowUrl, model: 'slow', idleTimeoutMs: 60_000 }],
          'completion.backend': 'slow',
        });
        const { editor } = await openFile('slow.py', 'def add(a, b):\n    return ');
        const end = editor.document.lineAt(1).range.end;
        editor.selection = new vscode.Selection(end, end);
        // Not awaited: the command resolves only once the provider has answered.
        const triggered = Date.now();
        void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
        await until('the request at the slow server', () => opened.length > 0, 30_000);
        // The extension host's event loop stays free while the request is pending (nothing closed yet).
        const lags: number[] = [];
        for (let i = 0; i < 20; i++) {
          const started = performance.now();
          await new Promise((resolve) => setTimeout(resolve, 0));
          lags.push(performance.now() - started);
        }
        assert.ok(Math.max(...lags) < 100, `event-loop lags ${lags.map((l) => l.toFixed(1)).join(', ')} ms`);
        assert.deepEqual(closedEarly, []);
        // Typing goes on while the server sits on the request: every edit is applied at once.
        const times: number[] = [];
        for (const text of ['a', ' ', '+', ' ', 'b']) {
          const started = Date.now();
          await editor.edit((edit) => edit.insert(editor.selection.active, text));
          times.push(Date.now() - started);
        }
        // Waiting on the server would take its 60 s; a second covers the workbench's own jitter on 2 shared cores.
        assert.ok(Math.max(...times) < 1_000, `edit times ${times.join(', ')} ms`);
        assert.equal(editor.document.lineAt(1).text, '    return a + b');
        // The editor gave up on the suggestion for the old text: its request is aborted, and the server sees it go.
        await until('the first request aborted', () => closedEarly.length > 0, 10_000);
        assert.ok(Date.now() - triggered < 10_000, 'the request was aborted only by its idle timeout');
        assert.ok(completion.stats.requests >= 1);
      } finally {
        await setSettings({ 'completion.backend': 'hf' });
        slow.closeAllConnections();
        slow.close();
      }
    });

    it('a busy server (429 with Retry-After) pauses automatic completion for as long as it asked', async () => {
      const { completion, servers } = await api();
      const seen: string[] = [];
      const busy = http.createServer((request, response) => {
        seen.push(request.url ?? '');
        request.resume();
        response.writeHead(429, { 'Retry-After': '30', 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { message: 'slow down' } }));
      });
      const busyUrl = await listenLocal(busy);
      try {
        await servers.allowHost(new URL(busyUrl).host);
        await setSettings({
          endpoints: [hf(), { name: 'busy', baseUrl: busyUrl, model: 'm' }],
          'completion.backend': 'busy',
        });
        const { editor } = await openFile('busy.py', 'def add(a, b):\n    return ');
        const end = editor.document.lineAt(1).range.end;
        editor.selection = new vscode.Selection(end, end);
        const backedOff = completion.stats.backedOff;
        await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
        await until('the busy answer', () => completion.stats.backedOff > backedOff, 30_000);
        assert.equal(seen.length, 1);
        // Typing on: automatic requests are not sent while the server asked to wait.
        await editor.edit((edit) => edit.insert(editor.selection.active, 'a'));
        await editor.edit((edit) => edit.insert(editor.selection.active, ' +'));
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        assert.equal(seen.length, 1, `requests during the back-off: ${seen.join(', ')}`);
      } finally {
        await setSettings({ 'completion.backend': 'hf' });
        busy.close();
      }
    });

    it('a chat prompt the server finds too long is sent again, shorter, once, and the reply says so', async () => {
      const { chat, servers } = await api();
      const requests: Array<Record<string, unknown>> = [];
      const strict = http.createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
          requests.push(body);
          if (request.method === 'GET') {
            response.writeHead(404).end();
            return;
          }
          // The first real chat request (not the one-token check of the model) is refused as too long.
          if ((body['max_tokens'] as number) > 1 && requests.filter((r) => (r['max_tokens'] as number) > 1).length === 1) {
            response.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { message: "This model's maximum context length is 512 tokens" } }));
            return;
          }
          response.writeHead(200, { 'Content-Type': 'text/event-stream' });
          response.end('data: {"choices":[{"index":0,"delta":{"content":"Short answer."},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n');
        });
      });
      const strictUrl = await listenLocal(strict);
      try {
        await servers.allowHost(new URL(strictUrl).host);
        await setSettings({
          endpoints: [hf(), { name: 'strict', baseUrl: strictUrl, model: 'm', contextLength: 4096 }],
          'chat.backend': 'strict',
        });
        chat.newChat();
        chat.sendRequest('Explain list comprehensions.');
        const reply = await finishedReply(chat, 'a finished reply');
        assert.equal(reply.status, 'done', reply.error);
        assert.equal(reply.content, 'Short answer.');
        assert.match(reply.stats?.trimmedNote ?? '', /too long, so it was sent again, shorter/);
        // After the check of the model: the refused request, then the shorter one.
        const chats = requests.filter((r) => (r['max_tokens'] as number) > 1);
        assert.equal(chats.length, 2);
      } finally {
        await setSettings({ 'chat.backend': 'hf' });
        strict.close();
      }
    });

    it('Add Model Server: URL, key, model and role from the questions; settings written, the key kept as a secret and sent', async () => {
      const { servers, test } = await api();
      assert.ok(test, 'the extension runs without its test API');
      const asked: string[] = [];
      const messages: string[] = [];
      const prompts: ServerPrompts = {
        pick: async (items, options) => {
          asked.push(options.title ?? '');
          return options.title?.includes('1/5') ? items.find((item) => item.label === 'Other server…') : items[0];
        },
        pickMany: async (items, options) => {
          asked.push(options.title ?? '');
          return items.filter((item) => (item as { role?: string }).role === 'chat');
        },
        input: async (options) => {
          asked.push(options.title ?? '');
          if (options.title?.includes('2/5')) return proxy.baseUrl;
          if (options.title?.includes('3/5')) return 'sk-test-123';
          return server.modelId; // 4/5: this server lists no models, so the id is typed
        },
        confirm: async (message) => assert.fail(`no confirmation is needed for this machine: ${message}`),
        progress: (_title, task) => task(),
        error: (message) => messages.push(`error: ${message}`),
        info: (message) => messages.push(message),
      };
      const host = new URL(proxy.baseUrl).host;
      const before = proxy.exchanges.length;
      try {
        const added = await test.servers.addModelServer(prompts);
        assert.deepEqual(added, { name: host, baseUrl: proxy.baseUrl, model: server.modelId });
        assert.deepEqual(
          asked.map((title) => title.match(/\d\/5/)?.[0]),
          ['1/5', '2/5', '3/5', '4/5', '5/5'],
        );
        const config = vscode.workspace.getConfiguration('attentive');
        assert.ok(config.get<Array<{ name: string }>>('endpoints')!.some((e) => e.name === host));
        assert.equal(config.get('chat.backend'), host);
        assert.equal(servers.describe('chat'), `${server.modelId} at ${host}`);
        assert.ok(messages.some((m) => m.includes(`added as "${host}"`)), messages.join('\n'));
        // The key went to the server with the checks (and is not in the settings).
        const sent = proxy.exchanges.slice(before);
        assert.ok(sent.length > 0 && sent.every((e) => e.authorization === 'Bearer sk-test-123'), JSON.stringify(sent.map((e) => e.authorization)));
        assert.ok(!JSON.stringify(config.get('endpoints')).includes('sk-test-123'));
      } finally {
        await setSettings({ endpoints: [hf()], 'chat.backend': 'hf' });
      }
    });

    it('a server that refuses the key: the reply says so; Set Model Server API Key stores one, which the server then gets', async () => {
      const { chat, servers, test } = await api();
      assert.ok(test, 'the extension runs without its test API');
      const keyed = await startAttentiveServe({ apiKey: 'sk-right-key' });
      const messages: string[] = [];
      const prompts = (key: string): ServerPrompts => ({
        pick: async () => assert.fail('the endpoint is named: nothing to pick'),
        pickMany: async () => assert.fail('no roles are asked'),
        input: async (options) => {
          assert.match(options.title ?? '', /API key for keyed \(127\.0\.0\.1:\d+\)/);
          assert.equal(options.password, true);
          return key;
        },
        confirm: async () => assert.fail('nothing to confirm'),
        progress: (_title, task) => task(),
        error: (message) => messages.push(`error: ${message}`),
        info: (message) => messages.push(message),
      });
      try {
        await servers.allowHost(new URL(keyed.baseUrl).host);
        await setSettings({ endpoints: [hf(), { name: 'keyed', baseUrl: keyed.baseUrl, model: keyed.modelId }], 'chat.backend': 'keyed' });
        chat.newChat();
        chat.sendRequest('Hello');
        const refused = await finishedReply(chat, 'the refused reply');
        assert.equal(refused.status, 'error');
        assert.match(refused.error ?? '', /refused the request \(HTTP 401\): the API key is missing or wrong/);

        assert.equal(await test.servers.setApiKey(prompts('sk-right-key'), 'keyed'), true);
        assert.ok(messages.includes('Attentive: the API key for keyed is saved.'), messages.join('\n'));
        chat.sendRequest('Hello again');
        const answered = await until('the answer with the key', () => {
          const r = lastReply(chat.openConversation.entries);
          return r && r.id !== refused.id && finished(r) && r;
        });
        assert.equal(answered.status, 'done', answered.error);
        assert.equal(answered.stats?.model, keyed.modelId);
        // The key is a secret, not a setting.
        assert.ok(!JSON.stringify(vscode.workspace.getConfiguration('attentive').get('endpoints')).includes('sk-right-key'));
      } finally {
        await test.servers.setApiKey(prompts(''), 'keyed');
        await setSettings({ endpoints: [hf()], 'chat.backend': 'hf' });
        await keyed.stop();
      }
    });

    it('Explain Selection runs where attentive.explain.backend says while the chat stays local', async () => {
      const { chat } = await api();
      await setSettings({ 'chat.backend': 'local', 'explain.backend': 'hf' });
      try {
        const { editor } = await openFile('explain_me.py', 'def square(x):\n    return x * x\n');
        editor.selection = new vscode.Selection(0, 0, 1, 16);
        chat.newChat();
        const before = proxy.exchanges.length;
        await vscode.commands.executeCommand('attentive.explainSelection');
        const reply = await finishedReply(chat, 'the explanation');
        assert.equal(reply.status, 'done', reply.error);
        const explained = proxy.exchanges.slice(before).filter((e) => e.path.endsWith('/chat/completions') && (e.request?.['max_tokens'] as number) > 1);
        assert.equal(explained.length, 1);
        assert.match(JSON.stringify(explained[0]!.request!['messages']), /return x \* x/);
        assert.equal(reply.stats?.model, server.modelId);
        // A plain chat request in the same conversation goes to the local model, not the server.
        const afterExplain = proxy.exchanges.length;
        chat.sendRequest('Thanks. And what about cubes?');
        const second = await until('the chat reply', () => {
          const r = lastReply(chat.openConversation.entries);
          return r && r.id !== reply.id && finished(r) && r;
        });
        assert.equal(second.status, 'done', second.error);
        assert.equal(second.stats?.model, 'attentive-code-14m');
        assert.equal(proxy.exchanges.length, afterExplain);
      } finally {
        await setSettings({ 'chat.backend': 'hf', 'explain.backend': undefined });
      }
    });

    it('the surprise map on a server that returns no prompt log-probabilities says so and paints nothing', async () => {
      const { servers, surprise } = await api();
      await servers.allowHost(new URL(proxy.baseUrl).host);
      await setSettings({ 'explain.backend': 'hf' });
      try {
        const { editor } = await openFile('surprise_hf.py', 'def cube(x):\n    return x * x * x\n');
        editor.selection = new vscode.Selection(0, 0, 1, 20);
        const before = proxy.exchanges.length;
        const outcome = await vscode.commands.executeCommand<SurpriseOutcome>('attentive.showSurpriseMap');
        assert.equal(outcome.kind, 'failed', JSON.stringify(outcome));
        assert.equal((outcome as { code?: string }).code, 'unsupported');
        assert.match((outcome as { message: string }).message, /no log-probabilities for the prompt/);
        // It asked the server (echo with logprobs) for the selected code.
        const asked = proxy.exchanges.slice(before).find((e) => e.path.endsWith('/completions') && e.request?.['echo'] === true);
        assert.ok(asked, proxy.exchanges.slice(before).map((e) => e.path).join(', '));
        assert.equal(asked.request!['prompt'], 'def cube(x):\n    return x * x * x');
        assert.equal(surprise.current, undefined);
      } finally {
        await setSettings({ 'explain.backend': undefined });
      }
    });

    it('Explain Attention stays on the local model and says so while the chat runs on the server', async () => {
      const { attention } = await api();
      const { editor } = await openFile('attend_served.py', 'def cube(x):\n    return x * x * x\n');
      editor.selection = new vscode.Selection(0, 0, 1, 20);
      await vscode.commands.executeCommand('attentive.explainAttention');
      const current = await until('the attention view', () => attention.current?.ready && attention.current.tokens > 0 && attention.current, 120_000);
      assert.ok((current.note ?? '').includes(`these are the local model's (attentive-code-14m); the chat runs on ${server.modelId} at `), current.note);
      attention.close();
    });
  });
}
