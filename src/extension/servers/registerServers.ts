// "Attentive: Add Model Server...": a model server with the OpenAI-compatible API, step by step: a preset or a URL,
// an optional API key (into SecretStorage), a connection test, the model, and the roles that use it. The result goes
// to the user's settings (attentive.endpoints, attentive.chat.backend, attentive.completion.backend).

import * as vscode from 'vscode';
import { EndpointBackend, isLoopback } from '../../backend/endpoint/endpointBackend';
import { EngineError } from '../../protocol/engine';
import { apiKeySecret, readEndpointSettings, type Backends, type EndpointSetting, type Role } from '../shared/backends';
import { SECTION } from '../shared/settings';

export const COMMAND_ADD_MODEL_SERVER = 'attentive.addModelServer';

/** What people run, with their default OpenAI-compatible base URL. */
export const SERVER_PRESETS = [
  { label: 'Ollama', baseUrl: 'http://127.0.0.1:11434/v1' },
  { label: 'LM Studio', baseUrl: 'http://127.0.0.1:1234/v1' },
  { label: 'llama.cpp (llama-server)', baseUrl: 'http://127.0.0.1:8080/v1' },
  { label: 'vLLM', baseUrl: 'http://127.0.0.1:8000/v1' },
] as const;

export function registerServers(context: vscode.ExtensionContext, backends: Backends): void {
  context.subscriptions.push(vscode.commands.registerCommand(COMMAND_ADD_MODEL_SERVER, () => addModelServer(context, backends)));
}

async function addModelServer(context: vscode.ExtensionContext, backends: Backends): Promise<EndpointSetting | undefined> {
  const preset = await vscode.window.showQuickPick(
    [...SERVER_PRESETS.map((p) => ({ label: p.label, description: p.baseUrl, baseUrl: p.baseUrl as string })), { label: 'Other server…', description: 'SGLang, a team server, any OpenAI-compatible API', baseUrl: 'https://' }],
    { title: 'Add Model Server (1/5): which server?', placeHolder: 'The server must be running' },
  );
  if (!preset) return undefined;
  const baseUrl = await vscode.window.showInputBox({
    title: 'Add Model Server (2/5): the API base URL',
    value: preset.baseUrl,
    prompt: 'Ends in /v1. Plain http:// is for this machine; other machines need https://.',
    validateInput: (value) => {
      try {
        const url = new URL(value);
        return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : 'An http:// or https:// URL';
      } catch {
        return 'An http:// or https:// URL';
      }
    },
  });
  if (!baseUrl) return undefined;
  const apiKey = await vscode.window.showInputBox({ title: 'Add Model Server (3/5): API key', prompt: 'Leave empty if the server needs none. Kept in VS Code\'s secret storage.', password: true });
  if (apiKey === undefined) return undefined;
  const url = new URL(baseUrl);
  const host = url.host;
  const insecure = url.protocol === 'http:' && !isLoopback(url.hostname);
  if (insecure) {
    const allow = 'Send Unencrypted';
    const answer = await vscode.window.showWarningMessage(`${host} is another machine reached over plain http://: your code would travel unencrypted. Use https:// if the server has it.`, { modal: true }, allow);
    if (answer !== allow) return undefined;
  }
  // Adding the server is the user's decision to send code there.
  await backends.allowHost(host);
  const probe = new EndpointBackend({ baseUrl, model: '', contextLength: 8192, ...(apiKey ? { apiKey } : {}), allowInsecure: insecure });
  const listed = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Attentive: connecting to ${host}…` }, () =>
    probe.listModels().then(
      (ids) => ids,
      (error: unknown) => error as Error,
    ),
  );
  if (listed instanceof EngineError && (listed.code === 'unreachable' || listed.code === 'unauthorized' || listed.code === 'timeout' || listed.code === 'not-allowed')) {
    void vscode.window.showErrorMessage(`Attentive: ${listed.message}`);
    return undefined;
  }
  const ids = Array.isArray(listed) ? listed : [];
  const model = ids.length
    ? (await vscode.window.showQuickPick(ids, { title: 'Add Model Server (4/5): which model?' }))
    : await vscode.window.showInputBox({ title: 'Add Model Server (4/5): the model id', prompt: `${host} did not list its models; type the id the server knows the model by` });
  if (!model) return undefined;
  const check = new EndpointBackend({ baseUrl, model, contextLength: 8192, ...(apiKey ? { apiKey } : {}), allowInsecure: insecure });
  const checked = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Attentive: trying ${model}…` }, () =>
    check.ensureLoaded().then(
      () => undefined,
      (error: unknown) => error as Error,
    ),
  );
  if (checked) {
    void vscode.window.showErrorMessage(`Attentive: ${checked.message}`);
    return undefined;
  }
  const roles = await vscode.window.showQuickPick(
    [
      { label: 'Chat and Explain Selection', role: 'chat' as Role, picked: true },
      { label: 'Inline completion', role: 'completion' as Role, description: 'best with a base model that does fill-in-the-middle' },
    ],
    { title: 'Add Model Server (5/5): what should use it?', canPickMany: true },
  );
  if (!roles) return undefined;
  const existing = readEndpointSettings().endpoints;
  const base = preset.label === 'Other server…' ? host : preset.label.split(' ')[0]!;
  let name = base;
  for (let i = 2; existing.some((e) => e.name === name); i++) name = `${base} ${i}`;
  const setting: EndpointSetting = { name, baseUrl, model, ...(insecure ? { allowInsecure: true } : {}) };
  if (apiKey) await context.secrets.store(apiKeySecret(name), apiKey);
  const config = vscode.workspace.getConfiguration(SECTION);
  await config.update('endpoints', [...existing, setting], vscode.ConfigurationTarget.Global);
  for (const { role } of roles) await config.update(`${role}.backend`, name, vscode.ConfigurationTarget.Global);
  await backends.refresh();
  void vscode.window.showInformationMessage(`Attentive: ${model} at ${host} added as "${name}"${roles.length ? `, used for ${roles.map((r) => r.label.toLowerCase()).join(' and ')}` : ''}.`);
  return setting;
}
