// The workspace index, host side: starts its thread (indexThread.ts) with the workspace folders and the exclude
// settings, shows the first build's progress in the status bar, passes file events on (created, changed, deleted,
// renamed: the index follows), and answers searches. The saved index is reloaded on start when there is one; without
// one the first @workspace builds it.

import * as vscode from 'vscode';
import { Worker } from 'node:worker_threads';
import type { IndexLimits, IndexReply, IndexRequest, SearchHit } from './indexMessages';

export type { SearchHit } from './indexMessages';

const LIMITS: IndexLimits = { maxFileBytes: 512 * 1024, maxTotalBytes: 256 * 1024 * 1024 };
/** The index thread's JavaScript heap at most (bench/workspace-index.mjs starts it with the same limits). */
const INDEX_HEAP_LIMIT_MB = 512;
/** Its space for new objects: the build makes short-lived strings by the megabyte; a small space collects them sooner. */
const INDEX_YOUNG_GENERATION_MB = 16;
/** File events are passed on in batches (a checkout touches thousands at once). */
const UPDATE_DELAY_MS = 500;
const SAVED_NAME = 'workspace-index.json';

export interface IndexStatus {
  files: number;
  terms: number;
  heapMB: number;
  ms: number;
  partial: boolean;
  loadedFromDisk: boolean;
}

export class WorkspaceIndex implements vscode.Disposable {
  private worker: Worker | undefined;
  private ready: Promise<IndexStatus> | undefined;
  private lastStatus: IndexStatus | undefined;
  private nextId = 1;
  private readonly searches = new Map<number, { resolve: (hits: SearchHit[]) => void; reject: (error: Error) => void }>();
  private readonly changed = new Set<string>();
  private readonly deleted = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    /** dist/indexer.js */
    private readonly script: string,
    /** The tree-sitter runtime and grammars (dist/tree-sitter/). */
    private readonly wasmDir: string,
    /** The workspace's storage folder (none for a window without a folder). */
    private readonly storage: vscode.Uri | undefined,
    private readonly log: vscode.OutputChannel,
  ) {}

  get status(): IndexStatus | undefined {
    return this.lastStatus;
  }

  /** Starts the index when a saved one exists, so that it is up to date before it is first asked. */
  async startIfSaved(): Promise<void> {
    if (!this.storage) return;
    try {
      await vscode.workspace.fs.stat(vscode.Uri.joinPath(this.storage, SAVED_NAME));
    } catch {
      return;
    }
    void this.whenReady().catch(() => undefined);
  }

  /** Starts the index once; resolves when it is built (or reloaded and brought up to date). */
  whenReady(): Promise<IndexStatus> {
    if (this.ready) return this.ready;
    const roots = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    if (roots.length === 0) return Promise.reject(new Error('@workspace needs a folder open in VS Code.'));
    // A bound on the thread's heap: an enormous workspace stops the index with an error instead of growing the
    // extension host without end (10,000 files keep 75 MB: docs/PERFORMANCE.md).
    const worker = new Worker(this.script, { resourceLimits: { maxOldGenerationSizeMb: INDEX_HEAP_LIMIT_MB, maxYoungGenerationSizeMb: INDEX_YOUNG_GENERATION_MB } });
    worker.unref();
    this.worker = worker;
    let progress: ((indexed: number, total: number) => void) | undefined;
    this.ready = new Promise<IndexStatus>((resolve, reject) => {
      worker.on('message', (reply: IndexReply) => {
        if (reply.kind === 'progress') progress?.(reply.indexed, reply.total);
        else if (reply.kind === 'ready') {
          const { kind: _kind, ...status } = reply;
          this.lastStatus = status;
          this.log.appendLine(`[index] ${status.files} files, ${status.terms} terms, ${status.heapMB} MB in ${status.ms} ms${status.loadedFromDisk ? ' (saved index brought up to date)' : ''}${status.partial ? '; stopped at the size cap' : ''}`);
          resolve(status);
        } else if (reply.kind === 'results') {
          this.searches.get(reply.id)?.resolve(reply.hits);
          this.searches.delete(reply.id);
        } else if (reply.id !== undefined) {
          this.searches.get(reply.id)?.reject(new Error(reply.message));
          this.searches.delete(reply.id);
        } else {
          this.log.appendLine(`[index] ${reply.message}`);
          reject(new Error(`The workspace index failed: ${reply.message}`));
        }
      });
      worker.on('error', (error) => {
        const full = (error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
        reject(new Error(full ? `The workspace is too large for the index (over ${INDEX_HEAP_LIMIT_MB} MB): @workspace is not available.` : `The workspace index thread failed: ${error.message}`));
      });
    });
    const exclude = ['files.exclude', 'search.exclude'].flatMap((section) =>
      Object.entries(vscode.workspace.getConfiguration().get<Record<string, boolean>>(section) ?? {}).flatMap(([pattern, on]) => (on === true ? [pattern] : [])),
    );
    const savedPath = this.storage ? vscode.Uri.joinPath(this.storage, SAVED_NAME).fsPath : undefined;
    worker.postMessage({ kind: 'start', roots, exclude, savedPath, wasmDir: this.wasmDir, limits: LIMITS } satisfies IndexRequest);
    this.watch();
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Attentive: indexing the workspace' }, (report) => {
      let last = 0;
      progress = (indexed, total) => {
        report.report({ message: `${indexed} of ${total} files`, increment: ((indexed - last) / total) * 100 });
        last = indexed;
      };
      return this.ready!.catch(() => undefined);
    });
    return this.ready;
  }

  /** The chunks most relevant to `query`, best first. */
  async search(query: string, limit = 5): Promise<SearchHit[]> {
    await this.whenReady();
    const id = this.nextId++;
    return new Promise<SearchHit[]>((resolve, reject) => {
      this.searches.set(id, { resolve, reject });
      this.worker!.postMessage({ kind: 'search', id, query, limit } satisfies IndexRequest);
    });
  }

  private watch(): void {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    const changed = (uri: vscode.Uri) => uri.scheme === 'file' && this.queue(this.changed, uri.fsPath);
    this.subscriptions.push(watcher, watcher.onDidCreate(changed), watcher.onDidChange(changed), watcher.onDidDelete((uri) => uri.scheme === 'file' && this.queue(this.deleted, uri.fsPath)));
  }

  private queue(set: Set<string>, file: string): void {
    (set === this.changed ? this.deleted : this.changed).delete(file);
    set.add(file);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.worker?.postMessage({ kind: 'update', changed: [...this.changed], deleted: [...this.deleted] } satisfies IndexRequest);
      this.changed.clear();
      this.deleted.clear();
    }, UPDATE_DELAY_MS);
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const subscription of this.subscriptions) subscription.dispose();
    for (const pending of this.searches.values()) pending.reject(new Error('The workspace index was closed.'));
    void this.worker?.terminate();
  }
}
