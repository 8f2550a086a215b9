// The workspace index on disk: the caller's line, MiniSearch's counters and then one line per term, written
// term by term and read line by line. MiniSearch's own toJSON() builds a plain-object copy of the whole index before
// JSON.stringify makes it one string, and loading parses the whole copy back before building the index: each
// doubled the index thread's memory for a moment (10,000 files: +78 MB saving, +70 MB loading). The lines hold
// MiniSearch's own serialization (version 2) and are read back through its loadJS.

import * as fs from 'node:fs/promises';
import MiniSearch, { type AsPlainObject, type Options } from 'minisearch';

/** What MiniSearch's toJSON() reads; no public accessor walks the index without copying it whole. */
interface MiniSearchInternals {
  _documentCount: number;
  _nextId: number;
  _documentIds: Map<number, unknown>;
  _fieldIds: Record<string, number>;
  _fieldLength: Map<number, number[]>;
  _avgFieldLength: number[];
  _storedFields: Map<number, Record<string, unknown>>;
  _dirtCount: number;
  _index: Iterable<[string, Map<number, Map<number, number>>]>;
}

type Term = AsPlainObject['index'][number];
/** MiniSearch's serialization without its terms, and how many there are (a file cut at a line's end is refused). */
type Counters = Omit<AsPlainObject, 'index'> & { terms: number };

/** Terms per write: a few hundred KB of text at a time. */
const TERMS_PER_WRITE = 2000;

/** Writes `meta` (the caller's own) and `index` to `file`, through a temporary file and a rename. */
export async function saveIndex(file: string, meta: unknown, index: MiniSearch<never>): Promise<void> {
  const search = index as unknown as MiniSearchInternals;
  const counters: Counters = {
    terms: index.termCount,
    documentCount: search._documentCount,
    nextId: search._nextId,
    documentIds: Object.fromEntries(search._documentIds),
    fieldIds: search._fieldIds,
    fieldLength: Object.fromEntries(search._fieldLength),
    averageFieldLength: search._avgFieldLength,
    storedFields: Object.fromEntries(search._storedFields),
    dirtCount: search._dirtCount,
    serializationVersion: 2,
  };
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await fs.open(temporary, 'w');
  try {
    await handle.write(JSON.stringify(meta) + '\n' + JSON.stringify(counters) + '\n');
    let lines: string[] = [];
    for (const [term, fields] of search._index) {
      const data: Term[1] = {};
      for (const [fieldId, frequencies] of fields) data[fieldId] = Object.fromEntries(frequencies);
      lines.push(JSON.stringify([term, data]));
      if (lines.length === TERMS_PER_WRITE) {
        await handle.write(lines.join('\n') + '\n');
        lines = [];
      }
    }
    if (lines.length) await handle.write(lines.join('\n') + '\n');
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, file);
}

/**
 * The index saved in `file` with the caller's `meta`, or undefined when there is none or it cannot be read (the caller
 * builds anew). `options` must be those it was built with.
 */
export async function loadIndex<T>(file: string, options: Options<T>): Promise<{ meta: unknown; index: MiniSearch<T> } | undefined> {
  try {
    const text = await fs.readFile(file, 'utf8');
    const metaEnd = text.indexOf('\n');
    const headerEnd = text.indexOf('\n', metaEnd + 1);
    const meta = JSON.parse(text.slice(0, metaEnd)) as unknown;
    const counters = JSON.parse(text.slice(metaEnd + 1, headerEnd)) as Counters;
    // Each term's line is parsed as loadJS reaches it, so no parsed copy of the whole index is alive at once.
    function* terms(): Generator<Term> {
      let start = headerEnd + 1;
      while (start < text.length) {
        const end = text.indexOf('\n', start);
        yield JSON.parse(text.slice(start, end === -1 ? text.length : end)) as Term;
        start = end === -1 ? text.length : end + 1;
      }
    }
    const index = MiniSearch.loadJS<T>({ ...counters, index: terms() as unknown as Term[] }, options);
    return index.termCount === counters.terms ? { meta, index } : undefined;
  } catch {
    return undefined;
  }
}
