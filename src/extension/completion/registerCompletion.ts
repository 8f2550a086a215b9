// Inline completion (ghost text): the VS Code provider around CompletionService, the pause toggle (command and
// status-bar item, remembered across restarts), the manual trigger, and the settings.

import * as vscode from 'vscode';
import { EngineError } from '../../protocol/engine';
import type { Backend } from '../../backend/backend';
import { SECTION } from '../shared/settings';
import { settingDefault } from '../shared/settingDefaults';
import { CompletionService, DEFAULT_COMPLETION_SETTINGS, fillInTheMiddleSetting, type CompletionSettings } from './completionService';
import type { LineSource } from './documentWindow';
import { DefinitionSnippets } from './definitionSnippets';
import { NeighbourFiles } from './neighbourFiles';
import type { RepoFormat } from '../../protocol/repoContext';

export const COMMAND_TOGGLE_COMPLETIONS = 'attentive.toggleCompletions';
export const COMMAND_TRIGGER_COMPLETION = 'attentive.triggerCompletion';
const PAUSED_KEY = 'attentive.completion.paused';
/** Snippets of other files offered per request (the token budget may take fewer). */
const MAX_SNIPPETS = 3;

interface ProviderSettings extends CompletionSettings {
  enabled: boolean;
  debounceMs: number;
  /** Prompt tokens for snippets of other files (0: none). */
  contextTokens: number;
  /** 'auto': only for models with a repository format; 'on': as comments for the others too. */
  crossFileContext: 'auto' | 'on' | 'off';
  /** Per language id: true / false; "*" is the default for the rest. */
  languages: Record<string, boolean>;
}

export function readCompletionSettings(): ProviderSettings {
  const config = vscode.workspace.getConfiguration(`${SECTION}.completion`);
  const d = DEFAULT_COMPLETION_SETTINGS;
  return {
    enabled: config.get<boolean>('enabled', settingDefault('attentive.completion.enabled')),
    debounceMs: Math.max(0, config.get<number>('debounceMs', settingDefault('attentive.completion.debounceMs'))),
    contextTokens: Math.max(0, config.get<number>('contextTokens', settingDefault('attentive.completion.contextTokens'))),
    crossFileContext: (['auto', 'on', 'off'] as const).find((v) => v === config.get<string>('crossFileContext')) ?? 'auto',
    languages: config.get<Record<string, boolean>>('languages', settingDefault('attentive.completion.languages')),
    maxLines: Math.max(1, config.get<number>('maxLines', d.maxLines)),
    maxNewTokens: Math.max(1, config.get<number>('maxNewTokens', d.maxNewTokens)),
    maxPromptTokens: Math.max(64, config.get<number>('maxPromptTokens', d.maxPromptTokens)),
    fillInTheMiddle: fillInTheMiddleSetting(config.get<string>('fillInTheMiddle')),
    minMeanProbability: Math.min(1, Math.max(0, config.get<number>('minMeanProbability', d.minMeanProbability))),
    timeLimitMs: Math.max(20, config.get<number>('timeLimitMs', d.timeLimitMs)),
  };
}

export function languageEnabled(languages: Record<string, boolean>, languageId: string): boolean {
  return languages[languageId] ?? languages['*'] ?? true;
}

/** vscode.TextDocument read line by line: a 10 MB file costs only the lines near the cursor. */
function lineSource(document: vscode.TextDocument): LineSource {
  return {
    lineCount: document.lineCount,
    lineAt: (line) => document.lineAt(line).text,
    eol: document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n',
  };
}

/** Resolves after `ms` unless the token is cancelled first (then false). */
function debounce(ms: number, token: vscode.CancellationToken): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(!token.isCancellationRequested);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      subscription.dispose();
      resolve(!token.isCancellationRequested);
    }, ms);
    const subscription = token.onCancellationRequested(() => {
      clearTimeout(timer);
      subscription.dispose();
      resolve(false);
    });
  });
}

export class AttentiveInlineCompletionProvider implements vscode.InlineCompletionItemProvider {
  /** Requests that reached the engine or the cache, how many the editor cancelled during the debounce, and busy-server back-offs. */
  readonly stats = { requests: 0, debounced: 0, shown: 0, backedOff: 0 };
  /** Until when a busy model server is left alone (its Retry-After). */
  private busyServerUntil = 0;
  /** The last suggestion handed to the editor. */
  lastShown: string | undefined;
  private readonly busyEmitter = new vscode.EventEmitter<boolean>();
  readonly onBusyChange = this.busyEmitter.event;
  private busy = 0;

  constructor(
    readonly service: CompletionService,
    private readonly isPaused: () => boolean,
    private readonly output: vscode.OutputChannel,
    private readonly neighbours: NeighbourFiles,
    private readonly definitions: DefinitionSnippets,
    /** How the model in use takes other files' code (undefined until it is loaded). */
    private readonly repoFormat: () => RepoFormat | undefined,
  ) {}

  /** Whether requests carry code of other files: 'auto' only for a model with a repository format. */
  wantsContext(settings: ProviderSettings): boolean {
    if (settings.contextTokens <= 0 || settings.crossFileContext === 'off') return false;
    const format = this.repoFormat();
    return settings.crossFileContext === 'on' || (format !== undefined && format !== 'comments');
  }

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const settings = readCompletionSettings();
    const manual = context.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
    if (!manual && (this.isPaused() || !settings.enabled)) return undefined;
    if (!languageEnabled(settings.languages, document.languageId) && !manual) return undefined;
    // The editor's own suggestion widget is open: VS Code shows our text only if it extends the selected item.
    if (context.selectedCompletionInfo) return undefined;
    // A model server said it is busy (429/503): automatic requests wait as long as it asked, instead of queueing.
    if (!manual && Date.now() < this.busyServerUntil) return undefined;
    if (!manual && !(await debounce(settings.debounceMs, token))) {
      this.stats.debounced++;
      return undefined;
    }
    this.stats.requests++;
    const abort = new AbortController();
    const subscription = token.onCancellationRequested(() => abort.abort());
    this.setBusy(+1);
    try {
      const fileName = vscode.workspace.asRelativePath(document.uri, false);
      // Definitions of the names at hand first, then the most similar windows of other files.
      const withContext = this.wantsContext(settings);
      const definitions = withContext ? this.definitions.snippetsFor(document, position.line) : [];
      const similar = withContext ? this.neighbours.snippetsFor(document, position.line, MAX_SNIPPETS) : [];
      const snippets = [...definitions, ...similar.filter((s) => !definitions.some((d) => d.path === s.path))];
      const repoName = vscode.workspace.name ?? 'workspace';
      const outcome = await this.service.provide(
        {
          document: lineSource(document),
          line: position.line,
          character: position.character,
          languageId: document.languageId,
          fileName,
          ...(snippets.length
            ? { context: { snippets, maxTokens: settings.contextTokens, repoName, languageId: document.languageId, asComments: settings.crossFileContext === 'on' } }
            : {}),
        },
        abort.signal,
      );
      if (!outcome || token.isCancellationRequested || !outcome.text) return undefined;
      this.stats.shown++;
      this.lastShown = outcome.text;
      return [new vscode.InlineCompletionItem(outcome.text, new vscode.Range(position, position))];
    } catch (error) {
      this.output.appendLine(`[completion] ${(error as Error).message}`);
      if (error instanceof EngineError && error.code === 'rate-limited') {
        const seconds = error.retryAfterSeconds ?? 10;
        this.busyServerUntil = Date.now() + seconds * 1000;
        this.stats.backedOff++;
        void vscode.window.setStatusBarMessage(`Attentive: the completion server is busy; suggestions resume in ${seconds} s`, seconds * 1000);
      }
      return undefined;
    } finally {
      subscription.dispose();
      this.setBusy(-1);
    }
  }

  private setBusy(delta: number): void {
    const was = this.busy > 0;
    this.busy += delta;
    if (was !== this.busy > 0) this.busyEmitter.fire(this.busy > 0);
  }

  dispose(): void {
    this.busyEmitter.dispose();
  }
}

export function registerCompletion(context: vscode.ExtensionContext, backend: Backend, output: vscode.OutputChannel): AttentiveInlineCompletionProvider {
  const service = new CompletionService(
    // Completion goes before queued chat work (never preempting a running step).
    (params, signal) => backend.complete(params, { priority: 'high', signal }),
    () => readCompletionSettings(),
  );
  const isPaused = () => context.globalState.get<boolean>(PAUSED_KEY, false);
  const neighbours = new NeighbourFiles();
  const repoFormat = () => ('model' in backend.state ? backend.state.model.repoFormat : undefined);
  // Language servers are asked only when the answer can be used (quiet on the CPU otherwise).
  const definitions: DefinitionSnippets = new DefinitionSnippets((document): boolean => {
    const settings = readCompletionSettings();
    return settings.enabled && !isPaused() && languageEnabled(settings.languages, document.languageId) && provider.wantsContext(settings);
  });
  const provider: AttentiveInlineCompletionProvider = new AttentiveInlineCompletionProvider(service, isPaused, output, neighbours, definitions, repoFormat);

  const item = vscode.window.createStatusBarItem('attentive.completion', vscode.StatusBarAlignment.Right, 99);
  item.name = 'Attentive inline completion';
  item.command = COMMAND_TOGGLE_COMPLETIONS;
  let busy = false;
  const render = () => {
    if (isPaused()) {
      item.text = '$(circle-slash) Completions';
      item.tooltip = 'Attentive inline completion is paused: click to resume';
    } else if (busy) {
      item.text = '$(loading~spin) Completions';
      item.tooltip = 'Attentive is computing a completion';
    } else {
      item.text = '$(check) Completions';
      item.tooltip = 'Attentive inline completion is on: click to pause';
    }
  };
  render();
  item.show();

  context.subscriptions.push(
    item,
    provider,
    neighbours,
    definitions,
    provider.onBusyChange((value) => {
      busy = value;
      render();
    }),
    vscode.languages.registerInlineCompletionItemProvider([{ scheme: 'file' }, { scheme: 'untitled' }], provider),
    vscode.commands.registerCommand(COMMAND_TOGGLE_COMPLETIONS, async () => {
      const paused = !isPaused();
      await context.globalState.update(PAUSED_KEY, paused);
      if (paused) service.cancelInFlight();
      render();
      void vscode.window.setStatusBarMessage(paused ? 'Attentive: inline completion paused' : 'Attentive: inline completion resumed', 3000);
    }),
    vscode.commands.registerCommand(COMMAND_TRIGGER_COMPLETION, () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger')),
  );
  return provider;
}
