// The workspace index's thread (bundled as dist/indexer.js): walks the workspace folders (skipping what .gitignore
// files, files.exclude and search.exclude name, binary files and files over the size cap), cuts each source file into
// chunks at syntax boundaries (codeChunks.ts) and keeps a BM25 full-text index of them (MiniSearch), saved in the
// workspace's storage and brought up to date from the files' modification times on the next start. Identifiers count
// whole and by their parts (camelCase, snake_case), so "retry delay" finds `retryDelay` and `compute_retry_delay`.

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { parentPort } from 'node:worker_threads';
import MiniSearch, { type Options } from 'minisearch';
import { CodeChunker } from './codeChunks';
import { codeTokens, isIgnored, isIndexable, listFiles, processTerm } from './indexContent';
import type { IndexLimits, IndexReply, IndexRequest, SearchHit } from './indexMessages';

const port = parentPort;
if (!port) throw new Error('indexThread.ts runs as a worker thread');

/** A saved index of another version is rebuilt. */
const INDEX_VERSION = 1;

interface ChunkDocument {
  id: number;
  path: string;
  symbols: string;
  text: string;
  start: number;
  end: number;
}

const OPTIONS: Options<ChunkDocument> = {
  fields: ['symbols', 'path', 'text'],
  storeFields: ['path', 'symbols', 'start', 'end'],
  tokenize: codeTokens,
  processTerm,
  searchOptions: { boost: { symbols: 3, path: 1.5 }, combineWith: 'OR' },
};

interface IndexedFile {
  mtimeMs: number;
  size: number;
  ids: number[];
}

let chunker: CodeChunker;
let search = new MiniSearch<ChunkDocument>(OPTIONS);
let files = new Map<string, IndexedFile>();
let nextId = 1;
let totalBytes = 0;
let partial = false;
let roots: string[] = [];
let exclude: string[] = [];
let limits: IndexLimits;
let savedPath: string | undefined;

const post = (reply: IndexReply) => port.postMessage(reply);

/** Workspace-relative, with the folder's name in front when there are several. */
function relative(file: string): string {
  const root = roots.find((r) => file.startsWith(r + path.sep)) ?? roots[0]!;
  const inside = path.relative(root, file).split(path.sep).join('/');
  return roots.length > 1 ? `${path.basename(root)}/${inside}` : inside;
}

/** The absolute path of a workspace-relative one (relative()'s inverse). */
function absolute(relativePath: string): string {
  if (roots.length === 1) return path.join(roots[0]!, relativePath);
  const [folder, ...rest] = relativePath.split('/');
  return path.join(roots.find((r) => path.basename(r) === folder) ?? roots[0]!, ...rest);
}

function remove(file: string): void {
  const indexed = files.get(file);
  if (!indexed) return;
  search.discardAll(indexed.ids);
  files.delete(file);
  totalBytes -= indexed.size;
}

async function indexFile(file: string): Promise<void> {
  remove(file);
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    return; // deleted meanwhile
  }
  if (!stat.isFile() || stat.size > limits.maxFileBytes) return;
  if (totalBytes + stat.size > limits.maxTotalBytes) {
    partial = true;
    return;
  }
  const bytes = await fs.readFile(file);
  if (bytes.subarray(0, 8000).includes(0)) return;
  const text = bytes.toString('utf8');
  const lines = text.split('\n');
  const chunks = await chunker.chunks(file, text);
  const relativePath = relative(file);
  const documents = chunks.map((chunk) => ({
    id: nextId++,
    path: relativePath,
    symbols: chunk.symbols.join(' '),
    text: lines.slice(chunk.startLine, chunk.endLine + 1).join('\n'),
    start: chunk.startLine,
    end: chunk.endLine,
  }));
  search.addAll(documents);
  files.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, ids: documents.map((d) => d.id) });
  totalBytes += stat.size;
}

async function loadSaved(): Promise<boolean> {
  if (!savedPath) return false;
  try {
    const saved = JSON.parse(await fs.readFile(savedPath, 'utf8')) as { version: number; roots: string[]; nextId: number; files: Array<[string, IndexedFile]>; index: unknown };
    if (saved.version !== INDEX_VERSION || JSON.stringify(saved.roots) !== JSON.stringify(roots)) return false;
    search = MiniSearch.loadJS(saved.index as Parameters<typeof MiniSearch.loadJS>[0], OPTIONS);
    files = new Map(saved.files);
    nextId = saved.nextId;
    totalBytes = [...files.values()].reduce((sum, f) => sum + f.size, 0);
    return true;
  } catch {
    return false; // none yet, or unreadable: built anew
  }
}

async function save(): Promise<void> {
  if (!savedPath) return;
  await fs.mkdir(path.dirname(savedPath), { recursive: true });
  const temporary = `${savedPath}.${process.pid}.tmp`;
  await fs.writeFile(temporary, JSON.stringify({ version: INDEX_VERSION, roots, nextId, files: [...files], index: search }));
  await fs.rename(temporary, savedPath);
}

async function start(request: Extract<IndexRequest, { kind: 'start' }>): Promise<void> {
  const started = performance.now();
  ({ roots, exclude, limits, savedPath } = request);
  chunker = await CodeChunker.create(request.wasmDir);
  const loaded = await loadSaved();
  const listed = (await Promise.all(roots.map((root) => listFiles(root, exclude)))).flat();
  const present = new Set(listed);
  for (const file of [...files.keys()]) if (!present.has(file)) remove(file);
  // Only new and modified files are read: a saved index makes the next start quick.
  const stale: string[] = [];
  for (const file of listed) {
    const known = files.get(file);
    if (!known) stale.push(file);
    else {
      const stat = await fs.stat(file).catch(() => undefined);
      if (!stat || stat.mtimeMs !== known.mtimeMs || stat.size !== known.size) stale.push(file);
    }
  }
  for (let i = 0; i < stale.length; i++) {
    await indexFile(stale[i]!);
    if (i % 200 === 199) post({ kind: 'progress', indexed: i + 1, total: stale.length });
  }
  if (stale.length || !loaded) await save();
  post({ kind: 'ready', files: files.size, chunks: search.documentCount, ms: Math.round(performance.now() - started), partial, loadedFromDisk: loaded });
}

async function update(changed: string[], deleted: string[]): Promise<void> {
  for (const file of deleted) {
    // A deleted folder: every file under it.
    for (const known of [...files.keys()]) if (known === file || known.startsWith(file + path.sep)) remove(known);
  }
  for (const file of changed) {
    const root = roots.find((r) => file.startsWith(r + path.sep));
    if (!root || (await isIgnored(root, file, exclude))) continue;
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat?.isDirectory()) {
      for (const inside of await listFiles(file, exclude)) await indexFile(inside);
    } else if (isIndexable(file)) {
      await indexFile(file);
    }
  }
  await save();
}

async function find(query: string, limit: number): Promise<SearchHit[]> {
  const results = search.search(query).slice(0, limit);
  const byFile = new Map<string, string[]>();
  const hits: SearchHit[] = [];
  for (const result of results) {
    const file = absolute(result['path'] as string);
    let lines = byFile.get(file);
    if (!lines) {
      lines = (await fs.readFile(file, 'utf8').catch(() => '')).split('\n');
      byFile.set(file, lines);
    }
    const { start, end, symbols } = result as unknown as { start: number; end: number; symbols: string };
    hits.push({ file, path: relative(file), startLine: start, endLine: end, symbols: symbols ? symbols.split(' ') : [], text: lines.slice(start, end + 1).join('\n'), score: result.score });
  }
  return hits;
}

// One request at a time, in order: a search waits for the build or update before it.
let queue = Promise.resolve();
port.on('message', (request: IndexRequest) => {
  queue = queue.then(async () => {
    try {
      if (request.kind === 'start') await start(request);
      else if (request.kind === 'update') await update(request.changed, request.deleted);
      else post({ kind: 'results', id: request.id, hits: await find(request.query, request.limit) });
    } catch (error) {
      post({ kind: 'error', message: (error as Error).message, ...(request.kind === 'search' ? { id: request.id } : {}) });
    }
  });
});
