// The webview's handle on VS Code: typed postMessage (the contract in src/protocol/chat.ts) and the per-view state
// that VS Code keeps while the view is hidden or reloaded (getState/setState).

import type { WebviewMessage } from '../../src/protocol/chat';

/** What the webview remembers across hide/show and reloads, independent of the host. */
export interface PersistedState {
  draft: string;
  scrollTop: number;
  /** Whether the message list was scrolled to the bottom (then it stays pinned there). */
  pinned: boolean;
  conversationId?: string;
}

export interface ChatApi {
  postMessage(message: WebviewMessage): void;
  getState(): PersistedState | undefined;
  setState(state: PersistedState): void;
}

interface RawVsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

function isPersistedState(value: unknown): value is PersistedState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['draft'] === 'string' && typeof v['scrollTop'] === 'number' && typeof v['pinned'] === 'boolean';
}

let cached: ChatApi | undefined;

/**
 * acquireVsCodeApi may be called only once per page, so the handle is cached. Outside VS Code (a test without a stub,
 * or the page opened on its own) messages go nowhere and the state lives in memory.
 */
export function getChatApi(): ChatApi {
  if (cached) return cached;
  const acquire = (globalThis as { acquireVsCodeApi?: () => RawVsCodeApi }).acquireVsCodeApi;
  if (typeof acquire === 'function') {
    const raw = acquire();
    cached = {
      postMessage: (message) => raw.postMessage(message),
      getState: () => {
        const state = raw.getState();
        return isPersistedState(state) ? state : undefined;
      },
      setState: (state) => raw.setState(state),
    };
  } else {
    let memory: PersistedState | undefined;
    cached = {
      postMessage: () => undefined,
      getState: () => memory,
      setState: (state) => {
        memory = state;
      },
    };
  }
  return cached;
}

/** For tests: forget the cached handle so the next getChatApi() acquires a fresh stub. */
export function resetChatApiForTests(): void {
  cached = undefined;
}
