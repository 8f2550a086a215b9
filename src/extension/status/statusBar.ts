// Status-bar item with the model state: not loaded, loading, ready (model name), generating, error.

import * as vscode from 'vscode';
import type { BackendState } from '../../backend/backend';
import { describeState, type DisplayedState } from '../shared/displayedState';
import { COMMAND_SHOW_MODEL_INFO } from './modelCommands';

export function registerStatusBar(context: vscode.ExtensionContext, displayed: DisplayedState): vscode.StatusBarItem {
  const item = vscode.window.createStatusBarItem('attentive.model', vscode.StatusBarAlignment.Right, 100);
  item.name = 'Attentive model';
  item.command = COMMAND_SHOW_MODEL_INFO;
  const render = (state: BackendState) => {
    const { text, tooltip } = describeState(state);
    item.text = text;
    item.tooltip = tooltip;
    item.backgroundColor = state.kind === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  };
  render(displayed.state);
  context.subscriptions.push(item, displayed.onChange(render));
  item.show();
  return item;
}
