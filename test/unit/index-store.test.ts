// The workspace index's file (indexStore.ts): written term by term from MiniSearch's internals, read back through
// its loadJS. The round trip must give exactly the index MiniSearch's own serialization gives: if a MiniSearch
// release renames what saveIndex reads, this fails rather than the saved index silently losing terms.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import MiniSearch, { type Options } from 'minisearch';
import { describe, expect, it } from 'vitest';
import { loadIndex, saveIndex } from '../../src/extension/shared/indexStore';
import { codeTokens, processTerm } from '../../src/extension/shared/indexContent';

interface Doc {
  id: number;
  path: string;
  text: string;
}
const OPTIONS: Options<Doc> = { fields: ['path', 'text'], storeFields: ['path'], tokenize: codeTokens, processTerm };

/** A word of its own for each number (digits are not search terms): 0 -> "aaa", 27 -> "aba". */
const letters = (n: number) => [676, 26, 1].map((unit) => String.fromCharCode(97 + (Math.floor(n / unit) % 26))).join('');

function sampleIndex(documents: number): MiniSearch<Doc> {
  const search = new MiniSearch<Doc>(OPTIONS);
  for (let id = 1; id <= documents; id++) {
    // Distinct words per document (more than one write's worth of terms in all), a shared word, non-ASCII text.
    search.add({ id, path: `pkg/module_${id}.py`, text: `def load_${letters(id)}(source):\n    """Lit l'entrée № ${id} — ${'ünïcode '.repeat(id % 3)}"""\n    return parse_value(source)\n` });
  }
  search.discard(3); // a discarded document: the dirt count and the missing id travel too
  return search;
}

function plain(search: MiniSearch<Doc>) {
  const js = search.toJSON();
  return { ...js, index: js.index.sort(([a], [b]) => a.localeCompare(b)) };
}

describe('the saved workspace index', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-index-store-'));

  it('reloads to the same index MiniSearch would serialize, with the caller’s own line', async () => {
    const search = sampleIndex(2500);
    const file = path.join(dir, 'index.jsonl');
    await saveIndex(file, { version: 7, files: [['a.py', { id: 1 }]] }, search as MiniSearch<never>);
    const loaded = await loadIndex(file, OPTIONS);
    expect(loaded?.meta).toEqual({ version: 7, files: [['a.py', { id: 1 }]] });
    // The same terms, postings and counters (the radix tree walks its terms in an order of its own).
    expect(plain(loaded!.index)).toEqual(plain(search));
    expect(loaded!.index.termCount).toBeGreaterThan(2500);
    expect(loaded!.index.search(`load ${letters(1234)}`).map((r) => r['path'] as string)[0]).toBe('pkg/module_1234.py');
    expect(fs.readdirSync(dir)).toEqual(['index.jsonl']); // the temporary file was renamed
  });

  it('a missing, cut-off or foreign file gives undefined (the thread builds anew), never a partial index', async () => {
    const file = path.join(dir, 'cut.jsonl');
    expect(await loadIndex(path.join(dir, 'missing.jsonl'), OPTIONS)).toBeUndefined();
    await saveIndex(file, {}, sampleIndex(50) as MiniSearch<never>);
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.slice(0, Math.floor(text.length / 2)));
    expect(await loadIndex(file, OPTIONS)).toBeUndefined();
    fs.writeFileSync(file, JSON.stringify(sampleIndex(5))); // MiniSearch's own format (the first version's file)
    expect(await loadIndex(file, OPTIONS)).toBeUndefined();
  });
});
