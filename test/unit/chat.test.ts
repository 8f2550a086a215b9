// Chat logic without VS Code: prompt building within the context by token count, slash commands, validation of
// webview messages (fuzzed), the history store on a real folder, and the enclosing-block finder.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it, vi } from 'vitest';
import { HistoryStore, MAX_CONVERSATION_BYTES, titleFrom } from '../../src/extension/chat/historyStore';
import { buildPrompt, formatAttachment, requestText, SYSTEM_PROMPT, type TokenCounter } from '../../src/extension/chat/promptBuilder';
import { blockEndLine, indentationBlock, innermostSymbol } from '../../src/extension/shared/enclosingBlock';
import { parseMentions, parseSlashCommand, validateWebviewMessage, type ChatEntry, type Conversation } from '../../src/protocol/chat';
import { createRandom } from '../../src/worker/sampling';
import { truncateToTokens } from '../../src/worker/tokenizer';

// One token per word: enough to check the arithmetic of budgets.
const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
/** The counter buildPrompt gets, as the engine's worker answers it (here by words), counting its round trips. */
function wordCounter(): TokenCounter & { calls: number } {
  const counter = {
    calls: 0,
    count: async (texts: string[]) => (counter.calls++, texts.map(words)),
    truncate: async (text: string, maxTokens: number) => (counter.calls++, truncateToTokens(text, maxTokens, words)),
  };
  return counter;
}
const entry = (role: 'user' | 'assistant', content: string, status: ChatEntry['status'] = 'done'): ChatEntry => ({ id: `${role}-${content.length}`, role, content, status });

describe('slash commands', () => {
  it('parses known commands and leaves everything else as text', () => {
    expect(parseSlashCommand('/fix the loop')).toEqual({ command: 'fix', text: 'the loop' });
    expect(parseSlashCommand('  /explain ')).toEqual({ command: 'explain', text: '' });
    expect(parseSlashCommand('/unknown x')).toEqual({ command: null, text: '/unknown x' });
    expect(parseSlashCommand('path/to/file')).toEqual({ command: null, text: 'path/to/file' });
    expect(requestText('/tests')).toBe('Write unit tests for this code.');
    expect(requestText('/doc in numpy style')).toBe('Write documentation for this code: in numpy style');
  });
});

describe('buildPrompt', () => {
  it('puts the system prompt first and the request last, with its attachments', async () => {
    const prompt = await buildPrompt([], { content: '/explain', attachments: [{ id: 'a', kind: 'selection', label: 'x.py:1-2', fileName: 'x.py', language: 'python', text: 'x = 1' }] }, wordCounter(), 1000);
    expect(prompt.messages[0]).toEqual({ role: 'system', content: SYSTEM_PROMPT });
    expect(prompt.messages.at(-1)!.content).toBe('Explain this code.\n\nx.py:1-2 (python):\n```python\nx = 1\n```');
    expect(prompt.trimmedNote).toBeUndefined();
  });

  it('keeps the newest turns that fit and says how many were left out, in one round trip to the tokenizer', async () => {
    const history = Array.from({ length: 10 }, (_, i) => entry(i % 2 ? 'assistant' : 'user', `turn ${i} ` + 'word '.repeat(20)));
    const counter = wordCounter();
    const prompt = await buildPrompt(history, { content: 'latest question' }, counter, 120);
    expect(counter.calls).toBe(1);
    const kept = prompt.messages.slice(1, -1);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(10);
    expect(kept[0]!.role).toBe('user'); // never starts with an orphan reply
    expect(kept.at(-1)!.content).toContain('turn 9');
    expect(prompt.trimmedNote).toMatch(new RegExp(`^${10 - kept.length} older messages left out`));
    const total = prompt.messages.reduce((sum, m) => sum + words(m.content) + 4, 0);
    expect(total).toBeLessThanOrEqual(120);
  });

  it('truncates attachments that do not fit and says so', async () => {
    const big = Array.from({ length: 500 }, (_, i) => `line ${i}`).join('\n');
    const prompt = await buildPrompt([], { content: 'what is this', attachments: [{ id: 'a', kind: 'file', label: 'big.txt', fileName: 'big.txt', language: 'plaintext', text: big }] }, wordCounter(), 200);
    const last = prompt.messages.at(-1)!.content;
    expect(last.startsWith('what is this')).toBe(true);
    expect(last).toContain('[… truncated]');
    expect(words(last)).toBeLessThan(200);
    expect(prompt.trimmedNote).toMatch(/truncated to fit/);
  });

  it('skips failed replies in the history', async () => {
    const prompt = await buildPrompt([entry('user', 'q1'), entry('assistant', 'broken', 'error')], { content: 'q2' }, wordCounter(), 1000);
    expect(prompt.messages.map((m) => m.content)).not.toContain('broken');
  });

  it('truncateToTokens cuts at a line end within the budget', () => {
    const text = 'a b c\nd e f\ng h i';
    expect(truncateToTokens(text, 7, words)).toBe('a b c\nd e f');
    expect(truncateToTokens(text, 100, words)).toBe(text);
  });
});

describe('validateWebviewMessage', () => {
  it('accepts every well-formed message', () => {
    const good = [
      { type: 'ready' }, { type: 'send', text: 'hi' }, { type: 'stop' }, { type: 'regenerate' }, { type: 'editLast', text: 'x' },
      { type: 'retry' }, { type: 'newChat' }, { type: 'openConversation', id: 'abc-1' }, { type: 'deleteConversation', id: 'abc_2' },
      { type: 'attach', kind: 'file' }, { type: 'removeAttachment', id: 'z' }, { type: 'draft', text: '' },
      { type: 'codeAction', action: 'insert', code: 'x = 1', language: 'python' },
    ];
    for (const message of good) expect(validateWebviewMessage(message), JSON.stringify(message)).toEqual(message);
  });

  it('rejects malformed messages and strips unknown fields', () => {
    const bad: unknown[] = [
      null, 42, 'send', [], {}, { type: 'nope' }, { type: 'send' }, { type: 'send', text: '   ' }, { type: 'send', text: 7 },
      { type: 'openConversation', id: '../../etc/passwd' }, { type: 'attach', kind: 'disk' },
      { type: 'codeAction', action: 'rm -rf', code: '', language: 'x' }, { type: 'codeAction', action: 'copy', code: 1, language: 'x' },
      { type: 'send', text: 'x'.repeat(1_000_001) }, { type: '__proto__' },
    ];
    for (const message of bad) expect(validateWebviewMessage(message), JSON.stringify(message)?.slice(0, 80)).toBeNull();
    expect(validateWebviewMessage({ type: 'send', text: 'hi', extra: { evil: true } })).toEqual({ type: 'send', text: 'hi' });
  });

  it('accepts the welcome\'s two setup actions and nothing else under that type', () => {
    expect(validateWebviewMessage({ type: 'setup', action: 'selectModel' })).toEqual({ type: 'setup', action: 'selectModel' });
    expect(validateWebviewMessage({ type: 'setup', action: 'addModelServer', url: 'http://evil' })).toEqual({ type: 'setup', action: 'addModelServer' });
    for (const action of ['workbench.action.terminal.new', undefined, 1, 'selectmodel']) expect(validateWebviewMessage({ type: 'setup', action })).toBeNull();
  });

  it('never throws on random input (fuzzed)', () => {
    const random = createRandom(99);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
    const values = (): unknown => pick([null, undefined, 0, -1, NaN, '', 'x', 'send', 'codeAction', true, [], {}, { type: 'send' }, '\u0000', 'a'.repeat(70)]);
    const types = ['ready', 'send', 'stop', 'codeAction', 'openConversation', 'attach', 'draft', 'x', '', 'constructor'];
    for (let i = 0; i < 5000; i++) {
      const message: Record<string, unknown> = { type: random() < 0.9 ? pick(types) : values() };
      for (const key of ['text', 'id', 'kind', 'action', 'code', 'language']) if (random() < 0.5) message[key] = values();
      expect(() => validateWebviewMessage(message)).not.toThrow();
    }
  });
});

describe('HistoryStore', () => {
  const folder = () => fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-history-'));
  const conversation = (id: string, updatedAt: number): Conversation => ({ id, title: id, createdAt: 1, updatedAt, entries: [entry('user', `hello ${id}`)] });

  it('persists conversations across instances, newest first, and deletes them', async () => {
    const dir = folder();
    const store = new HistoryStore(dir);
    store.save(conversation('a', 10));
    store.save(conversation('b', 20));
    store.save({ ...conversation('empty', 30), entries: [] }); // empty chats are not kept
    await store.flushed();
    const reopened = new HistoryStore(dir);
    expect(reopened.list().map((c) => c.id)).toEqual(['b', 'a']);
    expect(reopened.latest()?.id).toBe('b');
    expect(reopened.get('a')?.entries[0]?.content).toBe('hello a');
    reopened.delete('b');
    await reopened.flushed();
    expect(new HistoryStore(dir).list().map((c) => c.id)).toEqual(['a']);
  });

  it('writes off the caller\'s path: a burst of saves is one write of the newest state, then renamed into place', async () => {
    const dir = folder();
    const store = new HistoryStore(dir);
    const file = path.join(dir, 'chat-history.json');
    const rename = vi.spyOn(fs.promises, 'rename');
    try {
      for (let i = 0; i < 50; i++) store.save(conversation('a', i));
      expect(fs.existsSync(file)).toBe(false); // nothing written synchronously
      await store.flushed();
      expect(rename).toHaveBeenCalledTimes(1);
      expect(rename.mock.calls[0]![1]).toBe(file);
    } finally {
      rename.mockRestore();
    }
    expect(new HistoryStore(dir).get('a')?.updatedAt).toBe(49);
    expect(fs.readdirSync(dir)).toEqual(['chat-history.json']); // no temporary file left
  });

  it('never leaves a half-written file: a process killed while it writes leaves the old history or the new, whole', async () => {
    // The store bundled alone (it imports no vscode), in a child process that saves a 1 MB conversation in a loop.
    const dir = folder();
    const bundle = path.join(dir, 'store.cjs');
    await build({ entryPoints: [path.resolve(__dirname, '../../src/extension/chat/historyStore.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'error' });
    const script = `
      const { HistoryStore } = require(${JSON.stringify(bundle)});
      const store = new HistoryStore(${JSON.stringify(dir)});
      const text = 'y = 2\\n'.repeat(170000);
      let i = 0;
      (async () => {
        for (;;) {
          store.save({ id: 'big', title: 'big', createdAt: 1, updatedAt: ++i, entries: [{ id: 'u', role: 'user', content: text, status: 'done' }] });
          await store.flushed();
          if (i === 2) process.stdout.write('writing\\n');
        }
      })();`;
    for (let attempt = 0; attempt < 3; attempt++) {
      const writer = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => writer.stdout.once('data', () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 50 + 40 * attempt));
      writer.kill('SIGKILL');
      await new Promise((resolve) => writer.once('exit', resolve));
      const reopened = new HistoryStore(dir);
      expect(reopened.notice).toBeUndefined(); // the file parsed: never set aside as corrupt
      expect(reopened.get('big')?.entries[0]?.content).toHaveLength(170000 * 6);
    }
  });

  it('stores a conversation within its size cap: older attachments lose their text first, then the oldest turns', async () => {
    const dir = folder();
    const store = new HistoryStore(dir);
    const big = 'x = 1\n'.repeat(200_000); // 1.2 MB
    const attachment = (id: string) => ({ id, kind: 'file' as const, label: `${id}.py`, fileName: `${id}.py`, language: 'python', text: big });
    const turns: ChatEntry[] = [];
    for (let i = 0; i < 3; i++) turns.push({ ...entry('user', `request ${i}`), attachments: [attachment(`f${i}`)] }, entry('assistant', `reply ${i}`));
    const long: Conversation = { id: 'long', title: 'long', createdAt: 1, updatedAt: 2, entries: turns };
    store.save(long);
    await store.flushed();
    expect(fs.statSync(path.join(dir, 'chat-history.json')).size).toBeLessThan(MAX_CONVERSATION_BYTES);
    const stored = new HistoryStore(dir).get('long')!;
    expect(stored.entries.map((e) => e.content)).toEqual(['request 0', 'reply 0', 'request 1', 'reply 1', 'request 2', 'reply 2']);
    expect(stored.entries[0]!.attachments![0]).toMatchObject({ text: '', cut: { keptLines: 0, totalLines: 200_001 } });
    expect(stored.entries[4]!.attachments![0]!.text).toBe(big); // the newest request keeps its attachment
    expect(long.entries[0]!.attachments![0]!.text).toBe(big); // the conversation on screen keeps everything
  });

  it('sets a corrupt file aside, starts clean and says so', () => {
    const dir = folder();
    fs.writeFileSync(path.join(dir, 'chat-history.json'), '{"version":1,"conversations":[{"id":');
    const store = new HistoryStore(dir);
    expect(store.list()).toEqual([]);
    expect(store.notice).toMatch(/unreadable; it was kept as chat-history\.json\.corrupt-\d+/);
    const backups = fs.readdirSync(dir).filter((f) => f.startsWith('chat-history.json.corrupt-'));
    expect(backups).toHaveLength(1);
    expect(fs.readFileSync(path.join(dir, backups[0]!), 'utf8')).toContain('"conversations"');
  });

  it('titles come from the first request', () => {
    expect(titleFrom('  explain\n this   code ')).toBe('explain this code');
    expect(titleFrom('x'.repeat(100))).toHaveLength(58);
  });
});

describe('enclosing block', () => {
  const python = ['import os', '', 'def outer(a):', '    x = a + 1', '', '    def inner():', '        return x', '    return inner', '', 'print(outer(1))'];
  it('finds the indentation block around a line', () => {
    expect(indentationBlock(python, 3)).toEqual({ start: 2, end: 7 });
    expect(indentationBlock(python, 6)).toEqual({ start: 5, end: 6 });
    expect(indentationBlock(python, 2)).toEqual({ start: 2, end: 7 });
    expect(indentationBlock(python, 9)).toEqual({ start: 9, end: 9 });
    expect(indentationBlock([], 0)).toBeUndefined();
  });

  it('includes a closing brace at the header indentation', () => {
    const ts = ['function f() {', '  return 1;', '}', 'f();'];
    expect(indentationBlock(ts, 1)).toEqual({ start: 0, end: 2 });
  });

  it('prefers the innermost function symbol', () => {
    const symbols = [{ start: 2, end: 7, kind: 'function' as const, children: [{ start: 5, end: 6, kind: 'function' as const }] }];
    expect(innermostSymbol(symbols, 6)).toEqual({ start: 5, end: 6 });
    expect(innermostSymbol(symbols, 3)).toEqual({ start: 2, end: 7 });
    expect(innermostSymbol(symbols, 9)).toBeUndefined();
  });
});

describe('typed @-mentions', () => {
  it('finds each mention with its argument, at a word\'s start, and skips malformed ones', () => {
    expect(parseMentions('/tests @file:src/math.ts and @problems')).toEqual([{ kind: 'file', argument: 'src/math.ts' }, { kind: 'problems' }]);
    expect(parseMentions('@folder:src @symbol:area @changes @open')).toEqual([
      { kind: 'folder', argument: 'src' },
      { kind: 'symbol', argument: 'area' },
      { kind: 'changes' },
      { kind: 'open' },
    ]);
    // A path is required for @file, none is taken by @problems; e-mail addresses and unknown kinds are text.
    expect(parseMentions('@file @problems:x me@file:x.ts @nothing:y')).toEqual([]);
  });

  it('says in the prompt how much of a several-file attachment is in it', () => {
    const folder = { id: 'a', kind: 'folder' as const, label: 'src/', fileName: 'src/', language: '', text: '--- src/a.py ---\nx = 1\n', parts: { kept: 1, total: 3, unit: 'files' as const } };
    expect(formatAttachment(folder)).toBe('src/ (only 1 of 3 files):\n```\n--- src/a.py ---\nx = 1\n\n```');
  });
});

describe('blockEndLine', () => {
  it('ends a definition where its indentation does, keeping a closing bracket at its own level', () => {
    const lines = ['def area(r):', '    x = r * r', '', '    return x', 'print(1)', 'function f() {', '  return 1;', '}', 'const y = 2;'];
    const at = (l: number) => lines[l]!;
    expect(blockEndLine(at, lines.length, 0)).toBe(3);
    expect(blockEndLine(at, lines.length, 5)).toBe(7);
    expect(blockEndLine(at, lines.length, 8)).toBe(8);
  });
});
