// Status-bar item with the model state: not loaded, loading, ready (model name), generating, error.

import * as vscode from 'vscode';
import type { BackendState } from '../../backend/backend';
import { ROLE_LABELS, ROLES, type Backends } from '../shared/backends';
import { describeState, type DisplayedState } from '../shared/displayedState';
import { COMMAND_SHOW_MODEL_INFO } from './modelCommands';

export function registerStatusBar(context: vscode.ExtensionContext, displayed: DisplayedState, servers: Backends): vscode.StatusBarItem {
  const item = vscode.window.createStatusBarItem('attentive.model', vscode.StatusBarAlignment.Right, 100);
  item.name = 'Attentive model';
  item.command = COMMAND_SHOW_MODEL_INFO;
  const render = (state: BackendState) => {
    const { text, tooltip } = describeState(state);
    item.text = text;
    // Where each role runs: the local model (this item's state) or a model server.
    item.tooltip = [tooltip, ...ROLES.map((role) => `${ROLE_LABELS[role]}: ${servers.describe(role)}`)].join('\n');
    item.backgroundColor = state.kind === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  };
  render(displayed.state);
  context.subscriptions.push(item, displayed.onChange(render), servers.onDidChange(() => render(displayed.state)));
  item.show();
  return item;
}
