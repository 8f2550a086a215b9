// @vitest-environment happy-dom
// The chat webview's chips and @-mentions (webview/chat/) in a simulated DOM: token counts on chips, the @ menu, and
// chips that open what they hold.

import { afterEach, describe, expect, it } from 'vitest';
import { matchMentions } from '../../webview/chat/slash';
import { resetChatApiForTests } from '../../webview/chat/vscodeApi';
import { harness, state, user } from '../helpers/chatWebview';

afterEach(() => {
  delete (globalThis as Record<string, unknown>)['acquireVsCodeApi'];
  resetChatApiForTests();
});

describe('chips and mentions', () => {
  it('shows each attachment\'s size in tokens once counted: exact, estimated (~) for a model server, and marked when over the context', () => {
    const base = { kind: 'file' as const, fileName: 'big.py', language: 'python' };
    const exact = { ...base, id: 'a1', label: 'a.py', tokens: { count: 1234, estimated: false, context: 2048 } };
    const estimated = { ...base, id: 'a2', label: 'b.py', tokens: { count: 1, estimated: true, context: 32768 } };
    const over = { ...base, id: 'a3', label: 'c.py', tokens: { count: 50000, estimated: false, context: 2048 } };
    const uncounted = { ...base, id: 'a4', label: 'd.py' };
    const h = harness(state({ attachments: [exact, estimated, over, uncounted] }, [{ ...user('u1', 'explain'), attachments: [exact] }]));
    const chips = Array.from(h.root.querySelectorAll<HTMLElement>('.composer .chip'));
    expect(chips.map((c) => c.querySelector('.chip-tokens')?.textContent ?? null)).toEqual(['1,234 tokens', '~1 token', '50,000 tokens', null]);
    expect(chips.map((c) => c.classList.contains('over-context'))).toEqual([false, false, true, false]);
    expect(chips[0]!.title).toBe('big.py: 1,234 tokens');
    expect(chips[2]!.title).toBe("big.py: 50,000 tokens: more than the model's 2,048-token context, so only its beginning is sent");
    expect(h.root.querySelector('[data-entry-id="u1"] .chip-tokens')!.textContent).toBe('1,234 tokens');
    // The count arrives after the chip was drawn (the host counts in the background): the sent request's chip redraws.
    h.app.handle({ type: 'entry', entry: { ...user('u1', 'explain'), attachments: [{ ...exact, tokens: { count: 99, estimated: false, context: 2048 } }] } });
    h.runFrames();
    expect(h.root.querySelector('[data-entry-id="u1"] .chip-tokens')!.textContent).toBe('99 tokens');
  });

  it('offers @-mentions at a word\'s start; picking one removes what was typed and asks the host for it; chips open what they hold', () => {
    expect(matchMentions('@').map((m) => m.name)).toEqual(['file', 'folder', 'symbol', 'problems', 'changes', 'open', 'workspace']);
    expect(matchMentions('tests for @f').map((m) => m.name)).toEqual(['file', 'folder']);
    expect(matchMentions('@ch').map((m) => m.name)).toEqual(['changes']);
    expect(matchMentions('mail me@f')).toEqual([]); // not at a word's start
    expect(matchMentions('@file:src/a.ts ')).toEqual([]);
    expect(matchMentions('@pro and more', 4).map((m) => m.name)).toEqual(['problems']); // up to the caret

    const h = harness(state());
    const t = h.textarea();
    const menu = h.root.querySelector('.slash-menu') as HTMLElement;
    h.type('/tests @fo');
    expect(Array.from(menu.querySelectorAll('.slash-name')).map((n) => n.textContent)).toEqual(['@folder']);
    h.posted.length = 0;
    h.key(t, 'Enter');
    expect(t.value).toBe('/tests ');
    expect(h.posted.filter((m) => m.type === 'mention' || m.type === 'send')).toEqual([{ type: 'mention', kind: 'folder' }]);

    // @workspace stays in the text: the question after it is what the search looks for.
    h.type('@wor');
    h.key(t, 'Enter');
    expect(t.value).toBe('@workspace ');
    expect(h.posted.filter((m) => m.type === 'mention')).toEqual([{ type: 'mention', kind: 'folder' }]);

    const folder = { id: 'm1', kind: 'folder' as const, label: 'src/', fileName: 'src/', language: '', parts: { kept: 12, total: 40, unit: 'files' as const } };
    h.app.handle({ type: 'state', state: state({ attachments: [folder] }, [{ ...user('u1', 'what is here?'), attachments: [folder] }]) });
    const chip = h.root.querySelector('.composer .chip') as HTMLElement;
    expect(chip.querySelector('.chip-label')!.textContent).toBe('src/ (12 of 40 files)');
    expect(chip.title).toBe('src/: only the first 12 of 40 files are sent (in path order, while they fit 200,000 characters)');
    h.posted.length = 0;
    (chip.querySelector('.chip-open') as HTMLButtonElement).click();
    (h.root.querySelector('[data-entry-id="u1"] .chip-open') as HTMLButtonElement).click();
    expect(h.posted).toEqual([
      { type: 'openAttachment', id: 'm1' },
      { type: 'openAttachment', id: 'm1' },
    ]);
  });
});
