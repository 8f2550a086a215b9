// The text around the cursor that an inline completion prompt is built from. Pure (no `vscode`): the provider
// adapts a vscode.TextDocument to LineSource, and the benchmark uses textLineSource.

/** Read access to a document by line, as vscode.TextDocument offers it (only the lines asked for are read). */
export interface LineSource {
  readonly lineCount: number;
  lineAt(line: number): string;
  /** '\n' or '\r\n' */
  readonly eol: string;
}

export interface CursorWindow {
  /** Text before the cursor, lines joined with '\n' (CRLF documents are normalised to '\n'). */
  prefix: string;
  /** Text after the cursor, '\n'-joined. */
  suffix: string;
  /** First document line in `prefix` (the window start is aligned to blocks of 16 lines so that it stays put while the user types, which lets the engine reuse its cached prompt). */
  prefixStartLine: number;
  /** Last document line in `suffix`. */
  suffixEndLine: number;
  /** The current line's text before / after the cursor (only the part inside the window when the line alone is longer than the limit, so `prefix` ends with `linePrefix` and `suffix` starts with `lineSuffix`). */
  linePrefix: string;
  lineSuffix: string;
}

/** The prefix window starts on a multiple of this many lines. */
export const WINDOW_ALIGNMENT_LINES = 16;

/** A line without its end-of-line: sources that split on '\n' alone leave the '\r' of CRLF on the line. */
function lineText(doc: LineSource, line: number): string {
  const text = doc.lineAt(line);
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

/** Keeps at most `max` characters from the end, never starting on the second half of a surrogate pair. */
function tail(text: string, max: number): string {
  if (text.length <= max) return text;
  let start = text.length - max;
  const code = text.charCodeAt(start);
  if (code >= 0xdc00 && code <= 0xdfff) start += 1;
  return text.slice(start);
}

/** Keeps at most `max` characters from the start, never ending on the first half of a surrogate pair. */
function head(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return text.slice(0, Math.max(0, end));
}

/**
 * The prefix and suffix around (line, character), cut at line boundaries within the character limits (the newlines
 * count). Reads only the cursor line and the lines that fit (plus one on each side to learn that it does not fit), so
 * a 10 MB document costs no more than a small one. Out-of-range positions are clamped.
 */
export function cursorWindow(
  doc: LineSource,
  line: number,
  character: number,
  limits: { maxPrefixChars: number; maxSuffixChars: number },
): CursorWindow {
  const maxPrefix = Math.max(0, Math.floor(limits.maxPrefixChars));
  const maxSuffix = Math.max(0, Math.floor(limits.maxSuffixChars));
  if (doc.lineCount <= 0) {
    return { prefix: '', suffix: '', prefixStartLine: 0, suffixEndLine: 0, linePrefix: '', lineSuffix: '' };
  }
  const cursorLine = Math.min(Math.max(0, Math.floor(line)), doc.lineCount - 1);
  const current = lineText(doc, cursorLine);
  const column = Math.min(Math.max(0, Math.floor(character)), current.length);
  // A line longer than the limit keeps the part nearest the cursor.
  const linePrefix = tail(current.slice(0, column), maxPrefix);
  const lineSuffix = head(current.slice(column), maxSuffix);

  // Walk up while whole lines fit; `before[i]` is line cursorLine - 1 - i.
  const before: string[] = [];
  let prefixLength = linePrefix.length;
  if (linePrefix.length === current.slice(0, column).length) {
    for (let l = cursorLine - 1; l >= 0; l--) {
      const text = lineText(doc, l);
      if (prefixLength + text.length + 1 > maxPrefix) break;
      before.push(text);
      prefixLength += text.length + 1;
    }
  }
  const earliest = cursorLine - before.length;
  // Aligning the start keeps the prompt's beginning identical across keystrokes (the engine's prompt cache). It
  // drops up to 15 lines, so it is skipped when it would keep less than half of the lines that fit (tiny limits).
  const aligned = Math.ceil(earliest / WINDOW_ALIGNMENT_LINES) * WINDOW_ALIGNMENT_LINES;
  const prefixStartLine = aligned <= cursorLine && (cursorLine - aligned) * 2 >= before.length ? aligned : earliest;
  const kept = before.slice(0, cursorLine - prefixStartLine).reverse();
  kept.push(linePrefix);

  const after: string[] = [lineSuffix];
  let suffixLength = lineSuffix.length;
  if (lineSuffix.length === current.length - column) {
    for (let l = cursorLine + 1; l < doc.lineCount; l++) {
      const text = lineText(doc, l);
      if (suffixLength + text.length + 1 > maxSuffix) break;
      after.push(text);
      suffixLength += text.length + 1;
    }
  }

  return {
    prefix: kept.join('\n'),
    suffix: after.join('\n'),
    prefixStartLine,
    suffixEndLine: cursorLine + after.length - 1,
    linePrefix,
    lineSuffix,
  };
}

/** A LineSource over a string (the benchmark, tests, the CLI): line offsets are indexed once, lines sliced on demand. */
export function textLineSource(text: string): LineSource {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return {
    lineCount: starts.length,
    eol,
    lineAt(line: number): string {
      if (line < 0 || line >= starts.length) throw new RangeError(`line ${line} is out of range 0..${starts.length - 1}`);
      const start = starts[line];
      const end = line + 1 < starts.length ? starts[line + 1] - 1 : text.length;
      const slice = text.slice(start, end);
      return slice.endsWith('\r') ? slice.slice(0, -1) : slice;
    },
  };
}
