// The model's status where users look for it: the status-bar item, the Model view in the sidebar, and the commands
// that show the model's info, reload it, and run a plain generation.

import * as vscode from 'vscode';
import type { ModelInfo } from '../../protocol/engine';
import type { Backend } from '../../backend/backend';
import type { Backends } from '../shared/backends';
import type { DisplayedState } from '../shared/displayedState';
import { registerModelCommands } from './modelCommands';
import { registerModelView } from './modelView';
import { registerStatusBar } from './statusBar';

export function registerStatus(context: vscode.ExtensionContext, backend: Backend<ModelInfo>, displayed: DisplayedState<ModelInfo>, servers: Backends, output: vscode.OutputChannel): void {
  registerStatusBar(context, displayed, servers);
  registerModelCommands(context, backend, output);
  registerModelView(context, displayed, servers);
}
