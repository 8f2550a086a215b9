// Token offsets (UTF-16, into the explained text) -> document positions, and back. Pure (no `vscode`), so it is
// unit-tested on unicode, CRLF and tabs. The explained text is document.getText(range): in a CRLF document it
// contains "\r\n", so offsets count both characters, exactly as TextDocument.offsetAt does.

export interface LinePosition {
  line: number;
  character: number;
}

export interface TokenRange {
  start: LinePosition;
  end: LinePosition;
}

/** Offsets where each line of `text` starts ("\r\n", "\n" and a lone "\r" end a line, as in VS Code). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 13 /* \r */) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    } else if (ch === 10) starts.push(i + 1);
  }
  return starts;
}

/**
 * The position of `offset` in `text` that starts at `origin` in the document. An offset inside a line break (between
 * "\r" and "\n") is the end of that line, as TextDocument.positionAt has it.
 */
export function positionAt(text: string, starts: readonly number[], origin: LinePosition, offset: number): LinePosition {
  const clamped = Math.max(0, Math.min(offset, text.length));
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= clamped) lo = mid;
    else hi = mid - 1;
  }
  const lineStart = starts[lo]!;
  let character = clamped - lineStart;
  // Inside "\r\n": the line's content ends before "\r".
  if (clamped > lineStart && text.charCodeAt(clamped - 1) === 13 && text.charCodeAt(clamped) === 10) character--;
  return lo === 0 ? { line: origin.line, character: origin.character + character } : { line: origin.line + lo, character };
}

/** Each token's document range (null when its offsets are unknown, -1). */
export function tokenRanges(text: string, origin: LinePosition, tokens: ReadonlyArray<{ start: number; end: number }>): Array<TokenRange | null> {
  const starts = lineStarts(text);
  return tokens.map((token) =>
    token.start < 0 || token.end < token.start ? null : { start: positionAt(text, starts, origin, token.start), end: positionAt(text, starts, origin, token.end) },
  );
}

/**
 * The token at `offset` (into the explained text): the one whose [start, end) contains it, or at the very end the last
 * token; -1 when none does (outside the text, or tokens without offsets). Tokens are in order.
 */
export function tokenAtOffset(tokens: ReadonlyArray<{ start: number; end: number }>, offset: number): number {
  let lo = 0;
  let hi = tokens.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const token = tokens[mid]!;
    if (token.start < 0) return linearTokenAt(tokens, offset);
    if (offset < token.start) hi = mid - 1;
    else if (offset >= token.end) lo = mid + 1;
    else return mid;
  }
  const last = tokens.at(-1);
  return last && last.start >= 0 && offset === last.end ? tokens.length - 1 : -1;
}

function linearTokenAt(tokens: ReadonlyArray<{ start: number; end: number }>, offset: number): number {
  return tokens.findIndex((t) => t.start >= 0 && offset >= t.start && offset < t.end);
}
