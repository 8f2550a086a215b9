// The webview's handle on VS Code: typed postMessage (the contract in src/protocol/chat.ts) and the per-view state
// that VS Code keeps while the view is hidden or reloaded (getState/setState).

import type { WebviewMessage } from '../../src/protocol/chat';
import { acquireWebviewApi, type WebviewApi } from '../shared/vscodeApi';

/** What the webview remembers across hide/show and reloads, independent of the host. */
export interface PersistedState {
  draft: string;
  scrollTop: number;
  /** Whether the message list was scrolled to the bottom (then it stays pinned there). */
  pinned: boolean;
  conversationId?: string;
}

export type ChatApi = WebviewApi<WebviewMessage, PersistedState>;

function isPersistedState(value: unknown): value is PersistedState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['draft'] === 'string' && typeof v['scrollTop'] === 'number' && typeof v['pinned'] === 'boolean';
}

let cached: ChatApi | undefined;

/** The page's one handle (acquireVsCodeApi may be called only once per page). */
export function getChatApi(): ChatApi {
  cached ??= acquireWebviewApi<WebviewMessage, PersistedState>((state) => (isPersistedState(state) ? state : undefined));
  return cached;
}

/** For tests: forget the cached handle so the next getChatApi() acquires a fresh stub. */
export function resetChatApiForTests(): void {
  cached = undefined;
}
