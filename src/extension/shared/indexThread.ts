// The workspace index's thread (bundled as dist/indexer.js): walks the workspace folders (skipping what .gitignore
// files, files.exclude and search.exclude name, binary files and files over the size cap) and keeps a BM25 full-text
// index of the files (MiniSearch), saved in the workspace's storage and brought up to date from the files'
// modification times on the next start. A search ranks files first, then cuts the best ones into chunks at syntax
// boundaries (codeChunks.ts) and ranks those: one posting per file and term instead of one per chunk and term keeps
// the index at about a third of the memory. Identifiers count by their parts (camelCase, snake_case), so "retry
// delay" finds `computeRetryDelay` and `compute_retry_delay`.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import MiniSearch, { type Options } from 'minisearch';
import { CodeChunker, type Chunk } from './codeChunks';
import { codeTokens, isIgnored, isIndexable, listFiles, processTerm, type GitignoreCache } from './indexContent';
import { loadIndex, saveIndex } from './indexStore';
import type { IndexLimits, IndexReply, IndexRequest, SearchHit } from './indexMessages';

const port = parentPort;
if (!port) throw new Error('indexThread.ts runs as a worker thread');

/** A saved index of another version is rebuilt. */
const INDEX_VERSION = 2;

interface FileDocument {
  id: number;
  path: string;
  text: string;
}

const FILE_OPTIONS: Options<FileDocument> = {
  fields: ['path', 'text'],
  storeFields: ['path'],
  tokenize: codeTokens,
  processTerm,
  searchOptions: { boost: { path: 1.5 }, combineWith: 'OR' },
};

interface ChunkDocument {
  id: number;
  symbols: string;
  text: string;
}

const CHUNK_OPTIONS: Options<ChunkDocument> = {
  fields: ['symbols', 'text'],
  tokenize: codeTokens,
  processTerm,
  searchOptions: { boost: { symbols: 3 }, combineWith: 'OR' },
};

/** Files whose chunks a search ranks (the best by the file index). */
const CANDIDATE_FILES = 20;

interface IndexedFile {
  mtimeMs: number;
  size: number;
  id: number;
}

let chunker: CodeChunker;
let search = new MiniSearch<FileDocument>(FILE_OPTIONS);
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
  search.discard(indexed.id);
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
  const id = nextId++;
  search.add({ id, path: relative(file), text: bytes.toString('utf8') });
  files.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, id });
  totalBytes += stat.size;
}

async function loadSaved(): Promise<boolean> {
  if (!savedPath) return false;
  const saved = await loadIndex(savedPath, FILE_OPTIONS);
  const header = saved?.meta as { version: number; roots: string[]; nextId: number; files: Array<[string, IndexedFile]> } | undefined;
  if (!saved || !header || header.version !== INDEX_VERSION || JSON.stringify(header.roots) !== JSON.stringify(roots)) return false;
  search = saved.index;
  files = new Map(header.files);
  nextId = header.nextId;
  totalBytes = [...files.values()].reduce((sum, f) => sum + f.size, 0);
  return true;
}

async function save(): Promise<void> {
  if (!savedPath) return;
  await fs.mkdir(path.dirname(savedPath), { recursive: true });
  await saveIndex(savedPath, { version: INDEX_VERSION, roots, nextId, files: [...files] }, search as MiniSearch<never>);
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
  // In a process started with --expose-gc (the benchmark) the heap is measured without the build's garbage.
  (globalThis as { gc?: () => void }).gc?.();
  post({ kind: 'ready', files: files.size, terms: search.termCount, heapMB: Math.round(getHeapStatistics().used_heap_size / 2 ** 20), ms: Math.round(performance.now() - started), partial, loadedFromDisk: loaded });
}

async function update(changed: string[], deleted: string[]): Promise<void> {
  for (const file of deleted) {
    // A deleted folder: every file under it.
    for (const known of [...files.keys()]) if (known === file || known.startsWith(file + path.sep)) remove(known);
  }
  const gitignores: GitignoreCache = new Map();
  for (const file of changed) {
    const root = roots.find((r) => file.startsWith(r + path.sep));
    if (!root || (await isIgnored(root, file, exclude, gitignores))) continue;
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat?.isDirectory()) {
      // listFiles applies the folder's own .gitignore files; those above it apply too.
      for (const inside of await listFiles(file, exclude)) if (!(await isIgnored(root, inside, exclude, gitignores))) await indexFile(inside);
    } else if (isIndexable(file)) {
      await indexFile(file);
    }
  }
  await save();
}

/** Chunk boundaries of recently searched files, with a hash of the text they were cut from (most recent last). */
const chunkCache = new Map<string, { hash: string; chunks: Chunk[] }>();
const CHUNK_CACHE_FILES = 200;

/** A file's chunks, cut again only when its text changed since the last search that read it. */
async function chunksOf(file: string, text: string): Promise<Chunk[]> {
  const hash = createHash('sha1').update(text).digest('base64');
  const cached = chunkCache.get(file);
  chunkCache.delete(file);
  const chunks = cached?.hash === hash ? cached.chunks : await chunker.chunks(file, text);
  chunkCache.set(file, { hash, chunks });
  if (chunkCache.size > CHUNK_CACHE_FILES) chunkCache.delete(chunkCache.keys().next().value!);
  return chunks;
}

/** The best files by the file index, cut into chunks; the chunks ranked among themselves, weighted by their file's rank. */
async function find(query: string, limit: number): Promise<SearchHit[]> {
  const fileResults = search.search(query).slice(0, CANDIDATE_FILES);
  const best = fileResults[0]?.score ?? 0;
  const chunks = new MiniSearch<ChunkDocument>(CHUNK_OPTIONS);
  const found: Array<Omit<SearchHit, 'score'> & { fileScore: number }> = [];
  for (const result of fileResults) {
    const file = absolute(result['path'] as string);
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const lines = text.split('\n');
    for (const chunk of await chunksOf(file, text)) {
      const piece = lines.slice(chunk.startLine, chunk.endLine + 1).join('\n');
      chunks.add({ id: found.length, symbols: chunk.symbols.join(' '), text: piece });
      found.push({ file, path: result['path'] as string, startLine: chunk.startLine, endLine: chunk.endLine, symbols: chunk.symbols, text: piece, fileScore: result.score / best });
    }
  }
  return chunks
    .search(query)
    .map((result) => {
      const { fileScore, ...hit } = found[result.id as number]!;
      return { ...hit, score: result.score * Math.sqrt(fileScore) };
    })
    .sort((a, b) => b.score - a.score)
    .slice(0, limit);
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
