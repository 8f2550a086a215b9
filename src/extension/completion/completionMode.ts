// Whether an inline completion may span several lines, and the small lexer that this and post-processing share
// (brackets and openers inside strings and comments must not count). Pure: no `vscode`.

import type { CursorWindow } from './documentWindow';

export type CompletionMode = 'single-line' | 'multi-line';

// ---- Lexer ------------------------------------------------------------------------------------------------------

interface StringSyntax {
  open: string;
  close: string;
  /** The string may span lines; a single-line string ends, unterminated, at the line's end. */
  multiline: boolean;
  escapes: boolean;
  /** `${...}` inside it is code (JavaScript template literals). */
  template?: boolean;
}

export interface Syntax {
  lineComments: string[];
  blockComment: [string, string] | null;
  /** Longest delimiters first. */
  strings: StringSyntax[];
  /** Rust: `'` starts a char literal only when one closes it; otherwise it is a lifetime (`&'a str`). */
  rustChars: boolean;
}

type StringState = { kind: 'string'; close: string; multiline: boolean; escapes: boolean; template: boolean; escaped: boolean; frames?: readonly TemplateFrame[] };
/** An open `${` of a template literal: the string to return to at its `}`, and the braces opened inside it. */
interface TemplateFrame {
  string: StringState;
  braces: number;
}

/** Where a scan stands. `frames` are the template interpolations it is inside, innermost last. */
export type LexState =
  | { kind: 'code'; frames?: readonly TemplateFrame[] }
  | { kind: 'line-comment'; frames?: readonly TemplateFrame[] }
  | { kind: 'block-comment'; close: string; frames?: readonly TemplateFrame[] }
  | StringState;

export const CODE: LexState = { kind: 'code' };

/** Whether `after` is the end of the string `state` was in (closed, or ended unterminated at the line's end), as
 * opposed to entering one of its `${...}` or a string inside that. */
export function leavesString(state: LexState, after: LexState): boolean {
  return state.kind === 'string' && after.kind === 'code' && (after.frames?.length ?? 0) === (state.frames?.length ?? 0);
}

/** How each character was read: delimiters of strings are reported apart so callers can see strings close. The
 * `${` and `}` of a template interpolation read as code, so that bracket counting pairs them like braces. */
export type CharClass = 'code' | 'string' | 'comment' | 'quote-open' | 'quote-close';

const quote = (q: string, multiline = false, escapes = true): StringSyntax => ({ open: q, close: q, multiline, escapes });
const C_STRINGS = [quote('"'), quote("'")];
const HASH_COMMENT = new Set(['python', 'shellscript', 'ruby', 'perl', 'r', 'yaml', 'toml', 'dockerfile', 'makefile', 'powershell', 'coffeescript', 'elixir', 'julia', 'nim', 'cmake', 'properties', 'gdscript', 'crystal', 'nix']);
const DASH_COMMENT = new Set(['sql', 'lua', 'haskell', 'elm', 'ada']);
const PERCENT_COMMENT = new Set(['latex', 'tex', 'matlab', 'erlang']);
const SEMICOLON_COMMENT = new Set(['clojure', 'lisp', 'scheme', 'racket', 'ini']);
const JS_LIKE = new Set(['javascript', 'typescript', 'javascriptreact', 'typescriptreact', 'vue', 'svelte']);
const PROSE = new Set(['plaintext', 'markdown', 'html', 'xml', 'restructuredtext', 'asciidoc', 'latex', 'tex']);

/** Comment and string syntax by VS Code language id; C-family (`//`, `/* *\/`, `"`, `'`) when unknown. */
export function syntaxFor(languageId: string): Syntax {
  const id = languageId.toLowerCase();
  const syntax: Syntax = { lineComments: ['//'], blockComment: ['/*', '*/'], strings: C_STRINGS, rustChars: false };
  if (id === 'python' || id === 'gdscript') {
    syntax.strings = [quote('"""', true), quote("'''", true), ...C_STRINGS];
  } else if (JS_LIKE.has(id)) {
    syntax.strings = [...C_STRINGS, { ...quote('`', true), template: true }];
  } else if (id === 'go') {
    syntax.strings = [...C_STRINGS, quote('`', true, false)];
  } else if (id === 'rust') {
    syntax.strings = [quote('"', true), quote("'")];
    syntax.rustChars = true;
  } else if (id === 'css') {
    syntax.lineComments = [];
  } else if (id === 'php') {
    syntax.lineComments = ['//', '#'];
  }
  if (HASH_COMMENT.has(id)) syntax.lineComments = ['#'];
  if (DASH_COMMENT.has(id)) syntax.lineComments = ['--'];
  if (PERCENT_COMMENT.has(id)) syntax.lineComments = ['%'];
  if (SEMICOLON_COMMENT.has(id)) syntax.lineComments = [';'];
  if (HASH_COMMENT.has(id) || DASH_COMMENT.has(id) || PERCENT_COMMENT.has(id) || SEMICOLON_COMMENT.has(id)) syntax.blockComment = null;
  if (id === 'haskell' || id === 'elm') syntax.blockComment = ['{-', '-}'];
  // `'` is an identifier character or an operator there, not a quote.
  if (id === 'haskell' || id === 'elm' || id === 'clojure' || id === 'lisp' || id === 'scheme' || id === 'racket' || id === 'matlab') syntax.strings = [quote('"')];
  // Apostrophes in prose are not quotes, and its markup has no comment we need.
  if (PROSE.has(id)) {
    syntax.strings = [];
    syntax.lineComments = id === 'latex' || id === 'tex' ? ['%'] : [];
    syntax.blockComment = id === 'html' || id === 'xml' || id === 'markdown' ? ['<!--', '-->'] : null;
  }
  return syntax;
}

/** Length of a Rust char literal starting at `i` (`'a'`, `'\n'`, `'é'`), or 0 for a lifetime or label. */
function rustCharLength(text: string, i: number): number {
  if (text[i + 1] === '\\') {
    const close = text.indexOf("'", i + 3);
    return close !== -1 && close - i <= 12 && !text.slice(i, close).includes('\n') ? close - i + 1 : 0;
  }
  const cp = text.codePointAt(i + 1);
  if (cp === undefined || cp === 0x27 || cp === 0x0a) return 0;
  const width = cp > 0xffff ? 2 : 1;
  return text[i + 1 + width] === "'" ? width + 2 : 0;
}

/**
 * Reads `text` from `state` and returns the state at its end, so a scan can continue across the cursor (prefix,
 * then completion or suffix). `visit` sees every character with its class and the state after it; returning true
 * stops the scan.
 */
export function lex(
  text: string,
  syntax: Syntax,
  state: LexState = CODE,
  visit?: (index: number, cls: CharClass, after: LexState) => boolean | void,
): LexState {
  let st = state;
  let i = 0;
  const emit = (from: number, length: number, cls: CharClass): boolean => {
    if (!visit) return false;
    for (let k = from; k < from + length && k < text.length; k++) if (visit(k, cls, st) === true) return true;
    return false;
  };
  while (i < text.length) {
    const ch = text[i];
    if (st.kind === 'line-comment') {
      if (ch === '\n') {
        st = { kind: 'code', frames: st.frames };
        if (emit(i, 1, 'code')) return st;
      } else if (emit(i, 1, 'comment')) return st;
      i++;
    } else if (st.kind === 'block-comment') {
      if (text.startsWith(st.close, i)) {
        const n = st.close.length;
        st = { kind: 'code', frames: st.frames };
        if (emit(i, n, 'comment')) return st;
        i += n;
      } else {
        if (emit(i, 1, 'comment')) return st;
        i++;
      }
    } else if (st.kind === 'string') {
      if (st.escaped) {
        st = { ...st, escaped: false };
        if (emit(i, 1, 'string')) return st;
        i++;
      } else if (st.escapes && ch === '\\') {
        st = { ...st, escaped: true };
        if (emit(i, 1, 'string')) return st;
        i++;
      } else if (text.startsWith(st.close, i)) {
        const n = st.close.length;
        st = { kind: 'code', frames: st.frames };
        if (emit(i, n, 'quote-close')) return st;
        i += n;
      } else if (st.template && text.startsWith('${', i)) {
        st = { kind: 'code', frames: [...(st.frames ?? []), { string: st, braces: 0 }] };
        if (emit(i, 2, 'code')) return st;
        i += 2;
      } else if (ch === '\n' && !st.multiline) {
        st = { kind: 'code', frames: st.frames };
        if (emit(i, 1, 'code')) return st;
        i++;
      } else {
        if (emit(i, 1, 'string')) return st;
        i++;
      }
    } else {
      const frames = st.frames ?? [];
      const line = syntax.lineComments.find((m) => text.startsWith(m, i));
      if (line !== undefined) {
        st = { kind: 'line-comment', frames: st.frames };
        if (emit(i, line.length, 'comment')) return st;
        i += line.length;
        continue;
      }
      if (syntax.blockComment && text.startsWith(syntax.blockComment[0], i)) {
        st = { kind: 'block-comment', close: syntax.blockComment[1], frames: st.frames };
        if (emit(i, syntax.blockComment[0].length, 'comment')) return st;
        i += syntax.blockComment[0].length;
        continue;
      }
      const opened = syntax.strings.find((s) => text.startsWith(s.open, i));
      if (opened && syntax.rustChars && opened.open === "'") {
        const n = rustCharLength(text, i);
        // A lifetime is code; a char literal is a whole string at once.
        if (n === 0 ? emit(i, 1, 'code') : emit(i, 1, 'quote-open') || emit(i + 1, n - 2, 'string') || emit(i + n - 1, 1, 'quote-close')) return st;
        i += Math.max(1, n);
        continue;
      }
      if (opened) {
        st = { kind: 'string', close: opened.close, multiline: opened.multiline, escapes: opened.escapes, template: opened.template === true, escaped: false, frames: st.frames };
        if (emit(i, opened.open.length, 'quote-open')) return st;
        i += opened.open.length;
        continue;
      }
      if (frames.length > 0 && (ch === '{' || ch === '}')) {
        // Inside `${...}`: braces nest until the `}` that returns to the template string.
        const top = frames[frames.length - 1];
        if (ch === '}' && top.braces === 0) st = top.string;
        else st = { kind: 'code', frames: [...frames.slice(0, -1), { ...top, braces: top.braces + (ch === '{' ? 1 : -1) }] };
      }
      if (emit(i, 1, 'code')) return st;
      i++;
    }
  }
  return st;
}

/** `text` with the contents of strings and comments replaced by spaces (same length, same lines; quotes kept). */
export function maskNonCode(text: string, syntax: Syntax, state: LexState = CODE): { masked: string; end: LexState } {
  const chars = text.split('');
  const end = lex(text, syntax, state, (i, cls) => {
    if ((cls === 'string' || cls === 'comment') && chars[i] !== '\n') chars[i] = ' ';
  });
  return { masked: chars.join(''), end };
}

// ---- Mode -------------------------------------------------------------------------------------------------------

/** Languages where a line ending in `:` does not open a block (`color:` in CSS, a key in JSON). */
const COLON_IS_NOT_AN_OPENER = new Set(['css', 'scss', 'less', 'json', 'jsonc', 'plaintext', 'markdown']);

/** Whether a line of code (comments and strings masked, trailing space trimmed) ends by opening a block or list. */
export function endsWithOpener(code: string, languageId: string): boolean {
  const line = code.trimEnd();
  if (line.endsWith('=>')) return true;
  const last = line.at(-1);
  if (last === '{' || last === '(' || last === '[') return true;
  // `std::` and `Foo::` continue a path on the same line.
  return last === ':' && !line.endsWith('::') && !COLON_IS_NOT_AN_OPENER.has(languageId.toLowerCase());
}

/** Only closing brackets and separators: what auto-closing pairs leave after the cursor. */
const ONLY_CLOSERS = /^[\s)\]};,]*$/;

/**
 * Multi-line when the cursor starts the body of a block or list, single-line otherwise:
 * - on a line with only whitespace before the cursor, when the previous line with code (comment-only lines are
 *   skipped) ends with an opener (`{ ( [ : =>`), and nothing but closers follows the cursor (`  |}` is an empty body);
 * - right after an opener on the cursor's line with nothing after it (`def f():|`, `foo(|`), or with only the
 *   auto-closed `}` after a `{` (`{|}`); `(|)` and `[|]` stay single-line, as arguments and items mostly fit a line.
 * Inside a string or comment it is always single-line.
 */
export function completionMode(window: CursorWindow, languageId: string): CompletionMode {
  const { masked, end } = maskNonCode(window.prefix, syntaxFor(languageId));
  if (end.kind !== 'code') return 'single-line';
  const lines = masked.split('\n');
  const here = lines[lines.length - 1].trimEnd();
  const rest = window.lineSuffix.trim();
  if (here.trim() === '') {
    if (!ONLY_CLOSERS.test(rest)) return 'single-line';
    for (let i = lines.length - 2; i >= 0; i--) {
      if (lines[i].trim() !== '') return endsWithOpener(lines[i], languageId) ? 'multi-line' : 'single-line';
    }
    return 'single-line';
  }
  if (rest === '') return endsWithOpener(here, languageId) ? 'multi-line' : 'single-line';
  return here.endsWith('{') && rest.startsWith('}') && ONLY_CLOSERS.test(rest) ? 'multi-line' : 'single-line';
}
