import { describe, expect, it } from 'vitest';
import { CompletionCache } from '../../src/extension/completion/completionCache';

const PREFIX = 'import json\n\n\ndef load(path):\n    with open(path) as f:\n        ';
const SUFFIX = '\n\n\ndef save(path, data):\n    pass\n';
const TEXT = 'return json.load(f)';

describe('CompletionCache', () => {
  it('returns what was stored for exactly this prefix and suffix, and counts hits and misses', () => {
    const cache = new CompletionCache();
    expect(cache.lookup(PREFIX, SUFFIX)).toBeUndefined();
    cache.set(PREFIX, SUFFIX, TEXT);
    expect(cache.lookup(PREFIX, SUFFIX)).toBe(TEXT);
    expect(cache.get(PREFIX, SUFFIX)).toBe(TEXT);
    expect(cache.lookup(PREFIX, SUFFIX + '# end\n')).toBeUndefined();
    expect(cache.lookup(PREFIX + ' ', SUFFIX)).toBeUndefined();
    expect({ hits: cache.hits, misses: cache.misses, typed: cache.typedThroughHits, size: cache.size }).toEqual({ hits: 2, misses: 3, typed: 0, size: 1 });
  });

  it('overwrites an entry for the same position', () => {
    const cache = new CompletionCache();
    cache.set(PREFIX, SUFFIX, TEXT);
    cache.set(PREFIX, SUFFIX, 'data = json.load(f)');
    expect(cache.size).toBe(1);
    expect(cache.get(PREFIX, SUFFIX)).toBe('data = json.load(f)');
  });

  it('evicts the least recently used entry; a lookup makes an entry recent', () => {
    const cache = new CompletionCache({ maxEntries: 3 });
    for (const name of ['a', 'b', 'c']) cache.set(`${name} = `, SUFFIX, `${name}_value`);
    expect(cache.lookup('a = ', SUFFIX)).toBe('a_value');
    cache.set('d = ', SUFFIX, 'd_value');
    expect(cache.size).toBe(3);
    expect(cache.get('b = ', SUFFIX)).toBeUndefined();
    expect(cache.get('a = ', SUFFIX)).toBe('a_value');
    expect(cache.get('c = ', SUFFIX)).toBe('c_value');
    expect(cache.get('d = ', SUFFIX)).toBe('d_value');
  });

  it('holds 100 entries by default', () => {
    const cache = new CompletionCache();
    for (let i = 0; i < 150; i++) cache.set(`x${i} = `, SUFFIX, `f(${i})`);
    expect(cache.size).toBe(100);
    expect(cache.get('x49 = ', SUFFIX)).toBeUndefined();
    expect(cache.get('x50 = ', SUFFIX)).toBe('f(50)');
  });

  it('keeps showing the rest of the ghost text while the user types it', () => {
    const cache = new CompletionCache();
    cache.set(PREFIX, SUFFIX, TEXT);
    let typed = '';
    for (const ch of TEXT.slice(0, -1)) {
      typed += ch;
      expect(cache.lookup(PREFIX + typed, SUFFIX)).toBe(TEXT.slice(typed.length));
    }
    expect(cache.typedThroughHits).toBe(TEXT.length - 1);
    // All of it typed: nothing left to show.
    expect(cache.lookup(PREFIX + TEXT, SUFFIX)).toBeUndefined();
  });

  it('does not type through a character that differs from the ghost text, or with another suffix', () => {
    const cache = new CompletionCache();
    cache.set(PREFIX, SUFFIX, TEXT);
    expect(cache.lookup(PREFIX + 'retr', SUFFIX)).toBeUndefined();
    expect(cache.lookup(PREFIX + 'x', SUFFIX)).toBeUndefined();
    expect(cache.lookup(PREFIX + 'ret', SUFFIX.slice(1))).toBeUndefined();
    // The typed text must follow the cached prefix itself, not merely end the same way.
    expect(cache.lookup('# other\n' + PREFIX.slice(10) + 'ret', SUFFIX)).toBeUndefined();
    expect(cache.typedThroughHits).toBe(0);
  });

  it('types through a multi-line completion, across the line break the editor indents', () => {
    const cache = new CompletionCache();
    const prefix = 'def mean(values):';
    cache.set(prefix, '', '\n    return sum(values) / len(values)');
    expect(cache.lookup(prefix + '\n    ', '')).toBe('return sum(values) / len(values)');
    expect(cache.lookup(prefix + '\n  ', '')).toBe('  return sum(values) / len(values)');
    expect(cache.lookup(prefix + '\n\t', '')).toBeUndefined();
  });

  it('reuses the position the user backspaces back to', () => {
    const cache = new CompletionCache();
    cache.set(PREFIX, SUFFIX, TEXT);
    cache.set(PREFIX + 'data', SUFFIX, ' = json.load(f)');
    // Typed "data = j", then backspaced to "data".
    expect(cache.lookup(PREFIX + 'data = j', SUFFIX)).toBe('son.load(f)');
    expect(cache.lookup(PREFIX + 'data', SUFFIX)).toBe(' = json.load(f)');
    // And back to before "data", then typing "re" again.
    expect(cache.lookup(PREFIX, SUFFIX)).toBe(TEXT);
    expect(cache.lookup(PREFIX + 're', SUFFIX)).toBe('turn json.load(f)');
  });

  it('prefers the nearest earlier position when several match, whatever their order', () => {
    for (const order of [0, 1]) {
      const cache = new CompletionCache();
      const entries: [string, string][] = [
        [PREFIX, 'result = load(f)'],
        [PREFIX + 're', 'sult = json.load(f)'],
      ];
      for (const [prefix, text] of order ? entries.reverse() : entries) cache.set(prefix, SUFFIX, text);
      expect(cache.lookup(PREFIX + 'resu', SUFFIX)).toBe('lt = json.load(f)');
    }
  });

  it('caches "nothing to show" as an empty string, which is never typed through', () => {
    const cache = new CompletionCache();
    cache.set(PREFIX, SUFFIX, '');
    expect(cache.lookup(PREFIX, SUFFIX)).toBe('');
    expect(cache.lookup(PREFIX + 'r', SUFFIX)).toBeUndefined();
  });

  it('keys on the end of the prefix and the start of the suffix', () => {
    const cache = new CompletionCache({ prefixChars: 2000, suffixChars: 500 });
    const body = 'x = compute(x)\n'.repeat(200); // 3000 characters
    cache.set('# version 1\n' + body, 'y = 1\n'.repeat(100), 'x = finish(x)');
    // Different only before the last 2000 prefix characters and after the first 500 suffix characters.
    expect(cache.get('# version 2\n' + body, 'y = 1\n'.repeat(90))).toBe('x = finish(x)');
    expect(cache.lookup('# version 2\n' + body + 'x = f', 'y = 1\n'.repeat(90))).toBe('inish(x)');
    // Different within them.
    expect(cache.get('# version 1\n' + body.slice(0, -3) + 'y)\n', 'y = 1\n'.repeat(100))).toBeUndefined();
    expect(cache.get('# version 1\n' + body, 'y = 2\n' + 'y = 1\n'.repeat(99))).toBeUndefined();
  });

  it('does not confuse where the prefix ends and the suffix starts', () => {
    const cache = new CompletionCache();
    cache.set('ab', 'c', 'one');
    expect(cache.get('a', 'bc')).toBeUndefined();
  });

  it('clears entries, and resets the counters on request', () => {
    const cache = new CompletionCache();
    cache.set(PREFIX, SUFFIX, TEXT);
    cache.lookup(PREFIX, SUFFIX);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.lookup(PREFIX, SUFFIX)).toBeUndefined();
    expect(cache.lookup(PREFIX + 'r', SUFFIX)).toBeUndefined();
    expect([cache.hits, cache.misses]).toEqual([1, 2]);
    cache.resetCounters();
    expect([cache.hits, cache.misses, cache.typedThroughHits]).toEqual([0, 0, 0]);
  });
});
