// What the extension-host suites share: the extension's API, waiting for a condition, real workspace files.

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AttentiveApi } from '../../../src/extension/extension';
import type { ChatEntry } from '../../../src/protocol/chat';

export async function api(): Promise<AttentiveApi> {
  const extension = vscode.extensions.getExtension<AttentiveApi>('attentive.attentive');
  assert.ok(extension);
  return extension.activate();
}

/** Polls `probe` every `pollMs` ms; 0 polls at every turn of the event loop (right after each message is handled). */
export async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000, pollMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => (pollMs === 0 ? setImmediate(resolve) : setTimeout(resolve, pollMs)));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A real file in the test workspace, shown in an editor (untitled documents would prompt to save on close). */
export async function openFile(name: string, content: string): Promise<{ document: vscode.TextDocument; editor: vscode.TextEditor }> {
  const folder = vscode.workspace.workspaceFolders![0]!.uri;
  const uri = vscode.Uri.joinPath(folder, name);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(content));
  const document = await vscode.workspace.openTextDocument(uri);
  const editor = await vscode.window.showTextDocument(document, { preview: false });
  return { document, editor };
}

export async function closeAll(): Promise<void> {
  await vscode.workspace.saveAll(false);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** The conversation's last assistant entry. */
export const lastReply = (entries: ChatEntry[]) => entries.filter((e) => e.role === 'assistant').at(-1);
/** Whether a reply has ended (done, stopped or failed). */
export const finished = (entry: ChatEntry | undefined) => !!entry && ['done', 'stopped', 'error'].includes(entry.status);

