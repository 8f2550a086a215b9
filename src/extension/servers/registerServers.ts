// "Attentive: Add Model Server...": a model server with the OpenAI-compatible API, step by step: a preset or a URL,
// an optional API key (into SecretStorage), a connection test, the model, and the roles that use it. The result goes
// to the user's settings (attentive.endpoints, attentive.chat.backend, attentive.completion.backend).
// "Attentive: Set Model Server API Key..." changes a server's key (also offered when a server refuses it).

import * as vscode from 'vscode';
import { EndpointBackend, isLoopback } from '../../backend/endpoint/endpointBackend';
import { EngineError } from '../../protocol/engine';
import { apiKeySecret, COMMAND_SET_SERVER_KEY, readEndpointSettings, type Backends, type EndpointSetting, type Role } from '../shared/backends';
import { SECTION } from '../shared/settings';

export const COMMAND_ADD_MODEL_SERVER = 'attentive.addModelServer';

/** What people run, with their default OpenAI-compatible base URL. */
export const SERVER_PRESETS = [
  { label: 'Ollama', baseUrl: 'http://127.0.0.1:11434/v1' },
  { label: 'LM Studio', baseUrl: 'http://127.0.0.1:1234/v1' },
  { label: 'llama.cpp (llama-server)', baseUrl: 'http://127.0.0.1:8080/v1' },
  { label: 'vLLM', baseUrl: 'http://127.0.0.1:8000/v1' },
] as const;

/** The questions the command asks: VS Code's pickers and dialogs for users, scripted answers in the tests. */
export interface ServerPrompts {
  pick<T extends vscode.QuickPickItem>(items: T[], options: vscode.QuickPickOptions): Thenable<T | undefined>;
  pickMany<T extends vscode.QuickPickItem>(items: T[], options: vscode.QuickPickOptions): Thenable<readonly T[] | undefined>;
  input(options: vscode.InputBoxOptions): Thenable<string | undefined>;
  /** A modal warning with one action; true when the user chose it. */
  confirm(message: string, action: string): Thenable<boolean>;
  progress<T>(title: string, task: () => Promise<T>): Thenable<T>;
  error(message: string): void;
  info(message: string): void;
}

const vscodePrompts: ServerPrompts = {
  pick: (items, options) => vscode.window.showQuickPick(items, options),
  pickMany: (items, options) => vscode.window.showQuickPick(items, { ...options, canPickMany: true }),
  input: (options) => vscode.window.showInputBox(options),
  confirm: (message, action) => vscode.window.showWarningMessage(message, { modal: true }, action).then((answer) => answer === action),
  progress: (title, task) => vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, task),
  error: (message) => void vscode.window.showErrorMessage(message),
  info: (message) => void vscode.window.showInformationMessage(message),
};

/** The two flows, for the extension's tests (which answer through `prompts`). */
export interface ServerFlows {
  addModelServer(prompts: ServerPrompts): Promise<EndpointSetting | undefined>;
  setApiKey(prompts: ServerPrompts, name?: string): Promise<boolean>;
}

/** Registers "Add Model Server..." and "Set Model Server API Key...". */
export function registerServers(context: vscode.ExtensionContext, backends: Backends): ServerFlows {
  context.subscriptions.push(
    vscode.commands.registerCommand(COMMAND_ADD_MODEL_SERVER, () => addModelServer(context, backends, vscodePrompts)),
    // From the palette, or with the endpoint's name from the offer after a server refused the key.
    vscode.commands.registerCommand(COMMAND_SET_SERVER_KEY, (name?: unknown) => setApiKey(context, backends, vscodePrompts, typeof name === 'string' ? name : undefined)),
  );
  return { addModelServer: (prompts) => addModelServer(context, backends, prompts), setApiKey: (prompts, name) => setApiKey(context, backends, prompts, name) };
}

/** Stores (or, left empty, removes) an endpoint's API key in the secret storage; true when it changed. */
async function setApiKey(context: vscode.ExtensionContext, backends: Backends, prompts: ServerPrompts, name?: string): Promise<boolean> {
  const endpoints = readEndpointSettings().endpoints;
  if (endpoints.length === 0) {
    prompts.info('Attentive: no model server is set up yet; "Attentive: Add Model Server..." adds one.');
    return false;
  }
  const endpoint =
    endpoints.find((e) => e.name === name) ??
    (endpoints.length === 1
      ? endpoints[0]
      : (await prompts.pick(endpoints.map((e) => ({ label: e.name, description: `${e.model} at ${new URL(e.baseUrl).host}`, endpoint: e })), { title: 'Set Model Server API Key: which server?' }))?.endpoint);
  if (!endpoint) return false;
  const host = new URL(endpoint.baseUrl).host;
  const key = await prompts.input({ title: `API key for ${endpoint.name} (${host})`, prompt: 'Kept in VS Code\'s secret storage and sent only to this server. Leave empty to remove the key.', password: true });
  if (key === undefined) return false;
  if (key) await context.secrets.store(apiKeySecret(endpoint.name), key);
  else await context.secrets.delete(apiKeySecret(endpoint.name));
  await backends.refresh();
  prompts.info(key ? `Attentive: the API key for ${endpoint.name} is saved.` : `Attentive: the API key for ${endpoint.name} is removed.`);
  return true;
}

async function addModelServer(context: vscode.ExtensionContext, backends: Backends, prompts: ServerPrompts): Promise<EndpointSetting | undefined> {
  const preset = await prompts.pick(
    [...SERVER_PRESETS.map((p) => ({ label: p.label, description: p.baseUrl, baseUrl: p.baseUrl as string })), { label: 'Other server…', description: 'SGLang, a team server, any OpenAI-compatible API', baseUrl: 'https://' }],
    { title: 'Add Model Server (1/5): which server?', placeHolder: 'The server must be running' },
  );
  if (!preset) return undefined;
  const baseUrl = await prompts.input({
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
  const apiKey = await prompts.input({ title: 'Add Model Server (3/5): API key', prompt: 'Leave empty if the server needs none. Kept in VS Code\'s secret storage.', password: true });
  if (apiKey === undefined) return undefined;
  const url = new URL(baseUrl);
  const host = url.host;
  const insecure = url.protocol === 'http:' && !isLoopback(url.hostname);
  if (insecure) {
    if (!(await prompts.confirm(`${host} is another machine reached over plain http://: your code would travel unencrypted. Use https:// if the server has it.`, 'Send Unencrypted'))) return undefined;
  }
  // Adding the server is the user's decision to send code there.
  await backends.allowHost(host);
  const probe = new EndpointBackend({ baseUrl, model: '', contextLength: 8192, ...(apiKey ? { apiKey } : {}), allowInsecure: insecure });
  const listed = await prompts.progress(`Attentive: connecting to ${host}…`, () =>
    probe.listModels().then(
      (ids) => ids,
      (error: unknown) => error as Error,
    ),
  );
  if (listed instanceof EngineError && (listed.code === 'unreachable' || listed.code === 'unauthorized' || listed.code === 'timeout' || listed.code === 'not-allowed')) {
    prompts.error(`Attentive: ${listed.message}`);
    return undefined;
  }
  const ids = Array.isArray(listed) ? listed : [];
  const model = ids.length
    ? (await prompts.pick(ids.map((id) => ({ label: id })), { title: 'Add Model Server (4/5): which model?' }))?.label
    : await prompts.input({ title: 'Add Model Server (4/5): the model id', prompt: `${host} did not list its models; type the id the server knows the model by` });
  if (!model) return undefined;
  const check = new EndpointBackend({ baseUrl, model, contextLength: 8192, ...(apiKey ? { apiKey } : {}), allowInsecure: insecure });
  const checked = await prompts.progress(`Attentive: trying ${model}…`, () =>
    check.ensureLoaded().then(
      () => undefined,
      (error: unknown) => error as Error,
    ),
  );
  if (checked) {
    prompts.error(`Attentive: ${checked.message}`);
    return undefined;
  }
  const roles = await prompts.pickMany(
    [
      { label: 'Chat and Explain Selection', role: 'chat' as Role, picked: true },
      { label: 'Inline completion', role: 'completion' as Role, description: 'best with a base model that does fill-in-the-middle' },
    ],
    { title: 'Add Model Server (5/5): what should use it?' },
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
  prompts.info(`Attentive: ${model} at ${host} added as "${name}"${roles.length ? `, used for ${roles.map((r) => r.label.toLowerCase()).join(' and ')}` : ''}.`);
  return setting;
}
