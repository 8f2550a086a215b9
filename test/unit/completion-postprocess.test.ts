import { describe, expect, it } from 'vitest';
import { completionMode, lex, maskNonCode, syntaxFor } from '../../src/extension/completion/completionMode';
import { cursorWindow, textLineSource, type CursorWindow } from '../../src/extension/completion/documentWindow';
import { postprocess, type PostprocessInput } from '../../src/extension/completion/postprocess';

/** The window at the position marked █ in `code`. */
function windowAt(code: string): CursorWindow {
  const offset = code.indexOf('█');
  if (offset < 0) throw new Error('no cursor mark');
  const text = code.replace('█', '');
  const before = text.slice(0, offset).split('\n');
  return cursorWindow(textLineSource(text), before.length - 1, before[before.length - 1].length, { maxPrefixChars: 6000, maxSuffixChars: 2000 });
}

/** Post-processes `completion` generated at █ in `code`, in the mode completionMode picks unless given. */
function run(code: string, languageId: string, completion: string, options: Partial<PostprocessInput> = {}) {
  const window = windowAt(code);
  return postprocess({ completion, window, mode: completionMode(window, languageId), maxLines: 20, languageId, ...options });
}

describe('completionMode', () => {
  const mode = (code: string, languageId: string) => completionMode(windowAt(code), languageId);

  it('is multi-line on the empty body of a Python block', () => {
    expect(mode('def mean(values):\n    █\n', 'python')).toBe('multi-line');
    expect(mode('class Stack:\n    def push(self, item):\n        █', 'python')).toBe('multi-line');
    expect(mode('for key, value in items.items():\n    # skip empty values\n    █', 'python')).toBe('multi-line');
    expect(mode('config = {\n    █\n}', 'python')).toBe('multi-line');
  });

  it('is multi-line right after an opener at the end of the line', () => {
    expect(mode('def mean(values):█', 'python')).toBe('multi-line');
    expect(mode('if (items.length === 0) {█', 'typescript')).toBe('multi-line');
    expect(mode('const handler = (event) =>█', 'javascript')).toBe('multi-line');
    expect(mode('func main() {█', 'go')).toBe('multi-line');
    expect(mode('    match token {\n        Token::Number(n) =>█', 'rust')).toBe('multi-line');
    expect(mode('const result = compute(█', 'typescript')).toBe('multi-line');
  });

  it('is multi-line in an auto-closed brace block, in Go, Rust and TypeScript', () => {
    expect(mode('func (s *Server) Close() error {█}', 'go')).toBe('multi-line');
    expect(mode('fn parse(input: &str) -> Result<Ast, Error> {█}', 'rust')).toBe('multi-line');
    expect(mode('function area(r: number): number {\n  █\n}', 'typescript')).toBe('multi-line');
    expect(mode('function area(r: number): number {\n  █}', 'typescript')).toBe('multi-line');
  });

  it('is single-line in the middle of a statement or after a complete line', () => {
    expect(mode('const total = items.reduce(█', 'typescript')).toBe('multi-line');
    expect(mode('const total = items.█', 'typescript')).toBe('single-line');
    expect(mode('    return sum(values) / █len(values)', 'python')).toBe('single-line');
    expect(mode('def mean(values):\n    total = sum(values)\n    █', 'python')).toBe('single-line');
    expect(mode('x := compute(a, b)\n█', 'go')).toBe('single-line');
  });

  it('is single-line when code follows the cursor, or inside (|) and [|]', () => {
    expect(mode('def mean(values):\n    █return 0', 'python')).toBe('single-line');
    expect(mode('print(█)', 'python')).toBe('single-line');
    expect(mode('const xs = [█];', 'typescript')).toBe('single-line');
    expect(mode('if x > 0:█  # positive', 'python')).toBe('single-line');
  });

  it('ignores openers inside comments and strings, and paths and CSS properties that end in a colon', () => {
    expect(mode('# Example:\n█', 'python')).toBe('single-line');
    expect(mode('print("Totals:")\n█', 'python')).toBe('single-line');
    expect(mode('x = 1  # see below {\n█', 'python')).toBe('single-line');
    expect(mode('// returns {\n█', 'typescript')).toBe('single-line');
    expect(mode('use std::collections::█', 'rust')).toBe('single-line');
    expect(mode('.button {\n  color:█', 'css')).toBe('single-line');
    // The same line without the comment opens a block.
    expect(mode('x = {\n█', 'python')).toBe('multi-line');
  });

  it('is single-line inside a string or comment', () => {
    expect(mode('def f():\n    """Returns the mean of:\n    █', 'python')).toBe('single-line');
    expect(mode('/* options: {\n   █', 'typescript')).toBe('single-line');
  });
});

describe('the shared lexer', () => {
  const classes = (text: string, languageId: string) => {
    const out: string[] = [];
    lex(text, syntaxFor(languageId), undefined, (i, cls) => void out.push(`${text[i]}:${cls}`));
    return out;
  };

  it('masks strings and comments but keeps quotes, lines and lengths', () => {
    const py = 'x = f("a(b", \'c]\')  # call (\ny = """\n(\n"""';
    const { masked, end } = maskNonCode(py, syntaxFor('python'));
    expect(masked).toBe('x = f("   ", \'  \')' + ' '.repeat(10) + '\ny = """\n \n"""');
    expect(end.kind).toBe('code');
  });

  it('continues across the cursor: a string open at the end of the prefix closes in the completion', () => {
    const syntax = syntaxFor('typescript');
    const state = lex('const s = `line one\n', syntax);
    expect(state.kind).toBe('string');
    const seen: string[] = [];
    lex('two` + f(x)', syntax, state, (_i, cls) => void seen.push(cls));
    expect(seen.slice(0, 4)).toEqual(['string', 'string', 'string', 'quote-close']);
  });

  it('reads ${...} in a template literal as code, braces nesting inside it', () => {
    const ts = 'const s = `${items.map((i) => { return "}" + i; })} total: ${sum({ a: 1 })}`; f(`{`)';
    const { masked, end } = maskNonCode(ts, syntaxFor('typescript'));
    expect(masked).toBe('const s = `${items.map((i) => { return " " + i; })}        ${sum({ a: 1 })}`; f(` `)');
    expect(end.kind).toBe('code');
    // The cursor inside an interpolation is in code, inside the template string after it.
    expect(lex('const url = `${base}/users/${', syntaxFor('typescript')).kind).toBe('code');
    expect(lex('const url = `${base}/users/', syntaxFor('typescript')).kind).toBe('string');
  });

  it('ends a single-line string at the end of the line and honours escapes', () => {
    expect(lex('s = "unterminated\nx = (', syntaxFor('python')).kind).toBe('code');
    expect(lex('s = "a \\" b', syntaxFor('python')).kind).toBe('string');
  });

  it("tells Rust lifetimes from char literals", () => {
    // Read as quotes, `'a>(x: &'` would hide the `(`; the `'('` char literal hides its own.
    const parens = classes("fn f<'a>(x: &'a str) -> char { '(' }", 'rust').filter((c) => '()'.includes(c[0]) && c.endsWith(':code'));
    expect(parens).toEqual(['(:code', '):code']);
    expect(classes("let c = '\\n';", 'rust').filter((c) => c.endsWith('quote-close'))).toHaveLength(1);
  });

  it("uses the language's comment syntax: # is code in JavaScript, a comment in Python", () => {
    expect(maskNonCode('this.#count = (1)', syntaxFor('javascript')).masked).toBe('this.#count = (1)');
    expect(maskNonCode('count = 1  # (1)', syntaxFor('python')).masked).toBe('count = 1' + ' '.repeat(7));
    expect(maskNonCode('-- (x)\nSELECT (1)', syntaxFor('sql')).masked).toBe('      \nSELECT (1)');
  });
});

const PY_MODULE = `import math


def mean(values):
    █


def variance(values):
    m = mean(values)
    return sum((v - m) ** 2 for v in values) / len(values)
`;

const TS_CLASS = `export class Counter {
  private counts = new Map<string, number>();

  add(key: string): void {
    █
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}
`;

describe('postprocess: confidence and empty suggestions', () => {
  it('drops a completion whose mean token probability is below the minimum', () => {
    const r = run(PY_MODULE, 'python', 'return sum(values) / len(values)', { tokenProbabilities: [0.9, 0.2, 0.1, 0.3], minMeanProbability: 0.4 });
    expect(r).toEqual({ text: '', reason: 'low-confidence' });
  });

  it('keeps it at or above the minimum, and when no probabilities or no minimum are given', () => {
    const text = 'return sum(values) / len(values)';
    expect(run(PY_MODULE, 'python', text, { tokenProbabilities: [0.9, 0.5, 0.4, 0.8], minMeanProbability: 0.4 })).toEqual({ text, reason: 'ok' });
    expect(run(PY_MODULE, 'python', text, { tokenProbabilities: [], minMeanProbability: 0.4 }).text).toBe(text);
    expect(run(PY_MODULE, 'python', text, { tokenProbabilities: [0.01] }).text).toBe(text);
  });

  it('drops empty and whitespace-only completions, keeps one with code', () => {
    expect(run(PY_MODULE, 'python', '')).toEqual({ text: '', reason: 'empty' });
    expect(run(PY_MODULE, 'python', '  \n\t\n')).toEqual({ text: '', reason: 'empty' });
    expect(run(TS_CLASS, 'typescript', '\r\n   ')).toEqual({ text: '', reason: 'empty' });
    expect(run(TS_CLASS, 'typescript', 'this.counts.set(key, this.get(key) + 1);').reason).toBe('ok');
  });
});

describe('postprocess: trimming', () => {
  it('trims trailing whitespace on every line and trailing blank lines', () => {
    const r = run(PY_MODULE, 'python', 'if not values:   \n        return 0.0\t\n    return sum(values) / len(values)  \n\n   \n');
    expect(r).toEqual({ text: 'if not values:\n        return 0.0\n    return sum(values) / len(values)', reason: 'ok' });
  });

  it('normalises CRLF in the completion', () => {
    expect(run(TS_CLASS, 'typescript', 'const n = this.get(key);\r\n    this.counts.set(key, n + 1);\r\n').text).toBe(
      'const n = this.get(key);\n    this.counts.set(key, n + 1);',
    );
  });

  it('keeps leading whitespace, which places the text', () => {
    expect(run('def mean(values):█', 'python', '\n    return sum(values) / len(values)\n').text).toBe('\n    return sum(values) / len(values)');
  });
});

describe('postprocess: single-line mode', () => {
  it('keeps the first line only (Python, TypeScript)', () => {
    expect(run('total = sum(█', 'python', 'values)\nprint(total)', { mode: 'single-line' })).toEqual({ text: 'values)', reason: 'single-line' });
    expect(run('const name = user.█', 'typescript', 'firstName;\nconsole.log(name);')).toEqual({ text: 'firstName;', reason: 'single-line' });
  });

  it('leaves a one-line completion whole, and a trailing newline is not a cut', () => {
    expect(run('const name = user.█', 'typescript', 'firstName;')).toEqual({ text: 'firstName;', reason: 'ok' });
    expect(run('total = sum(█', 'python', 'values)\n', { mode: 'single-line' })).toEqual({ text: 'values)', reason: 'ok' });
  });
});

describe('postprocess: max lines', () => {
  const body = 'a = 1\n    b = 2\n    c = 3\n    d = 4\n    e = 5';

  it('caps the number of lines', () => {
    expect(run(PY_MODULE, 'python', body, { maxLines: 3 })).toEqual({ text: 'a = 1\n    b = 2\n    c = 3', reason: 'max-lines' });
  });

  it('does not count the empty rest of an opener line', () => {
    const r = run('function area(r: number): number {█', 'typescript', '\n  const pi = Math.PI;\n  return pi * r * r;\n}', { maxLines: 2 });
    expect(r).toEqual({ text: '\n  const pi = Math.PI;\n  return pi * r * r;', reason: 'max-lines' });
  });

  it('keeps a completion within the cap', () => {
    expect(run(PY_MODULE, 'python', body, { maxLines: 5 })).toEqual({ text: body, reason: 'ok' });
  });
});

describe('postprocess: dedent', () => {
  it('stops at a line less indented than the Python body the cursor is in', () => {
    const r = run(PY_MODULE, 'python', 'return sum(values) / len(values)\n\n\ndef median(values):\n    return sorted(values)[len(values) // 2]');
    expect(r).toEqual({ text: 'return sum(values) / len(values)', reason: 'dedent' });
  });

  it('after an opener, the block is the new body: `else:` at the opener level ends it', () => {
    const r = run('    if count == 0:█', 'python', '\n        return 0.0\n    else:\n        return total / count');
    expect(r).toEqual({ text: '\n        return 0.0', reason: 'dedent' });
  });

  it('keeps nested blocks, blank lines and deeper continuation lines', () => {
    const text = 'if not values:\n        raise ValueError("mean of nothing")\n\n    total = sum(\n        values,\n    )\n    return total / len(values)';
    expect(run(PY_MODULE, 'python', text)).toEqual({ text, reason: 'ok' });
  });

  it('ignores the indentation of lines inside a multi-line string', () => {
    const text = 'query = """\nSELECT name\nFROM users\n"""\n    return run(query)';
    expect(run(PY_MODULE, 'python', text)).toEqual({ text, reason: 'ok' });
  });

  it('keeps the closing brace of the block it opened, and stops after it (TypeScript)', () => {
    const r = run('export function area(r: number): number {█', 'typescript', '\n  return Math.PI * r * r;\n}\n\nexport function perimeter(r: number): number {\n  return 2 * Math.PI * r;\n}');
    expect(r).toEqual({ text: '\n  return Math.PI * r * r;\n}', reason: 'dedent' });
  });

  it('stops at a TypeScript line that leaves the method the cursor is in', () => {
    const r = run(TS_CLASS, 'typescript', 'this.counts.set(key, this.get(key) + 1);\nconsole.log(key);');
    expect(r).toEqual({ text: 'this.counts.set(key, this.get(key) + 1);', reason: 'dedent' });
  });

  it('keeps a nested TypeScript block', () => {
    const text = 'if (!this.counts.has(key)) {\n      this.counts.set(key, 0);\n    }\n    this.counts.set(key, this.get(key) + 1);';
    expect(run(TS_CLASS, 'typescript', text)).toEqual({ text, reason: 'ok' });
  });
});

describe('postprocess: brackets', () => {
  it('does not repeat the closer after the cursor: foo(|) completed with `a, b)` (TypeScript, Python)', () => {
    expect(run('const area = Math.max(█);', 'typescript', 'width * height, 0)')).toEqual({ text: 'width * height, 0', reason: 'brackets' });
    expect(run('total = round(█)', 'python', 'price * quantity, 2)')).toEqual({ text: 'price * quantity, 2', reason: 'brackets' });
  });

  it('cuts nested closers where the suffix takes over', () => {
    expect(run('result = process(load(█), strict=True)', 'python', 'path), strict=True)')).toEqual({ text: 'path', reason: 'brackets' });
    expect(run('const xs = [1, 2].map((x) => x * 2).filter(█);', 'typescript', 'isEven).length);')).toEqual({ text: 'isEven', reason: 'brackets' });
  });

  it('keeps a closer that nothing after the cursor provides', () => {
    expect(run('total = round(█', 'python', 'price * quantity, 2)')).toEqual({ text: 'price * quantity, 2)', reason: 'ok' });
    expect(run('const area = Math.max(█\nconsole.log(area);', 'typescript', 'width * height, 0);')).toEqual({ text: 'width * height, 0);', reason: 'ok' });
  });

  it('keeps closers of brackets the completion opened itself', () => {
    expect(run('total = round(█)', 'python', 'sum(prices), 2')).toEqual({ text: 'sum(prices), 2', reason: 'ok' });
  });

  it('does not count brackets inside strings and comments', () => {
    // A lexer that counted the "(" would think the ")" closes it and keep it.
    expect(run('print(█)', 'python', '"(" + label)')).toEqual({ text: '"(" + label', reason: 'brackets' });
    expect(run('log(█);', 'typescript', "'[' + items.join(', ') + ']')")).toEqual({ text: "'[' + items.join(', ') + ']'", reason: 'brackets' });
    expect(run('print(█)', 'python', 'label  # closes ) here')).toEqual({ text: 'label  # closes ) here', reason: 'ok' });
  });

  it('does not repeat the quote that ends the string the cursor is in', () => {
    expect(run('print("█")', 'python', 'Hello, world!")')).toEqual({ text: 'Hello, world!', reason: 'brackets' });
    // The space before the cut quote is the string's content, not trailing whitespace.
    expect(run("const greeting = '█';", 'typescript', "Hello, ' + name;")).toEqual({ text: 'Hello, ', reason: 'brackets' });
    expect(run('print("█', 'python', 'Hello, world!")')).toEqual({ text: 'Hello, world!")', reason: 'ok' });
  });

  it('does not repeat the `}` of an auto-closed template interpolation, nor the closing backtick', () => {
    expect(run('const url = `${base}/users/${█}`;', 'typescript', 'user.id}`;')).toEqual({ text: 'user.id', reason: 'brackets' });
    expect(run('const url = `${base}/users/█`;', 'typescript', '${user.id}`;')).toEqual({ text: '${user.id}', reason: 'brackets' });
    expect(run('const url = `${base}/users/${█', 'typescript', 'user.id}`;')).toEqual({ text: 'user.id}`;', reason: 'ok' });
  });

  it('puts the closer after the cursor on its own line when the model did (auto-closed {|})', () => {
    expect(run('function area(r: number): number {█}', 'typescript', '\n  return Math.PI * r * r;\n}')).toEqual({
      text: '\n  return Math.PI * r * r;\n',
      reason: 'brackets',
    });
    // Same when the model stopped right before the closer, as fill-in-the-middle does.
    expect(run('  area(r: number): number {█}', 'typescript', '\n    return Math.PI * r * r;\n  ')).toEqual({
      text: '\n    return Math.PI * r * r;\n  ',
      reason: 'ok',
    });
    // Not when the model closed on the same line.
    expect(run('function area(r: number): number {█}', 'typescript', '\n  return Math.PI * r * r; }')).toEqual({
      text: '\n  return Math.PI * r * r;',
      reason: 'brackets',
    });
  });

  it('matches closers that start a line by indentation: a `}` of an unclosed inner block is kept', () => {
    const code = 'const total = (items: Item[]): number => {\n  let sum = 0;\n  for (const item of items) {\n    sum += item.price;\n  █\n};\n';
    const r = run(code, 'typescript', '}\n  return sum;\n}', { mode: 'multi-line' });
    expect(r).toEqual({ text: '}\n  return sum;', reason: 'brackets' });
  });

  it('cuts a closer that matches nothing when the window reaches the start of the file', () => {
    expect(run('count = len(items)█', 'python', ' + 1)')).toEqual({ text: ' + 1', reason: 'brackets' });

    // When the window starts later, its opener may lie before the window: keep it.
    const long = 'values = [\n' + '    1.0,\n'.repeat(2000) + '    count(items)█';
    expect(windowAt(long).prefixStartLine).toBeGreaterThan(0);
    expect(run(long, 'python', ' + 1)', { mode: 'single-line' })).toEqual({ text: ' + 1)', reason: 'ok' });
  });
});

describe('postprocess: repeating the suffix', () => {
  it('stops before the next line of the suffix (Python)', () => {
    const code = 'def load(path):\n    with open(path) as f:\n        █\n    return data\n';
    expect(run(code, 'python', 'data = json.load(f)\n    return data')).toEqual({ text: 'data = json.load(f)', reason: 'repeats-suffix' });
  });

  it('stops before the next line of the suffix (TypeScript), and drops a completion that is only that line', () => {
    const code = 'async function load(path: string) {\n  █\n  return JSON.parse(text);\n}\n';
    expect(run(code, 'typescript', "const text = await readFile(path, 'utf8');\n  return JSON.parse(text);")).toEqual({
      text: "const text = await readFile(path, 'utf8');",
      reason: 'repeats-suffix',
    });
    expect(run(code, 'typescript', 'return JSON.parse(text);')).toEqual({ text: '', reason: 'repeats-suffix' });
  });

  it('stops at two lines that repeat two consecutive lines further down', () => {
    const code = 'def area(shape):\n    █\n    if shape.kind == "square":\n        return shape.side ** 2\n    raise ValueError(shape.kind)\n';
    const completion = 'if shape.kind == "circle":\n        return math.pi * shape.r ** 2\n    if shape.kind == "square":\n        return shape.side ** 2';
    expect(run(code, 'python', completion)).toEqual({ text: 'if shape.kind == "circle":\n        return math.pi * shape.r ** 2', reason: 'repeats-suffix' });
  });

  it('does not stop at a line that merely resembles the suffix (other indentation, or one line further down)', () => {
    const code = 'def area(shape):\n    █\n    if shape.kind == "square":\n        return shape.side ** 2\n    return 0\n';
    // `return 0` appears below, but not as the next line and not with the line after it.
    const completion = 'if shape.kind == "circle":\n        return 0';
    expect(run(code, 'python', completion)).toEqual({ text: completion, reason: 'ok' });
  });

  it('drops the rest of the cursor line when the completion ends with it', () => {
    expect(run('if █:\n    pass', 'python', 'count > limit:')).toEqual({ text: 'count > limit', reason: 'repeats-suffix' });
    expect(run('const limit = █;', 'typescript', 'options.limit ?? 10;')).toEqual({ text: 'options.limit ?? 10', reason: 'repeats-suffix' });
    expect(run('const limit = █;', 'typescript', 'options.limit ?? 10')).toEqual({ text: 'options.limit ?? 10', reason: 'ok' });
  });
});

describe('postprocess: never the text after the cursor', () => {
  it('drops a completion equal to what follows the cursor', () => {
    expect(run('total = █sum(values)', 'python', 'sum(values)')).toEqual({ text: '', reason: 'same-as-suffix' });
    expect(run('const n = █items.length;', 'typescript', 'items')).toEqual({ text: '', reason: 'same-as-suffix' });
    expect(run('def mean(values):█\n    return sum(values) / len(values)', 'python', '\n    return sum(values) / len(values)').text).toBe('');
  });

  it('keeps a completion that differs from it', () => {
    expect(run('total = █sum(values)', 'python', 'weight * ')).toEqual({ text: 'weight *', reason: 'ok' });
    expect(run('const n = █items.length;', 'typescript', 'this.')).toEqual({ text: 'this.', reason: 'ok' });
  });
});
