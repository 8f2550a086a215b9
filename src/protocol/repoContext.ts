// Code from other files of the workspace put before an inline-completion prompt, in the model family's repository
// format where it was trained with one, and as path-headed comments at the start of the code otherwise:
//   Qwen2.5-Coder (technical report, "Repo-Level FIM format"):
//     <|repo_name|>{repo}\n<|file_sep|>{path}\n{content}\n ... <|file_sep|>{current path}\n<|fim_prefix|>...
//   StarCoder2 (Lozhkov et al. 2024): <repo_name>{repo}<file_sep>{path}\n{content} ... <file_sep>{current path}\n<fim_prefix>...
// Shared by the engine (which knows its tokenizer's special tokens) and the model-server backend (which knows a family).

/** A piece of another file, most relevant first in a list. */
export interface ContextSnippet {
  /** Workspace-relative path. */
  path: string;
  text: string;
}

/** 'comments' for models trained without repository tokens (ours among them). */
export type RepoFormat = 'qwen' | 'starcoder2' | 'comments';

export const REPO_TOKENS = {
  qwen: { repoName: '<|repo_name|>', fileSep: '<|file_sep|>' },
  starcoder2: { repoName: '<repo_name>', fileSep: '<file_sep>' },
} as const;

/** The repository format of a vocabulary: the one whose two tokens it has. */
export function repoFormatOf(hasToken: (token: string) => boolean): RepoFormat {
  for (const format of ['qwen', 'starcoder2'] as const) {
    if (hasToken(REPO_TOKENS[format].repoName) && hasToken(REPO_TOKENS[format].fileSep)) return format;
  }
  return 'comments';
}

/** Line comments by VS Code language id (languages without one get no snippets in the comment format). */
const LINE_COMMENTS: Record<string, string> = {
  python: '#', shellscript: '#', ruby: '#', perl: '#', r: '#', yaml: '#', makefile: '#', dockerfile: '#', powershell: '#', toml: '#', julia: '#', elixir: '#', coffeescript: '#',
  javascript: '//', javascriptreact: '//', typescript: '//', typescriptreact: '//', java: '//', c: '//', cpp: '//', csharp: '//', go: '//', rust: '//', kotlin: '//', swift: '//', php: '//', scala: '//', dart: '//', groovy: '//', 'objective-c': '//', zig: '//', fsharp: '//', jsonc: '//',
  sql: '--', lua: '--', haskell: '--', elm: '--',
  clojure: ';', lisp: ';', scheme: ';',
  matlab: '%', latex: '%', erlang: '%',
  vb: "'",
};

export function lineCommentOf(languageId: string): string | undefined {
  return LINE_COMMENTS[languageId];
}

/**
 * What goes before the fill-in-the-middle prompt in a repository format: the snippets as files of one repository,
 * then the current file's separator (its code follows in the FIM prompt).
 */
export function repoPreamble(format: Exclude<RepoFormat, 'comments'>, repoName: string, snippets: readonly ContextSnippet[], currentPath: string): string {
  const { repoName: repoToken, fileSep } = REPO_TOKENS[format];
  const files = snippets.map((s) => repoFile(format, s)).join('');
  return `${repoToken}${repoName}${format === 'qwen' ? '\n' : ''}${files}${fileSep}${currentPath}\n`;
}

/**
 * One snippet as comments for the start of the code, as the neighbouring-tabs approach puts it (a line naming the
 * file, then the snippet's lines commented out, so the model does not take them for code of this file).
 */
export function commentedSnippet(comment: string, snippet: ContextSnippet): string {
  const lines = snippet.text.split('\n').map((line) => (line ? `${comment} ${line}` : comment));
  return [`${comment} Compare this snippet from ${snippet.path}:`, ...lines].join('\n') + '\n';
}

/** One snippet as a file of the repository format (repoPreamble's pieces, for fitting snippets one by one). */
export function repoFile(format: Exclude<RepoFormat, 'comments'>, snippet: ContextSnippet): string {
  return `${REPO_TOKENS[format].fileSep}${snippet.path}\n${snippet.text}${format === 'qwen' ? '\n' : ''}`;
}

/** What a completion request carries of other files (CompleteParams.context). */
export interface RepoContextRequest {
  /** Most relevant first: snippets that do not fit the budget are skipped, later (smaller) ones may still fit. */
  snippets: ContextSnippet[];
  /** Most prompt tokens for them; they never take room from the code around the cursor. */
  maxTokens: number;
  /** The workspace folder's name, for the repository formats. */
  repoName?: string;
  /** The current file's VS Code language id: the comment syntax of the comment format. */
  languageId?: string;
  /**
   * Whether a model without a repository format gets the snippets as comments (default false: on the bundled model
   * they measured no gain, bench/repo-completion.mjs); models with one always get them in it.
   */
  asComments?: boolean;
}

/** What goes before the code: `preamble` before the whole prompt (repository formats) or `commented` at the start of the prefix. */
export interface RepoContext {
  preamble: string;
  commented: string;
  /** The paths of the snippets put in, in order. */
  paths: string[];
}

export const NO_REPO_CONTEXT: RepoContext = { preamble: '', commented: '', paths: [] };

/** The snippets that fit `budget` tokens (as `count` measures them), formatted for `format`. */
export function fitRepoContext(request: RepoContextRequest, format: RepoFormat, currentPath: string, budget: number, count: (text: string) => number): RepoContext {
  if (request.snippets.length === 0 || budget <= 0) return NO_REPO_CONTEXT;
  const comment = request.languageId === undefined ? undefined : lineCommentOf(request.languageId);
  if (format === 'comments' && (!comment || !request.asComments)) return NO_REPO_CONTEXT;
  const piece = (snippet: ContextSnippet) => (format === 'comments' ? commentedSnippet(comment!, snippet) : repoFile(format, snippet));
  const repoName = request.repoName ?? 'workspace';
  let used = format === 'comments' ? 0 : count(repoPreamble(format, repoName, [], currentPath));
  const kept: ContextSnippet[] = [];
  for (const snippet of request.snippets) {
    const cost = count(piece(snippet));
    if (used + cost > budget) continue;
    used += cost;
    kept.push(snippet);
  }
  if (kept.length === 0) return NO_REPO_CONTEXT;
  const paths = kept.map((s) => s.path);
  return format === 'comments'
    ? { preamble: '', commented: kept.map(piece).join(''), paths }
    : { preamble: repoPreamble(format, repoName, kept, currentPath), commented: '', paths };
}

/** A model server's repository format, from its fill-in-the-middle family and model id (its vocabulary is not known here). */
export function repoFormatOfServerModel(family: string | undefined, modelId: string): RepoFormat {
  if (family === 'qwen' && /qwen/i.test(modelId)) return 'qwen';
  if (family === 'starcoder' && /starcoder2/i.test(modelId)) return 'starcoder2';
  return 'comments';
}
