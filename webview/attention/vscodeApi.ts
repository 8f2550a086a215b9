// The attention webview's handle on VS Code: typed postMessage (the contract in src/protocol/attention.ts) and the
// per-panel state VS Code keeps while the panel is hidden or reloaded (the chosen view, tab, zoom and overlays).

import type { AttentionViewKind, AttentionWebviewMessage } from '../../src/protocol/attention';
import { acquireWebviewApi, type WebviewApi } from '../shared/vscodeApi';

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

export type AttentionApi = WebviewApi<AttentionWebviewMessage, Partial<PersistedState>>;

let cached: AttentionApi | undefined;

/** The page's one handle (acquireVsCodeApi may be called only once per page). */
export function getAttentionApi(): AttentionApi {
  cached ??= acquireWebviewApi<AttentionWebviewMessage, Partial<PersistedState>>((state) =>
    typeof state === 'object' && state !== null ? (state as Partial<PersistedState>) : undefined,
  );
  return cached;
}

/** For tests: forget the cached handle so the next getAttentionApi() acquires a fresh stub. */
export function resetAttentionApiForTests(): void {
  cached = undefined;
}
