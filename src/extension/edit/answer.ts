// The code in a model's answer to an edit request, and whether it is usable. Instruct models answer with a fenced
// block and often a sentence around it; base models continue a template and may run on. Pure (no `vscode`).

const FENCE = /^\s*(`{3,}|~{3,})/;

/**
 * The code of `answer` as lines: the first fenced block's content (to the end of the answer while the fence is still
 * open), else the answer without the prose lines before and after the code. `complete`: the answer has ended (while it
 * streams, a last line without its line break is left out: it may still grow).
 */
export function extractCode(answer: string, complete: boolean): string[] {
  const text = answer.replace(/\r\n?/g, '\n');
  let lines = text.split('\n');
  if (!complete) lines = lines.slice(0, -1);
  const open = lines.findIndex((line) => FENCE.test(line));
  if (open >= 0) {
    const marker = FENCE.exec(lines[open]!)![1]!;
    const close = lines.findIndex((line, i) => i > open && line.trim().startsWith(marker) && line.trim().replace(/[`~]/g, '') === '');
    return trimBlankEdges(lines.slice(open + 1, close < 0 ? undefined : close));
  }
  return trimBlankEdges(withoutProse(lines));
}

/** A line of prose: words and punctuation ending a sentence or announcing the code ("Here is the updated function:"). */
function isProse(line: string): boolean {
  const trimmed = line.trim();
  return /^[A-Z][a-z']*(\s+[\w'",()-]+){2,}[.:!]$/.test(trimmed) && !/[;{}=]|\bdef\b|\bfunction\b|\breturn\b/.test(trimmed);
}

function withoutProse(lines: string[]): string[] {
  let start = 0;
  while (start < lines.length && (isProse(lines[start]!) || lines[start]!.trim() === '')) start++;
  let end = lines.length;
  while (end > start && (isProse(lines[end - 1]!) || lines[end - 1]!.trim() === '')) end--;
  return lines.slice(start, end);
}

function trimBlankEdges(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start]!.trim() === '') start++;
  while (end > start && lines[end - 1]!.trim() === '') end--;
  return lines.slice(start, end);
}

const indentOf = (line: string) => /^[ \t]*/.exec(line)![0];

/** The indentation every non-blank line starts with. */
function commonIndent(lines: readonly string[]): string {
  let common: string | undefined;
  for (const line of lines) {
    if (line.trim() === '') continue;
    const indent = indentOf(line);
    if (common === undefined) common = indent;
    else while (!indent.startsWith(common)) common = common.slice(0, -1);
  }
  return common ?? '';
}

/**
 * `proposed` indented as the region it replaces: models often answer a method or a nested block without its
 * indentation; lines are shifted so their common indentation is the original's.
 */
export function matchIndentation(original: readonly string[], proposed: readonly string[]): string[] {
  const want = commonIndent(original);
  const have = commonIndent(proposed);
  if (want === have || !want.startsWith(have)) return [...proposed];
  const extra = want.slice(have.length);
  return proposed.map((line) => (line.trim() === '' ? line : extra + line));
}

/** Why an answer cannot be applied to the region, or undefined when it can. */
export function unusableAnswer(original: readonly string[], proposed: readonly string[], outside: readonly string[]): string | undefined {
  if (proposed.every((line) => line.trim() === '')) return 'The model\'s answer holds no code.';
  if (proposed.join('\n') === original.join('\n')) return 'The model returned the code unchanged.';
  // The whole file back when a part of it was asked for: most of the lines around the region appear in the answer.
  const around = new Set(outside.map((line) => line.trim()).filter((line) => line.length > 3));
  if (around.size >= 5) {
    const inAnswer = new Set(proposed.map((line) => line.trim()));
    const repeated = [...around].filter((line) => inAnswer.has(line)).length;
    if (repeated >= 0.6 * around.size) return 'The model rewrote the whole file, not the code that was asked for.';
  }
  return undefined;
}
