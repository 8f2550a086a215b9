// Choosing the model: "Attentive: Select Model" (the bundled model, downloaded models, the catalog, a local folder, or
// any Hugging Face repository in the transformers.js layout) and "Attentive: Manage Models" (sizes on disk, delete,
// reveal). Downloads go to the extension's global storage, with a cancellable progress notification; nothing touches
// the network unless the user picked something to download.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LocalBackend } from '../../backend/local/localBackend';
import { modelCacheDir } from '../shared/localEngine';
import { SECTION } from '../shared/settings';
import { CATALOG, describeEntry } from './catalog';
import { deleteDownloaded, describeProgress, downloadModel, listDownloaded, megabytes } from './download';
import { isLoopback } from '../../backend/endpoint/endpointBackend';
import { filesToDownload, HubError, listRepoFiles, REPO_ID } from './hub';
import { settingDefault } from '../shared/settingDefaults';

export const COMMAND_SELECT_MODEL = 'attentive.selectModel';
export const COMMAND_MANAGE_MODELS = 'attentive.manageModels';
const DEFAULT_HUB = settingDefault('attentive.hub.url');

/** A Select Model entry: what picking it does (resolves to the new attentive.model value, or undefined). */
type ModelChoice = vscode.QuickPickItem & { action: () => Promise<string | undefined> };

/** Asks the user a yes/no question before something is downloaded or a setting changes: true to go ahead. */
export type Confirm = (question: string, detail: string, go: string) => Promise<boolean>;

const modalConfirm: Confirm = async (question, detail, go) => (await vscode.window.showInformationMessage(question, { modal: true, detail }, go)) === go;

/** Select Model with its arguments, the confirmation answered by the caller: the extension's tests drive it so. */
export interface ModelFlows {
  select(args: { folder?: unknown; repo?: unknown }, confirm: Confirm): Promise<void>;
}

/** The hub address: user settings always; a workspace's value only in a trusted workspace (VS Code enforces it). */
function hubUrl(): string {
  const value = vscode.workspace.getConfiguration(SECTION).get<string>('hub.url', DEFAULT_HUB) || DEFAULT_HUB;
  const url = new URL(value); // throws on garbage: the caller shows it
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`attentive.hub.url must be an http(s) address, not ${value}`);
  return url.toString().replace(/\/+$/, '');
}

/** Sets the model (user settings: a model chosen here applies everywhere) and lets the engine reload it. */
async function useModel(value: string): Promise<void> {
  await vscode.workspace.getConfiguration(SECTION).update('model', value, vscode.ConfigurationTarget.Global);
}

/** Downloads `repo` with a cancellable progress notification; resolves to its folder (undefined if cancelled). */
async function downloadWithProgress(storage: string, repo: string, log: vscode.OutputChannel, confirm: Confirm = modalConfirm): Promise<string | undefined> {
  const hub = hubUrl();
  const { protocol, hostname } = new URL(hub);
  if (protocol === 'http:' && !isLoopback(hostname)) {
    const warning = `attentive.hub.url (${hub}) is plain http: anyone on the way could read what you download or change it (the hashes it is checked against come over the same connection).`;
    if (!(await confirm(`Download ${repo} over plain http?`, warning, 'Download over http'))) return undefined;
  }
  // The listing says what will be fetched and how much: the user confirms the exact size first.
  const listed = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Attentive: looking up ${repo} on ${new URL(hub).host}…` }, () => listRepoFiles(hub, repo));
  const { files, quantization } = filesToDownload(listed);
  const total = files.reduce((sum, file) => sum + file.size, 0);
  const go = await confirm(
    `Download ${repo} (${quantization}, ${files.length} files, ${megabytes(total)}) from ${new URL(hub).host}?`,
    `It is stored in the extension's storage (${storage}) and can be deleted with "Attentive: Manage Models".`,
    'Download',
  );
  if (!go) return undefined;
  const root = storage;
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Attentive: downloading ${repo}`, cancellable: true },
    async (report, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      const startedAt = Date.now();
      let startedWith = -1;
      let reported = 0;
      try {
        const { folder } = await downloadModel({
          hub,
          repo,
          root,
          signal: controller.signal,
          onProgress: (progress) => {
            if (startedWith < 0) startedWith = progress.done; // bytes already there from an earlier attempt
            const percent = (progress.done / Math.max(1, progress.total)) * 100;
            report.report({ increment: percent - reported, message: describeProgress(progress, startedAt, startedWith) });
            reported = percent;
          },
        });
        log.appendLine(`[models] downloaded ${repo} to ${folder}`);
        return folder;
      } catch (error) {
        if (controller.signal.aborted) {
          void vscode.window.showInformationMessage(`Attentive: download of ${repo} cancelled; what was downloaded is kept, and the next download resumes from there.`);
          return undefined;
        }
        throw error;
      }
    },
  );
}

export function registerModels(context: vscode.ExtensionContext, local: LocalBackend, log: vscode.OutputChannel): ModelFlows {
  const storage = path.join(context.globalStorageUri.fsPath, 'models');

  const run = async (body: () => Promise<void>) => {
    try {
      await body();
    } catch (error) {
      const message = error instanceof HubError || error instanceof Error ? error.message : String(error);
      log.appendLine(`[models] ${message}`);
      void vscode.window.showErrorMessage(`Attentive: ${message}`);
    }
  };

  // With `{ folder }` or `{ repo }` the command was not started from its own picker (a command link in a document,
  // another extension, a script): the user is asked before the setting changes or anything is downloaded.
  const selectWithArguments = async (args: { folder?: unknown; repo?: unknown }, confirm: Confirm): Promise<void> => {
    if (typeof args.folder === 'string') {
      const detail = 'Asked because the request named the folder itself instead of coming from "Attentive: Select Model".';
      if (await confirm(`Use the model in ${args.folder} for Attentive?`, detail, 'Use It')) await useModel(args.folder);
      return;
    }
    if (typeof args.repo !== 'string') throw new HubError('Select Model takes { folder } or { repo }');
    if (!REPO_ID.test(args.repo)) throw new HubError(`Not a Hugging Face repository id: ${args.repo}`);
    const folder = await downloadWithProgress(storage, args.repo, log, confirm);
    if (folder) await useModel(folder);
  };

  context.subscriptions.push(
    vscode.commands.registerCommand(COMMAND_SELECT_MODEL, (args?: { folder?: unknown; repo?: unknown }) =>
      run(async () => {
        if (args && typeof args === 'object') return selectWithArguments(args, modalConfirm);
        const current = vscode.workspace.getConfiguration(SECTION).get<string>('model', 'bundled') || 'bundled';
        const downloaded = listDownloaded(storage);
        const items: Array<ModelChoice | vscode.QuickPickItem> = [
          { label: '$(package) Bundled model', description: 'attentive-code-14m, works offline', detail: current === 'bundled' ? 'in use' : undefined, action: async () => 'bundled' } as ModelChoice,
        ];
        if (downloaded.length) items.push({ label: 'Downloaded', kind: vscode.QuickPickItemKind.Separator });
        for (const model of downloaded) {
          items.push({
            label: `$(database) ${model.record.repo}`,
            description: `${model.record.quantization}, ${megabytes(model.bytes)} on disk`,
            detail: path.resolve(current) === model.folder ? 'in use' : undefined,
            action: async () => model.folder,
          } as ModelChoice);
        }
        items.push({ label: 'Download', kind: vscode.QuickPickItemKind.Separator });
        for (const entry of CATALOG.filter((e) => !downloaded.some((m) => m.record.repo === e.repo))) {
          items.push({ label: `$(cloud-download) ${entry.title}`, description: entry.repo, detail: `${describeEntry(entry)} — ${entry.note}`, action: () => downloadWithProgress(storage, entry.repo, log) } as ModelChoice);
        }
        items.push({ label: 'Other', kind: vscode.QuickPickItemKind.Separator });
        items.push({
          label: '$(folder-opened) Local folder…',
          description: 'a model folder in the Hugging Face layout',
          action: async () => {
            const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use this model folder' });
            return picked?.[0]?.fsPath;
          },
        } as ModelChoice);
        items.push({
          label: '$(cloud-download) Hugging Face repository…',
          description: 'any repository id in the transformers.js layout',
          action: async () => {
            const repo = await vscode.window.showInputBox({
              prompt: 'Hugging Face repository id (owner/name) with ONNX files in onnx/',
              placeHolder: 'onnx-community/Qwen2.5-Coder-0.5B-Instruct',
              validateInput: (value) => (REPO_ID.test(value.trim()) ? undefined : 'owner/name, letters, digits, "-", "_" and "."'),
            });
            return repo ? downloadWithProgress(storage, repo.trim(), log) : undefined;
          },
        } as ModelChoice);
        const choice = (await vscode.window.showQuickPick(items, { title: 'Attentive: Select Model', matchOnDescription: true, matchOnDetail: true })) as ModelChoice | undefined;
        if (!choice) return;
        const model = await choice.action();
        if (model) await useModel(model);
      }),
    ),
    vscode.commands.registerCommand(COMMAND_MANAGE_MODELS, () =>
      run(async () => {
        const downloaded = listDownloaded(storage);
        if (downloaded.length === 0) {
          const choice = await vscode.window.showInformationMessage('Attentive: no downloaded models. Download one with "Attentive: Select Model".', 'Select Model');
          if (choice) await vscode.commands.executeCommand(COMMAND_SELECT_MODEL);
          return;
        }
        const total = downloaded.reduce((sum, m) => sum + m.bytes, 0);
        const picked = await vscode.window.showQuickPick(
          downloaded.map((model) => ({ label: model.record.repo, description: `${model.record.quantization}, ${megabytes(model.bytes)}`, detail: model.folder, model })),
          { title: `Attentive: Manage Models (${megabytes(total)} on disk)` },
        );
        if (!picked) return;
        const action = await vscode.window.showQuickPick(['Use this model', 'Reveal in file manager', 'Delete'], { title: picked.label });
        if (action === 'Use this model') await useModel(picked.model.folder);
        else if (action === 'Reveal in file manager') await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(picked.model.folder, 'config.json')));
        else if (action === 'Delete') {
          const current = vscode.workspace.getConfiguration(SECTION).get<string>('model', 'bundled');
          const sure = await vscode.window.showWarningMessage(`Delete ${picked.label} (${megabytes(picked.model.bytes)})?`, { modal: true }, 'Delete');
          if (sure !== 'Delete') return;
          if (current && path.resolve(current) === picked.model.folder) await useModel('bundled');
          // Its copy with external weights (a large single-file model's, as big as the model) goes with it, and the
          // graphs rewritten from that copy.
          const freed = await local.deleteModelCaches(picked.model.folder, modelCacheDir(context));
          deleteDownloaded(storage, picked.model.folder);
          log.appendLine(`[models] deleted ${picked.model.folder}${freed ? ` and its cached copy (${megabytes(freed)})` : ''}`);
        }
      }),
    ),
  );
  return { select: (args, confirm) => run(() => selectWithArguments(args, confirm)) };
}
