// Token offsets -> document positions (src/extension/attention/tokenRanges.ts), the way the attention view links
// tokens to the editor: unicode (surrogate pairs), CRLF, tabs, a range that starts mid-line, and the bundled model's
// real tokenizer, whose offsets must map every token of a CRLF text back to exactly its text.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineStarts, positionAt, tokenAtOffset, tokenRanges, type LinePosition } from '../../src/extension/attention/tokenRanges';
import { ModelTokenizer } from '../../src/worker/tokenizer';

/** The text of a document range, with "\r\n" line ends, as TextDocument.getText(range) returns it. */
function textAt(documentText: string, start: LinePosition, end: LinePosition): string {
  const starts = lineStarts(documentText);
  return documentText.slice(starts[start.line]! + start.character, starts[end.line]! + end.character);
}

function tokenize(text: string, cuts: number[]): Array<{ start: number; end: number }> {
  const bounds = [0, ...cuts, text.length];
  return bounds.slice(1).map((end, i) => ({ start: bounds[i]!, end }));
}

describe('token ranges in the document', () => {
  it('line starts: \\n, \\r\\n and a lone \\r end lines', () => {
    expect(lineStarts('a\nb\r\nc\rd')).toEqual([0, 2, 5, 7]);
    expect(lineStarts('')).toEqual([0]);
    expect(lineStarts('\r\n\r\n')).toEqual([0, 2, 4]);
  });

  it('maps offsets of a selection that starts mid-line (the origin shifts the first line only)', () => {
    const text = 'b = 1\n  c = 2';
    const origin = { line: 4, character: 7 };
    const starts = lineStarts(text);
    expect(positionAt(text, starts, origin, 0)).toEqual({ line: 4, character: 7 });
    expect(positionAt(text, starts, origin, 5)).toEqual({ line: 4, character: 12 });
    expect(positionAt(text, starts, origin, 6)).toEqual({ line: 5, character: 0 });
    expect(positionAt(text, starts, origin, 8)).toEqual({ line: 5, character: 2 });
    expect(positionAt(text, starts, origin, 99)).toEqual({ line: 5, character: 7 });
  });

  it('CRLF: an offset between \\r and \\n is the end of the line, as TextDocument.positionAt has it', () => {
    const text = 'x = 1\r\ny = 2\r\n';
    const starts = lineStarts(text);
    const origin = { line: 0, character: 0 };
    expect(positionAt(text, starts, origin, 5)).toEqual({ line: 0, character: 5 }); // before \r
    expect(positionAt(text, starts, origin, 6)).toEqual({ line: 0, character: 5 }); // between \r and \n
    expect(positionAt(text, starts, origin, 7)).toEqual({ line: 1, character: 0 });
    expect(positionAt(text, starts, origin, 14)).toEqual({ line: 2, character: 0 });
  });

  it('unicode (surrogate pairs count two UTF-16 units) and tabs (one character each)', () => {
    const document = 'def f():\n\treturn "héllo 😀"\n';
    const origin = { line: 0, character: 0 };
    const text = document;
    const tokens = tokenize(text, [3, 9, 10, 16, 18, 24, 26, 27]);
    const ranges = tokenRanges(text, origin, tokens);
    ranges.forEach((range, i) => expect(textAt(document, range!.start, range!.end)).toBe(text.slice(tokens[i]!.start, tokens[i]!.end)));
    expect(ranges[2]).toEqual({ start: { line: 1, character: 0 }, end: { line: 1, character: 1 } }); // the tab
    expect(ranges[6]).toEqual({ start: { line: 1, character: 15 }, end: { line: 1, character: 17 } }); // the emoji: 2 units
  });

  it('tokens without offsets (-1) have no range', () => {
    expect(tokenRanges('abc', { line: 0, character: 0 }, [{ start: -1, end: -1 }, { start: 0, end: 3 }])).toEqual([
      null,
      { start: { line: 0, character: 0 }, end: { line: 0, character: 3 } },
    ]);
  });

  it('finds the token at an offset (the editor cursor), including the very end', () => {
    const tokens = tokenize('for i in x:', [3, 5, 8]);
    expect(tokenAtOffset(tokens, 0)).toBe(0);
    expect(tokenAtOffset(tokens, 3)).toBe(1);
    expect(tokenAtOffset(tokens, 7)).toBe(2);
    expect(tokenAtOffset(tokens, 11)).toBe(3);
    expect(tokenAtOffset(tokens, 12)).toBe(-1);
    expect(tokenAtOffset(tokens, -1)).toBe(-1);
    expect(tokenAtOffset([], 0)).toBe(-1);
    expect(tokenAtOffset([{ start: -1, end: -1 }], 0)).toBe(-1);
  });

  it("the bundled model's tokens of a CRLF text with tabs and unicode map back to exactly their text (a \\r split from its \\n goes with the \\n)", () => {
    const folder = path.join(__dirname, '..', '..', 'models', 'attentive-code-14m');
    const json = JSON.parse(fs.readFileSync(path.join(folder, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    const config = JSON.parse(fs.readFileSync(path.join(folder, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    const tokenizer = new ModelTokenizer(json, config);
    const document = '# prelude\r\nclass Ünïcode:\r\n\tdef greet(self):\r\n\t\treturn "héllo 😀 wörld"\r\n\r\nx = 1\r\n';
    // The selection starts mid-line 1 ("Ünïcode:...") and runs to the end.
    const origin = { line: 1, character: 6 };
    const text = document.slice(lineStarts(document)[1]! + 6);
    const ids = tokenizer.encode(text);
    expect(tokenizer.decode(ids, false)).toBe(text);
    const tokens = tokenizer.offsets(ids).map(([start, end]) => ({ start, end }));
    expect(tokens.at(-1)!.end).toBe(text.length);
    const ranges = tokenRanges(text, origin, tokens);
    const insideLineBreak = (offset: number) => text[offset - 1] === '\r' && text[offset] === '\n';
    let rebuilt = '';
    let split = 0;
    ranges.forEach((range, i) => {
      const { start, end } = tokens[i]!;
      const actual = textAt(document, range!.start, range!.end);
      rebuilt += actual;
      // A boundary between \r and \n (the tokenizer splits "\r" | "\n\t") cannot be a document position: the "\r" goes
      // with the token that holds the "\n". Every other token maps to exactly its text.
      if (insideLineBreak(start) || insideLineBreak(end)) split++;
      else expect(actual).toBe(text.slice(start, end));
    });
    // The ranges tile the selection: nothing lost, nothing twice.
    expect(rebuilt).toBe(text);
    expect(split).toBeGreaterThan(0); // the case above happens in this text
    expect(tokens.some((t) => text.slice(t.start, t.end) === '\r\n')).toBe(true);
  });

  it('offsets tile the text for a SentencePiece tokenizer too (Llama fixture: the space of a first word, byte fallback)', () => {
    const folder = path.join(__dirname, '..', 'fixtures', 'models', 'llama-tiny');
    const json = JSON.parse(fs.readFileSync(path.join(folder, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    const config = JSON.parse(fs.readFileSync(path.join(folder, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    const tokenizer = new ModelTokenizer(json, config);
    for (const text of ['def mean(xs):\n    return sum(xs) / len(xs)\n', 'x  =  "héllo 😀 wörld"\t# ünïcode', ' leading space and   runs of   spaces']) {
      const ids = tokenizer.encode(text);
      const decoded = tokenizer.decode(ids, false);
      const offsets = tokenizer.offsets(ids);
      expect(offsets.map(([start, end]) => decoded.slice(start, end)).join('')).toBe(decoded);
      expect(offsets.at(-1)![1]).toBe(decoded.length);
      for (let i = 1; i < offsets.length; i++) expect(offsets[i]![0]).toBe(offsets[i - 1]![1]);
      // The same ranges as decoding every prefix (the quadratic definition).
      let previous = 0;
      offsets.forEach(([start, end], i) => {
        const prefix = tokenizer.decode(ids.slice(0, i + 1), false);
        const prefixEnd = prefix.endsWith('\uFFFD') ? previous : prefix.length;
        expect([start, end]).toEqual([previous, Math.max(previous, prefixEnd)]);
        previous = Math.max(previous, prefixEnd);
      });
    }
  });
});
