// The chat webview in a simulated DOM for the webview tests: a ChatApp whose acquireVsCodeApi is stubbed, every
// posted message captured, frames run by hand.

import type { ChatViewState, ViewEntry, WebviewMessage } from '../../src/protocol/chat';
import { ChatApp } from '../../webview/chat/app';
import { resetChatApiForTests } from '../../webview/chat/vscodeApi';

export function state(overrides: Partial<ChatViewState> = {}, entries: ViewEntry[] = []): ChatViewState {
  return {
    conversation: { id: 'c1', title: 'Fibonacci', createdAt: 0, updatedAt: 0, entries },
    runsOn: { kind: 'local', description: 'attentive-code-14m' },
    conversations: [{ id: 'c1', title: 'Fibonacci', updatedAt: Date.now(), messages: entries.length }],
    attachments: [],
    draft: '',
    model: { kind: 'ready', text: 'attentive-code-14m' },
    busy: false,
    ...overrides,
  };
}

export const user = (id: string, content: string): ViewEntry => ({ id, role: 'user', content, status: 'done' });
export const assistant = (id: string, content: string, extra: Partial<ViewEntry> = {}): ViewEntry => ({ id, role: 'assistant', content, status: 'done', ...extra });

export interface Harness {
  app: ChatApp;
  root: HTMLElement;
  posted: WebviewMessage[];
  saved: unknown[];
  frames: Array<() => void>;
  runFrames(): void;
  textarea(): HTMLTextAreaElement;
  key(target: Element, key: string, init?: KeyboardEventInit): KeyboardEvent;
  type(text: string): void;
}

export function harness(initial?: ChatViewState, persisted?: unknown): Harness {
  const posted: WebviewMessage[] = [];
  const saved: unknown[] = [];
  let acquired = 0;
  (globalThis as Record<string, unknown>)['acquireVsCodeApi'] = () => {
    acquired++;
    if (acquired > 1) throw new Error('acquireVsCodeApi called twice');
    return { postMessage: (m: WebviewMessage) => posted.push(m), getState: () => persisted, setState: (s: unknown) => saved.push(s) };
  };
  resetChatApiForTests();
  const root = document.createElement('div');
  root.id = 'app';
  document.body.replaceChildren(root);
  const frames: Array<() => void> = [];
  const app = new ChatApp(root, { schedule: (cb) => frames.push(cb) });
  app.start();
  if (initial) app.handle({ type: 'state', state: initial });
  const h: Harness = {
    app,
    root,
    posted,
    saved,
    frames,
    runFrames: () => frames.splice(0).forEach((f) => f()),
    textarea: () => root.querySelector('textarea.input') as HTMLTextAreaElement,
    key: (target, key, init = {}) => {
      const event = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init });
      target.dispatchEvent(event);
      return event;
    },
    type: (text) => {
      const t = h.textarea();
      t.value = text;
      t.dispatchEvent(new Event('input', { bubbles: true }));
    },
  };
  return h;
}
