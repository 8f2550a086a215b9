// The workspace index behind @workspace: chunks cut at syntax boundaries by tree-sitter (VS Code's grammars), the
// ignore rules, and the index thread itself (dist/indexer.js, built by `npm run build`) on a real folder: build,
// search, updates on file events, the saved index reloaded and brought up to date.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeChunker, MAX_CHUNK_LINES } from '../../src/extension/shared/codeChunks';
import { codeTokens, isIgnored, listFiles } from '../../src/extension/shared/indexContent';
import type { IndexReply, IndexRequest, SearchHit } from '../../src/extension/shared/indexMessages';

const ROOT = path.resolve(__dirname, '../..');
const WASM = path.join(ROOT, 'dist', 'tree-sitter');

function write(root: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
}

describe('chunks at syntax boundaries', () => {
  let chunker: CodeChunker;
  beforeAll(async () => {
    chunker = await CodeChunker.create(WASM);
  });

  it('Python: each function its chunk when they are long, small neighbours together, a long class cut into its methods', async () => {
    const method = (name: string) => `    def ${name}(self):\n${'        x = 1\n'.repeat(25)}        return x\n`;
    const source = `import os\n\n\ndef small_one():\n    return 1\n\n\ndef small_two():\n    return 2\n\n\nclass Store:\n    """Keeps things."""\n\n${method('load')}\n${method('save')}\n${method('close')}`;
    const chunks = await chunker.chunks('store.py', source);
    expect(chunks.map((c) => c.symbols)).toEqual([['small_one', 'small_two'], ['Store', 'Store.load', 'Store.save'], ['Store.close']]);
    // The class's own first lines go with its first methods; no chunk is over the limit.
    expect(chunks[1]!.startLine).toBe(11);
    for (const chunk of chunks) expect(chunk.endLine - chunk.startLine + 1).toBeLessThanOrEqual(MAX_CHUNK_LINES);
  });

  it('TypeScript: exported and arrow-function definitions are named through their wrappers', async () => {
    const source = `export function area(r: number): number {\n  return Math.PI * r * r;\n}\n\nexport const perimeter = (r: number) => 2 * Math.PI * r;\n\n@decorate\nexport class Shape {\n  size = 1;\n}\n`;
    const chunks = await chunker.chunks('shapes.ts', source);
    expect(chunks.flatMap((c) => c.symbols)).toEqual(['area', 'perimeter', 'Shape']);
  });

  it('a language without a grammar: windows of lines', async () => {
    const chunks = await chunker.chunks('notes.txt', 'line\n'.repeat(130));
    expect(chunks.map((c) => [c.startLine, c.endLine])).toEqual([
      [0, 59],
      [60, 119],
      [120, 130],
    ]);
  });
});

describe('what is indexed', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-index-rules-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('skips what .gitignore files (each for its own folder down) and the exclude settings name, and files that are not text', async () => {
    write(root, {
      '.gitignore': 'build/\n*.log\n',
      'src/app.py': 'x = 1\n',
      'src/.gitignore': 'generated_*.py\n',
      'src/generated_api.py': 'y = 2\n',
      'build/out.py': 'z = 3\n',
      'debug.log': 'log\n',
      'vendor/lib.js': 'var v;\n',
      'image.png': 'PNG',
      'docs/guide.md': '# guide\n',
      '.git/config': '[core]\n',
    });
    const files = (await listFiles(root, ['**/vendor'])).map((f) => path.relative(root, f)).sort();
    expect(files).toEqual(['docs/guide.md', 'src/app.py']);
    expect(await isIgnored(root, path.join(root, 'src', 'generated_x.py'), [])).toBe(true);
    expect(await isIgnored(root, path.join(root, 'build', 'new.py'), [])).toBe(true);
    expect(await isIgnored(root, path.join(root, 'src', 'new.py'), [])).toBe(false);
  });

  it('splits identifiers into their parts, so words find them', () => {
    expect(codeTokens('computeRetryDelay(max_attempts, HTTPServer) + 42')).toEqual(['compute', 'retry', 'delay', 'max', 'attempts', 'http', 'server']);
  });
});

/** The index thread over `root`, with its replies collected. */
class IndexThread {
  private readonly worker = new Worker(path.join(ROOT, 'dist', 'indexer.js'));
  private readonly waiting: Array<(reply: IndexReply) => boolean> = [];
  private id = 1;

  constructor() {
    this.worker.on('message', (reply: IndexReply) => {
      const index = this.waiting.findIndex((accept) => accept(reply));
      if (index >= 0) this.waiting.splice(index, 1);
    });
  }

  private next<T extends IndexReply>(match: (reply: IndexReply) => reply is T): Promise<T> {
    return new Promise((resolve) => this.waiting.push((reply) => (match(reply) ? (resolve(reply), true) : false)));
  }

  start(root: string, savedPath: string): Promise<Extract<IndexReply, { kind: 'ready' }>> {
    const ready = this.next((r): r is Extract<IndexReply, { kind: 'ready' }> => r.kind === 'ready');
    this.worker.postMessage({ kind: 'start', roots: [root], exclude: [], savedPath, wasmDir: WASM, limits: { maxFileBytes: 100_000, maxTotalBytes: 10_000_000 } } satisfies IndexRequest);
    return ready;
  }

  update(changed: string[], deleted: string[]): void {
    this.worker.postMessage({ kind: 'update', changed, deleted } satisfies IndexRequest);
  }

  async search(query: string): Promise<SearchHit[]> {
    const id = this.id++;
    const results = this.next((r): r is Extract<IndexReply, { kind: 'results' }> => r.kind === 'results' && r.id === id);
    this.worker.postMessage({ kind: 'search', id, query, limit: 5 } satisfies IndexRequest);
    return (await results).hits;
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

describe('the index thread', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-index-'));
  const saved = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-index-storage-')), 'workspace-index.json');
  const filler = (i: number) => `def helper_${i}(items):\n    """Sort the items and keep the first ${i}."""\n    return sorted(items)[:${i}]\n`;
  beforeAll(() => {
    write(root, {
      'net/retry.py': 'import random\n\n\ndef compute_retry_delay(attempt, base=0.5):\n    """Exponential backoff with jitter: how long to wait before the next attempt."""\n    return base * 2 ** attempt + random.random()\n',
      'ui/theme.ts': 'export function pickColour(dark: boolean): string {\n  return dark ? "#111" : "#eee";\n}\n',
      ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`lib/helpers_${i}.py`, filler(i)])),
      '.gitignore': 'secret_*.py\n',
    });
  });
  afterAll(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(path.dirname(saved), { recursive: true, force: true });
  });

  it('builds, answers a question with the chunk that holds the answer, follows edits and deletions, and reloads its saved index', async () => {
    const thread = new IndexThread();
    const ready = await thread.start(root, saved);
    expect(ready).toMatchObject({ files: 32, loadedFromDisk: false, partial: false });
    expect(ready.terms).toBeGreaterThan(20);
    const [best] = await thread.search('how long to wait before retrying a failed attempt');
    expect(best).toMatchObject({ path: 'net/retry.py', startLine: 0, symbols: ['compute_retry_delay'] });
    expect(best!.text).toContain('def compute_retry_delay(attempt, base=0.5):');

    // An edit and a deletion, as the file watcher passes them on.
    write(root, { 'ui/theme.ts': 'export function pickAccent(highContrast: boolean): string {\n  return highContrast ? "#ff0" : "#08f";\n}\n' });
    fs.rmSync(path.join(root, 'net', 'retry.py'));
    thread.update([path.join(root, 'ui', 'theme.ts')], [path.join(root, 'net')]);
    const [accent] = await thread.search('accent colour for high contrast');
    expect(accent).toMatchObject({ path: 'ui/theme.ts', symbols: ['pickAccent'] });
    expect((await thread.search('retry delay backoff')).map((h) => h.path)).not.toContain('net/retry.py');
    // A folder created later: the root's .gitignore applies to what is inside it too.
    write(root, { 'extra/secret_keys.py': 'VAULT_PASSPHRASE = "hunter2"\n' });
    thread.update([path.join(root, 'extra')], []);
    expect((await thread.search('vault passphrase')).map((h) => h.path)).not.toContain('extra/secret_keys.py');
    await thread.stop();

    // Closed, a file changes; the next start loads the saved index and reads only that file again.
    write(root, { 'lib/helpers_3.py': 'def parse_invoice(text):\n    """Read an invoice total from its text."""\n    return float(text.split()[-1])\n' });
    const again = new IndexThread();
    expect(await again.start(root, saved)).toMatchObject({ files: 31, loadedFromDisk: true });
    expect((await again.search('invoice total'))[0]).toMatchObject({ path: 'lib/helpers_3.py', symbols: ['parse_invoice'] });
    expect((await again.search('accent colour for high contrast'))[0]?.path).toBe('ui/theme.ts');
    await again.stop();
  });
});
