// Turns what the model generated at the cursor into what is worth showing as ghost text: where to stop, and when
// to show nothing. Pure (no `vscode`): the benchmark runs it too.

import { CODE, endsWithOpener, leavesString, lex, maskNonCode, syntaxFor, type LexState, type Syntax } from './completionMode';
import type { CursorWindow } from './documentWindow';

export interface PostprocessInput {
  completion: string;
  window: CursorWindow;
  mode: 'single-line' | 'multi-line';
  maxLines: number;
  languageId: string;
  /** per generated token probabilities, may be empty */
  tokenProbabilities?: number[];
  minMeanProbability?: number;
}

export interface PostprocessResult {
  /** '' means: show nothing. */
  text: string;
  /** why it was cut or dropped, for logs and tests */
  reason: 'ok' | 'empty' | 'low-confidence' | 'same-as-suffix' | 'dedent' | 'brackets' | 'repeats-suffix' | 'max-lines' | 'single-line';
}

type CutReason = 'dedent' | 'brackets' | 'repeats-suffix' | 'max-lines' | 'single-line';
interface Cut {
  /** The completion is kept up to (not including) this index. */
  at: number;
  reason: CutReason;
}
/** When two rules cut at the same place, this one is reported first (in single-line mode, that says it all). */
const PRIORITY: CutReason[] = ['single-line', 'brackets', 'repeats-suffix', 'dedent', 'max-lines'];

const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const CLOSERS = new Set([')', ']', '}']);

/** Index of the innermost open bracket that `closer` closes, or -1. */
function lastOpener(open: string[], closer: string): number {
  for (let i = open.length - 1; i >= 0; i--) if (OPENERS[open[i]] === closer) return i;
  return -1;
}

/** Indentation width, a tab counting as 4 columns. */
function indentOf(line: string): number {
  let width = 0;
  for (const ch of line) {
    if (ch === ' ') width += 1;
    else if (ch === '\t') width += 4;
    else break;
  }
  return width;
}

/** The completion split into lines, with where each starts, its code-only (masked) text and the lexer state it starts in. */
interface Lines {
  text: string[];
  masked: string[];
  start: number[];
  /** Whether the line starts inside a string or block comment (its indentation says nothing then). */
  inside: boolean[];
}

function splitLines(completion: string, syntax: Syntax, state: LexState): Lines {
  const text = completion.split('\n');
  const start: number[] = [];
  let offset = 0;
  for (const line of text) {
    start.push(offset);
    offset += line.length + 1;
  }
  const inside = [state.kind === 'string' || state.kind === 'block-comment'];
  const chars = completion.split('');
  lex(completion, syntax, state, (i, cls) => {
    if (chars[i] === '\n') inside.push(cls !== 'code');
    else if (cls === 'string' || cls === 'comment') chars[i] = ' ';
  });
  return { text, masked: chars.join('').split('\n'), start, inside };
}

/** Cut at the end of the line before `line` (its newline dropped), or at the very start for line 0. */
const beforeLine = (lines: Lines, line: number): number => (line === 0 ? 0 : lines.start[line] - 1);

/** Single-line mode keeps the first line only. */
function singleLineCut(lines: Lines, mode: PostprocessInput['mode']): Cut | undefined {
  return mode === 'single-line' && lines.text.length > 1 ? { at: beforeLine(lines, 1), reason: 'single-line' } : undefined;
}

/** At most `maxLines` lines; an empty first line (the body starts on the next line) does not count. */
function maxLinesCut(lines: Lines, maxLines: number): Cut | undefined {
  const first = lines.text.length > 1 && lines.text[0].trim() === '' ? 1 : 0;
  const keep = first + Math.max(1, Math.floor(maxLines));
  return lines.text.length > keep ? { at: beforeLine(lines, keep), reason: 'max-lines' } : undefined;
}

/**
 * Stops at the first line indented less than the block the cursor is in. After an opener (`def f():|`, `{|`) the
 * block is the new body, indented deeper than the opener's line; on a blank line it is the indentation of the
 * completion's first line; after other code, the cursor line's. A dedented line of closers (`}`, `});`) ends the
 * block it closes, so it is kept (the bracket rule removes it if the suffix already has it); anything else there
 * (`else:`, the next function) is cut.
 */
function dedentCut(lines: Lines, window: CursorWindow, maskedLinePrefix: string, languageId: string): Cut | undefined {
  const full = (i: number) => (i === 0 ? window.linePrefix + lines.text[0] : lines.text[i]);
  const content = (i: number) => !lines.inside[i] && full(i).trim() !== '';
  let threshold: number;
  if (maskedLinePrefix.trim() !== '' && endsWithOpener(maskedLinePrefix, languageId)) {
    const base = indentOf(window.linePrefix);
    const body = lines.text.findIndex((_, i) => i > 0 && content(i));
    threshold = body > 0 && indentOf(lines.text[body]) > base ? indentOf(lines.text[body]) : base + 1;
  } else if (window.linePrefix.trim() === '') {
    const first = lines.text.findIndex((_, i) => content(i));
    if (first < 0) return undefined;
    threshold = indentOf(full(first));
  } else {
    threshold = indentOf(window.linePrefix);
  }
  for (let i = 1; i < lines.text.length; i++) {
    if (!content(i) || indentOf(lines.text[i]) >= threshold) continue;
    const closers = /^[ \t]*[)\]}]+[;,]?/.exec(lines.masked[i]);
    return { at: closers ? lines.start[i] + closers[0].length : beforeLine(lines, i), reason: 'dedent' };
  }
  return undefined;
}

interface PendingCloser {
  ch: string;
  onCursorLine: boolean;
  /** First non-blank character of its line, and that line's indentation. */
  startsLine: boolean;
  indent: number;
}

/**
 * What the suffix closes of what is open at the cursor: its first closer that matches nothing opened within the
 * suffix itself, and whether it ends the string the cursor is in.
 */
function scanSuffix(suffix: string, syntax: Syntax, state: LexState): { pending: PendingCloser | undefined; closesString: boolean } {
  let pending: PendingCloser | undefined;
  let closesString = false;
  let inString = state.kind === 'string';
  let depth = 0;
  lex(suffix, syntax, state, (i, cls, after) => {
    if (inString) {
      if (leavesString(state, after)) {
        closesString = cls === 'quote-close';
        inString = false;
      }
      return false;
    }
    if (cls !== 'code') return false;
    const ch = suffix[i];
    if (ch in OPENERS) depth++;
    else if (CLOSERS.has(ch)) {
      if (depth > 0) depth--;
      else {
        const lineStart = suffix.lastIndexOf('\n', i - 1) + 1;
        const before = suffix.slice(lineStart, i);
        pending = { ch, onCursorLine: lineStart === 0, startsLine: before.trim() === '', indent: indentOf(before) };
        return true;
      }
    }
    return false;
  });
  return { pending, closesString };
}

/**
 * Stops before a closer that the text after the cursor already has: the completion closes a bracket opened before
 * the cursor, and the suffix's first unmatched closer is of the same kind and is the same closer (on the cursor's
 * line, or mid-line, or starting a line at the same indentation: a `}` at a different indentation closes another
 * block). Likewise before a quote that ends the string the cursor is in when the suffix ends it too. A closer that
 * matches nothing open at all is cut when the window reaches the start of the document (nothing can be missing).
 */
function bracketCut(completion: string, window: CursorWindow, syntax: Syntax, open: string[], state: LexState): Cut | undefined {
  const { pending, closesString } = scanSuffix(window.suffix, syntax, state);
  const stack = [...open];
  const own: string[] = [];
  let inString = state.kind === 'string';
  let cut: number | undefined;
  const sameAsPending = (ch: string, i: number): boolean => {
    if (!pending || pending.ch !== ch) return false;
    if (pending.onCursorLine) return true;
    const lineStart = completion.lastIndexOf('\n', i - 1) + 1;
    const before = lineStart === 0 ? window.linePrefix + completion.slice(0, i) : completion.slice(lineStart, i);
    if (before.trim() !== '' || !pending.startsLine) return true;
    return indentOf(before) === pending.indent;
  };
  lex(completion, syntax, state, (i, cls, after) => {
    if (inString) {
      if (!leavesString(state, after)) return false;
      if (cls === 'quote-close' && closesString) {
        cut = i;
        return true;
      }
      inString = false;
      return false;
    }
    if (cls !== 'code') return false;
    const ch = completion[i];
    if (ch in OPENERS) own.push(ch);
    else if (CLOSERS.has(ch)) {
      if (own.length > 0) {
        own.pop();
        return false;
      }
      if (sameAsPending(ch, i)) {
        cut = i;
        return true;
      }
      const match = lastOpener(stack, ch);
      if (match >= 0) stack.length = match;
      else if (window.prefixStartLine === 0) {
        cut = i;
        return true;
      }
    }
    return false;
  });
  return cut === undefined ? undefined : { at: cut, reason: 'brackets' };
}

/**
 * Stops where the completion starts writing what already follows the cursor: a line equal to the next non-blank
 * line of the suffix, or two lines equal to two consecutive ones among its next ten (indentation included, so an
 * inner `}` does not match an outer one). On the cursor's line, a completion ending with the rest of that line
 * (`x = |;` completed with `foo();`) loses that ending; rests with brackets or quotes are the bracket rule's.
 */
function repeatsSuffixCut(lines: Lines, window: CursorWindow): Cut | undefined {
  const cuts: number[] = [];
  const rest = window.lineSuffix.trim();
  if (rest !== '' && !/[()[\]{}"'`]/.test(rest)) {
    const first = lines.text[0].trimEnd();
    if (first.endsWith(rest)) cuts.push(first.length - rest.length);
  }
  const later = window.suffix.split('\n').slice(1).map((l) => l.trimEnd()).filter((l) => l !== '').slice(0, 10);
  if (later.length > 0) {
    const full = (i: number) => (i === 0 ? window.linePrefix + lines.text[0] : lines.text[i]).trimEnd();
    const candidates = lines.text.map((_, i) => i).filter((i) => full(i) !== '' && (i > 0 || rest === ''));
    for (let k = 0; k < candidates.length; k++) {
      const line = full(candidates[k]);
      const next = k + 1 < candidates.length ? full(candidates[k + 1]) : undefined;
      const repeats = line === later[0] || (next !== undefined && later.some((l, j) => l === line && later[j + 1] === next));
      if (repeats) {
        cuts.push(beforeLine(lines, candidates[k]));
        break;
      }
    }
  }
  return cuts.length > 0 ? { at: Math.min(...cuts), reason: 'repeats-suffix' } : undefined;
}

/** Trailing whitespace off every line, and trailing blank lines off the end; but text that ends inside a string
 * literal (`'Hello, |'`) keeps its last line's spaces, which are the string's content. */
function trimTrailing(text: string, endsInString: boolean): string {
  const lines = text.split('\n').map((l, i, all) => (endsInString && i === all.length - 1 ? l : l.trimEnd()));
  return endsInString ? lines.join('\n') : lines.join('\n').replace(/\n+$/, '');
}

/**
 * Post-processes a raw completion: drops it when the model was unsure or it is empty, cuts it at the first place a
 * rule says to stop (the earliest cut wins; `reason` names it, or 'ok' when only whitespace was removed), trims
 * trailing whitespace, and drops what would only repeat the text after the cursor.
 *
 * One trailing break is kept on purpose: in multi-line mode, when the closer that follows the cursor (`{|}`) was put
 * on its own line by the model, the text ends with that line break and indentation so the closer lands there.
 */
export function postprocess(input: PostprocessInput): PostprocessResult {
  const { window, mode, languageId } = input;
  const probabilities = input.tokenProbabilities ?? [];
  if (probabilities.length > 0 && input.minMeanProbability !== undefined) {
    // Over all generated tokens: a model unsure of its text as a whole is not made sure by cutting it.
    const mean = probabilities.reduce((a, b) => a + b, 0) / probabilities.length;
    if (mean < input.minMeanProbability) return { text: '', reason: 'low-confidence' };
  }
  const completion = input.completion.replace(/\r\n?/g, '\n');
  if (completion.trim() === '') return { text: '', reason: 'empty' };

  const syntax = syntaxFor(languageId);
  const open: string[] = [];
  const { masked: maskedPrefix, end: state } = maskNonCode(window.prefix, syntax, CODE);
  for (const ch of maskedPrefix) {
    if (ch in OPENERS) open.push(ch);
    else if (CLOSERS.has(ch)) {
      const match = lastOpener(open, ch);
      if (match >= 0) open.length = match;
    }
  }
  const maskedLinePrefix = maskedPrefix.slice(maskedPrefix.lastIndexOf('\n') + 1);
  const lines = splitLines(completion, syntax, state);

  const cuts = [
    singleLineCut(lines, mode),
    maxLinesCut(lines, input.maxLines),
    dedentCut(lines, window, maskedLinePrefix, languageId),
    bracketCut(completion, window, syntax, open, state),
    repeatsSuffixCut(lines, window),
  ].filter((c): c is Cut => c !== undefined);
  cuts.sort((a, b) => a.at - b.at || PRIORITY.indexOf(a.reason) - PRIORITY.indexOf(b.reason));
  const cut = cuts[0];
  const end = cut?.at ?? completion.length;
  let text = trimTrailing(completion.slice(0, end), lex(completion.slice(0, end), syntax, state).kind === 'string');

  const closerAfterCursor = window.lineSuffix.trimStart()[0];
  if (mode === 'multi-line' && closerAfterCursor !== undefined && CLOSERS.has(closerAfterCursor)) {
    const rest = completion.slice(completion.slice(0, end).trimEnd().length);
    const onItsOwnLine = /^[ \t]*\n(?:[ \t]*\n)*([ \t]*)(\S?)/.exec(rest);
    if (text.trim() !== '' && onItsOwnLine && (onItsOwnLine[2] === '' || onItsOwnLine[2] === closerAfterCursor)) {
      text += '\n' + onItsOwnLine[1];
    }
  }

  const reason = cut && completion.slice(end).trim() !== '' ? cut.reason : 'ok';
  if (text.trim() === '') return { text: '', reason: reason === 'ok' ? 'empty' : reason };
  if (window.suffix.startsWith(text)) return { text: '', reason: 'same-as-suffix' };
  return { text, reason };
}
