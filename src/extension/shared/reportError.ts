// How a failed load or generation reaches the user: one notification with a way to fix it; the extension stays usable.

import * as vscode from 'vscode';
import { EngineError } from '../../protocol/engine';

export async function reportEngineError(error: unknown): Promise<void> {
  const message = error instanceof EngineError ? error.message : (error as Error).message;
  const choice = await vscode.window.showErrorMessage(`Attentive: ${message}`, 'Open Settings');
  if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'attentive.model');
}
