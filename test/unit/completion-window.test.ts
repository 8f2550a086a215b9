import { describe, expect, it } from 'vitest';
import { cursorWindow, textLineSource, WINDOW_ALIGNMENT_LINES, type LineSource } from '../../src/extension/completion/documentWindow';

const LIMITS = { maxPrefixChars: 4000, maxSuffixChars: 1000 };

/** The window at the position marked █ in `code`. */
function windowAt(code: string, limits = LIMITS) {
  const offset = code.indexOf('█');
  const text = code.replace('█', '');
  const before = text.slice(0, offset).split(/\r?\n/);
  return cursorWindow(textLineSource(text), before.length - 1, before[before.length - 1].length, limits);
}

/** A LineSource that counts the lines read. */
function counting(lines: string[], eol = '\n'): LineSource & { reads: number[] } {
  const reads: number[] = [];
  return {
    lineCount: lines.length,
    eol,
    reads,
    lineAt(line: number) {
      reads.push(line);
      return lines[line];
    },
  };
}

const TS = `import { readFile } from 'node:fs/promises';

export async function loadConfig(path: string): Promise<Config> {
  const text = await readFile(path, 'utf8');
  const raw = JSON.parse(█text);
  return validate(raw);
}
`;

describe('cursorWindow', () => {
  it('splits a TypeScript file at the cursor, the current line into its two halves', () => {
    const w = windowAt(TS);
    expect(w.linePrefix).toBe('  const raw = JSON.parse(');
    expect(w.lineSuffix).toBe('text);');
    expect(w.prefix).toBe(TS.slice(0, TS.indexOf('█')));
    expect(w.suffix).toBe(TS.slice(TS.indexOf('█') + 1));
    expect(w.prefixStartLine).toBe(0);
    expect(w.suffixEndLine).toBe(7);
  });

  it('at the start of the file has an empty prefix and the file as suffix', () => {
    const w = windowAt('█def main():\n    pass\n');
    expect(w).toEqual({ prefix: '', suffix: 'def main():\n    pass\n', prefixStartLine: 0, suffixEndLine: 2, linePrefix: '', lineSuffix: 'def main():' });
  });

  it('at the end of the file has an empty suffix', () => {
    const w = windowAt('def main():\n    pass█');
    expect(w).toEqual({ prefix: 'def main():\n    pass', suffix: '', prefixStartLine: 0, suffixEndLine: 1, linePrefix: '    pass', lineSuffix: '' });
  });

  it('handles an empty document, with one empty line or none', () => {
    const empty = { prefix: '', suffix: '', prefixStartLine: 0, suffixEndLine: 0, linePrefix: '', lineSuffix: '' };
    expect(cursorWindow(textLineSource(''), 0, 0, LIMITS)).toEqual(empty);
    expect(cursorWindow(counting([]), 0, 0, LIMITS)).toEqual(empty);
  });

  it('clamps a position past the end of the line or document', () => {
    const source = textLineSource('a = 1\nb = 2');
    expect(cursorWindow(source, 1, 99, LIMITS).linePrefix).toBe('b = 2');
    expect(cursorWindow(source, 7, 0, LIMITS)).toMatchObject({ linePrefix: '', lineSuffix: 'b = 2', prefix: 'a = 1\n' });
    expect(cursorWindow(source, -3, -1, LIMITS)).toMatchObject({ prefix: '', suffix: 'a = 1\nb = 2' });
  });

  it('normalises CRLF to \\n, whether or not the source strips the \\r', () => {
    const crlf = 'def f(x):\r\n    return x\r\n\r\nprint(f(1))\r\n';
    const source = textLineSource(crlf);
    expect(source.eol).toBe('\r\n');
    const w = cursorWindow(source, 1, 4, LIMITS);
    expect(w.prefix).toBe('def f(x):\n    ');
    expect(w.suffix).toBe('return x\n\nprint(f(1))\n');
    // A naive source that split on '\n' only.
    const naive = cursorWindow(counting(crlf.split('\n'), '\r\n'), 1, 4, LIMITS);
    expect(naive).toEqual(w);
    expect(naive.prefix + naive.suffix).not.toContain('\r');
  });

  it('keeps whole lines within the limits, the newlines counted', () => {
    const lines = Array.from({ length: 200 }, (_, i) => `    total += values[${i}] * weights[${i}]`);
    const text = lines.join('\n');
    const limits = { maxPrefixChars: 1500, maxSuffixChars: 700 };
    const w = cursorWindow(textLineSource(text), 100, 10, limits);
    expect(w.prefix.length).toBeLessThanOrEqual(1500);
    expect(w.suffix.length).toBeLessThanOrEqual(700);
    expect(w.prefix).toBe([...lines.slice(w.prefixStartLine, 100), lines[100].slice(0, 10)].join('\n'));
    expect(w.suffix).toBe([lines[100].slice(10), ...lines.slice(101, w.suffixEndLine + 1)].join('\n'));
    // The suffix is as long as whole lines allow: one more would not fit.
    expect(w.suffix.length + lines[w.suffixEndLine + 1].length + 1).toBeGreaterThan(700);
  });

  it('aligns the prefix start to 16 lines and keeps it put while the user types', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `x${i} = compute(x${Math.max(0, i - 1)})`);
    const limits = { maxPrefixChars: 3000, maxSuffixChars: 500 };
    /** The first line that would fit without alignment. */
    const earliest = (typedLength: number) => {
      let length = typedLength;
      let start = 300;
      while (start > 0 && length + lines[start - 1].length + 1 <= limits.maxPrefixChars) length += lines[--start].length + 1;
      return start;
    };
    const starts = new Set<number>();
    const unaligned = new Set<number>();
    let typed = '';
    for (const ch of 'result = normalise(values, axis=0, keepdims=True, out=None)') {
      typed += ch;
      const doc = [...lines.slice(0, 300), typed, ...lines.slice(300)];
      const w = cursorWindow(textLineSource(doc.join('\n')), 300, typed.length, limits);
      expect(w.prefixStartLine % WINDOW_ALIGNMENT_LINES).toBe(0);
      expect(w.prefix.length).toBeLessThanOrEqual(limits.maxPrefixChars);
      expect(w.prefix).toBe([...lines.slice(w.prefixStartLine, 300), typed].join('\n'));
      starts.add(w.prefixStartLine);
      unaligned.add(earliest(typed.length));
    }
    expect(starts).toEqual(new Set([160]));
    expect(unaligned.size).toBeGreaterThan(1);
  });

  it('does not align when that would keep less than half of the lines that fit (tiny limits)', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `line number ${String(i).padStart(2, '0')}`); // 14 chars
    const tiny = { maxPrefixChars: 80, maxSuffixChars: 0 }; // 5 lines of 14 chars and their newlines fit
    // At line 18, lines 13..17 fit; starting at 16 would keep only 2 of them.
    const w = cursorWindow(textLineSource(lines.join('\n')), 18, 0, tiny);
    expect(w.prefixStartLine).toBe(13);
    expect(w.prefix).toBe(lines.slice(13, 18).join('\n') + '\n');
    // At line 20, lines 15..19 fit; starting at 16 keeps 4 of them, so it aligns.
    expect(cursorWindow(textLineSource(lines.join('\n')), 20, 0, tiny).prefixStartLine).toBe(16);
  });

  it('keeps the part of an overlong line nearest the cursor, and no other line', () => {
    const minified = 'var a=' + 'f(1),'.repeat(5000) + 'b=2;';
    const lines = ['// header', minified, '// footer'];
    const w = cursorWindow(counting(lines), 1, 12_000, { maxPrefixChars: 100, maxSuffixChars: 50 });
    expect(w.prefix).toBe(minified.slice(12_000 - 100, 12_000));
    expect(w.suffix).toBe(minified.slice(12_000, 12_050));
    expect(w.linePrefix).toBe(w.prefix);
    expect(w.lineSuffix).toBe(w.suffix);
    expect(w.prefixStartLine).toBe(1);
    expect(w.suffixEndLine).toBe(1);
  });

  it('never cuts a surrogate pair in half', () => {
    const line = 'const s = "' + '😀'.repeat(20) + '";';
    const w = cursorWindow(textLineSource(line), 0, 11 + 20, { maxPrefixChars: 7, maxSuffixChars: 5 });
    expect(w.prefix).toBe('😀😀😀');
    expect(w.suffix).toBe('😀😀');
  });

  it('reads only the lines near the cursor of a 10 MB document', () => {
    const lines: string[] = [];
    let size = 0;
    for (let i = 0; size < 10 * 1024 * 1024; i++) {
      const line = i % 7 === 0 ? '' : `    result_${i} = transform(items[${i}], scale=${i % 13}, offset=${i % 5})`;
      lines.push(line);
      size += line.length + 1;
    }
    expect(lines.length).toBeGreaterThan(150_000);
    const source = counting(lines);
    const cursor = Math.floor(lines.length / 2) + 3;
    const w = cursorWindow(source, cursor, 8, { maxPrefixChars: 6000, maxSuffixChars: 2000 });
    const prefixLines = cursor - w.prefixStartLine;
    const suffixLines = w.suffixEndLine - cursor;
    expect(prefixLines).toBeGreaterThan(60);
    // The cursor line, the lines kept, the few dropped by alignment and one on each side that did not fit.
    expect(source.reads.length).toBeLessThanOrEqual(1 + prefixLines + WINDOW_ALIGNMENT_LINES + suffixLines + 1);
    expect(Math.min(...source.reads)).toBeGreaterThanOrEqual(w.prefixStartLine - WINDOW_ALIGNMENT_LINES - 1);
    expect(Math.max(...source.reads)).toBe(w.suffixEndLine + 1);
    expect(w.prefix).toBe([...lines.slice(w.prefixStartLine, cursor), lines[cursor].slice(0, 8)].join('\n'));
  });
});
