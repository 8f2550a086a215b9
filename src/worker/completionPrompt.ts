// Fitting the code around the cursor into an inline-completion prompt by token count, whole lines only.
// The prefix keeps its newest lines (nearest the cursor), the suffix its first ones; the suffix gets at most a share
// of the budget, and whatever it leaves goes to the prefix.

import { CHARS_PER_TOKEN } from '../protocol/estimates';

export interface CompletionWindows {
  prefix: string;
  suffix: string;
  prefixLinesDropped: number;
  suffixLinesDropped: number;
  /** Tokens of prefix and suffix (as counted line by line). */
  tokens: number;
}

/** Share of the budget the suffix may take when both sides are long: the code before the cursor matters more. */
export const SUFFIX_SHARE = 0.25;


/**
 * @param countTokens tokens of a piece of text (lines are counted one by one, with their newline, so only the lines
 *   that fit, plus one, are ever tokenized)
 */
export function fitCompletionWindows(prefix: string, suffix: string, budget: number, countTokens: (text: string) => number): CompletionWindows {
  const suffixLines = suffix ? suffix.split('\n') : [];
  const suffixCap = Math.floor(budget * SUFFIX_SHARE);
  const keptSuffix = firstLinesWithin(suffixLines, suffixCap, countTokens);
  const prefixLines = prefix.split('\n');
  const keptPrefix = lastLinesWithin(prefixLines, budget - keptSuffix.tokens, countTokens);
  return {
    prefix: keptPrefix.text,
    suffix: keptSuffix.text,
    prefixLinesDropped: prefixLines.length - keptPrefix.lines,
    suffixLinesDropped: suffixLines.length - keptSuffix.lines,
    tokens: keptPrefix.tokens + keptSuffix.tokens,
  };
}

interface Kept {
  text: string;
  lines: number;
  tokens: number;
}

/** The newest lines within `budget`; the last line (the cursor's) always stays, cut from its start if it alone is too long. */
function lastLinesWithin(lines: string[], budget: number, countTokens: (text: string) => number): Kept {
  let tokens = 0;
  let first = lines.length;
  while (first > 0) {
    const line = lines[first - 1]!;
    const cost = countTokens(first === lines.length ? line : `${line}\n`);
    if (tokens + cost > budget) break;
    tokens += cost;
    first--;
  }
  if (first === lines.length) {
    const cursorLine = lines[lines.length - 1]!;
    const text = cursorLine.slice(Math.max(0, cursorLine.length - Math.max(0, budget) * CHARS_PER_TOKEN));
    return { text, lines: 1, tokens: countTokens(text) };
  }
  return { text: lines.slice(first).join('\n'), lines: lines.length - first, tokens };
}

/** The first lines within `budget`; the first line (the rest of the cursor's) is cut at its end if it alone is too long. */
function firstLinesWithin(lines: string[], budget: number, countTokens: (text: string) => number): Kept {
  let tokens = 0;
  let count = 0;
  while (count < lines.length) {
    const line = lines[count]!;
    const cost = countTokens(count === 0 ? line : `\n${line}`);
    if (tokens + cost > budget) break;
    tokens += cost;
    count++;
  }
  if (count === 0 && lines.length > 0) {
    const text = lines[0]!.slice(0, Math.max(0, budget) * CHARS_PER_TOKEN);
    return { text, lines: text ? 1 : 0, tokens: text ? countTokens(text) : 0 };
  }
  return { text: lines.slice(0, count).join('\n'), lines: count, tokens };
}
