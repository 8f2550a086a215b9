// The "Model" view in the Attentive sidebar: the engine state and, once loaded, what the model is; then where chat and
// inline completion run.

import * as vscode from 'vscode';
import type { ModelInfo } from '../../protocol/engine';
import type { BackendState } from '../../backend/backend';
import { ROLE_LABELS, ROLES, type Backends } from '../shared/backends';
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

/** Where chat and completion run, and the state of a model server they use (reachable, or the error). */
function roleRows(servers: Backends): vscode.TreeItem[] {
  return ROLES.map((role) => {
    const where = servers.where(role);
    const item = new vscode.TreeItem(ROLE_LABELS[role]);
    const state = servers[role].state;
    const trouble = state.kind === 'error' ? 'error' : state.kind === 'ready' ? state.notice : undefined;
    item.description = where.kind === 'server' && trouble ? `${where.description}: ${trouble}` : where.description;
    item.tooltip = where.kind === 'server' ? `${ROLE_LABELS[role]} runs on ${where.description}${state.kind === 'error' ? `\n${state.message}` : ` (${state.kind})`}` : `${ROLE_LABELS[role]} runs on the local model`;
    item.iconPath = new vscode.ThemeIcon(where.kind !== 'server' ? 'vm' : state.kind === 'error' ? 'error' : trouble ? 'warning' : 'server');
    item.command = { command: 'workbench.action.openSettings', title: 'Choose where it runs', arguments: [`attentive.${role}.backend`] };
    return item;
  });
}

export function registerModelView(context: vscode.ExtensionContext, displayed: DisplayedState<ModelInfo>, servers: Backends): void {
  const changed = new vscode.EventEmitter<void>();
  const provider: vscode.TreeDataProvider<vscode.TreeItem> = {
    onDidChangeTreeData: changed.event,
    getTreeItem: (item) => item,
    getChildren: (parent) => (parent ? [] : [...rows(displayed.state), ...roleRows(servers)]),
  };
  context.subscriptions.push(
    changed,
    vscode.window.registerTreeDataProvider(MODEL_VIEW_ID, provider),
    displayed.onChange(() => changed.fire()),
    servers.onDidChange(() => changed.fire()),
    servers.chat.onStateChange(() => changed.fire()),
    servers.explain.onStateChange(() => changed.fire()),
    servers.completion.onStateChange(() => changed.fire()),
  );
}
