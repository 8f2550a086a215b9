// The attention webview's handle on VS Code: typed postMessage (the contract in src/protocol/attention.ts) and the
// per-panel state VS Code keeps while the panel is hidden or reloaded (the chosen view, tab, zoom and overlays).

import type { AttentionViewKind, AttentionWebviewMessage } from '../../src/protocol/attention';

export type Tab = 'heatmap' | 'heads' | 'model' | 'summary';
export type Scale = 'linear' | 'sqrt';

export interface PersistedState {
  kind: AttentionViewKind;
  layer: number;
  head: number;
  tab: Tab;
  zoom: number;
  scale: Scale;
  surprise: boolean;
  /** Head view: every head of the layer at once. */
  allHeads: boolean;
}

export interface AttentionApi {
  postMessage(message: AttentionWebviewMessage): void;
  getState(): Partial<PersistedState> | undefined;
  setState(state: PersistedState): void;
}

interface RawVsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

let cached: AttentionApi | undefined;

/** acquireVsCodeApi may be called only once per page; outside VS Code messages go nowhere. */
export function getAttentionApi(): AttentionApi {
  if (cached) return cached;
  const acquire = (globalThis as { acquireVsCodeApi?: () => RawVsCodeApi }).acquireVsCodeApi;
  if (typeof acquire === 'function') {
    const raw = acquire();
    cached = {
      postMessage: (message) => raw.postMessage(message),
      getState: () => {
        const state = raw.getState();
        return typeof state === 'object' && state !== null ? (state as Partial<PersistedState>) : undefined;
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

/** For tests: forget the cached handle so the next getAttentionApi() acquires a fresh stub. */
export function resetAttentionApiForTests(): void {
  cached = undefined;
}
