// @vitest-environment happy-dom
// The attention webview (webview/attention/) in a simulated DOM: host messages, tokens with visible whitespace, the
// heatmap's pixel mapping (causal: transparent above the diagonal), the hover lookup and tooltip text, view changes
// asking the host for one matrix, the head view's lines, the model view and head summary, the surprise overlay.
// acquireVsCodeApi is stubbed on globalThis and every posted message is captured.

import { beforeEach, describe, expect, it } from 'vitest';
import { packMatrix, type AttentionData, type AttentionView, type AttentionWebviewMessage, type HeadDetails, type HeadStats } from '../../src/protocol/attention';
import { AttentionApp, isHostMessage, toFloat32 } from '../../webview/attention/app';
import { colorRamp, parseColor, rampIndex, RAMP_STEPS } from '../../webview/attention/colors';
import { cellAt, cellSize, maxPool, paintMatrix } from '../../webview/attention/heatmap';
import { displayLines, displayToken, endsLine } from '../../webview/attention/tokens';
import { resetAttentionApiForTests } from '../../webview/attention/vscodeApi';

const TOKENS = ['def', ' f', '():\n', '\treturn', ' 1'];
const SEQ = TOKENS.length;
const LAYERS = 2;
const HEADS = 2;

/** A causal matrix whose rows sum to 1: row q puts 0.7 on key (q + offset) % (q + 1) and 0.3 on key 0. */
function matrix(offset: number): Float32Array {
  const m = new Float32Array(SEQ * SEQ);
  for (let q = 0; q < SEQ; q++) {
    const k = (q + offset) % (q + 1);
    m[q * SEQ + k] += 0.7;
    m[q * SEQ + 0] += 0.3;
  }
  return m;
}

function stats(layer: number, head: number, extra: Partial<HeadStats> = {}): HeadStats {
  return { layer, head, entropyBits: 1 + layer + head / 10, meanDistance: head + 0.5, previousTokenShare: 0.1 * head, firstTokenShare: 0.2, inductionScore: null, bracketScore: null, labels: [], ...extra };
}

function data(overrides: Partial<AttentionData> = {}): AttentionData {
  let offset = 0;
  const tokens = TOKENS.map((text, i) => {
    const token = { text, id: 100 + i, start: offset, end: offset + text.length, line: text === '\treturn' || text === ' 1' ? 1 : 0 };
    offset += text.length;
    return token;
  });
  return {
    label: 'f.py:1-2',
    model: 'tiny',
    layers: LAYERS,
    heads: HEADS,
    headDim: 64,
    tokens,
    ...overrides,
  };
}

function details(): HeadDetails {
  return {
    thumbnailSize: 4,
    thumbnails: new Float32Array(LAYERS * HEADS * 16).fill(0.5),
    summaries: [stats(0, 0), stats(0, 1, { labels: ['previous-token'], previousTokenShare: 0.8 }), stats(1, 0), stats(1, 1, { labels: ['first-token'] })],
  };
}

interface Harness {
  app: AttentionApp;
  root: HTMLElement;
  posted: AttentionWebviewMessage[];
  saved: unknown[];
  /** Answers the last requestMatrix like the host. */
  answer(m?: Float32Array): void;
  lastRequest(): Extract<AttentionWebviewMessage, { type: 'requestMatrix' }>;
}

function harness(initial: AttentionData | null = data(), persisted?: unknown): Harness {
  const posted: AttentionWebviewMessage[] = [];
  const saved: unknown[] = [];
  (globalThis as Record<string, unknown>)['acquireVsCodeApi'] = () => ({
    postMessage: (m: AttentionWebviewMessage) => posted.push(m),
    getState: () => persisted,
    setState: (s: unknown) => saved.push(s),
  });
  resetAttentionApiForTests();
  const root = document.createElement('div');
  root.id = 'app';
  document.body.replaceChildren(root);
  const app = new AttentionApp(root, { schedule: (callback) => callback() });
  app.start();
  if (initial) {
    app.handle({ type: 'data', data: initial });
    app.handle({ type: 'details', details: details() });
  }
  const lastRequest = () => posted.filter((m) => m.type === 'requestMatrix').at(-1) as Extract<AttentionWebviewMessage, { type: 'requestMatrix' }>;
  return {
    app,
    root,
    posted,
    saved,
    lastRequest,
    answer: (m) => {
      const request = lastRequest();
      app.handle({ type: 'matrix', requestId: request.requestId, view: request.view, seq: SEQ, data: packMatrix(m ?? matrix(0), SEQ) });
    },
  };
}

const hovers = (posted: AttentionWebviewMessage[]) => posted.filter((m): m is Extract<AttentionWebviewMessage, { type: 'hoverToken' }> => m.type === 'hoverToken');

describe('attention webview: pure parts', () => {
  it('marks whitespace: · space, → tab, ↵ line break', () => {
    expect(displayToken(' x')).toBe('·x');
    expect(displayToken('\treturn')).toBe('→return');
    expect(displayToken('):\n')).toBe('):↵');
    expect(displayToken('\r\n\r\n')).toBe('↵↵');
    expect(displayToken('    ')).toBe('····');
    expect(displayToken('')).toBe('∅');
    expect(displayLines('\n    x')).toEqual(['↵', '····x']);
    expect(displayLines('\r\n\r\n\t')).toEqual(['↵', '↵', '→']);
    expect(displayLines('):\n')).toEqual(['):↵']);
    expect(endsLine('):\n')).toBe(true);
    expect(endsLine('\r')).toBe(true);
    expect(endsLine(' x')).toBe(false);
  });

  it('parses theme colours', () => {
    expect(parseColor('#1f1f1f')).toEqual([31, 31, 31, 255]);
    expect(parseColor('#fff')).toEqual([255, 255, 255, 255]);
    expect(parseColor('#11223380')).toEqual([17, 34, 51, 128]);
    expect(parseColor(' rgba(1, 2, 3, 0.5) ')).toEqual([1, 2, 3, 128]);
    expect(parseColor('rgb(10 20 30)')).toEqual([10, 20, 30, 255]);
    expect(parseColor('var(--x)')).toBeNull();
    expect(parseColor('')).toBeNull();
  });

  it('paints a small matrix: ramp colours below and on the diagonal, transparent above it', () => {
    const ramp = colorRamp([0, 0, 0, 255], [255, 0, 0, 255], 'linear');
    const m = matrix(0);
    const pixels = new Uint8ClampedArray(SEQ * SEQ * 4);
    pixels.fill(77); // stale pixels must be overwritten, including the masked ones
    paintMatrix(m, SEQ, ramp, pixels);
    for (let q = 0; q < SEQ; q++) {
      for (let k = 0; k < SEQ; k++) {
        const p = (q * SEQ + k) * 4;
        if (k > q) expect([...pixels.subarray(p, p + 4)], `cell ${q},${k}`).toEqual([0, 0, 0, 0]);
        else {
          expect(pixels[p + 3]).toBe(255);
          expect(pixels[p]).toBe(Math.round((rampIndex(m[q * SEQ + k]!) / (RAMP_STEPS - 1)) * 255));
        }
      }
    }
    // Row 0 puts everything on key 0 (weight 1: the ramp's top); row 4 puts 0.7 on itself (a float32 0.7).
    expect(pixels[0]).toBe(255);
    expect(pixels[(4 * SEQ + 4) * 4]).toBe(rampIndex(Math.fround(0.7)));
  });

  it('1,024 tokens: a full matrix paints in one pass, fast (ImageData, not a call per cell)', () => {
    const seq = 1024;
    const m = new Float32Array(seq * seq);
    for (let q = 0; q < seq; q++) for (let k = 0; k <= q; k++) m[q * seq + k] = 1 / (q + 1);
    const pixels = new Uint8ClampedArray(seq * seq * 4);
    const ramp = colorRamp([0, 0, 0, 255], [255, 128, 0, 255], 'sqrt');
    const started = performance.now();
    paintMatrix(m, seq, ramp, pixels);
    const ms = performance.now() - started;
    expect(ms).toBeLessThan(250); // ~10 ms on a laptop; generous for a shared CI machine
    expect(pixels[(1023 * seq + 1023) * 4 + 3]).toBe(255);
    expect(pixels[(0 * seq + 1) * 4 + 3]).toBe(0);
  });

  it('more tokens than pixels: max-pooled, so a one-cell-wide pattern (a previous-token head) stays visible', () => {
    const seq = 1000;
    const m = new Float32Array(seq * seq);
    m[0] = 1;
    for (let q = 1; q < seq; q++) m[q * seq + q - 1] = 1; // all weight on the previous token
    const size = 100;
    const pooled = maxPool(m, seq, size);
    for (let a = 0; a < size; a++) {
      for (let b = 0; b < size; b++) {
        const w = pooled[a * size + b]!;
        if (b === a || b === a - 1) continue; // the diagonal band: blocks that hold previous-token cells
        expect(w, `pixel ${a},${b}`).toBe(0);
      }
      expect(pooled[a * size + a]).toBe(1);
    }
    const pixels = new Uint8ClampedArray(size * size * 4);
    paintMatrix(pooled, size, colorRamp([0, 0, 0, 255], [255, 0, 0, 255], 'linear'), pixels);
    expect(pixels[(10 * size + 11) * 4 + 3]).toBe(0); // above the diagonal: transparent
  });

  it('√ scale lifts small weights; ramp index clamps', () => {
    const linear = colorRamp([0, 0, 0, 255], [255, 255, 255, 255], 'linear');
    const sqrt = colorRamp([0, 0, 0, 255], [255, 255, 255, 255], 'sqrt');
    const i = rampIndex(0.04);
    expect(sqrt[i * 4]!).toBeGreaterThan(linear[i * 4]! * 3);
    expect(rampIndex(-1)).toBe(0);
    expect(rampIndex(NaN)).toBe(0);
    expect(rampIndex(2)).toBe(RAMP_STEPS - 1);
  });

  it('hover lookup: a point maps to its cell, masked above the diagonal, null outside', () => {
    expect(cellAt(0, 0, 100, 100, 5)).toEqual({ query: 0, key: 0, visible: true });
    expect(cellAt(99.9, 99.9, 100, 100, 5)).toEqual({ query: 4, key: 4, visible: true });
    expect(cellAt(45, 15, 100, 100, 5)).toEqual({ query: 0, key: 2, visible: false });
    expect(cellAt(15, 45, 100, 100, 5)).toEqual({ query: 2, key: 0, visible: true });
    expect(cellAt(100, 50, 100, 100, 5)).toBeNull();
    expect(cellAt(-1, 50, 100, 100, 5)).toBeNull();
    // 1,024 tokens in 600 px: every pixel still finds a cell
    expect(cellAt(599, 599, 600, 600, 1024)).toEqual({ query: 1022, key: 1022, visible: true });
    expect(cellSize(1024, 600, 1) * 1024).toBeCloseTo(600); // zoom 1: an overview that fits
    expect(cellSize(1024, 600, 4) * 1024).toBeCloseTo(2400);
    expect(cellSize(300, 600, 1)).toBe(2);
    expect(cellSize(5, 600, 1)).toBe(32);
  });

  it('host messages: guard and typed arrays as they may arrive', () => {
    expect(isHostMessage({ type: 'matrix' })).toBe(true);
    expect(isHostMessage({ type: 'state' })).toBe(false);
    expect(isHostMessage(null)).toBe(false);
    const f = new Float32Array([1, 2]);
    expect(toFloat32(f)).toBe(f);
    expect([...toFloat32(f.buffer)]).toEqual([1, 2]);
    expect([...toFloat32([1, 2])]).toEqual([1, 2]);
    expect([...toFloat32({ 0: 1, 1: 2 })]).toEqual([1, 2]);
    expect([...toFloat32(new Float64Array([3]))]).toHaveLength(2); // bytes reinterpreted, never throws
    expect(toFloat32(undefined)).toHaveLength(0);
  });
});

describe('attention webview: the app', () => {
  beforeEach(() => document.body.replaceChildren());

  it('says ready, shows loading and errors', () => {
    const h = harness(null);
    // With the view it will show (its saved choice), so the host can send that matrix with the data.
    expect(h.posted).toEqual([{ type: 'ready', view: { kind: 'head', layer: 0, head: 0 } }]);
    h.app.handle({ type: 'loading', label: 'f.py:1-2' });
    expect(h.root.textContent).toContain('Running f.py:1-2 through the model');
    h.app.handle({ type: 'error', message: 'The text is empty' });
    expect(h.root.querySelector('[role="alert"]')?.textContent).toBe('The text is empty');
  });

  it('renders the tokens as the model sees them, a line break after a newline token', () => {
    const h = harness();
    const spans = Array.from(h.root.querySelectorAll('.tokens .tok'));
    expect(spans.map((s) => s.textContent)).toEqual(['def', '·f', '():↵', '→return', '·1']);
    expect(spans[2]!.nextElementSibling?.tagName).toBe('BR');
    expect(spans[3]!.getAttribute('title')).toContain('line 2');
    expect(h.root.querySelector('.meta')?.textContent).toContain('5 tokens');
  });

  it('asks for the matrix it shows, paints it when the answer for that request comes, ignores older answers', () => {
    const h = harness();
    expect(h.lastRequest()).toEqual({ type: 'requestMatrix', requestId: 1, view: { kind: 'head', layer: 0, head: 0 } });
    // An answer to another request is ignored.
    h.app.handle({ type: 'matrix', requestId: 7, view: { kind: 'head', layer: 0, head: 0 }, seq: SEQ, data: packMatrix(matrix(0), SEQ) });
    expect(h.app.lastPixels).toBeUndefined();
    h.answer(matrix(0));
    const pixels = h.app.lastPixels!;
    expect(pixels).toHaveLength(SEQ * SEQ * 4);
    for (let q = 0; q < SEQ; q++) for (let k = q + 1; k < SEQ; k++) expect(pixels[(q * SEQ + k) * 4 + 3]).toBe(0);
    for (let q = 0; q < SEQ; q++) expect(pixels[(q * SEQ) * 4 + 3]).toBe(255);
  });

  it('paints the matrix that came with the data without asking; one for another view is ignored and asked for', () => {
    const h = harness(null, { kind: 'mean', layer: 1 });
    expect(h.posted[0]).toEqual({ type: 'ready', view: { kind: 'mean', layer: 1 } });
    h.app.handle({ type: 'data', data: data(), matrix: { view: { kind: 'mean', layer: 1 }, seq: SEQ, data: packMatrix(matrix(0), SEQ) } });
    expect(h.posted.filter((m) => m.type === 'requestMatrix')).toHaveLength(0);
    expect(h.app.lastPixels).toHaveLength(SEQ * SEQ * 4);
    expect(h.app.currentMatrix![1 * SEQ + 1]).toBeCloseTo(0.7, 4);
    // Before the details: the model view and the summary say they are coming.
    expect(h.root.querySelector('.thumb')).toBeNull();
    expect(h.root.textContent).toContain('Drawing every head');
    h.app.handle({ type: 'details', details: details() });
    expect(h.root.querySelectorAll('.thumb')).toHaveLength(LAYERS * HEADS);
    expect(h.root.querySelectorAll('.summary-table tbody tr')).toHaveLength(4);
    // A matrix for a view the page does not show: it asks for its own.
    const other = harness(null);
    other.app.handle({ type: 'data', data: data(), matrix: { view: { kind: 'head', layer: 1, head: 1 }, seq: SEQ, data: packMatrix(matrix(1), SEQ) } });
    expect(other.app.lastPixels).toBeUndefined();
    expect(other.lastRequest().view).toEqual({ kind: 'head', layer: 0, head: 0 });
  });

  it('switching layer, head or aggregation asks for that matrix; the picture changes', () => {
    const h = harness();
    h.answer(matrix(0));
    const first = h.app.lastPixels!.slice();
    const layer = h.root.querySelector<HTMLSelectElement>('select[aria-label="Layer"]')!;
    layer.value = '1';
    layer.dispatchEvent(new Event('change'));
    expect(h.lastRequest().view).toEqual({ kind: 'head', layer: 1, head: 0 });
    h.answer(matrix(2));
    expect(h.app.lastPixels).not.toEqual(first);
    const kind = h.root.querySelector<HTMLSelectElement>('select[aria-label="Aggregation"]')!;
    kind.value = 'rollout';
    kind.dispatchEvent(new Event('change'));
    expect(h.lastRequest().view).toEqual({ kind: 'rollout', layer: 1 });
    expect(h.root.querySelector<HTMLSelectElement>('select[aria-label="Head"]')!.disabled).toBe(true);
    expect(h.root.querySelector('.view-title')?.textContent).toBe('Rollout through layer 2');
    expect(h.saved.at(-1)).toMatchObject({ kind: 'rollout', layer: 1 });
  });

  it('remembers its view across reloads (getState) and clamps it to the model', () => {
    const h = harness(data(), { kind: 'head', layer: 9, head: 1, tab: 'model', zoom: 4, scale: 'linear', surprise: false });
    expect(h.lastRequest().view).toEqual({ kind: 'head', layer: 1, head: 1 });
    expect(h.app.tab).toBe('model');
    expect(h.root.querySelector<HTMLElement>('#panel-model')!.hidden).toBe(false);
    expect(h.root.querySelector<HTMLElement>('#panel-heatmap')!.hidden).toBe(true);
  });

  it('hover text: query, key and weight; masked cells say so', () => {
    const h = harness();
    h.answer(matrix(0));
    expect(h.app.cellText({ query: 2, key: 0, visible: true })).toBe('Query #2 “():↵” → key #0 “def”\nWeight 0.3000');
    expect(h.app.cellText({ query: 1, key: 3, visible: false })).toContain('Masked');
    const size = h.app.cellAtPoint(0, 0);
    expect(size).toEqual({ query: 0, key: 0, visible: true });
  });

  it('hovering a token tells the host (to decorate the editor) and colours the keys it attends to; leaving clears', () => {
    const h = harness();
    h.answer(matrix(0));
    const span = h.root.querySelectorAll<HTMLElement>('.tokens .tok')[3]!;
    span.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
    expect(hovers(h.posted).at(-1)).toEqual({ type: 'hoverToken', index: 3, view: { kind: 'head', layer: 0, head: 0 } });
    expect(h.app.activeQuery).toBe(3);
    const spans = Array.from(h.root.querySelectorAll<HTMLElement>('.tokens .tok'));
    expect(spans[0]!.style.backgroundColor).not.toBe(''); // key 0 has 0.3
    expect(spans[3]!.style.backgroundColor).not.toBe(''); // key 3 has 0.7 (itself)
    expect(spans[1]!.style.backgroundColor).toBe(''); // no weight
    expect(spans[4]!.classList.contains('after')).toBe(true); // after the query: masked
    h.root.querySelector('.tokens')!.dispatchEvent(new MouseEvent('mouseleave'));
    expect(hovers(h.posted).at(-1)).toEqual({ type: 'hoverToken', index: null, view: { kind: 'head', layer: 0, head: 0 } });
  });

  it('the editor cursor selects a token (selectToken); a click pins one; double-click reveals it in the editor', () => {
    const h = harness();
    h.answer(matrix(0));
    h.app.handle({ type: 'selectToken', index: 2 });
    expect(h.app.selectedToken).toBe(2);
    expect(h.root.querySelectorAll('.tok[aria-selected="true"]')).toHaveLength(1);
    expect(hovers(h.posted).at(-1)?.index).toBe(2);
    h.app.handle({ type: 'selectToken', index: 99 }); // out of range: ignored
    expect(h.app.selectedToken).toBe(2);
    const span = h.root.querySelectorAll<HTMLElement>('.tokens .tok')[4]!;
    span.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    expect(h.app.selectedToken).toBe(4);
    span.dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));
    expect(h.posted.at(-1)).toEqual({ type: 'revealToken', index: 4 });
    // Keyboard: arrows move the selection, Enter reveals.
    const strip = h.root.querySelector<HTMLElement>('.tokens')!;
    strip.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft', bubbles: true }));
    expect(h.app.selectedToken).toBe(3);
    strip.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    expect(h.posted.at(-1)).toEqual({ type: 'revealToken', index: 3 });
  });

  it('head view: lines from the query to its keys, opacity = weight', () => {
    const h = harness();
    h.answer(matrix(0));
    h.app.setTab('heads');
    h.app.selectToken(3, false);
    const lines = Array.from(h.root.querySelectorAll('.hv-lines line'));
    expect(lines).toHaveLength(2); // key 0 (0.3) and key 3 (0.7)
    expect(lines.map((l) => l.getAttribute('stroke-opacity'))).toEqual(['0.300', '0.700']);
    expect(lines[1]!.getAttribute('y1')).toBe(String(3 * 20 + 10));
    // Hovering a key on the right: lines from every later query that attends to it.
    h.root.querySelectorAll('.hv-keys .hv-token')[0]!.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
    expect(h.root.querySelectorAll('.hv-lines line')).toHaveLength(SEQ);
  });

  it('head view, all heads: asks the host for the query\'s row in every head once, one colour per head, heads can be hidden', () => {
    const h = harness();
    h.answer(matrix(0));
    h.app.setTab('heads');
    h.app.toggleAllHeads();
    expect(h.root.querySelector('.hv-controls .toggle')?.getAttribute('aria-pressed')).toBe('true');
    expect(h.saved.at(-1)).toMatchObject({ allHeads: true });
    h.app.selectToken(2, false);
    const requests = () => h.posted.filter((m): m is Extract<AttentionWebviewMessage, { type: 'requestRows' }> => m.type === 'requestRows');
    expect(requests()).toEqual([{ type: 'requestRows', requestId: 1, layer: 0, query: 2 }]);
    // Head 0 puts everything on key 0, head 1 splits between keys 1 and 2.
    const rows = new Float32Array([1, 0, 0, 0, 0.5, 0.5]);
    h.app.handle({ type: 'rows', requestId: 0, layer: 0, query: 2, heads: 2, data: rows }); // an older request: ignored
    expect(h.root.querySelectorAll('.hv-lines line')).toHaveLength(0);
    h.app.handle({ type: 'rows', requestId: 1, layer: 0, query: 2, heads: 2, data: rows });
    const lines = Array.from(h.root.querySelectorAll('.hv-lines line'));
    expect(lines.map((l) => [l.getAttribute('data-head'), l.getAttribute('y2'), l.getAttribute('stroke-opacity')])).toEqual([
      ['0', '10', '1.000'],
      ['1', '30', '0.500'],
      ['1', '50', '0.500'],
    ]);
    expect(new Set(lines.map((l) => l.getAttribute('stroke'))).size).toBe(2);
    // Hiding head 1 leaves head 0's line; the same query does not ask again.
    h.root.querySelector<HTMLButtonElement>('.chip[data-head="1"]')!.click();
    expect(h.root.querySelectorAll('.hv-lines line')).toHaveLength(1);
    expect(requests()).toHaveLength(1);
    // Another layer asks for its rows.
    h.app.setView({ layer: 1 });
    expect(requests().at(-1)).toEqual({ type: 'requestRows', requestId: 2, layer: 1, query: 2 });
  });

  it('model view: one thumbnail per layer and head; a click opens that head on the heatmap', () => {
    const h = harness();
    const thumbs = h.root.querySelectorAll<HTMLButtonElement>('.thumb');
    expect(thumbs).toHaveLength(LAYERS * HEADS);
    expect(thumbs[1]!.textContent).toContain('prev');
    h.app.setTab('model');
    thumbs[3]!.click();
    expect(h.lastRequest().view).toEqual({ kind: 'head', layer: 1, head: 1 });
    expect(h.app.tab).toBe('heatmap');
  });

  it('head summary: a row per head with labels, sortable, a click opens the head', () => {
    const h = harness();
    const rows = () => Array.from(h.root.querySelectorAll<HTMLTableRowElement>('.summary-table tbody tr'));
    expect(rows()).toHaveLength(4);
    expect(rows()[1]!.textContent).toContain('previous token');
    const previous = Array.from(h.root.querySelectorAll<HTMLButtonElement>('.summary-table th button')).find((b) => b.textContent?.startsWith('Previous'))!;
    previous.click();
    expect(rows()[0]!.getAttribute('data-head')).toBe('1'); // the previous-token head first (descending)
    rows()[2]!.click();
    const view = h.lastRequest().view as AttentionView & { head: number };
    expect(view.kind).toBe('head');
  });

  it('surprise overlay: off without surprisal; with it, tokens are coloured and titles list the predictions', () => {
    const none = harness();
    expect(none.root.querySelector<HTMLButtonElement>('button.toggle')!.disabled).toBe(true);
    const h = harness(
      data({
        surprisal: [null, 2, 12, 0.5, 8],
        predictions: [[], [{ text: ' g', probability: 0.4 }], [{ text: '(self', probability: 0.2 }], [], []],
      }),
    );
    const toggle = h.root.querySelector<HTMLButtonElement>('button.toggle')!;
    toggle.click();
    expect(toggle.getAttribute('aria-pressed')).toBe('true');
    const spans = Array.from(h.root.querySelectorAll<HTMLElement>('.tokens .tok'));
    expect(spans[0]!.style.backgroundColor).toBe('');
    expect(spans[2]!.style.backgroundColor).not.toBe('');
    expect(spans[1]!.title).toContain('Surprisal 2.00 bits');
    expect(spans[1]!.title).toContain('“·g” 40.0%');
    // Hovering a token shows its surprisal and the model's guesses in the explanation panel.
    spans[1]!.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
    expect(h.root.querySelector('.live')?.textContent).toContain('2.00 bits');
    expect(Array.from(h.root.querySelectorAll('.live .predictions li'), (li) => li.textContent)).toEqual(['“·g” 40.0%']);
    // A theme change repaints with the new colours (no throw without a matrix, and with one).
    h.app.themeChanged();
  });

  it('a stale document: the view says so and stops telling the host about hovers', () => {
    const h = harness();
    h.answer(matrix(0));
    h.app.handle({ type: 'stale' });
    expect(h.root.querySelector('.status-line')?.textContent).toContain('changed');
    const before = hovers(h.posted).length;
    h.app.hoverToken(2);
    expect(hovers(h.posted)).toHaveLength(before);
  });

  it('Export JSON asks the host for the current view', () => {
    const h = harness();
    Array.from(h.root.querySelectorAll<HTMLButtonElement>('button')).find((b) => b.textContent === 'Export JSON')!.click();
    expect(h.posted.at(-1)).toEqual({ type: 'exportJson', view: { kind: 'head', layer: 0, head: 0 } });
  });
});
