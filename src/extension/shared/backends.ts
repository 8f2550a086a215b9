// Which backend each role uses: the local engine, or one of the model servers in `attentive.endpoints` (user settings
// only: the settings have application scope, so a workspace cannot point Attentive at a server). Each role is a
// SwitchingBackend that features hold; changing the settings or a key re-points it. API keys live in SecretStorage.
// The first request to a host asks the user once; the answer is remembered.

import * as vscode from 'vscode';
import type { Backend } from '../../backend/backend';
import { EndpointBackend, type EndpointConfig } from '../../backend/endpoint/endpointBackend';
import { SwitchingBackend } from '../../backend/switchingBackend';
import type { ChatBackendInfo } from '../../protocol/chat';
import { readSettings, SECTION } from './settings';

export type Role = 'chat' | 'explain' | 'completion';
export const ROLES: readonly Role[] = ['chat', 'explain', 'completion'];
/** Each role as the status bar and the Model view name it. */
export const ROLE_LABELS: Record<Role, string> = { chat: 'Chat', explain: 'Explain Selection', completion: 'Inline completion' };
export const LOCAL = 'local';
/** attentive.explain.backend's default: wherever the chat runs. */
export const SAME_AS_CHAT = 'chat';

/** One entry of `attentive.endpoints`. */
export interface EndpointSetting {
  name: string;
  baseUrl: string;
  model: string;
  contextLength?: number;
  fimFamily?: string;
  headers?: Record<string, string>;
  allowInsecure?: boolean;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
}

interface Endpoint {
  setting: EndpointSetting;
  apiKey: string | undefined;
  backend: EndpointBackend;
}

const ALLOWED_HOSTS_KEY = 'attentive.allowedServerHosts';
export const apiKeySecret = (name: string) => `attentive.endpoint.${name}.apiKey`;
/** "Attentive: Set Model Server API Key..." (registered by the servers feature), with an endpoint's name or none. */
export const COMMAND_SET_SERVER_KEY = 'attentive.setServerApiKey';

/** The valid entries of `attentive.endpoints` (user or machine settings; VS Code ignores workspace values). */
export function readEndpointSettings(): { endpoints: EndpointSetting[]; problems: string[] } {
  const raw = vscode.workspace.getConfiguration(SECTION).get<unknown[]>('endpoints', []);
  const endpoints: EndpointSetting[] = [];
  const problems: string[] = [];
  for (const [index, entry] of (Array.isArray(raw) ? raw : []).entries()) {
    const e = entry as Partial<EndpointSetting> | null;
    if (!e || typeof e.name !== 'string' || !e.name || typeof e.baseUrl !== 'string' || typeof e.model !== 'string' || !e.model) {
      problems.push(`attentive.endpoints[${index}] needs "name", "baseUrl" and "model"`);
      continue;
    }
    try {
      const url = new URL(e.baseUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
    } catch {
      problems.push(`attentive.endpoints[${index}] ("${e.name}"): "${e.baseUrl}" is not an http(s) URL`);
      continue;
    }
    endpoints.push(e as EndpointSetting);
  }
  return { endpoints, problems };
}

export function roleSetting(role: Role): string {
  const fallback = role === 'explain' ? SAME_AS_CHAT : LOCAL;
  return vscode.workspace.getConfiguration(SECTION).get<string>(`${role}.backend`, fallback) || fallback;
}

export class Backends implements vscode.Disposable {
  readonly chat: SwitchingBackend;
  readonly explain: SwitchingBackend;
  readonly completion: SwitchingBackend;
  private endpoints = new Map<string, Endpoint>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  /** The roles were re-pointed (settings or keys changed). */
  readonly onDidChange = this.changed.event;
  private refreshing: Promise<void> = Promise.resolve();
  /** Endpoints whose refused key the user was told about (until their settings or key change). */
  private readonly keyOffered = new Set<string>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly local: Backend,
    private readonly log: vscode.OutputChannel,
    /** Asks whether code may go to a host (a modal dialog; the extension's tests answer through their API). */
    private readonly askToSend: (host: string, model: string) => Promise<boolean> = askUser,
  ) {
    this.chat = new SwitchingBackend(local);
    this.explain = new SwitchingBackend(local);
    this.completion = new SwitchingBackend(local);
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        const roles = ROLES.some((role) => event.affectsConfiguration(`${SECTION}.${role}.backend`));
        // The local model's setting too: the chat's welcome says whether it is the small bundled one.
        if (roles || event.affectsConfiguration(`${SECTION}.endpoints`) || event.affectsConfiguration(`${SECTION}.model`)) void this.refresh();
      }),
      context.secrets.onDidChange((event) => {
        if (event.key.startsWith('attentive.endpoint.')) void this.refresh();
      }),
    );
  }

  /** Reads the settings and keys and re-points every role; resolves when done (also for callers that await it). */
  refresh(): Promise<void> {
    this.refreshing = this.refreshing.then(() => this.rebuild()).catch((error: unknown) => this.log.appendLine(`[servers] ${(error as Error).message}`));
    return this.refreshing;
  }

  private async rebuild(): Promise<void> {
    const { endpoints, problems } = readEndpointSettings();
    for (const problem of problems) this.log.appendLine(`[servers] ${problem}`);
    const next = new Map<string, Endpoint>();
    for (const setting of endpoints) {
      const apiKey = await this.context.secrets.get(apiKeySecret(setting.name));
      const old = this.endpoints.get(setting.name);
      // An unchanged endpoint keeps its backend (and the user's consent); a changed one starts anew.
      const same = old && JSON.stringify(old.setting) === JSON.stringify(setting) && old.apiKey === apiKey;
      if (!same) this.keyOffered.delete(setting.name);
      next.set(setting.name, same ? old : { setting, apiKey, backend: new EndpointBackend(this.config(setting, apiKey)) });
    }
    for (const [name, old] of this.endpoints) if (next.get(name) !== old) void old.backend.dispose();
    this.endpoints = next;
    for (const role of ROLES) {
      const wanted = roleSetting(role);
      if (role === 'explain' && wanted === SAME_AS_CHAT) {
        this.explain.switchTo(this.chat.current);
        continue;
      }
      const endpoint = wanted === LOCAL ? undefined : next.get(wanted);
      if (wanted !== LOCAL && !endpoint) this.log.appendLine(`[servers] attentive.${role}.backend is "${wanted}", which is not in attentive.endpoints: ${role} uses the local model`);
      this[role].switchTo(endpoint?.backend ?? this.local);
    }
    this.changed.fire();
  }

  private config(setting: EndpointSetting, apiKey: string | undefined): EndpointConfig {
    return {
      baseUrl: setting.baseUrl,
      model: setting.model,
      contextLength: setting.contextLength ?? 8192,
      ...(apiKey ? { apiKey } : {}),
      ...(setting.headers ? { headers: setting.headers } : {}),
      ...(setting.fimFamily ? { fimFamily: setting.fimFamily } : {}),
      ...(setting.allowInsecure ? { allowInsecure: true } : {}),
      ...(setting.connectTimeoutMs ? { connectTimeoutMs: setting.connectTimeoutMs } : {}),
      ...(setting.idleTimeoutMs ? { idleTimeoutMs: setting.idleTimeoutMs } : {}),
      log: (line) => this.log.appendLine(line),
      confirm: (host) => this.confirm(host, setting.model),
      onUnauthorized: () => this.offerKey(setting, apiKey !== undefined),
    };
  }

  /**
   * A server refused the key: says so once per endpoint and key (completion would ask at every keystroke), with a
   * button to set it.
   */
  private offerKey(setting: EndpointSetting, hasKey: boolean): void {
    if (this.keyOffered.has(setting.name)) return;
    this.keyOffered.add(setting.name);
    const host = new URL(setting.baseUrl).host;
    const action = 'Set API Key';
    const problem = hasKey ? 'refused the API key Attentive sent' : 'needs an API key';
    void vscode.window.showWarningMessage(`Attentive: the model server at ${host} ${problem} (endpoint "${setting.name}").`, action).then((choice) => {
      if (choice === action) void vscode.commands.executeCommand(COMMAND_SET_SERVER_KEY, setting.name);
    });
  }

  /** Remembers that the user allowed code to go to `host` (they added the server themselves). */
  async allowHost(host: string): Promise<void> {
    await this.context.globalState.update(ALLOWED_HOSTS_KEY, [...new Set([...this.context.globalState.get<string[]>(ALLOWED_HOSTS_KEY, []), host])]);
  }

  /** Asks once per host whether code may be sent there; the answer "Allow" is remembered. */
  private async confirm(host: string, model: string): Promise<boolean> {
    const allowed = this.context.globalState.get<string[]>(ALLOWED_HOSTS_KEY, []);
    if (allowed.includes(host)) return true;
    if (!(await this.askToSend(host, model))) return false;
    await this.allowHost(host);
    return true;
  }

  /** Where a role runs: the bundled model, another local model, or a server (with the model and host in words). */
  where(role: Role): ChatBackendInfo {
    const target = this[role].current;
    if (target === this.local) {
      const { model } = readSettings();
      const name = this.local.state.kind === 'ready' || this.local.state.kind === 'generating' ? this.local.state.model.name : model === 'bundled' ? 'the bundled model' : model;
      return { kind: model === 'bundled' ? 'bundled' : 'local', description: name };
    }
    return { kind: 'server', description: this.describe(role) };
  }

  /** Where a role runs, in words: "local" or "<model> at <host>". */
  describe(role: Role): string {
    const target = this[role].current;
    if (target === this.local) return 'the local model';
    for (const { setting, backend } of this.endpoints.values()) if (backend === target) return `${setting.model} at ${new URL(setting.baseUrl).host}`;
    return 'the local model';
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    for (const { backend } of this.endpoints.values()) void backend.dispose();
    void this.chat.dispose();
    void this.explain.dispose();
    void this.completion.dispose();
    this.changed.dispose();
  }
}

async function askUser(host: string, model: string): Promise<boolean> {
  const allow = 'Allow';
  const answer = await vscode.window.showWarningMessage(
    `Attentive will send your code and messages to the model server at ${host} (${model}). Allow this server?`,
    { modal: true, detail: 'Asked once per server. Servers are set up in the attentive.endpoints setting.' },
    allow,
  );
  return answer === allow;
}
