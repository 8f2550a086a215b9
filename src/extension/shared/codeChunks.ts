// Source files cut into chunks at syntax boundaries for the workspace index: tree-sitter's parse (VS Code's own
// grammars, @vscode/tree-sitter-wasm) for the languages it has one for, where each top-level definition is a chunk
// (small neighbours grouped, a long class cut into its members); windows of lines for other files. No `vscode`:
// it runs in the index thread.

import * as path from 'node:path';
import { Language, Parser, type Node } from '@vscode/tree-sitter-wasm';
import grammars from './treeSitterGrammars.json';

/** Most lines in a chunk: a function or two, enough for an answer to cite, small enough for five to fit a prompt. */
export const MAX_CHUNK_LINES = 60;

export interface Chunk {
  /** 0-based, inclusive. */
  startLine: number;
  endLine: number;
  /** The names defined in it ("Stats.summary", "area"), for ranking and the chip. */
  symbols: string[];
}

/** The grammar files shipped (dist/tree-sitter/, copied by esbuild.mjs from the same list), by file extension. */
export const GRAMMARS: Record<string, string> = grammars;

export class CodeChunker {
  private readonly parser: Parser;
  private readonly languages = new Map<string, Promise<Language>>();

  private constructor(private readonly wasmDir: string) {
    this.parser = new Parser();
  }

  /** `wasmDir` holds tree-sitter.wasm and the grammars. */
  static async create(wasmDir: string): Promise<CodeChunker> {
    await Parser.init({ locateFile: (file: string) => path.join(wasmDir, file) });
    return new CodeChunker(wasmDir);
  }

  /** The chunks of a file's text (its extension picks the grammar). */
  async chunks(filePath: string, text: string): Promise<Chunk[]> {
    const lines = text.split('\n').length;
    const grammar = GRAMMARS[path.extname(filePath).toLowerCase()];
    if (!grammar) return lineWindows(0, lines - 1);
    let language = this.languages.get(grammar);
    if (!language) {
      language = Language.load(path.join(this.wasmDir, grammar));
      this.languages.set(grammar, language);
    }
    this.parser.setLanguage(await language);
    const tree = this.parser.parse(text);
    if (!tree) return lineWindows(0, lines - 1);
    try {
      const chunks = cutSiblings(tree.rootNode.namedChildren.filter((n): n is Node => n !== null), '');
      return chunks.length ? chunks : lineWindows(0, lines - 1);
    } finally {
      tree.delete();
    }
  }
}

/** Consecutive siblings grouped into chunks of at most MAX_CHUNK_LINES; a longer one is cut by its own children. */
function cutSiblings(nodes: Node[], scope: string): Chunk[] {
  const chunks: Chunk[] = [];
  let group: Chunk | undefined;
  const flush = () => {
    if (group) chunks.push(group);
    group = undefined;
  };
  for (const node of nodes) {
    const start = node.startPosition.row;
    const end = node.endPosition.row;
    const name = nameOf(node);
    const qualified = name ? (scope ? `${scope}.${name}` : name) : undefined;
    if (end - start + 1 > MAX_CHUNK_LINES) {
      flush();
      // A definition is cut by its body's members (its header lines join the first chunk); a wrapper (export,
      // decorator) by what it wraps, which names itself.
      const children = (node.childForFieldName('body') ?? node).namedChildren.filter((n): n is Node => n !== null);
      const innerScope = node.childForFieldName('name') ? (qualified ?? scope) : scope;
      const inner = children.some((n) => n.endPosition.row > n.startPosition.row) ? cutSiblings(children, innerScope) : [];
      if (inner.length) {
        // The definition's first lines (signature, docstring) go with its first member.
        inner[0] = { ...inner[0]!, startLine: Math.min(start, inner[0]!.startLine), symbols: [...(qualified ? [qualified] : []), ...inner[0]!.symbols] };
        chunks.push(...inner);
      } else {
        chunks.push(...lineWindows(start, end, qualified));
      }
      continue;
    }
    if (group && end - group.startLine + 1 > MAX_CHUNK_LINES) flush();
    if (!group) group = { startLine: start, endLine: end, symbols: [] };
    group.endLine = Math.max(group.endLine, end);
    if (qualified) group.symbols.push(qualified);
  }
  flush();
  return chunks;
}

/** Nodes that wrap a definition without a name of their own: decorators, exports, `const f = () => ...`. */
const WRAPPERS = new Set(['decorated_definition', 'export_statement', 'lexical_declaration', 'variable_declaration', 'ambient_declaration']);

/** A definition's name: its own `name` field, or that of the definition a wrapper holds. */
function nameOf(node: Node): string | undefined {
  if (node.type.includes('import')) return undefined; // `import os` names a module, not a definition here
  const own = node.childForFieldName('name');
  if (own) return own.text;
  if (!WRAPPERS.has(node.type)) return undefined;
  for (const child of node.namedChildren) {
    const name = child && nameOf(child);
    if (name) return name;
  }
  return undefined;
}

function lineWindows(start: number, end: number, symbol?: string): Chunk[] {
  const chunks: Chunk[] = [];
  for (let line = start; line <= end; line += MAX_CHUNK_LINES) {
    chunks.push({ startLine: line, endLine: Math.min(end, line + MAX_CHUNK_LINES - 1), symbols: symbol && line === start ? [symbol] : [] });
  }
  return chunks;
}
