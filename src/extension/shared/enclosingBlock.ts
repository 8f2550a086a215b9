// The code around the cursor when nothing is selected: the innermost function, method or class from the
// language's symbols, else the indentation block that contains the line. Pure over lines (plus an optional
// symbol lookup), so it is unit-tested without VS Code.

export interface LineRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export interface SymbolRange extends LineRange {
  kind: 'function' | 'class' | 'other';
  children?: SymbolRange[];
}

/** The innermost function/method/class symbol that contains `line`. */
export function innermostSymbol(symbols: readonly SymbolRange[], line: number): LineRange | undefined {
  let best: LineRange | undefined;
  const visit = (list: readonly SymbolRange[]) => {
    for (const symbol of list) {
      if (line < symbol.start || line > symbol.end) continue;
      if (symbol.kind !== 'other' && (!best || symbol.end - symbol.start < best.end - best.start)) best = { start: symbol.start, end: symbol.end };
      if (symbol.children) visit(symbol.children);
    }
  };
  visit(symbols);
  return best;
}

const indentOf = (line: string) => line.length - line.trimStart().length;
const isBlank = (line: string) => line.trim() === '';

/**
 * The block by indentation: the nearest header line above (less indented than the cursor's line, or the line itself
 * when it opens a block) and every following line that is blank or more indented than it.
 */
export function indentationBlock(lines: readonly string[], line: number): LineRange | undefined {
  if (lines.length === 0) return undefined;
  let cursor = Math.min(line, lines.length - 1);
  while (cursor > 0 && isBlank(lines[cursor]!)) cursor--;
  if (isBlank(lines[cursor]!)) return undefined;
  const opensBlock = (text: string) => /[:{]\s*(#.*|\/\/.*)?$/.test(text.trimEnd());
  let header = cursor;
  if (!opensBlock(lines[cursor]!)) {
    const indent = indentOf(lines[cursor]!);
    header = -1;
    for (let i = cursor - 1; i >= 0; i--) {
      if (!isBlank(lines[i]!) && indentOf(lines[i]!) < indent) {
        header = i;
        break;
      }
    }
    if (header < 0) return { start: cursor, end: cursor }; // top-level statement: just the line
  }
  const headerIndent = indentOf(lines[header]!);
  let end = header;
  for (let i = header + 1; i < lines.length; i++) {
    if (isBlank(lines[i]!)) continue;
    if (indentOf(lines[i]!) > headerIndent) end = i;
    else {
      // A closing bracket at the header's indentation ends the block and belongs to it.
      if (/^[}\])]/.test(lines[i]!.trim())) end = i;
      break;
    }
  }
  return { start: header, end };
}

/**
 * The last line of the block that starts at `start` (a definition's first line): the lines after it indented deeper,
 * or blank, and a closing bracket at its own indentation.
 */
export function blockEndLine(lineAt: (line: number) => string, lineCount: number, start: number): number {
  const indent = (text: string) => text.length - text.trimStart().length;
  const base = indent(lineAt(start));
  let end = start;
  for (let line = start + 1; line < lineCount; line++) {
    const text = lineAt(line);
    if (!text.trim()) continue;
    if (indent(text) <= base) {
      if (indent(text) === base && /^[)\]}]/.test(text.trim())) end = line;
      break;
    }
    end = line;
  }
  return end;
}
