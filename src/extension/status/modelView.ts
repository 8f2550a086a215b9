// The "Model" view in the Attentive sidebar: the engine state and, once loaded, what the model is.

import * as vscode from 'vscode';
import type { ModelInfo } from '../../protocol/engine';
import type { BackendState } from '../../backend/backend';
import { describeState, type DisplayedState } from '../shared/displayedState';
import { COMMAND_RELOAD_MODEL, COMMAND_SHOW_MODEL_INFO } from './modelCommands';

export const MODEL_VIEW_ID = 'attentive.modelView';

function rows(state: BackendState<ModelInfo>): vscode.TreeItem[] {
  const status = new vscode.TreeItem(describeState(state).tooltip.replace(/^Attentive: /, ''));
  status.iconPath = new vscode.ThemeIcon(state.kind === 'error' ? 'error' : state.kind === 'ready' || state.kind === 'generating' ? 'pass' : 'circle-outline');
  if (state.kind === 'not-loaded' || state.kind === 'error') {
    status.command = { command: COMMAND_RELOAD_MODEL, title: 'Load model' };
    status.tooltip = 'Click to load the model';
  }
  if (state.kind !== 'ready' && state.kind !== 'generating') return [status];
  const m = state.model;
  const detail = (label: string, description: string, icon: string) => {
    const item = new vscode.TreeItem(label);
    item.description = description;
    item.iconPath = new vscode.ThemeIcon(icon);
    item.command = { command: COMMAND_SHOW_MODEL_INFO, title: 'Show model info' };
    return item;
  };
  return [
    status,
    detail('Parameters', `${(m.parameters / 1e6).toFixed(1)}M`, 'symbol-number'),
    detail('Layers × heads', `${m.layers} × ${m.heads} (KV ${m.kvHeads})`, 'layers'),
    detail('Context', `${m.contextLength} tokens`, 'symbol-ruler'),
    detail('Vocabulary', String(m.vocabSize), 'symbol-key'),
    detail('Weights', `${m.quantization}, ${(m.fileSizeBytes / 1e6).toFixed(1)} MB`, 'file-binary'),
    detail('Attention maps', m.hasAttentionOutputs ? 'available' : 'on first use (graph rewritten)', 'eye'),
  ];
}

export function registerModelView(context: vscode.ExtensionContext, displayed: DisplayedState<ModelInfo>): void {
  const changed = new vscode.EventEmitter<void>();
  const provider: vscode.TreeDataProvider<vscode.TreeItem> = {
    onDidChangeTreeData: changed.event,
    getTreeItem: (item) => item,
    getChildren: (parent) => (parent ? [] : rows(displayed.state)),
  };
  context.subscriptions.push(
    changed,
    vscode.window.registerTreeDataProvider(MODEL_VIEW_ID, provider),
    displayed.onChange(() => changed.fire()),
  );
}
