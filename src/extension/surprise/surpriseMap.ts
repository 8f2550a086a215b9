// The surprise map: each token of the explained code coloured by how unexpected it was to the model (-log2 of the
// probability the model gave it after the code before it), with the bits and the model's own guesses on hover. It runs
// on the Explain Selection model: the local engine, or a model server that returns log-probabilities for a prompt
// (echo + logprobs). A server cannot show attention (no weights), but it can show this.

import * as vscode from 'vscode';
import type { Backend, TextSurprisal } from '../../backend/backend';
import type { TokenPrediction } from '../../protocol/engine';
import { contextCutNote } from '../shared/codeToExplain';

/** Where each level starts, in bits (a token the model gave 1/8, 1/64, 1/1024). Below the first: not painted. */
export const SURPRISE_LEVELS = [
  { bits: 3, color: 'attentive.surprise.lowBackground' },
  { bits: 6, color: 'attentive.surprise.mediumBackground' },
  { bits: 10, color: 'attentive.surprise.highBackground' },
] as const;

export interface SurpriseToken {
  /** The token's text in the document, without the whitespace around it. */
  range: vscode.Range;
  bits: number;
  /** The model's likeliest tokens at this position, most likely first. */
  predictions: TokenPrediction[];
  /** Index into SURPRISE_LEVELS, or -1: not painted. */
  level: number;
}

export interface SurpriseMap {
  uri: vscode.Uri;
  /** The model in words: "the local model" or "<model> at <host>". */
  source: string;
  tokens: SurpriseToken[];
  /** Set when only part of the code was scored. */
  note?: string;
}

/** Which backend scores the code, and how to name it. */
export interface SurpriseSource {
  backend: Backend;
  describe(): string;
}

export class SurpriseController implements vscode.Disposable {
  private readonly levelDecorations: vscode.TextEditorDecorationType[];
  /** Hover only: tokens the model expected still say what it expected. */
  private readonly calmDecoration: vscode.TextEditorDecorationType;
  private shown: SurpriseMap | undefined;
  private running: AbortController | undefined;
  private readonly changed = new vscode.EventEmitter<SurpriseMap | undefined>();
  /** A map was painted (or cleared: undefined). */
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly log: vscode.OutputChannel) {
    this.levelDecorations = SURPRISE_LEVELS.map(({ color }, i) =>
      vscode.window.createTextEditorDecorationType({
        backgroundColor: new vscode.ThemeColor(color),
        borderRadius: '2px',
        ...(i === SURPRISE_LEVELS.length - 1 ? { overviewRulerColor: new vscode.ThemeColor(color), overviewRulerLane: vscode.OverviewRulerLane.Center } : {}),
      }),
    );
    this.calmDecoration = vscode.window.createTextEditorDecorationType({});
    this.subscriptions.push(
      // Offsets are stale once the text changes: the map goes (explain again for a new one).
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (this.shown && event.contentChanges.length > 0 && event.document.uri.toString() === this.shown.uri.toString()) this.clear();
      }),
      vscode.workspace.onDidCloseTextDocument((document) => {
        if (this.shown && document.uri.toString() === this.shown.uri.toString()) this.clear();
      }),
      // An editor that shows the document again (another tab, a split) gets the map too.
      vscode.window.onDidChangeVisibleTextEditors(() => this.paint()),
    );
  }

  get current(): SurpriseMap | undefined {
    return this.shown;
  }

  /**
   * Scores `range` of the document with `source`'s model and paints it. Resolves with the map, or undefined when
   * cancelled (a new map or clear()); errors (a server without log-probabilities: code 'unsupported') reach the caller.
   */
  async show(document: vscode.TextDocument, range: vscode.Range, source: SurpriseSource): Promise<SurpriseMap | undefined> {
    this.clear(); // and stops a run still going
    const controller = new AbortController();
    this.running = controller;
    const version = document.version;
    const full = document.getText(range);
    try {
      const model = await source.backend.ensureLoaded();
      // The whole text and the tokenizer's leading tokens must fit the model's context.
      const text = await source.backend.truncateToTokens(full, Math.max(1, model.contextLength - 2), { signal: controller.signal });
      const scored = await source.backend.surprisal(text, { signal: controller.signal });
      if (controller.signal.aborted) return undefined;
      if (document.version !== version) throw new Error('The code changed while it was being scored; show the surprise map again.');
      const map: SurpriseMap = { uri: document.uri, source: source.describe(), tokens: placeTokens(document, document.offsetAt(range.start), text, scored) };
      if (text.length < full.length) map.note = contextCutNote(text, 'scored', model.contextLength);
      this.shown = map;
      this.paint();
      this.log.appendLine(`[surprise] ${map.tokens.length} tokens of ${vscode.workspace.asRelativePath(document.uri)} scored by ${map.source}`);
      this.changed.fire(map);
      return map;
    } catch (error) {
      if (controller.signal.aborted) return undefined;
      throw error;
    } finally {
      if (this.running === controller) this.running = undefined;
    }
  }

  /** Stops a run and removes the map from every editor. */
  clear(): void {
    this.running?.abort();
    if (!this.shown) return;
    this.shown = undefined;
    for (const editor of vscode.window.visibleTextEditors) this.decorate(editor, undefined);
    this.changed.fire(undefined);
  }

  private paint(): void {
    const map = this.shown;
    if (!map) return;
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() === map.uri.toString()) this.decorate(editor, map);
    }
  }

  private decorate(editor: vscode.TextEditor, map: SurpriseMap | undefined): void {
    const byLevel: vscode.DecorationOptions[][] = SURPRISE_LEVELS.map(() => []);
    const calm: vscode.DecorationOptions[] = [];
    for (const token of map?.tokens ?? []) {
      const options = { range: token.range, hoverMessage: hover(token, map!.source) };
      (token.level >= 0 ? byLevel[token.level]! : calm).push(options);
    }
    this.levelDecorations.forEach((decoration, i) => editor.setDecorations(decoration, byLevel[i]!));
    editor.setDecorations(this.calmDecoration, calm);
  }

  dispose(): void {
    this.running?.abort();
    for (const subscription of this.subscriptions) subscription.dispose();
    for (const decoration of [...this.levelDecorations, this.calmDecoration]) decoration.dispose();
    this.changed.dispose();
  }
}

/** The level a surprisal paints at (-1: below the first). */
function surpriseLevel(bits: number): number {
  let level = -1;
  SURPRISE_LEVELS.forEach((l, i) => {
    if (bits >= l.bits) level = i;
  });
  return level;
}

/**
 * The scored tokens as document ranges, trimmed of surrounding whitespace. Tokens without a place in the text
 * (a leading BOS), the first token (nothing before it to predict from) and whitespace-only tokens are left out.
 */
function placeTokens(document: vscode.TextDocument, base: number, text: string, scored: TextSurprisal): SurpriseToken[] {
  const tokens: SurpriseToken[] = [];
  scored.tokens.forEach((token, i) => {
    const bits = scored.surprisal[i]!;
    if (token.start < 0 || token.end <= token.start || !Number.isFinite(bits)) return;
    let start = token.start;
    let end = Math.min(token.end, text.length);
    while (start < end && /\s/.test(text[start]!)) start++;
    while (end > start && /\s/.test(text[end - 1]!)) end--;
    if (start === end) return;
    const range = new vscode.Range(document.positionAt(base + start), document.positionAt(base + end));
    tokens.push({ range, bits, predictions: scored.predictions[i] ?? [], level: surpriseLevel(bits) });
  });
  return tokens;
}

function percent(probability: number): string {
  return `${(probability * 100).toPrecision(probability >= 0.995 ? 3 : 2)} %`;
}

/** A token as the hover shows it: quoted, with whitespace made visible. */
function shown(text: string): string {
  return JSON.stringify(text);
}

function hover(token: SurpriseToken, source: string): vscode.MarkdownString {
  const markdown = new vscode.MarkdownString();
  markdown.appendMarkdown(`**Surprise ${token.bits.toFixed(1)} bits** · the model gave it ${percent(2 ** -token.bits)}`);
  if (token.predictions.length) {
    markdown.appendMarkdown('\n\nIt expected: ');
    markdown.appendText(token.predictions.map((p) => `${shown(p.text)} ${percent(p.probability)}`).join(', '));
  }
  markdown.appendMarkdown('\n\n');
  markdown.appendText(`Scored by ${source}`);
  return markdown;
}
