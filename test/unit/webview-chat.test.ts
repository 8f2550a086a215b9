// @vitest-environment happy-dom
// The chat webview (webview/chat/) in a simulated DOM: the sanitizer, markdown with code-block toolbars, streaming,
// slash-command completion, the keyboard, history and the draft. acquireVsCodeApi is stubbed on globalThis and every
// posted message is captured.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostMessage } from '../../src/protocol/chat';
import { isHostMessage } from '../../webview/chat/app';
import { relativeTime } from '../../webview/chat/dom';
import { renderMarkdown, vscodeLanguageId } from '../../webview/chat/markdown';
import { formatStats, plainText } from '../../webview/chat/messages';
import { sanitizeHtml } from '../../webview/chat/sanitize';
import { matchSlashCommands } from '../../webview/chat/slash';
import { resetChatApiForTests } from '../../webview/chat/vscodeApi';
import { assistant, harness, state, user } from '../helpers/chatWebview';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function html(fragment: DocumentFragment): string {
  const div = document.createElement('div');
  div.append(fragment);
  return div.innerHTML;
}

afterEach(() => {
  delete (globalThis as Record<string, unknown>)['acquireVsCodeApi'];
  resetChatApiForTests();
});

describe('sanitizer', () => {
  it('drops script tags, event handlers, styles and unsafe links', () => {
    const out = sanitizeHtml(
      '<p onclick="steal()" style="color:red">hi<script>alert(1)</script></p>' +
        '<a href="javascript:alert(1)">js link</a> <a href=" JAVASCRIPT:alert(1)">x</a>' +
        '<a href="https://example.com/a?b=1" onmouseover="steal()" target="_blank">web</a>' +
        '<img src="x" onerror="alert(1)" alt="a picture"><iframe src="https://evil"></iframe>' +
        '<form action="https://evil"><input value="1"><button>b</button>kept</form><!-- comment -->' +
        '<style>body{display:none}</style><svg><script>alert(2)</script></svg><math><mi>x</mi></math>',
    );
    const div = document.createElement('div');
    div.append(out);
    expect(div.querySelector('script, style, iframe, img, svg, math, form, input, button')).toBeNull();
    for (const node of Array.from(div.querySelectorAll('*'))) {
      for (const attr of Array.from(node.attributes)) {
        expect(attr.name.startsWith('on')).toBe(false);
        expect(attr.name).not.toBe('style');
        expect(attr.name).not.toBe('target');
      }
    }
    const links = Array.from(div.querySelectorAll('a'));
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['https://example.com/a?b=1']);
    expect(links[0]!.getAttribute('title')).toBe('https://example.com/a?b=1');
    expect(links[0]!.getAttribute('rel')).toBe('noopener noreferrer');
    expect(div.textContent).toContain('js link');
    expect(div.textContent).toContain('a picture');
    expect(div.textContent).toContain('kept');
    expect(div.textContent).not.toContain('alert');
    expect(div.innerHTML).not.toContain('comment');
    expect(div.querySelector('p')!.textContent).toBe('hi');
  });

  it('keeps code blocks, highlight spans and table alignment, and filters classes', () => {
    const out = html(
      sanitizeHtml(
        '<pre><code class="language-python"><span class="hljs-keyword">def</span> <span class="hljs-title function_" style="x">f</span>' +
          '<span class="evil hljs-string">"s"</span></code></pre><table><tr><td style="text-align:right">1</td></tr></table><div class="x">unwrapped</div>',
      ),
    );
    expect(out).toContain('<pre><code class="language-python"><span class="hljs-keyword">def</span>');
    expect(out).toContain('<span class="hljs-title function_">f</span>');
    expect(out).toContain('<span class="hljs-string">"s"</span>');
    expect(out).toContain('<td class="align-right">1</td>');
    expect(out).not.toContain('<div');
    expect(out).toContain('unwrapped');
  });
});

describe('markdown', () => {
  const noop = () => undefined;

  it('shows raw HTML in markdown as text, never as elements', () => {
    const div = document.createElement('div');
    div.append(renderMarkdown('Hello <script>alert(1)</script> <b onmouseover="x()">bold</b>\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1))', noop));
    expect(div.querySelector('script, b, img')).toBeNull();
    expect(div.querySelector('a')).toBeNull();
    expect(div.textContent).toContain('<script>alert(1)</script>');
    expect(div.textContent).toContain('<b onmouseover="x()">bold</b>');
  });

  it('highlights fenced code and keeps inline markdown', () => {
    const div = document.createElement('div');
    div.append(renderMarkdown('Use **this**:\n\n```python\ndef f(n):\n    return n + 1  # one\n```\n', noop));
    expect(div.querySelector('strong')!.textContent).toBe('this');
    expect(div.querySelector('.code-block pre code.language-python .hljs-keyword')!.textContent).toBe('def');
    expect(div.querySelector('.hljs-comment')!.textContent).toBe('# one');
    expect(div.querySelector('.code-language')!.textContent).toBe('python');
  });

  it('maps fence words to VS Code language ids', () => {
    expect(vscodeLanguageId('py')).toBe('python');
    expect(vscodeLanguageId('sh')).toBe('shellscript');
    expect(vscodeLanguageId('c++')).toBe('cpp');
    expect(vscodeLanguageId('yaml')).toBe('yaml');
    expect(vscodeLanguageId('"><x')).toBe('');
    expect(vscodeLanguageId('')).toBe('');
  });

  it('gives each of two code blocks a toolbar whose buttons post codeAction with that block', () => {
    const reply = 'Two files:\n\n```py\nprint("a < b")\n```\n\nand\n\n```ts\nconst x: number = 1;\n```\n';
    const h = harness(state({}, [user('u1', 'write code'), assistant('a1', reply)]));
    const toolbars = h.root.querySelectorAll('.entry-assistant .code-toolbar');
    expect(toolbars).toHaveLength(2);
    const click = (bar: Element, action: string) => (bar.querySelector(`button[data-action="${action}"]`) as HTMLButtonElement).click();
    h.posted.length = 0;
    click(toolbars[0]!, 'copy');
    click(toolbars[0]!, 'apply');
    click(toolbars[0]!, 'insert');
    click(toolbars[1]!, 'replace');
    click(toolbars[1]!, 'newFile');
    // Each names its reply: Apply looks for where the code belongs in that reply's request's attachments.
    expect(h.posted).toEqual([
      { type: 'codeAction', action: 'copy', code: 'print("a < b")\n', language: 'python', entryId: 'a1' },
      { type: 'codeAction', action: 'apply', code: 'print("a < b")\n', language: 'python', entryId: 'a1' },
      { type: 'codeAction', action: 'insert', code: 'print("a < b")\n', language: 'python', entryId: 'a1' },
      { type: 'codeAction', action: 'replace', code: 'const x: number = 1;\n', language: 'typescript', entryId: 'a1' },
      { type: 'codeAction', action: 'newFile', code: 'const x: number = 1;\n', language: 'typescript', entryId: 'a1' },
    ]);
    for (const b of Array.from(toolbars[0]!.querySelectorAll('button'))) expect(b.getAttribute('aria-label')).toBeTruthy();
    // The CSP blocks inline styles and handlers: the view must use none.
    for (const node of Array.from(h.root.querySelectorAll('*'))) {
      expect(node.hasAttribute('style')).toBe(false);
      expect(Array.from(node.attributes).some((a) => a.name.startsWith('on'))).toBe(false);
    }
  });
});

describe('chat view', () => {
  it('on the bundled model, the welcome says what it is and offers a download or a model server, one click each', () => {
    const h = harness(state({ runsOn: { kind: 'bundled', description: 'attentive-code-14m' } }));
    const welcome = h.root.querySelector('.welcome')!;
    expect(welcome.textContent).toContain('answers questions poorly');
    const actions = Array.from(welcome.querySelectorAll<HTMLButtonElement>('.welcome-actions button'));
    expect(actions.map((b) => b.textContent)).toEqual(['Download a model', 'Connect a model server']);
    actions[0]!.click();
    actions[1]!.click();
    expect(h.posted.filter((m) => m.type === 'setup')).toEqual([
      { type: 'setup', action: 'selectModel' },
      { type: 'setup', action: 'addModelServer' },
    ]);
    // Once the chat runs on a server, the welcome says where and offers nothing.
    h.app.handle({ type: 'state', state: state({ runsOn: { kind: 'server', description: 'qwen2.5-coder:7b at 127.0.0.1:11434' } }) });
    expect(h.root.querySelector('.welcome')!.textContent).toContain('The chat runs on qwen2.5-coder:7b at 127.0.0.1:11434.');
    expect(h.root.querySelector('.welcome-actions')).toBeNull();
  });

  beforeEach(() => {
    document.body.replaceChildren();
  });

  it('posts ready and shows only a skeleton until the first state', () => {
    const h = harness();
    expect(h.posted).toEqual([{ type: 'ready' }]);
    expect(h.root.querySelector('.skeleton')).not.toBeNull();
    expect(h.root.querySelector('.messages')).toBeNull();
    h.app.handle({ type: 'state', state: state() });
    expect(h.root.querySelector('.skeleton')).toBeNull();
    const log = h.root.querySelector('.messages')!;
    expect(log.getAttribute('role')).toBe('log');
    expect(log.getAttribute('aria-live')).toBe('polite');
    expect(h.root.querySelector('.title')!.textContent).toBe('Fibonacci');
    expect(h.root.querySelector('.welcome')).not.toBeNull();
  });

  it('accumulates streamed deltas into the right entry, re-rendering once per frame', async () => {
    const entries = [user('u1', 'first'), assistant('a1', 'Old reply'), user('u2', 'hello'), assistant('a2', '', { status: 'queued' })];
    const h = harness(state({ busy: true }, entries));
    const a2 = () => h.root.querySelector('[data-entry-id="a2"]') as HTMLElement;
    expect(a2().textContent).toContain('Queued…');
    expect(a2().getAttribute('aria-busy')).toBe('true');
    h.app.handle({ type: 'delta', entryId: 'a2', text: 'Hel' });
    h.app.handle({ type: 'delta', entryId: 'a2', text: 'lo **wor' });
    h.app.handle({ type: 'delta', entryId: 'a2', text: 'ld**' });
    h.app.handle({ type: 'delta', entryId: 'nope', text: 'lost' });
    expect(h.frames).toHaveLength(1);
    expect(a2().querySelector('.entry-body')!.textContent).toContain('Queued…');
    h.runFrames();
    expect(a2().querySelector('.entry-body strong')!.textContent).toBe('world');
    expect(a2().querySelector('.entry-body')!.textContent!.trim()).toBe('Hello world');
    expect(a2().querySelector('.caret')).not.toBeNull();
    expect(h.root.querySelector('[data-entry-id="a1"] .entry-body')!.textContent!.trim()).toBe('Old reply');
    expect(h.app.messages!.entry('a2')!.content).toBe('Hello **world**');
    // Busy: Stop shows, Regenerate and Edit do not.
    expect((h.root.querySelector('.stop') as HTMLElement).hidden).toBe(false);
    expect(h.root.querySelector('[aria-label="Regenerate reply"]')).toBeNull();

    h.app.handle({
      type: 'entry',
      entry: assistant('a2', 'Hello **world**', { stats: { model: 'attentive-code-14m', promptTokens: 20, generatedTokens: 3, timeToFirstTokenMs: 180.4, tokensPerSecond: 31.46, trimmedNote: '2 older messages left out' } }),
    });
    h.runFrames();
    expect(a2().getAttribute('aria-busy')).toBeNull();
    expect(a2().querySelector('.caret')).toBeNull();
    expect(a2().querySelector('.stats')!.textContent).toBe('attentive-code-14m · 3 tokens · first token 180 ms · 31.5 tok/s');
    expect(a2().querySelector('.trimmed-note')!.textContent).toBe('2 older messages left out');
    expect((h.root.querySelector('.stop') as HTMLElement).hidden).toBe(true);
    await sleep(80);
    expect(h.root.querySelector('.visually-hidden[aria-live]')!.textContent).toBe('Attentive replied: Hello world');
    // The last reply can be regenerated, the last user message edited.
    h.posted.length = 0;
    (a2().querySelector('[aria-label="Regenerate reply"]') as HTMLButtonElement).click();
    expect(h.posted).toEqual([{ type: 'regenerate' }]);
    expect(h.root.querySelector('[data-entry-id="a1"] [aria-label="Regenerate reply"]')).toBeNull();
    expect(h.root.querySelector('[data-entry-id="u1"] [aria-label="Edit message"]')).toBeNull();
  });

  it('shows stopped and error replies, with Retry on the failed one', () => {
    const h = harness(state({}, [user('u1', 'a'), assistant('a1', 'partial text', { status: 'stopped' }), user('u2', 'b'), assistant('a2', '', { status: 'error', error: 'The model failed to load.' })]));
    expect(h.root.querySelector('[data-entry-id="a1"] .entry-body')!.textContent!.trim()).toBe('partial text');
    expect(h.root.querySelector('[data-entry-id="a1"] .stopped')!.textContent).toBe('Stopped');
    expect(h.root.querySelector('[data-entry-id="a2"] .entry-error')!.textContent).toBe('The model failed to load.');
    h.posted.length = 0;
    (h.root.querySelector('[data-entry-id="a2"] .retry') as HTMLButtonElement).click();
    expect(h.posted).toEqual([{ type: 'retry' }]);
  });

  it('edits the last user message: Enter resends it as editLast, Escape cancels', () => {
    const h = harness(state({}, [user('u1', 'old question'), assistant('a1', 'answer')]));
    (h.root.querySelector('[data-entry-id="u1"] [aria-label="Edit message"]') as HTMLButtonElement).click();
    let edit = h.root.querySelector('[data-entry-id="u1"] textarea') as HTMLTextAreaElement;
    expect(edit.value).toBe('old question');
    h.key(edit, 'Escape');
    expect(h.root.querySelector('[data-entry-id="u1"] textarea')).toBeNull();
    (h.root.querySelector('[data-entry-id="u1"] [aria-label="Edit message"]') as HTMLButtonElement).click();
    edit = h.root.querySelector('[data-entry-id="u1"] textarea') as HTMLTextAreaElement;
    edit.value = 'new question';
    h.posted.length = 0;
    h.key(edit, 'Enter', { shiftKey: true });
    expect(h.posted).toEqual([]);
    h.key(edit, 'Enter');
    expect(h.posted).toEqual([{ type: 'editLast', text: 'new question' }]);
  });

  it('Enter sends, Shift+Enter does not, Escape stops only while busy, ArrowUp recalls', () => {
    const h = harness(state({}, [user('u1', 'previous question'), assistant('a1', 'ok')]));
    const t = h.textarea();
    h.posted.length = 0;
    expect(h.key(t, 'Enter').defaultPrevented).toBe(true);
    expect(h.posted).toEqual([]); // nothing typed
    h.type('line one');
    expect(h.key(t, 'Enter', { shiftKey: true }).defaultPrevented).toBe(false);
    expect(h.posted).toEqual([]);
    h.type('/fix the loop\n');
    h.key(t, 'Enter');
    expect(h.posted).toEqual([{ type: 'send', text: '/fix the loop\n' }]); // the host never had a draft to clear
    expect(t.value).toBe('');
    expect(document.activeElement).toBe(t);

    h.posted.length = 0;
    h.key(t, 'Escape');
    expect(h.posted).toEqual([]);
    h.app.handle({ type: 'state', state: state({ busy: true }, [user('u1', 'previous question'), assistant('a1', 'ok'), user('u2', 'x'), assistant('a2', '', { status: 'streaming' })]) });
    h.key(t, 'Escape');
    expect(h.posted).toEqual([{ type: 'stop' }]);
    (h.root.querySelector('.stop') as HTMLButtonElement).click();
    expect(h.posted).toEqual([{ type: 'stop' }, { type: 'stop' }]);

    const up = h.key(t, 'ArrowUp');
    expect(up.defaultPrevented).toBe(true);
    expect(t.value).toBe('x');
    expect(h.key(t, 'ArrowUp').defaultPrevented).toBe(false); // not empty any more: the caret moves
  });

  it('completes slash commands with arrows, Enter/Tab, and closes on Escape', () => {
    expect(matchSlashCommands('/').map((c) => c.name)).toEqual(['explain', 'fix', 'doc', 'tests', 'clear']);
    expect(matchSlashCommands('/e').map((c) => c.name)).toEqual(['explain', 'tests', 'clear']); // prefix first
    expect(matchSlashCommands('/ex').map((c) => c.name)).toEqual(['explain']);
    expect(matchSlashCommands('/x').map((c) => c.name)).toEqual(['explain', 'fix']);
    expect(matchSlashCommands('/T').map((c) => c.name)).toEqual(['tests']);
    expect(matchSlashCommands('/explain the loop')).toEqual([]);
    expect(matchSlashCommands('explain')).toEqual([]);
    expect(matchSlashCommands(' /e')).toEqual([]);
    expect(matchSlashCommands('/zzz')).toEqual([]);

    const h = harness(state());
    const t = h.textarea();
    const menu = h.root.querySelector('.slash-menu') as HTMLElement;
    h.type('/');
    expect(menu.hidden).toBe(false);
    expect(t.getAttribute('aria-expanded')).toBe('true');
    expect(Array.from(menu.querySelectorAll('.slash-name')).map((n) => n.textContent)).toEqual(['/explain', '/fix', '/doc', '/tests', '/clear']);
    h.key(t, 'ArrowDown');
    h.key(t, 'ArrowDown');
    h.key(t, 'ArrowUp');
    expect(menu.querySelector('[aria-selected="true"] .slash-name')!.textContent).toBe('/fix');
    h.posted.length = 0;
    h.key(t, 'Enter');
    expect(t.value).toBe('/fix ');
    expect(menu.hidden).toBe(true);
    expect(h.posted.filter((m) => m.type === 'send')).toEqual([]);

    h.type('/d');
    h.key(t, 'Tab');
    expect(t.value).toBe('/doc ');

    h.type('/c');
    expect(menu.hidden).toBe(false);
    const esc = h.key(t, 'Escape');
    expect(esc.defaultPrevented).toBe(true);
    expect(menu.hidden).toBe(true);
    h.type('/cl');
    expect(menu.hidden).toBe(false);

    // A command typed in full: Enter sends it as typed.
    h.type('/clear');
    h.key(t, 'Enter');
    expect(h.posted.filter((m) => m.type === 'send')).toEqual([{ type: 'send', text: '/clear' }]);
  });

  it('saves the draft (debounced) and restores it', async () => {
    const h = harness(state());
    h.posted.length = 0;
    h.type('half a tho');
    h.type('half a thought');
    expect(h.posted).toEqual([]);
    await sleep(400);
    expect(h.posted).toEqual([{ type: 'draft', text: 'half a thought' }]);
    expect(h.saved.at(-1)).toMatchObject({ draft: 'half a thought', conversationId: 'c1' });

    // The host's draft wins on load; otherwise the webview's own copy is restored and handed to the host.
    const fromHost = harness(state({ draft: 'from host' }), { draft: 'from webview', scrollTop: 0, pinned: true });
    expect(fromHost.textarea().value).toBe('from host');
    const fromWebview = harness(state({ draft: '' }), { draft: 'from webview', scrollTop: 0, pinned: true });
    expect(fromWebview.textarea().value).toBe('from webview');
    expect(fromWebview.posted).toContainEqual({ type: 'draft', text: 'from webview' });
  });

  it('shows attachments with remove buttons, attach buttons, model status and focusInput', () => {
    const attachment = { id: 'att1', kind: 'selection' as const, label: 'fib.py:3-9', fileName: 'fib.py', language: 'python', text: 'x' };
    const h = harness(state({ attachments: [attachment], model: { kind: 'loading', text: 'Loading attentive-code-14m…' } }, [{ ...user('u1', 'explain'), attachments: [attachment] }]));
    expect(h.root.querySelector('.composer .chip-label')!.textContent).toBe('fib.py:3-9');
    expect(h.root.querySelector('[data-entry-id="u1"] .chip.compact')!.textContent).toBe('fib.py:3-9');
    expect((h.root.querySelector('.progress') as HTMLElement).hidden).toBe(false);
    expect(h.root.querySelector('.model-status')!.textContent).toBe('Loading attentive-code-14m…');
    h.posted.length = 0;
    (h.root.querySelector('.composer [aria-label="Remove fib.py:3-9"]') as HTMLButtonElement).click();
    (h.root.querySelector('[aria-label="Attach selection"]') as HTMLButtonElement).click();
    (h.root.querySelector('[aria-label="Attach file"]') as HTMLButtonElement).click();
    expect(h.posted).toEqual([
      { type: 'removeAttachment', id: 'att1' },
      { type: 'attach', kind: 'selection' },
      { type: 'attach', kind: 'file' },
    ]);
    h.app.handle({ type: 'model', model: { kind: 'ready', text: 'attentive-code-14m' } });
    expect((h.root.querySelector('.progress') as HTMLElement).hidden).toBe(true);
    (document.activeElement as HTMLElement | null)?.blur();
    h.app.handle({ type: 'focusInput' });
    expect(document.activeElement).toBe(h.textarea());
  });

  it('lists conversations in History; opens one; deletes only after confirming', () => {
    const now = Date.now();
    const h = harness(
      state({
        conversations: [
          { id: 'c1', title: 'Fibonacci', updatedAt: now - 5 * 60_000, messages: 4 },
          { id: 'c2', title: 'Regex help', updatedAt: now - 2 * 86_400_000, messages: 1 },
        ],
      }),
    );
    (h.root.querySelector('[aria-label="Chat history"]') as HTMLButtonElement).click();
    const rows = Array.from(h.root.querySelectorAll('.history-item'));
    expect(rows.map((r) => r.querySelector('.history-item-title')!.textContent)).toEqual(['Fibonacci', 'Regex help']);
    expect(rows[0]!.querySelector('.history-item-meta')!.textContent).toBe('5 min ago · 4 messages');
    expect(rows[1]!.querySelector('.history-item-meta')!.textContent).toBe('2 days ago · 1 message');
    expect(rows[0]!.classList.contains('current')).toBe(true);
    h.posted.length = 0;
    (rows[0]!.querySelector('.history-open') as HTMLButtonElement).click();
    expect(h.posted).toEqual([{ type: 'openConversation', id: 'c1' }]);
    expect((h.root.querySelector('.history') as HTMLElement).hidden).toBe(true);
    (h.root.querySelector('[aria-label="Chat history"]') as HTMLButtonElement).click();
    h.posted.length = 0;
    (h.root.querySelectorAll('.history-item')[1]!.querySelector('.history-delete') as HTMLButtonElement).click();
    expect(h.posted).toEqual([]);
    const confirming = h.root.querySelector('.history-item.confirming')!;
    expect(confirming.textContent).toContain('Delete “Regex help”?');
    (confirming.querySelector('.secondary') as HTMLButtonElement).click();
    expect(h.posted).toEqual([]);
    expect(h.root.querySelector('.history-item.confirming')).toBeNull();
    (h.root.querySelectorAll('.history-item')[1]!.querySelector('.history-delete') as HTMLButtonElement).click();
    (h.root.querySelector('.history-item.confirming .danger') as HTMLButtonElement).click();
    expect(h.posted).toEqual([{ type: 'deleteConversation', id: 'c2' }]);
    expect(Array.from(h.root.querySelectorAll('.history-item-title')).map((n) => n.textContent)).toEqual(['Fibonacci']);
    h.key(h.root.querySelector('.history-open')!, 'Escape');
    expect((h.root.querySelector('.history') as HTMLElement).hidden).toBe(true);
    (h.root.querySelector('[aria-label="New chat"]') as HTMLButtonElement).click();
    expect(h.posted.at(-1)).toEqual({ type: 'newChat' });
  });
});

describe('helpers', () => {
  it('formats relative times, stats and announcement text', () => {
    const now = 1_700_000_000_000;
    expect(relativeTime(now - 10_000, now)).toBe('just now');
    expect(relativeTime(now - 3 * 3_600_000, now)).toBe('3 h ago');
    expect(relativeTime(now - 86_400_000, now)).toBe('yesterday');
    expect(relativeTime(now - 30 * 86_400_000, now)).toMatch(/\d/);
    expect(formatStats({ model: 'm', promptTokens: 1, generatedTokens: 1, timeToFirstTokenMs: 12.6, tokensPerSecond: 9 })).toBe('m · 1 token · first token 13 ms · 9.0 tok/s');
    expect(plainText('# Title\n\n```py\nx = 1\n```\n**bold**')).toBe('Title x = 1 bold');
  });

  it('recognises host messages', () => {
    const ok: HostMessage = { type: 'focusInput' };
    expect(isHostMessage(ok)).toBe(true);
    expect(isHostMessage({ type: 'evil' })).toBe(false);
    expect(isHostMessage(null)).toBe(false);
  });
});
