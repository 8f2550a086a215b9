// Where a chat code block belongs in a file ("Apply"): the definition it redefines (same kind of header, same name),
// else the run of lines it shares most of its lines with. Pure over lines, so it is unit-tested without VS Code.

import { blockEndLine } from '../shared/enclosingBlock';

export interface LineSpan {
  /** 0-based, inclusive. */
  first: number;
  last: number;
}

/** "def area", "class Shape", "function parse", "fn main", "func Run", "const handler =": a definition's kind and name. */
const DEFINITION = /^\s*(?:export\s+)?(?:default\s+)?(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(def|class|function\*?|fn|func|interface|type|enum|struct|const|let|var)\s+(?:\([^)]*\)\s*)?([A-Za-z_$][\w$]*)/;
/** A method in a class body: "  area(self)" is caught by def; TypeScript's "  area(): number {" by this. */
const METHOD = /^\s*(?:public\s+|private\s+|protected\s+|static\s+|async\s+|override\s+)*([A-Za-z_$][\w$]*)\s*\([^)]*\)\s*(?::[^{]*)?\{\s*$/;

function definitionOf(line: string): string | undefined {
  const definition = DEFINITION.exec(line);
  if (definition) return `${definition[1]!.replace('*', '')} ${definition[2]}`;
  const method = METHOD.exec(line);
  if (method && !/^(if|for|while|switch|catch|function|return)$/.test(method[1]!)) return `method ${method[1]}`;
  return undefined;
}

const significant = (line: string) => line.trim().length > 0;

/** The lines decorating a definition from above (Python decorators, TypeScript ones, Rust attributes). */
function withDecorators(lines: readonly string[], start: number): number {
  let first = start;
  while (first > 0 && /^\s*(@|#\[)/.test(lines[first - 1]!)) first--;
  return first;
}

/**
 * The lines of `file` that `block` should replace, or undefined when it matches nothing well enough (the caller then
 * inserts it at the cursor).
 */
export function locateBlock(file: readonly string[], block: readonly string[]): LineSpan | undefined {
  const header = block.find(significant);
  if (header === undefined) return undefined;
  // 1. The same definition: the block's first line past its decorators names a function, class, ...; the file has it.
  const definitionLine = block.find((line) => significant(line) && !/^\s*(@|#\[)/.test(line)) ?? header;
  const wanted = definitionOf(definitionLine);
  if (wanted) {
    const indent = (line: string) => line.length - line.trimStart().length;
    const candidates = file.map((line, i) => ({ line, i })).filter(({ line }) => definitionOf(line) === wanted);
    // Several (overloads, same name in two classes): the one indented most like the block's.
    const best = candidates.sort((a, b) => Math.abs(indent(a.line) - indent(definitionLine)) - Math.abs(indent(b.line) - indent(definitionLine)))[0];
    // The file's decorators go with it: the block either restates them or drops them on purpose.
    if (best) return { first: withDecorators(file, best.i), last: blockEndLine((i) => file[i]!, file.length, best.i) };
  }
  // 2. The run of lines holding most of the block's lines (trimmed; each file line counted once).
  const wantedLines = block.filter(significant).map((l) => l.trim());
  const span = Math.max(wantedLines.length, 1);
  let best: (LineSpan & { score: number }) | undefined;
  for (let start = 0; start < file.length; start++) {
    if (!significant(file[start]!) || !wantedLines.includes(file[start]!.trim())) continue;
    const pool = new Map<string, number>();
    for (const line of wantedLines) pool.set(line, (pool.get(line) ?? 0) + 1);
    let matched = 0;
    let last = start;
    // The window: as many significant lines as the block has, plus a quarter for lines the block drops.
    for (let i = start, seen = 0; i < file.length && seen < span * 1.25 + 1; i++) {
      const line = file[i]!.trim();
      if (!line) continue;
      seen++;
      const left = pool.get(line) ?? 0;
      if (left > 0) {
        pool.set(line, left - 1);
        matched++;
        last = i;
      }
    }
    const score = matched / span;
    if (!best || score > best.score) best = { first: start, last, score };
  }
  return best && best.score >= 0.5 ? { first: best.first, last: best.last } : undefined;
}
