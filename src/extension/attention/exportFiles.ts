// The attention view's exports, saved where the user picks: the map as a PNG (the webview draws it) and one view's
// weights as JSON.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeView, type AttentionData, type AttentionView } from '../../protocol/attention';

/** The JSON export: tokens, the view, and its [seq, seq] matrix as rows of the lower triangle (row q has q + 1 weights). */
export function attentionJson(data: AttentionData, view: AttentionView, matrix: Float32Array, seq: number): string {
  const rows: number[][] = [];
  for (let q = 0; q < seq; q++) rows.push(Array.from(matrix.subarray(q * seq, q * seq + q + 1), (w) => Math.round(w * 1e6) / 1e6));
  return JSON.stringify({
    model: data.model,
    source: data.label,
    view: { ...view, description: describeView(view) },
    tokens: data.tokens.map((t, i) => ({ index: i, text: t.text, id: t.id, start: t.start, end: t.end, ...(data.surprisal ? { surprisalBits: data.surprisal[i] } : {}) })),
    weights: rows,
    note: 'weights[query][key] for key <= query (causal: keys after the query get no attention)',
  });
}

/** Saves a PNG data URL (from the webview's canvas) where the user picks. */
export async function savePng(dataUrl: string, name: string): Promise<void> {
  const target = await vscode.window.showSaveDialog({ defaultUri: defaultExportUri(name), filters: { 'PNG image': ['png'] }, title: 'Export the attention map as PNG' });
  if (!target) return;
  await vscode.workspace.fs.writeFile(target, Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64'));
  void vscode.window.showInformationMessage(`Attentive: saved ${path.basename(target.fsPath)}`);
}

/** Saves JSON where the user picks; `text` runs only once a file is chosen. */
export async function saveJson(name: string, text: () => Promise<string>): Promise<void> {
  const target = await vscode.window.showSaveDialog({ defaultUri: defaultExportUri(name), filters: { JSON: ['json'] }, title: 'Export the attention weights as JSON' });
  if (!target) return;
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(await text()));
  void vscode.window.showInformationMessage(`Attentive: saved ${path.basename(target.fsPath)}`);
}

function defaultExportUri(name: string): vscode.Uri | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return folder ? vscode.Uri.joinPath(folder, name) : undefined;
}
