// The attention view: a WebviewPanel beside the editor that renders webview/attention/ under a strict CSP. The host
// keeps the engine's full maps and answers the webview's requests for the one matrix it shows (aggregations computed
// in the analysis thread, analysisClient.ts, off the extension host's event loop); it links the view to
// the code: hovering a token decorates, in the editor, the tokens it attends to, and moving the cursor in the
// explained code selects that token in the view.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { webviewPageHtml } from '../shared/webviewPage';
import {
  packMatrix,
  validateAttentionMessage,
  viewInRange,
  viewKey,
  type AttentionData,
  type AttentionHostMessage,
  type AttentionView,
  type AttentionWebviewMessage,
  type HeadDetails,
  type PackedMatrix,
} from '../../protocol/attention';
import type { AttentionResult, ModelInfo } from '../../protocol/engine';
import { EngineError } from '../../protocol/engine';
import type { Backend } from '../../backend/backend';
import { attentionCutNote, contextCutNote } from '../shared/codeToExplain';
import { MAX_TOKEN_CHARS } from '../../protocol/estimates';
import { headMatrix, type AttentionMaps } from './analysis';
import { AnalysisClient } from './analysisClient';
import { attentionJson, saveJson, savePng } from './exportFiles';
import { tokenAtOffset, tokenRanges, type TokenRange } from './tokenRanges';
import { KeyDecorations, editorsOf, toRange, type AppliedDecoration } from './keyDecorations';

export const ATTENTION_PANEL_TYPE = 'attentive.attention';
export const THUMBNAIL_SIZE = 48;
/** Matrices kept for the view (each is seq x seq floats: 4 MB at 1,024 tokens). */
const CACHED_MATRICES = 6;

type EngineAttention = AttentionResult;

/** What is explained: a range of a document, its text, and the engine's maps over it. */
interface Explained {
  uri: vscode.Uri;
  /** Offset of the range's start in the document. */
  baseOffset: number;
  text: string;
  ranges: Array<TokenRange | null>;
  maps: AttentionMaps;
  /** Computes the maps' aggregations off the extension host's thread; disposed with this. */
  analysis: AnalysisClient;
  data: AttentionData;
  /** Thumbnails and statistics of every head, computed after the first paint's data is sent. */
  details?: HeadDetails;
  stale: boolean;
  timings?: ExplainTimings;
}

/** Milliseconds from the command: in the engine (run, surprisal), preparing the data with the first matrix, and
 * computing every head's thumbnail and statistics (after the data went out). */
export interface ExplainTimings {
  /** From the command to the engine call (opening the panel, the model ready, fitting the text). */
  beforeEngineMs: number;
  engineMs: number;
  prepareMs: number;
  detailsMs?: number;
  /** Whether the data carried the matrix on screen (no round trip before the first paint). */
  matrixWithData: boolean;
}

export class AttentionController implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private webviewReady = false;
  private explained: Explained | undefined;
  private pendingMessage: AttentionHostMessage | undefined;
  private abort: AbortController | undefined;
  /** Matrices by view key, most recently used last; a promise while the analysis thread computes it. */
  private readonly cache = new Map<string, Promise<Float32Array>>();
  private readonly keyDecorations = new KeyDecorations();
  private readonly subscriptions: vscode.Disposable[] = [];
  private lastSelected = -1;
  /** Counts hovers, so that a decoration computed after a later hover is dropped. */
  private hovers = 0;
  /** The view the webview shows (from its ready message and its requests), whose matrix goes out with the data. */
  private shownView: AttentionView = { kind: 'head', layer: 0, head: 0 };
  private readonly decorated = new vscode.EventEmitter<AppliedDecoration[]>();
  /** The decorations put in the editor, each time they change (VS Code has no API to read decorations back). */
  readonly onDidDecorate = this.decorated.event;
  private readonly posted = new vscode.EventEmitter<AttentionHostMessage['type']>();
  /** A message went to the webview. */
  readonly onDidPost = this.posted.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly backend: Backend<ModelInfo>,
    private readonly log: vscode.OutputChannel,
    /** Where the chat runs when that is a model server ("<model> at <host>"): the view says its maps are the local model's. */
    private readonly chatServer: () => string | undefined = () => undefined,
  ) {
    this.subscriptions.push(
      vscode.window.onDidChangeTextEditorSelection((event) => this.cursorMoved(event)),
      vscode.workspace.onDidChangeTextDocument((event) => {
        const explained = this.explained;
        if (!explained || explained.stale || event.contentChanges.length === 0) return;
        if (event.document.uri.toString() !== explained.uri.toString()) return;
        explained.stale = true;
        this.clearDecorations();
        void this.post({ type: 'stale' });
      }),
    );
  }

  /** The open panel's state: what it explains, whether its page is ready, and how long it took. */
  get current(): { tokens: number; label: string; ready: boolean; stale: boolean; details: boolean; note?: string; timings?: ExplainTimings } | undefined {
    const explained = this.explained;
    if (!this.panel || !explained) return undefined;
    return {
      tokens: explained.data.tokens.length,
      label: explained.data.label,
      ready: this.webviewReady,
      stale: explained.stale,
      details: explained.details !== undefined,
      ...(explained.data.note ? { note: explained.data.note } : {}),
      ...(explained.timings ? { timings: explained.timings } : {}),
    };
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  /** Runs `range` of the editor's document through the engine and shows its attention (opening the panel if needed). */
  async explain(editor: vscode.TextEditor, range: vscode.Range): Promise<void> {
    const commandStarted = performance.now();
    const commandAt = Date.now();
    const document = editor.document;
    let text = document.getText(range);
    const label = `${path.basename(document.fileName)}:${range.start.line + 1}-${range.end.line + 1}`;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.forgetExplained();
    this.clearDecorations();
    this.openPanel(label);
    void this.post({ type: 'loading', label });
    try {
      // Attention maps need the weights: a model server cannot return them.
      if (!this.backend.capabilities.attention) throw new EngineError('Explain Attention needs a local model (the bundled one or a downloaded one): this backend does not return attention maps.', 'unsupported');
      const model = await this.backend.ensureLoaded();
      const notes: string[] = [];
      const server = this.chatServer();
      if (server) notes.push(`Attention maps need the model's weights, so these are the local model's (${model.name}); the chat runs on ${server}.`);
      // The model's context, or fewer tokens when their attention maps would not fit the engine's memory budget.
      const byMemory = model.attentionTokenLimit < model.contextLength;
      const fitted = await this.fitToTokens(text, byMemory ? model.attentionTokenLimit : model.contextLength, abort.signal);
      if (fitted.length < text.length) {
        notes.push(byMemory ? attentionCutNote(fitted, model) : contextCutNote(fitted, 'explained', model.contextLength));
        text = fitted;
      }
      const note = notes.length ? notes.join(' ') : undefined;
      const started = performance.now();
      const result = (await this.backend.attention({ text }, { signal: abort.signal })) as EngineAttention;
      if (abort.signal.aborted) return;
      const engineDone = performance.now();
      const explained = this.prepare(document, range, text, result, model, label, note);
      this.explained = explained;
      this.lastSelected = -1;
      // The matrix on screen goes with the data: the heatmap paints without asking first.
      const matrix = await this.packedMatrix(this.shownView).catch(() => undefined);
      if (abort.signal.aborted || this.explained !== explained) return;
      const delivered = this.post({ type: 'data', data: explained.data, ...(matrix ? { matrix } : {}) });
      const dataPostedAt = Date.now();
      const timings: ExplainTimings = {
        beforeEngineMs: Math.round(started - commandStarted),
        engineMs: Math.round(engineDone - started),
        prepareMs: Math.round(performance.now() - engineDone),
        matrixWithData: matrix !== undefined,
      };
      explained.timings = timings;
      this.log.appendLine(
        `[attention] ${label}: ${explained.data.tokens.length} tokens; before the engine ${timings.beforeEngineMs} ms, engine ${timings.engineMs} ms (ONNX Runtime ${result.timings?.runMs ?? '?'} ms, then ${result.timings?.afterRunMs ?? '?'} ms), data${matrix ? ' and first matrix' : ''} ${timings.prepareMs} ms (command at ${commandAt}, data posted at ${dataPostedAt})`,
      );
      // Every head's thumbnail and statistics read all the maps (~0.1 s at 256 tokens, ~0.4 s at 1,000; in the analysis
      // thread): only once VS Code has passed the data on, so that they never compete with the first paint.
      await delivered;
      if (abort.signal.aborted || this.explained !== explained) return;
      const detailsStarted = performance.now();
      const details = await explained.analysis.details(
        result.tokens.map((t) => t.text),
        THUMBNAIL_SIZE,
      ).catch((error: Error) => {
        // The view on screen stays: only its model overview and head summary are missing.
        if (!abort.signal.aborted && this.explained === explained) this.log.appendLine(`[attention] ${label}: head thumbnails and statistics: ${error.message}`);
        return undefined;
      });
      if (!details || abort.signal.aborted || this.explained !== explained) return;
      explained.details = details;
      timings.detailsMs = Math.round(performance.now() - detailsStarted);
      void this.post({ type: 'details', details: explained.details });
      this.log.appendLine(`[attention] ${label}: head thumbnails and statistics ${timings.detailsMs} ms`);
    } catch (error) {
      if (abort.signal.aborted) return;
      const message = error instanceof EngineError || error instanceof Error ? error.message : String(error);
      this.log.appendLine(`[attention] ${label}: ${message}`);
      void this.post({ type: 'error', message });
    }
  }

  /** The text, cut at a line end to fit `tokens` tokens when it does not. */
  private async fitToTokens(text: string, tokens: number, signal: AbortSignal): Promise<string> {
    // A token covers at least one UTF-8 byte (byte-level BPE; SentencePiece with byte fallback), plus a few special
    // tokens: text this short fits without asking the engine to count.
    if (Buffer.byteLength(text, 'utf8') + 8 <= tokens) return text;
    // Never more than can matter to the tokenizer (a 10 MB selection would take seconds).
    let fitted = text.length > tokens * MAX_TOKEN_CHARS ? text.slice(0, tokens * MAX_TOKEN_CHARS) : text;
    for (let attempt = 0; attempt < 8; attempt++) {
      const ids = await this.backend.tokenize(fitted, { signal });
      // One place is kept for the BOS the engine puts before the text.
      const budget = tokens - 1;
      if (ids.length <= budget) return fitted;
      const keep = Math.floor((fitted.length * budget * 0.95) / ids.length);
      const cut = fitted.lastIndexOf('\n', keep);
      fitted = fitted.slice(0, cut > 0 ? cut : keep);
    }
    return fitted;
  }

  private prepare(document: vscode.TextDocument, range: vscode.Range, text: string, result: EngineAttention, model: ModelInfo, label: string, note: string | undefined): Explained {
    const seq = result.tokens.length;
    const maps: AttentionMaps = { seq, layers: result.layers, heads: result.heads, weights: result.weights };
    const ranges = tokenRanges(text, { line: range.start.line, character: range.start.character }, result.tokens);
    const data: AttentionData = {
      label,
      model: model.name,
      layers: result.layers,
      heads: result.heads,
      headDim: model.headDim,
      tokens: result.tokens.map((t, i) => ({ text: t.text, id: t.id, start: t.start, end: t.end, line: ranges[i]?.start.line ?? -1 })),
    };
    // JSON has no NaN: the first token's surprisal (no context) is null.
    if (result.surprisal) data.surprisal = result.surprisal.map((s) => (Number.isFinite(s) ? s : null));
    if (result.predictions) data.predictions = result.predictions;
    if (note) data.note = note;
    const analysis = new AnalysisClient(vscode.Uri.joinPath(this.extensionUri, 'dist', 'analysis.js').fsPath, maps);
    return { uri: document.uri, baseOffset: document.offsetAt(range.start), text, ranges, maps, analysis, data, stale: false };
  }

  private openPanel(label: string): void {
    const title = `Attention: ${label}`;
    if (this.panel) {
      this.panel.title = title;
      this.panel.reveal(vscode.ViewColumn.Beside, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      ATTENTION_PANEL_TYPE,
      title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      {
        enableScripts: true,
        localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(this.extensionUri, 'media')],
      },
    );
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'attentive.svg');
    this.panel = panel;
    this.webviewReady = false;
    panel.webview.html = this.html(panel.webview);
    const received = panel.webview.onDidReceiveMessage((raw: unknown) => {
      const message = validateAttentionMessage(raw);
      if (!message) {
        this.log.appendLine(`[attention] dropped a malformed message from the webview: ${JSON.stringify(raw)?.slice(0, 200)}`);
        return;
      }
      this.handle(message).catch((error: unknown) => this.log.appendLine(`[attention] ${(error as Error).message}`));
    });
    panel.onDidDispose(() => {
      received.dispose();
      this.abort?.abort();
      this.clearDecorations();
      this.panel = undefined;
      this.forgetExplained();
    });
  }

  /** Closes the panel. */
  close(): void {
    this.panel?.dispose();
  }

  /** Applies one validated webview message. */
  async handle(message: AttentionWebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready': {
        // Also after VS Code reloads a hidden panel's page: it starts over and gets everything again.
        this.webviewReady = true;
        if (message.view) this.shownView = message.view;
        const explained = this.explained;
        if (explained) {
          const matrix = await this.packedMatrix(this.shownView);
          if (this.explained !== explained) return;
          void this.post({ type: 'data', data: explained.data, ...(matrix ? { matrix } : {}) });
          if (explained.details) this.post({ type: 'details', details: explained.details });
          if (this.lastSelected >= 0) this.post({ type: 'selectToken', index: this.lastSelected });
        } else if (this.pendingMessage) this.post(this.pendingMessage);
        return;
      }
      case 'requestMatrix': {
        this.shownView = message.view;
        const matrix = await this.packedMatrix(message.view);
        if (matrix) this.post({ type: 'matrix', requestId: message.requestId, ...matrix });
        return;
      }
      case 'requestRows': {
        const explained = this.explained;
        if (!explained) return;
        const { seq, layers, heads, weights } = explained.maps;
        if (message.layer >= layers || message.query >= seq) return;
        const width = message.query + 1;
        const data = new Float32Array(heads * width);
        for (let head = 0; head < heads; head++) {
          const start = (head * seq + message.query) * seq;
          data.set(weights[message.layer]!.subarray(start, start + width), head * width);
        }
        void this.post({ type: 'rows', requestId: message.requestId, layer: message.layer, query: message.query, heads, data });
        return;
      }
      case 'hoverToken':
        await this.decorate(message.index, message.view);
        return;
      case 'revealToken':
        await this.reveal(message.index);
        return;
      case 'exportPng':
        await savePng(message.dataUrl, message.name);
        return;
      case 'exportJson':
        await this.exportJson(message.view);
        return;
    }
  }

  /** A view's matrix packed for the webview, or undefined when nothing is explained or the view is not in the model. */
  private async packedMatrix(view: AttentionView): Promise<PackedMatrix | undefined> {
    const explained = this.explained;
    if (!explained || !viewInRange(view, explained.maps.layers, explained.maps.heads)) return undefined;
    const seq = explained.maps.seq;
    const matrix = await this.matrix(view);
    return this.explained === explained ? { view, seq, data: packMatrix(matrix, seq) } : undefined;
  }

  /**
   * The [seq, seq] matrix of a view (an array of its own), computed once per view: a head's is a copy made here,
   * aggregations come from the analysis thread.
   */
  matrix(view: AttentionView): Promise<Float32Array> {
    const explained = this.explained;
    if (!explained) return Promise.reject(new Error('Nothing is explained'));
    const key = viewKey(view);
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const matrix = view.kind === 'head' ? Promise.resolve(headMatrix(explained.maps, view.layer, view.head).slice()) : explained.analysis.matrix(view);
    this.cache.set(key, matrix);
    // A failed computation is not kept: the next request tries again.
    matrix.catch(() => {
      if (this.cache.get(key) === matrix) this.cache.delete(key);
    });
    while (this.cache.size > CACHED_MATRICES) this.cache.delete(this.cache.keys().next().value!);
    return matrix;
  }

  /** Drops what is explained: its matrices, and its analysis thread with whatever that computes. */
  private forgetExplained(): void {
    this.explained?.analysis.dispose();
    this.explained = undefined;
    this.cache.clear();
  }

  /** Decorates, in every editor of the explained document, the keys token `index` attends to in `view`. */
  private async decorate(index: number | null, view: AttentionView): Promise<void> {
    const hover = ++this.hovers;
    const explained = this.explained;
    if (index === null || !explained || explained.stale || index >= explained.maps.seq || !viewInRange(view, explained.maps.layers, explained.maps.heads)) {
      this.clearDecorations();
      return;
    }
    const seq = explained.maps.seq;
    const matrix = await this.matrix(view);
    // A later hover, or a new text, while the matrix was computed: this one is out of date.
    if (hover !== this.hovers || explained !== this.explained || explained.stale) return;
    const row = matrix.subarray(index * seq, index * seq + index + 1);
    this.decorated.fire(this.keyDecorations.show(explained.uri, explained.ranges, index, row));
  }

  private clearDecorations(): void {
    this.keyDecorations.clear();
    this.decorated.fire([]);
  }

  private cursorMoved(event: vscode.TextEditorSelectionChangeEvent): void {
    const explained = this.explained;
    if (!explained || explained.stale || !this.panel) return;
    if (event.textEditor.document.uri.toString() !== explained.uri.toString()) return;
    const offset = event.textEditor.document.offsetAt(event.selections[0]!.active) - explained.baseOffset;
    if (offset < 0 || offset > explained.text.length) return;
    const index = tokenAtOffset(explained.data.tokens, offset);
    if (index < 0 || index === this.lastSelected) return;
    this.lastSelected = index;
    void this.post({ type: 'selectToken', index });
  }

  private async reveal(index: number): Promise<void> {
    const explained = this.explained;
    const range = explained && !explained.stale ? explained.ranges[index] : undefined;
    if (!explained || !range) return;
    const document = await vscode.workspace.openTextDocument(explained.uri);
    const editor =
      editorsOf(explained.uri)[0] ?? (await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One, preserveFocus: true, preview: false }));
    const vsRange = toRange(range);
    this.lastSelected = index;
    editor.selection = new vscode.Selection(vsRange.start, vsRange.end);
    editor.revealRange(vsRange, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private async exportJson(view: AttentionView): Promise<void> {
    const explained = this.explained;
    if (!explained || !viewInRange(view, explained.maps.layers, explained.maps.heads)) return;
    await saveJson(`attention-${viewKey(view)}.json`, () => this.exportJsonText(view));
  }

  /** The JSON export of one view of what is explained. */
  async exportJsonText(view: AttentionView): Promise<string> {
    const explained = this.explained;
    if (!explained) throw new Error('Nothing is explained');
    return attentionJson(explained.data, view, await this.matrix(view), explained.maps.seq);
  }

  /** Sends a message to the page (when it is ready); resolves once VS Code has passed it on. */
  private post(message: AttentionHostMessage): Promise<void> {
    if (message.type === 'loading' || message.type === 'error') this.pendingMessage = message;
    if (!this.panel || !this.webviewReady) return Promise.resolve();
    this.posted.fire(message.type);
    return Promise.resolve(this.panel.webview.postMessage(message)).then(
      () => undefined,
      () => undefined,
    );
  }

  private html(webview: vscode.Webview): string {
    return webviewPageHtml(webview, this.extensionUri, { script: 'attention.js', style: 'attention.css', title: 'Attentive Attention' });
  }

  dispose(): void {
    this.abort?.abort();
    this.panel?.dispose();
    this.forgetExplained();
    this.keyDecorations.dispose();
    for (const subscription of this.subscriptions) subscription.dispose();
    this.decorated.dispose();
    this.posted.dispose();
  }
}
