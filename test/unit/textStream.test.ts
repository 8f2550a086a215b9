import { describe, expect, it } from 'vitest';
import { TextStream } from '../../src/worker/textStream';

// A byte-level "tokenizer": each token id is one UTF-8 byte; decoding invalid tails yields U+FFFD as real decoders do.
const decodeBytes = (ids: readonly number[]) => new TextDecoder().decode(Uint8Array.from(ids));
const bytes = (text: string) => Array.from(new TextEncoder().encode(text));

function run(text: string, stop: string[] = []) {
  const stream = new TextStream(decodeBytes, stop);
  const deltas: string[] = [];
  let stopped = false;
  for (const id of bytes(text)) {
    const step = stream.push(id);
    if (step.delta) deltas.push(step.delta);
    if (step.stopped) {
      stopped = true;
      break;
    }
  }
  if (!stopped) {
    const tail = stream.flush();
    if (tail) deltas.push(tail);
  }
  return { deltas, stopped, text: stream.fullText };
}

describe('TextStream', () => {
  it('never emits half a UTF-8 character', () => {
    const { deltas } = run('héllo wörld — 😀 ok ');
    for (const delta of deltas) expect(delta).not.toContain('\uFFFD');
    expect(deltas.join('')).toBe('héllo wörld — 😀 ok ');
  });

  it('emits whole words only, the rest on flush', () => {
    const { deltas } = run('def add(a, b):\n    return a+b');
    expect(deltas.slice(0, -1).every((d) => /\s$/.test(d))).toBe(true);
    expect(deltas.join('')).toBe('def add(a, b):\n    return a+b');
  });

  it('stops before a stop string split across tokens and never streams part of it', () => {
    const { deltas, stopped, text } = run('first line\n\nsecond', ['\n\n']);
    expect(stopped).toBe(true);
    expect(text).toBe('first line');
    expect(deltas.join('')).toBe('first line');
  });

  it('holds back a possible stop-string prefix until it is resolved', () => {
    const { deltas } = run('a <|e b <|end|> c', ['<|end|>']);
    expect(deltas.join('')).toBe('a <|e b ');
  });

  it('finds the earliest of several stop strings', () => {
    expect(run('x = 1\ny = 2\nclass', ['class', '\ny']).text).toBe('x = 1');
  });
});

describe('TextStream with a healed prefix', () => {
  it('drops the text the first token repeats from the prompt', () => {
    const stream = new TextStream(decodeBytes, [], ' ');
    const deltas = [...bytes(' sys\nimport re')].map((id) => stream.push(id).delta);
    deltas.push(stream.flush());
    expect(deltas.join('')).toBe('sys\nimport re');
    expect(stream.fullText).toBe('sys\nimport re');
  });
});
