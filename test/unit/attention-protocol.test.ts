// The attention view's webview -> host contract (src/protocol/attention.ts): well-formed messages pass unchanged,
// and everything malformed (wrong types, out-of-range numbers, extra-long or non-PNG data URLs, file names with
// paths, random values) is dropped.

import { describe, expect, it } from 'vitest';
import { describeView, packMatrix, unpackMatrix, validateAttentionMessage, validateView, viewInRange, viewKey, type AttentionWebviewMessage } from '../../src/protocol/attention';

const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe('attention protocol', () => {
  it('accepts every well-formed message unchanged', () => {
    const good: AttentionWebviewMessage[] = [
      { type: 'ready' },
      { type: 'requestMatrix', requestId: 1, view: { kind: 'head', layer: 0, head: 5 } },
      { type: 'requestMatrix', requestId: 99, view: { kind: 'mean', layer: 3 } },
      { type: 'requestMatrix', requestId: 2, view: { kind: 'max', layer: 1 } },
      { type: 'requestMatrix', requestId: 3, view: { kind: 'rollout', layer: 5 } },
      { type: 'hoverToken', index: 12, view: { kind: 'head', layer: 2, head: 1 } },
      { type: 'hoverToken', index: null, view: { kind: 'rollout', layer: 0 } },
      { type: 'revealToken', index: 0 },
      { type: 'requestRows', requestId: 4, layer: 5, query: 1023 },
      { type: 'exportPng', dataUrl: PNG, name: 'attention-head-0-1.png' },
      { type: 'exportJson', view: { kind: 'mean', layer: 2 } },
    ];
    for (const message of good) expect(validateAttentionMessage(structuredClone(message))).toEqual(message);
  });

  it('drops extra fields (a view keeps only what its kind has)', () => {
    expect(validateAttentionMessage({ type: 'requestMatrix', requestId: 1, view: { kind: 'mean', layer: 1, head: 3, evil: 1 } })).toEqual({
      type: 'requestMatrix',
      requestId: 1,
      view: { kind: 'mean', layer: 1 },
    });
    expect(validateAttentionMessage({ type: 'ready', extra: 'x' })).toEqual({ type: 'ready' });
    expect(validateAttentionMessage({ type: 'ready', view: { kind: 'head', layer: 2, head: 1, x: 0 } })).toEqual({ type: 'ready', view: { kind: 'head', layer: 2, head: 1 } });
    // A view that is there but malformed drops the message (the page would not show what the host sends).
    expect(validateAttentionMessage({ type: 'ready', view: { kind: 'head', layer: -1, head: 0 } })).toBeNull();
    expect(validateAttentionMessage({ type: 'ready', view: 'head' })).toBeNull();
  });

  it('drops malformed messages', () => {
    const bad: unknown[] = [
      null,
      undefined,
      42,
      'ready',
      [],
      [{ type: 'ready' }],
      {},
      { type: 'nope' },
      { type: 7 },
      { type: 'requestMatrix' },
      { type: 'requestMatrix', requestId: 1 },
      { type: 'requestMatrix', requestId: -1, view: { kind: 'mean', layer: 0 } },
      { type: 'requestMatrix', requestId: 1.5, view: { kind: 'mean', layer: 0 } },
      { type: 'requestMatrix', requestId: '1', view: { kind: 'mean', layer: 0 } },
      { type: 'requestMatrix', requestId: 1, view: { kind: 'head', layer: 0 } },
      { type: 'requestMatrix', requestId: 1, view: { kind: 'head', layer: 0, head: -1 } },
      { type: 'requestMatrix', requestId: 1, view: { kind: 'sum', layer: 0 } },
      { type: 'requestMatrix', requestId: 1, view: { kind: 'mean', layer: NaN } },
      { type: 'requestMatrix', requestId: 1, view: { kind: 'mean', layer: Infinity } },
      { type: 'requestMatrix', requestId: 1, view: { kind: 'mean', layer: 1e9 } },
      { type: 'requestMatrix', requestId: 1, view: [0, 1] },
      { type: 'hoverToken', index: 1 },
      { type: 'hoverToken', index: '1', view: { kind: 'mean', layer: 0 } },
      { type: 'hoverToken', index: -2, view: { kind: 'mean', layer: 0 } },
      { type: 'hoverToken', index: 1e12, view: { kind: 'mean', layer: 0 } },
      { type: 'hoverToken', view: { kind: 'mean', layer: 0 } },
      { type: 'revealToken' },
      { type: 'requestRows', requestId: 1, layer: 0 },
      { type: 'requestRows', requestId: 1, layer: -1, query: 0 },
      { type: 'requestRows', requestId: 1, layer: 0, query: 40_000 },
      { type: 'revealToken', index: 0.5 },
      { type: 'exportPng', dataUrl: PNG },
      { type: 'exportPng', dataUrl: PNG, name: '../../etc/passwd' },
      { type: 'exportPng', dataUrl: PNG, name: '/tmp/x.png' },
      { type: 'exportPng', dataUrl: PNG, name: '' },
      { type: 'exportPng', dataUrl: 'data:text/html;base64,PGgxPg==', name: 'x.png' },
      { type: 'exportPng', dataUrl: 'data:image/png;base64,<script>', name: 'x.png' },
      { type: 'exportPng', dataUrl: `data:image/png;base64,${'A'.repeat(64 * 1024 * 1024)}`, name: 'x.png' },
      { type: 'exportPng', dataUrl: 12, name: 'x.png' },
      { type: 'exportJson' },
      { type: 'exportJson', view: { kind: 'head', layer: 1, head: '2' } },
    ];
    for (const message of bad) expect(validateAttentionMessage(message), JSON.stringify(message)?.slice(0, 120)).toBeNull();
  });

  it('never throws and never passes an unknown type on random input (fuzz)', () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const types = ['ready', 'requestMatrix', 'requestRows', 'hoverToken', 'revealToken', 'exportPng', 'exportJson', 'other', ''];
    const values = (depth: number): unknown => {
      const pick = Math.floor(random() * 11);
      switch (pick) {
        case 0:
          return null;
        case 1:
          return Math.floor(random() * 2000) - 100;
        case 2:
          return random() * 10;
        case 3:
          return types[Math.floor(random() * types.length)];
        case 4:
          return ['head', 'mean', 'max', 'rollout', 'x'][Math.floor(random() * 5)];
        case 5:
          return depth > 2 ? {} : { kind: values(depth + 1), layer: values(depth + 1), head: values(depth + 1) };
        case 6:
          return [values(depth + 1)];
        case 7:
          return true;
        case 8:
          return PNG;
        case 9:
          return 'attention.png';
        default:
          return undefined;
      }
    };
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const raw: Record<string, unknown> = { type: types[Math.floor(random() * types.length)] };
      for (const field of ['requestId', 'view', 'index', 'layer', 'query', 'dataUrl', 'name']) if (random() < 0.7) raw[field] = values(0);
      const message = validateAttentionMessage(raw);
      if (!message) continue;
      accepted++;
      expect(['ready', 'requestMatrix', 'requestRows', 'hoverToken', 'revealToken', 'exportPng', 'exportJson']).toContain(message.type);
      if ('view' in message) expect(validateView(message.view)).toEqual(message.view);
      if (message.type === 'hoverToken' && message.index !== null) expect(Number.isInteger(message.index)).toBe(true);
    }
    expect(accepted).toBeGreaterThan(100);
  });

  it('matrices travel packed: the lower triangle in 16-bit fixed point, a quarter of the floats, within 1/65535', () => {
    const seq = 7;
    const m = new Float32Array(seq * seq);
    let seed = 3;
    for (let q = 0; q < seq; q++) for (let k = 0; k <= q; k++) m[q * seq + k] = (seed = (seed * 16807) % 2147483647) / 2147483647;
    m[0] = 1;
    m[seq] = 0;
    const packed = packMatrix(m, seq);
    expect(packed.length).toBe((seq * (seq + 1)) / 2);
    const back = unpackMatrix(packed, seq);
    for (let i = 0; i < m.length; i++) expect(Math.abs(back[i]! - m[i]!)).toBeLessThanOrEqual(0.5 / 65535 + 1e-7);
    expect(back[0]).toBe(1);
    expect(back[1]).toBe(0); // above the diagonal
    expect(packMatrix(new Float32Array(1024 * 1024), 1024).byteLength).toBe(1024 * 1025); // ~1 MB instead of 4
    expect(unpackMatrix(new Uint16Array(3), seq).every((w) => w === 0)).toBe(true); // wrong size: zeros, no throw
  });

  it('views: range check against the model, keys and descriptions', () => {
    expect(viewInRange({ kind: 'head', layer: 5, head: 5 }, 6, 6)).toBe(true);
    expect(viewInRange({ kind: 'head', layer: 5, head: 6 }, 6, 6)).toBe(false);
    expect(viewInRange({ kind: 'rollout', layer: 6 }, 6, 6)).toBe(false);
    expect(viewKey({ kind: 'head', layer: 2, head: 3 })).toBe('head-2-3');
    expect(viewKey({ kind: 'rollout', layer: 4 })).toBe('rollout-4');
    expect(describeView({ kind: 'head', layer: 0, head: 1 })).toBe('Layer 1 · head 2');
    expect(describeView({ kind: 'max', layer: 2 })).toBe('Layer 3 · max of heads');
  });
});
