// The surprise feature: "Attentive: Show Surprise Map" (editor context menu, palette) scores the selection, or the
// function/block around the cursor, with the Explain Selection model (local, or a model server with log-probabilities)
// and colours each token by its surprisal in the editor. "Attentive: Clear Surprise Map" (or any edit) removes it.

import * as vscode from 'vscode';
import type { Backend } from '../../backend/backend';
import { EngineError } from '../../protocol/engine';
import { codeToExplain, commandEditor } from '../shared/codeToExplain';
import { SurpriseController, type SurpriseMap, type SurpriseSource, type SurpriseToken } from './surpriseMap';

/** What "Show Surprise Map" did. */
export type SurpriseOutcome =
  | { kind: 'shown'; map: SurpriseMap }
  | { kind: 'failed'; message: string; code?: string }
  | { kind: 'cancelled' }
  | { kind: 'no-code' };

export const COMMAND_SHOW_SURPRISE = 'attentive.showSurpriseMap';
export const COMMAND_CLEAR_SURPRISE = 'attentive.clearSurpriseMap';
/** Context key: a surprise map is on screen (enables the Clear command). */
const SHOWN_CONTEXT = 'attentive.surpriseMapShown';

export function registerSurprise(
  context: vscode.ExtensionContext,
  /** The Explain Selection role's backend and where it runs. */
  explain: SurpriseSource,
  /** The local model, offered when the explain model's server cannot score a prompt. */
  local: Backend,
  log: vscode.OutputChannel,
): SurpriseController {
  const controller = new SurpriseController(log);
  const localSource: SurpriseSource = { backend: local, describe: () => 'the local model' };

  /** Scores and paints; says what happened (the command returns it, for callers such as the extension's tests). */
  async function showWith(document: vscode.TextDocument, range: vscode.Range, source: SurpriseSource): Promise<SurpriseOutcome> {
    try {
      const map = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Attentive: scoring surprise with ${source.describe()}` }, () =>
        controller.show(document, range, source),
      );
      if (!map) return { kind: 'cancelled' };
      const top = map.tokens.reduce<SurpriseToken | undefined>((best, t) => (!best || t.bits > best.bits ? t : best), undefined);
      const most = top ? `; most surprising: "${document.getText(top.range)}" (${top.bits.toFixed(1)} bits, line ${top.range.start.line + 1})` : '';
      vscode.window.setStatusBarMessage(`$(pulse) Surprise map by ${map.source}: ${map.tokens.length} tokens${most}`, 10_000);
      if (map.note) void vscode.window.showInformationMessage(`Attentive: ${map.note}`);
      return { kind: 'shown', map };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const code = error instanceof EngineError ? error.code : undefined;
      log.appendLine(`[surprise] ${source.describe()}: ${message}`);
      if (code === 'unsupported' && source.backend !== local) {
        // Not awaited: the command ends while the choice waits.
        const useLocal = 'Use the Local Model';
        void vscode.window.showWarningMessage(`Attentive: ${message}. The surprise map needs per-token log-probabilities.`, useLocal).then((choice) => {
          if (choice === useLocal) void showWith(document, range, localSource);
        });
      } else {
        void vscode.window.showErrorMessage(`Attentive: the surprise map failed: ${message}`);
      }
      return { kind: 'failed', message, ...(code ? { code } : {}) };
    }
  }

  context.subscriptions.push(
    controller,
    controller.onDidChange((map) => void vscode.commands.executeCommand('setContext', SHOWN_CONTEXT, map !== undefined)),
    // The context menu passes the document's URI; from the palette it is the active editor.
    vscode.commands.registerCommand(COMMAND_SHOW_SURPRISE, async (uri?: unknown): Promise<SurpriseOutcome> => {
      const editor = commandEditor(uri);
      if (!editor) {
        void vscode.window.showInformationMessage('Attentive: open a file and select the code to score.');
        return { kind: 'no-code' };
      }
      const range = await codeToExplain(editor);
      if (!range || editor.document.getText(range).trim().length === 0) {
        void vscode.window.showInformationMessage('Attentive: select some code (or put the cursor inside a function) to see how surprising it is to the model.');
        return { kind: 'no-code' };
      }
      return showWith(editor.document, range, explain);
    }),
    vscode.commands.registerCommand(COMMAND_CLEAR_SURPRISE, () => controller.clear()),
  );
  return controller;
}
