// Messages between the workspace index's host side (workspaceIndex.ts) and its thread (indexThread.ts).

export interface IndexLimits {
  /** Files larger than this are not indexed (generated or data files). */
  maxFileBytes: number;
  /** Indexing stops after this many bytes of files in all (the index says it is partial). */
  maxTotalBytes: number;
}

export interface SearchHit {
  /** Absolute path. */
  file: string;
  /** Workspace-relative path. */
  path: string;
  /** 0-based, inclusive. */
  startLine: number;
  endLine: number;
  symbols: string[];
  text: string;
  score: number;
}

export type IndexRequest =
  | {
      kind: 'start';
      roots: string[];
      /** gitignore-style patterns from files.exclude and search.exclude (a .gitignore in any folder applies too). */
      exclude: string[];
      /** The saved index, loaded first and then brought up to date with the files; undefined: nothing saved. */
      savedPath: string | undefined;
      wasmDir: string;
      limits: IndexLimits;
    }
  /** Files created, changed or deleted since (absolute paths). */
  | { kind: 'update'; changed: string[]; deleted: string[] }
  | { kind: 'search'; id: number; query: string; limit: number };

export type IndexReply =
  | { kind: 'progress'; indexed: number; total: number }
  /** `terms`: the index's vocabulary; `heapMB`: the thread's JavaScript heap in use. */
  | { kind: 'ready'; files: number; terms: number; heapMB: number; ms: number; partial: boolean; loadedFromDisk: boolean }
  | { kind: 'results'; id: number; hits: SearchHit[] }
  | { kind: 'error'; message: string; id?: number };
