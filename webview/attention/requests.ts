// What the view asks of the host: one view's matrix (numbered, so that only the answer to the latest request is
// painted), a query's row in every head of a layer (asked once per layer and query), and the active query, which the
// host decorates in the editor.

import { viewKey, type AttentionView } from '../../src/protocol/attention';
import type { AttentionState } from './state';
import type { AttentionApi } from './vscodeApi';

export class HostRequests {
  private matrixId = 0;
  /** When the latest matrix was asked for (0: never); benchmarks read the time to the answer. */
  requestedAt = 0;
  private lastHover: number | null | undefined;

  constructor(
    private readonly api: AttentionApi,
    private readonly state: AttentionState,
  ) {}

  /** Asks for the view's matrix (and re-sends the active query, so the editor's decorations follow the view). */
  matrix(): void {
    if (!this.state.data) return;
    this.matrixId++;
    this.requestedAt = performance.now();
    const view = this.state.view;
    this.api.postMessage({ type: 'requestMatrix', requestId: this.matrixId, view });
    if (this.lastHover !== undefined && this.lastHover !== null) this.api.postMessage({ type: 'hoverToken', index: this.lastHover, view });
  }

  /** The view's matrix came with the data: an answer to a request made before the data is stale. */
  matrixCameWithData(): void {
    this.matrixId++;
    this.requestedAt = performance.now();
  }

  /** Whether a matrix answers the latest request, for the view on screen. */
  isLatest(requestId: number, view: AttentionView): boolean {
    return requestId === this.matrixId && viewKey(view) === viewKey(this.state.view);
  }

  /** Asks for the query's row in every head of the layer, once per layer and query. */
  rows(layer: number, query: number): void {
    const key = `${layer}-${query}`;
    if (this.state.rowsRequest.key === key) return;
    const id = this.state.rowsRequest.id + 1;
    this.state.rowsRequest = { id, key };
    this.api.postMessage({ type: 'requestRows', requestId: id, layer, query });
  }

  /** Tells the host a new active query (the post stops once the code is stale: the editor no longer matches). */
  hover(query: number | null): void {
    if (query === this.lastHover) return;
    this.lastHover = query;
    if (!this.state.stale) this.api.postMessage({ type: 'hoverToken', index: query, view: this.state.view });
  }
}
