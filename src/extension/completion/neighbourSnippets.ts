// Cross-file context for inline completion, the neighbouring-tabs way: the lines before the cursor are compared
// (Jaccard similarity of their sets of identifiers) with windows of as many lines in other recently used files; each
// file's best window above a threshold becomes a snippet, the most similar first. Files are cut into windows once
// per version of their text, so a lookup is only set comparisons. Pure (no `vscode`): the tracker feeds it documents.

import type { ContextSnippet } from '../../protocol/repoContext';

/** Lines in a snippet and in the query (the lines before the cursor). */
export const SNIPPET_LINES = 20;
/** Windows start every this many lines (half a window: every line is in two). */
const WINDOW_STEP = SNIPPET_LINES / 2;
/** Below this similarity a window is not worth its tokens. */
export const MIN_SIMILARITY = 0.15;
/** Files longer than this are indexed only this far (a 10 MB file is not read whole). */
const MAX_INDEXED_LINES = 5_000;

const IDENTIFIER = /[A-Za-z_$][A-Za-z0-9_$]*/g;

export function identifiers(text: string): Set<string> {
  return new Set(text.match(IDENTIFIER) ?? []);
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const word of small) if (large.has(word)) shared++;
  return shared / (a.size + b.size - shared);
}

interface Window {
  start: number;
  words: Set<string>;
}

/** One file cut into overlapping windows of SNIPPET_LINES lines, with each window's identifiers. */
export class FileWindows {
  private readonly lines: string[];
  private readonly windows: Window[] = [];

  constructor(
    readonly path: string,
    text: string,
  ) {
    this.lines = text.split('\n', MAX_INDEXED_LINES).map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
    const last = Math.max(0, this.lines.length - SNIPPET_LINES);
    for (let start = 0; ; start = Math.min(start + WINDOW_STEP, last)) {
      const words = identifiers(this.lines.slice(start, start + SNIPPET_LINES).join('\n'));
      if (words.size > 0) this.windows.push({ start, words });
      if (start >= last) break;
    }
  }

  /** The window most similar to `query`, as a snippet with its score. */
  best(query: ReadonlySet<string>): { snippet: ContextSnippet; score: number } | undefined {
    let best: Window | undefined;
    let bestScore = 0;
    for (const window of this.windows) {
      const score = jaccard(query, window.words);
      if (score > bestScore) {
        best = window;
        bestScore = score;
      }
    }
    if (!best) return undefined;
    return { snippet: { path: this.path, text: this.lines.slice(best.start, best.start + SNIPPET_LINES).join('\n').trimEnd() }, score: bestScore };
  }
}

/** The query's identifiers: the SNIPPET_LINES lines that end at the cursor. */
export function queryWords(prefix: string): Set<string> {
  const lines = prefix.split('\n');
  return identifiers(lines.slice(-SNIPPET_LINES).join('\n'));
}

/** Each file's best window at or above MIN_SIMILARITY, most similar first, at most `max`. */
export function similarSnippets(query: ReadonlySet<string>, files: readonly FileWindows[], max: number): ContextSnippet[] {
  return files
    .map((file) => file.best(query))
    .filter((found): found is { snippet: ContextSnippet; score: number } => found !== undefined && found.score >= MIN_SIMILARITY)
    .sort((a, b) => b.score - a.score)
    .slice(0, max)
    .map((found) => found.snippet);
}
