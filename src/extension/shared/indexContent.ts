// What the workspace index reads and how it splits text into search terms (used by its thread, indexThread.ts).

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import ignore, { type Ignore } from 'ignore';

/** What is indexed: source code and text that answers questions about it. */
const TEXT_EXTENSIONS = new Set(
  '.py .pyi .js .mjs .cjs .jsx .ts .mts .cts .tsx .go .java .kt .kts .rs .c .h .cc .cpp .cxx .hpp .hh .cs .rb .php .swift .scala .sh .bash .zsh .lua .r .dart .ex .exs .erl .hs .ml .clj .sql .vue .svelte .css .scss .less .html .md .rst .txt .toml .yaml .yml .proto .gradle .cmake'.split(' '),
);
const TEXT_NAMES = new Set(['Dockerfile', 'Makefile', 'CMakeLists.txt', 'README', 'LICENSE']);
const STOP_WORDS = new Set(
  'the a an is are was were be been of to in into and or for on at by it its this that these those with as from what where how does do did which when why who whom can could should would will shall may might must not no all any there here i me my we our you your he she they them their if then else than so such get gets got'.split(' '),
);

/**
 * Words of identifiers, lower-cased: a compound one (camelCase, snake_case) by its parts only, which is what people
 * type ("retry delay" for `computeRetryDelay`), and which keeps the index's vocabulary small: whole compounds would be
 * most of its distinct terms, each with a posting or two.
 */
export function codeTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const word of text.match(/[A-Za-z_$][A-Za-z0-9_$]*/g) ?? []) {
    for (const part of word.split(/[_$]+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/)) if (part) tokens.push(part.toLowerCase());
  }
  return tokens;
}

/**
 * Keywords and names in nearly every chunk of code: they tell chunks apart as little as "the" does, and each would
 * hold a posting for almost every chunk of the index.
 */
const CODE_STOP_WORDS = new Set(
  'def return self cls none true false null undefined function const let var this new class import export default async await yield raise try except finally catch throw else elif while for in is not and or pass break continue lambda with public private protected static void int str string number boolean bool type interface extends implements super print len range'.split(' '),
);

/** Stop words and numbers out; a plural's "s" off, so "delays" finds "delay". */
export function processTerm(term: string): string | null {
  if (term.length < 3 || STOP_WORDS.has(term) || CODE_STOP_WORDS.has(term) || /^\d/.test(term)) return null;
  return term.length > 4 && term.endsWith('s') && !term.endsWith('ss') ? term.slice(0, -1) : term;
}

export function isIndexable(file: string): boolean {
  return TEXT_EXTENSIONS.has(path.extname(file).toLowerCase()) || TEXT_NAMES.has(path.basename(file));
}

/** Every indexable file under `root`, minus what the ignore rules name (a .gitignore applies to its own folder down). */
export async function listFiles(root: string, excludePatterns: string[]): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, layers: Array<{ base: string; rules: Ignore }>) => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.isFile() && e.name === '.gitignore')) {
      const rules = ignore().add(await fs.readFile(path.join(dir, '.gitignore'), 'utf8').catch(() => ''));
      layers = [...layers, { base: dir, rules }];
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      const isDirectory = entry.isDirectory();
      if (!isDirectory && !entry.isFile()) continue; // symbolic links and devices are not followed
      const ignored = layers.some(({ base, rules }) => rules.ignores(path.relative(base, full).split(path.sep).join('/') + (isDirectory ? '/' : '')));
      if (ignored) continue;
      if (isDirectory) await walk(full, layers);
      else if (isIndexable(full)) found.push(full);
    }
  };
  await walk(root, [{ base: root, rules: ignore().add(['.git/', ...excludePatterns]) }]);
  return found;
}

/** Each folder's .gitignore rules (undefined: it has none), read once for a batch of isIgnored calls. */
export type GitignoreCache = Map<string, Promise<Ignore | undefined>>;

/**
 * Whether the rules listFiles applies skip `file` under `root`: the exclude patterns and every .gitignore above it.
 * Calls that share `gitignores` read each folder's .gitignore once (a checkout reports thousands of files at once).
 */
export async function isIgnored(root: string, file: string, excludePatterns: string[], gitignores: GitignoreCache = new Map()): Promise<boolean> {
  const inside = path.relative(root, file).split(path.sep);
  const layers: Array<{ base: string; rules: Ignore }> = [{ base: root, rules: ignore().add(['.git/', ...excludePatterns]) }];
  for (let depth = 0; depth < inside.length; depth++) {
    const base = path.join(root, ...inside.slice(0, depth));
    let rules = gitignores.get(base);
    if (!rules) {
      rules = fs.readFile(path.join(base, '.gitignore'), 'utf8').then((text) => ignore().add(text), () => undefined);
      gitignores.set(base, rules);
    }
    const found = await rules;
    if (found) layers.push({ base, rules: found });
  }
  // The file and each folder on the way to it.
  for (let depth = 1; depth <= inside.length; depth++) {
    const target = path.join(root, ...inside.slice(0, depth));
    const isFolder = depth < inside.length;
    for (const { base, rules } of layers) {
      if (!target.startsWith(base === root ? root : base + path.sep) && target !== base) continue;
      const relativeTarget = path.relative(base, target).split(path.sep).join('/');
      if (relativeTarget && rules.ignores(relativeTarget + (isFolder ? '/' : ''))) return true;
    }
  }
  return false;
}
