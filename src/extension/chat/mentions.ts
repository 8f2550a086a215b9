// What an @-mention brings into the chat: a file, a folder's files, a symbol's definition, the workspace's problems,
// the uncommitted changes (VS Code's git extension), or the open editors, as one attachment within the attachment
// cap (cut by a stated rule: whole lines, or whole files in path order, and the chip says how much is in).

import * as path from 'node:path';
import * as vscode from 'vscode';
import { MAX_ATTACHMENT_CHARS, type Attachment, type MentionKind } from '../../protocol/chat';
import { blockEndLine } from '../shared/enclosingBlock';
import type { WorkspaceIndex } from '../shared/workspaceIndex';

/** Files a folder mention looks at (path order); beyond them the chip says how many there were. */
const MAX_FOLDER_FILES = 2000;
/** Never read into a folder mention: dependencies and VCS data (files.exclude applies too). */
const FOLDER_EXCLUDE = '**/{node_modules,.git,.venv,dist,out,build}/**';

type NewAttachment = Omit<Attachment, 'id'>;

/** Text within the cap, cut at a line end, with the chip's `cut` when it was cut. */
export function capText(text: string, totalLines = text.split('\n').length): Pick<Attachment, 'text' | 'cut'> {
  if (text.length <= MAX_ATTACHMENT_CHARS) return { text };
  const end = text.lastIndexOf('\n', MAX_ATTACHMENT_CHARS);
  const kept = text.slice(0, end > 0 ? end + 1 : MAX_ATTACHMENT_CHARS);
  return { text: kept, cut: { keptLines: kept.split('\n').length - 1 || 1, totalLines } };
}

/** Pieces (files, problems) joined in order while they fit the cap; `parts` says how many went in. */
function joinWithinCap(pieces: string[], unit: 'files' | 'problems', total = pieces.length): Pick<Attachment, 'text' | 'parts'> {
  let text = '';
  let kept = 0;
  for (const piece of pieces) {
    if (text.length + piece.length > MAX_ATTACHMENT_CHARS) break;
    text += piece;
    kept++;
  }
  return kept < total ? { text, parts: { kept, total, unit } } : { text };
}

const relative = (uri: vscode.Uri) => vscode.workspace.asRelativePath(uri, false);

/** A workspace-relative path (or absolute inside the workspace) as a URI in the workspace, or undefined. */
function workspaceUri(relativePath: string): vscode.Uri | undefined {
  const folders = vscode.workspace.workspaceFolders ?? [];
  for (const folder of folders) {
    const candidate = path.isAbsolute(relativePath) ? vscode.Uri.file(relativePath) : vscode.Uri.joinPath(folder.uri, relativePath);
    if (candidate.fsPath === folder.uri.fsPath || candidate.fsPath.startsWith(folder.uri.fsPath + path.sep)) return candidate;
  }
  return undefined;
}

async function exists(uri: vscode.Uri, type: vscode.FileType): Promise<boolean> {
  try {
    return ((await vscode.workspace.fs.stat(uri)).type & type) !== 0;
  } catch {
    return false;
  }
}

/** A file's text, or undefined for a binary file (a NUL byte). */
async function readText(uri: vscode.Uri): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  const bytes = await vscode.workspace.fs.readFile(uri);
  if (bytes.subarray(0, 8000).includes(0)) return undefined;
  return new TextDecoder().decode(bytes);
}

async function pickFile(): Promise<vscode.Uri | undefined> {
  const files = await vscode.workspace.findFiles('**/*', FOLDER_EXCLUDE, 20_000);
  const picked = await vscode.window.showQuickPick(
    files.map((uri) => ({ label: path.basename(uri.fsPath), description: relative(uri), uri })).sort((a, b) => a.description.localeCompare(b.description)),
    { title: 'Attentive: mention a file', placeHolder: 'Type to search the workspace\'s files', matchOnDescription: true },
  );
  return picked?.uri;
}

async function pickFolder(): Promise<vscode.Uri | undefined> {
  const files = await vscode.workspace.findFiles('**/*', FOLDER_EXCLUDE, 20_000);
  const folders = new Map<string, vscode.Uri>();
  for (const uri of files) {
    for (let dir = vscode.Uri.joinPath(uri, '..'); vscode.workspace.getWorkspaceFolder(dir) && !folders.has(dir.toString()); dir = vscode.Uri.joinPath(dir, '..')) {
      folders.set(dir.toString(), dir);
    }
  }
  const picked = await vscode.window.showQuickPick(
    [...folders.values()].map((uri) => ({ label: relative(uri) || '.', uri })).sort((a, b) => a.label.localeCompare(b.label)),
    { title: 'Attentive: mention a folder', placeHolder: 'Type to search the workspace\'s folders' },
  );
  return picked?.uri;
}

async function fileMention(argument: string | undefined): Promise<NewAttachment | string> {
  const uri = argument ? workspaceUri(argument) : await pickFile();
  if (!uri) return argument ? `@file:${argument} is not a path inside the workspace.` : '';
  if (!(await exists(uri, vscode.FileType.File))) return `@file:${argument}: no such file in the workspace.`;
  const text = await readText(uri);
  if (text === undefined) return `${relative(uri)} is a binary file.`;
  const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  const language = document?.languageId ?? (await vscode.workspace.openTextDocument(uri)).languageId;
  return { kind: 'file', label: relative(uri), fileName: relative(uri), language, ...capText(text), source: { uri: uri.toString() } };
}

async function folderMention(argument: string | undefined): Promise<NewAttachment | string> {
  const folder = argument ? workspaceUri(argument) : await pickFolder();
  if (!folder) return argument ? `@folder:${argument} is not a path inside the workspace.` : '';
  if (!(await exists(folder, vscode.FileType.Directory))) return `@folder:${argument}: no such folder in the workspace.`;
  const uris = (await vscode.workspace.findFiles(new vscode.RelativePattern(folder, '**/*'), FOLDER_EXCLUDE, MAX_FOLDER_FILES)).sort((a, b) => relative(a).localeCompare(relative(b)));
  const pieces: string[] = [];
  for (const uri of uris) {
    const text = await readText(uri);
    if (text === undefined || text.length > MAX_ATTACHMENT_CHARS) continue;
    pieces.push(`--- ${relative(uri)} ---\n${text}${text.endsWith('\n') ? '' : '\n'}`);
  }
  const label = `${relative(folder) || '.'}/`;
  return { kind: 'folder', label, fileName: label, language: '', ...joinWithinCap(pieces, 'files'), source: { uri: folder.toString() } };
}

async function symbolMention(argument: string | undefined): Promise<NewAttachment | string> {
  const find = (query: string) => vscode.commands.executeCommand<vscode.SymbolInformation[] | undefined>('vscode.executeWorkspaceSymbolProvider', query).then((found) => found ?? []);
  let symbol: vscode.SymbolInformation | undefined;
  if (argument) {
    const found = await find(argument);
    // Providers name functions "f" or "f()": the exact name first, then any match the provider ranked first.
    symbol = found.find((s) => s.name.replace(/\(.*\)$/, '') === argument) ?? found[0];
    if (!symbol) return `@symbol:${argument}: no symbol of that name in the workspace (the language's extension finds them).`;
  } else {
    const pick = vscode.window.createQuickPick<vscode.QuickPickItem & { symbol: vscode.SymbolInformation }>();
    pick.title = 'Attentive: mention a symbol';
    pick.placeholder = 'Type a function, class or variable name';
    pick.matchOnDescription = true;
    pick.onDidChangeValue(async (value) => {
      const found = await find(value);
      if (pick.value === value) pick.items = found.slice(0, 200).map((s) => ({ label: s.name, description: `${vscode.SymbolKind[s.kind]} · ${relative(s.location.uri)}:${s.location.range.start.line + 1}`, symbol: s }));
    });
    symbol = await new Promise<vscode.SymbolInformation | undefined>((resolve) => {
      pick.onDidAccept(() => resolve(pick.selectedItems[0]?.symbol));
      pick.onDidHide(() => resolve(undefined));
      pick.show();
    });
    pick.dispose();
    if (!symbol) return '';
  }
  const document = await vscode.workspace.openTextDocument(symbol.location.uri);
  const range = symbol.location.range;
  // A provider that gives only the name's range: take the definition's lines down to where its indentation ends.
  const end = range.end.line > range.start.line ? range.end.line : blockEndLine((l) => document.lineAt(l).text, document.lineCount, range.start.line);
  const text = document.getText(new vscode.Range(range.start.line, 0, end, document.lineAt(end).text.length));
  const label = `${symbol.name} (${relative(symbol.location.uri)}:${range.start.line + 1})`;
  return { kind: 'symbol', label, fileName: relative(symbol.location.uri), language: document.languageId, ...capText(text), source: { uri: symbol.location.uri.toString(), line: range.start.line } };
}

function problemsMention(): NewAttachment {
  const severity = ['error', 'warning', 'info', 'hint'];
  const problems = vscode.languages
    .getDiagnostics()
    .flatMap(([uri, diagnostics]) => diagnostics.map((d) => ({ uri, d })))
    .sort((a, b) => a.d.severity - b.d.severity || relative(a.uri).localeCompare(relative(b.uri)) || a.d.range.start.line - b.d.range.start.line);
  const lines = problems.map(({ uri, d }) => `${relative(uri)}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${severity[d.severity]}: ${d.message}${d.source ? ` (${d.source})` : ''}\n`);
  return { kind: 'problems', label: `Problems (${problems.length})`, fileName: 'Problems', language: '', ...joinWithinCap(lines, 'problems') };
}

interface GitRepository {
  rootUri: vscode.Uri;
  diff(cached?: boolean): Promise<string>;
}
interface GitApi {
  repositories: GitRepository[];
  getRepository(uri: vscode.Uri): GitRepository | null;
  openRepository?(root: vscode.Uri): Promise<GitRepository | null>;
}

async function changesMention(): Promise<NewAttachment | string> {
  const extension = vscode.extensions.getExtension<{ getAPI(version: 1): GitApi }>('vscode.git');
  if (!extension) return 'VS Code\'s git extension is not available, so there are no changes to mention.';
  const git = (await extension.activate()).getAPI(1);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const active = vscode.window.activeTextEditor?.document.uri;
  const repository = (active && git.getRepository(active)) ?? (folder && (git.getRepository(folder) ?? (await git.openRepository?.(folder)))) ?? git.repositories[0];
  if (!repository) return 'The workspace is not a git repository, so there are no changes to mention.';
  // Staged and unstaged changes against HEAD, as `git diff --cached` and `git diff` print them.
  const diff = [await repository.diff(true), await repository.diff(false)].filter((d) => d.trim()).join('\n');
  if (!diff.trim()) return `${relative(repository.rootUri) || 'The repository'} has no uncommitted changes.`;
  return { kind: 'changes', label: 'Changes', fileName: 'git diff', language: 'diff', ...capText(diff), source: { uri: repository.rootUri.toString() } };
}

function openMention(): NewAttachment | string {
  const uris = vscode.window.tabGroups.all
    .flatMap((group) => group.tabs)
    .flatMap((tab) => (tab.input instanceof vscode.TabInputText ? [tab.input.uri] : []))
    .filter((uri, i, all) => all.findIndex((u) => u.toString() === uri.toString()) === i);
  const documents = uris.flatMap((uri) => vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString()) ?? []);
  if (documents.length === 0) return 'No editor is open.';
  const pieces = documents.map((d) => `--- ${relative(d.uri)} ---\n${d.getText()}${d.getText().endsWith('\n') ? '' : '\n'}`);
  return { kind: 'open', label: `Open editors (${documents.length})`, fileName: 'open editors', language: '', ...joinWithinCap(pieces, 'files') };
}

/** @workspace: the chunks of the workspace index most relevant to the question, one chip each (file and lines). */
async function workspaceMention(question: string, index: WorkspaceIndex | undefined): Promise<NewAttachment[] | string> {
  if (!index) return '@workspace needs a folder open in VS Code.';
  if (!question.trim()) return 'Ask a question after @workspace: the search looks for the code that answers it.';
  const hits = await index.search(question, WORKSPACE_RESULTS);
  if (hits.length === 0) return `@workspace found nothing for "${question.trim()}" in the ${index.status?.files ?? 0} files indexed.`;
  return hits.map((hit) => {
    const label = `${hit.path}:${hit.startLine + 1}-${hit.endLine + 1}`;
    return { kind: 'workspace', label, fileName: hit.path, language: languageOf(hit.path), ...capText(hit.text), source: { uri: vscode.Uri.file(hit.file).toString(), line: hit.startLine } };
  });
}

/** The chunks @workspace attaches. */
const WORKSPACE_RESULTS = 5;

/** A fence language from a file's extension (no document is opened for a search result). */
function languageOf(file: string): string {
  const extension = path.extname(file).slice(1).toLowerCase();
  const names: Record<string, string> = { py: 'python', js: 'javascript', mjs: 'javascript', cjs: 'javascript', jsx: 'javascriptreact', ts: 'typescript', tsx: 'typescriptreact', rs: 'rust', rb: 'ruby', md: 'markdown', sh: 'shellscript', yml: 'yaml' };
  return names[extension] ?? extension;
}

/**
 * The attachments a mention brings in, or a sentence saying why there are none ('' when the user cancelled a pick).
 * `question`: the message without its mentions (what @workspace searches for).
 */
export async function mentionAttachments(kind: MentionKind, argument: string | undefined, context: { question: string; index?: WorkspaceIndex }): Promise<NewAttachment[] | string> {
  if (kind === 'workspace') return workspaceMention(context.question, context.index);
  const found = await mentionAttachment(kind, argument);
  return typeof found === 'string' ? found : [found];
}

async function mentionAttachment(kind: Exclude<MentionKind, 'workspace'>, argument?: string): Promise<NewAttachment | string> {
  switch (kind) {
    case 'file':
      return fileMention(argument);
    case 'folder':
      return folderMention(argument);
    case 'symbol':
      return symbolMention(argument);
    case 'problems':
      return problemsMention();
    case 'changes':
      return changesMention();
    case 'open':
      return openMention();
  }
}

/** Opens what a chip holds: the file at its line, the folder in the Explorer, the Problems or Source Control view. */
export async function openAttachment(attachment: Attachment): Promise<void> {
  if (attachment.kind === 'problems') return void (await vscode.commands.executeCommand('workbench.actions.view.problems'));
  if (attachment.kind === 'changes') return void (await vscode.commands.executeCommand('workbench.view.scm'));
  if (!attachment.source) return;
  const uri = vscode.Uri.parse(attachment.source.uri);
  if (attachment.kind === 'folder') return void (await vscode.commands.executeCommand('revealInExplorer', uri));
  const line = attachment.source.line ?? 0;
  await vscode.window.showTextDocument(uri, { selection: new vscode.Range(line, 0, line, 0), preview: true });
}
