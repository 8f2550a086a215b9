// Entry point of the extension host side: one register function per feature.

import * as vscode from 'vscode';
import { EngineHost } from './engineHost';
import { registerModelCommands } from './modelCommands';
import { registerModelView } from './modelView';
import { registerStatusBar } from './statusBar';

export interface AttentiveApi {
  /** The engine host, for the extension's own integration tests. */
  readonly engine: EngineHost;
}

export function activate(context: vscode.ExtensionContext): AttentiveApi {
  const output = vscode.window.createOutputChannel('Attentive');
  const engine = new EngineHost(context);
  context.subscriptions.push(output, engine);
  registerStatusBar(context, engine);
  registerModelCommands(context, engine, output);
  registerModelView(context, engine);
  return { engine };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
