// Post-processed completions by prompt, so that typing into the ghost text and backspacing back need no new request.
// Pure (no `vscode`): the benchmark reports its hit rate.

export interface CompletionCacheOptions {
  /** Most entries kept; the least recently used goes first. Default 100. */
  maxEntries?: number;
  /** Characters of the prefix's end and the suffix's start that make the key. Defaults 2000 and 500. */
  prefixChars?: number;
  suffixChars?: number;
}

interface Entry {
  prefixKey: string;
  suffixKey: string;
  text: string;
}

/**
 * An LRU of completions keyed by the text around the cursor. Keys use the prefix's last `prefixChars` and the
 * suffix's first `suffixChars` characters: positions whose nearby text is identical share an entry, as the model
 * would see (nearly) the same prompt there.
 */
export class CompletionCache {
  /** Lookups answered, exactly or by typing through; `typedThroughHits` counts the latter only. */
  hits = 0;
  typedThroughHits = 0;
  misses = 0;
  private readonly maxEntries: number;
  private readonly prefixChars: number;
  private readonly suffixChars: number;
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  /** Keys of the entries that have a given suffix key, for typed-through lookups. */
  private readonly bySuffix = new Map<string, Set<string>>();

  constructor(options: CompletionCacheOptions = {}) {
    this.maxEntries = Math.max(1, Math.floor(options.maxEntries ?? 100));
    this.prefixChars = Math.max(1, Math.floor(options.prefixChars ?? 2000));
    this.suffixChars = Math.max(0, Math.floor(options.suffixChars ?? 500));
  }

  get size(): number {
    return this.entries.size;
  }

  /** The completion stored for exactly this position ('' = cached "nothing to show"), or undefined. */
  get(prefix: string, suffix: string): string | undefined {
    const entry = this.entries.get(this.key(this.prefixKey(prefix), this.suffixKey(suffix)));
    if (!entry) {
      this.misses++;
      return undefined;
    }
    this.touch(entry);
    this.hits++;
    return entry.text;
  }

  /**
   * Like `get`, and when there is no exact entry: the rest of a cached completion that the user has been typing.
   * That is an entry with the same suffix for an earlier prefix P where `prefix` = P + typed and the cached text
   * starts with `typed`; the answer is the non-empty remainder. The nearest such position wins.
   */
  lookup(prefix: string, suffix: string): string | undefined {
    const suffixKey = this.suffixKey(suffix);
    const exact = this.entries.get(this.key(this.prefixKey(prefix), suffixKey));
    if (exact) {
      this.touch(exact);
      this.hits++;
      return exact.text;
    }
    let best: { entry: Entry; typed: number } | undefined;
    for (const key of this.bySuffix.get(suffixKey) ?? []) {
      const entry = this.entries.get(key);
      if (!entry) continue;
      // typed = the last t characters of prefix, which must be the first t of the cached text (t < its length).
      const longest = Math.min(entry.text.length - 1, prefix.length, best ? best.typed - 1 : Infinity);
      for (let t = 1; t <= longest; t++) {
        if (prefix.charCodeAt(prefix.length - 1) !== entry.text.charCodeAt(t - 1)) continue;
        if (!prefix.endsWith(entry.text.slice(0, t))) continue;
        if (this.prefixKey(prefix.slice(0, prefix.length - t)) !== entry.prefixKey) continue;
        best = { entry, typed: t };
        break;
      }
    }
    if (!best) {
      this.misses++;
      return undefined;
    }
    this.touch(best.entry);
    this.hits++;
    this.typedThroughHits++;
    return best.entry.text.slice(best.typed);
  }

  /** Stores a post-processed completion ('' records that there is nothing to show here). */
  set(prefix: string, suffix: string, text: string): void {
    const entry: Entry = { prefixKey: this.prefixKey(prefix), suffixKey: this.suffixKey(suffix), text };
    const key = this.key(entry.prefixKey, entry.suffixKey);
    this.entries.delete(key);
    this.entries.set(key, entry);
    let keys = this.bySuffix.get(entry.suffixKey);
    if (!keys) this.bySuffix.set(entry.suffixKey, (keys = new Set()));
    keys.add(key);
    while (this.entries.size > this.maxEntries) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(oldestKey);
      const siblings = this.bySuffix.get(oldest.suffixKey);
      siblings?.delete(oldestKey);
      if (siblings?.size === 0) this.bySuffix.delete(oldest.suffixKey);
    }
  }

  clear(): void {
    this.entries.clear();
    this.bySuffix.clear();
  }

  /** Resets hits, typedThroughHits and misses. */
  resetCounters(): void {
    this.hits = 0;
    this.typedThroughHits = 0;
    this.misses = 0;
  }

  private touch(entry: Entry): void {
    const key = this.key(entry.prefixKey, entry.suffixKey);
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  private prefixKey(prefix: string): string {
    return prefix.length > this.prefixChars ? prefix.slice(prefix.length - this.prefixChars) : prefix;
  }

  private suffixKey(suffix: string): string {
    return suffix.slice(0, this.suffixChars);
  }

  /** The prefix's length first makes the pair unambiguous whatever characters they contain. */
  private key(prefixKey: string, suffixKey: string): string {
    return `${prefixKey.length}:${prefixKey}${suffixKey}`;
  }
}
