// Status-bar item with the model state: not loaded, loading, ready (model name), generating, error.

import * as vscode from 'vscode';
import type { EngineState } from '../engine/client';
import type { EngineHost } from './engineHost';
import { COMMAND_SHOW_MODEL_INFO } from './modelCommands';

export function describeState(state: EngineState): { text: string; tooltip: string } {
  switch (state.kind) {
    case 'not-loaded':
      return { text: '$(circle-outline) Attentive', tooltip: 'Attentive: model not loaded yet (it loads on first use)' };
    case 'loading':
      return { text: '$(loading~spin) Attentive: loading', tooltip: `Attentive: loading ${state.folder}` };
    case 'ready':
      return { text: `$(sparkle) ${state.model.name}`, tooltip: `Attentive: ${state.model.name} ready (${state.model.quantization})` };
    case 'generating':
      return { text: `$(loading~spin) ${state.model.name}`, tooltip: `Attentive: ${state.model.name} generating` };
    case 'error':
      return { text: '$(error) Attentive', tooltip: `Attentive: ${state.message}` };
    default:
      return assertNever(state);
  }
}

function assertNever(value: never): never {
  throw new Error(`Unexpected state ${JSON.stringify(value)}`);
}

export function registerStatusBar(context: vscode.ExtensionContext, host: EngineHost): vscode.StatusBarItem {
  const item = vscode.window.createStatusBarItem('attentive.model', vscode.StatusBarAlignment.Right, 100);
  item.name = 'Attentive model';
  item.command = COMMAND_SHOW_MODEL_INFO;
  const render = (state: EngineState) => {
    const { text, tooltip } = describeState(state);
    item.text = text;
    item.tooltip = tooltip;
    item.backgroundColor = state.kind === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  };
  render(host.displayed.state);
  context.subscriptions.push(item, host.displayed.onChange(render));
  item.show();
  return item;
}
