// The architecture as checks: the layer rule (lint/layers.mjs) fires for every forbidden import and lets the allowed
// ones through; there is no import circle in src/ or webview/; no source file outgrows ~500 lines; and the extension
// host bundle carries none of the model runtime (it loads in the engine worker only).

import { ESLint } from 'eslint';
import { readdirSync, readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without type declarations
import { buildProduct } from '../../esbuild.mjs';

const ROOT = path.resolve(__dirname, '../..');

function filesUnder(folder: string, extensions: string[]): string[] {
  const entries = readdirSync(path.join(ROOT, folder), { withFileTypes: true });
  return entries.flatMap((entry) => {
    const relative = `${folder}/${entry.name}`;
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name.startsWith('.') ? [] : filesUnder(relative, extensions);
    return extensions.some((extension) => entry.name.endsWith(extension)) ? [relative] : [];
  });
}

describe('layer rule (lint/layers.mjs)', () => {
  const eslint = new ESLint({ cwd: ROOT });

  /** The layer-rule messages for `code` as if it were the file `file`. */
  async function layerErrors(file: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
    return result!.messages.filter((message) => message.ruleId === 'attentive/layers').map((message) => message.message);
  }

  // One forbidden import per rule: [file it is written in, the import, what the message must say].
  const forbidden: Array<[string, string, RegExp]> = [
    ['src/protocol/probe.ts', "import { x } from '../worker/engine';", /the protocol .* may not import src\/worker/],
    ['src/protocol/probe.ts', "import * as vscode from 'vscode';", /the protocol .* may not import "vscode"/],
    ['src/protocol/probe.ts', "import { readFileSync } from 'node:fs';", /the protocol .* may not import "node:fs"/],
    ['src/worker/probe.ts', "import type { Backend } from '../backend/backend';", /the engine worker .* may not import src\/backend/],
    ['src/worker/probe.ts', "import { activate } from '../extension/extension';", /the engine worker .* may not import src\/extension/],
    ['src/worker/probe.ts', "import * as vscode from 'vscode';", /the engine worker .* may not import "vscode"/],
    ['src/backend/local/probe.ts', "import { EngineServer } from '../../worker/server';", /a backend .* may not import src\/worker: .*ONNX Runtime/],
    ['src/backend/probe.ts', "import * as ort from 'onnxruntime-node';", /a backend .* may not import "onnxruntime-node"/],
    ['src/backend/probe.ts', "import * as vscode from 'vscode';", /a backend .* may not import "vscode"/],
    ['src/extension/chat/probe.ts', "import { Engine } from '../../worker/engine';", /a feature .* may not import src\/worker/],
    ['src/extension/chat/probe.ts', "import { registerCompletion } from '../completion/registerCompletion';", /a feature .* may not import src\/extension\/completion/],
    ['src/extension/chat/probe.ts', "import { main } from '../../cli/main';", /a feature .* may not import src\/cli/],
    ['src/extension/chat/probe.ts', "import { Tokenizer } from '@huggingface/tokenizers';", /a feature .* may not import "@huggingface\/tokenizers"/],
    ['src/extension/chat/probe.ts', "const ort = require('onnxruntime-node');", /a feature .* may not import "onnxruntime-node"/],
    ['src/extension/chat/probe.ts', "const load = () => import('../../worker/server');", /a feature .* may not import src\/worker/],
    ['src/extension/shared/probe.ts', "import { registerChat } from '../chat/registerChat';", /shared code .* may not import src\/extension\/chat/],
    ['src/extension/probe.ts', "import { EngineServer } from '../worker/server';", /the extension entry point .* may not import src\/worker/],
    ['src/cli/probe.ts', "import { activate } from '../extension/extension';", /the CLI .* may not import src\/extension/],
    ['src/cli/probe.ts', "import * as vscode from 'vscode';", /the CLI .* may not import "vscode"/],
    ['webview/chat/probe.ts', "import type { Backend } from '../../src/backend/backend';", /a webview .* may not import src\/backend/],
    ['webview/chat/probe.ts', "import { ChatController } from '../../src/extension/chat/chatController';", /a webview .* may not import src\/extension\/chat/],
    ['webview/chat/probe.ts', "import { Heatmap } from '../attention/heatmap';", /a webview .* may not import webview\/attention/],
    ['webview/chat/probe.ts', "import * as vscode from 'vscode';", /a webview .* may not import "vscode"/],
    ['webview/chat/probe.ts', "import { readFileSync } from 'fs';", /a webview .* may not import "fs"/],
    ['webview/shared/probe.ts', "import { App } from '../chat/app';", /webviews' shared code .* may not import webview\/chat/],
    ['src/worker/probe.ts', "export * from '../backend/backend';", /the engine worker .* may not import src\/backend/],
  ];

  it.each(forbidden)('%s: %s is an error', async (file, code, message) => {
    const errors = await layerErrors(file, code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
  });

  // The same folders importing what their layer may: no error.
  const allowed: Array<[string, string]> = [
    ['src/protocol/probe.ts', "import { validateHostToWorker } from './validate';"],
    ['src/worker/probe.ts', "import type { HostToWorker } from '../protocol/engine'; import * as ort from 'onnxruntime-node'; import { readFileSync } from 'node:fs';"],
    ['src/backend/local/probe.ts', "import type { Backend } from '../backend'; import type { Transport } from '../../protocol/transport'; import { Worker } from 'node:worker_threads';"],
    ['src/extension/chat/probe.ts', "import * as vscode from 'vscode'; import type { Backend } from '../../backend/backend'; import { reportError } from '../shared/reportError'; import { ChatView } from './chatView';"],
    ['src/extension/probe.ts', "import { registerChat } from './chat/registerChat'; import { createLocalEngine } from './shared/localEngine';"],
    ['src/cli/probe.ts', "import { inProcessTransport } from '../worker/inProcessTransport'; import { LocalBackend } from '../backend/local/localBackend';"],
    ['webview/chat/probe.ts', "import type { HostToChat } from '../../src/protocol/chat'; import { escapeHtml } from '../shared/dom'; import MarkdownIt from 'markdown-it';"],
  ];

  it.each(allowed)('%s: %s is allowed', async (file, code) => {
    expect(await layerErrors(file, code)).toEqual([]);
  });

  it('the repository itself has no layer error', async () => {
    const results = await eslint.lintFiles(['src/**/*.ts', 'webview/**/*.ts']);
    const errors = results.flatMap((result) => result.messages.filter((m) => m.ruleId === 'attentive/layers').map((m) => `${path.relative(ROOT, result.filePath)}: ${m.message}`));
    expect(results.length).toBeGreaterThan(80);
    expect(errors).toEqual([]);
  });
});

/** Relative imports of each TypeScript file under src/ and webview/, resolved to repository-relative files. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of [...filesUnder('src', ['.ts']), ...filesUnder('webview', ['.ts'])]) {
    const source = readFileSync(path.join(ROOT, file), 'utf8');
    const targets: string[] = [];
    for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
      const specifier = match[1] ?? match[2]!;
      const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      const target = [`${base}.ts`, `${base}/index.ts`, base].find((candidate) => existsSync(path.join(ROOT, candidate)));
      if (!target) throw new Error(`${file}: cannot resolve ${specifier}`);
      targets.push(target);
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Every circle in the graph, each as the files around it (depth-first search, colouring the files on the stack). */
function circles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    const onStack = stack.indexOf(file);
    if (onStack >= 0) {
      found.push([...stack.slice(onStack), file]);
      return;
    }
    if (done.has(file)) return;
    stack.push(file);
    for (const target of graph.get(file) ?? []) visit(target);
    stack.pop();
    done.add(file);
  };
  for (const file of graph.keys()) visit(file);
  return found;
}

describe('import graph', () => {
  it('finds circles when there are some (the check can fail)', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(circles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });

  it('has no circle in src/ or webview/ (type-only imports included)', () => {
    const graph = importGraph();
    expect(graph.size).toBeGreaterThan(80);
    expect(graph.get('src/extension/extension.ts')).toContain('src/extension/chat/registerChat.ts');
    expect(circles(graph).map((circle) => circle.join(' -> '))).toEqual([]);
  });
});

describe('file size', () => {
  const MAX_LINES = 500;

  it(`no source file is over ${MAX_LINES} lines`, () => {
    const sources = [
      ...filesUnder('src', ['.ts']),
      ...filesUnder('webview', ['.ts']),
      ...filesUnder('bench', ['.ts', '.mjs']),
      ...filesUnder('scripts', ['.mjs', '.sh']),
      ...filesUnder('lint', ['.mjs']),
      ...filesUnder('test', ['.ts', '.mjs']).filter((file) => !file.startsWith('test/fixtures/')),
      ...filesUnder('training', ['.py', '.sh']),
      'esbuild.mjs',
    ];
    expect(sources.length).toBeGreaterThan(150);
    const long = sources
      .map((file) => ({ file, lines: readFileSync(path.join(ROOT, file), 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });
});

describe('bundles', () => {
  it('the extension host bundle holds no model runtime; the engine worker bundle does', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'attentive-bundles-'));
    try {
      const metafiles: Array<{ inputs: Record<string, unknown>; outputs: Record<string, { inputs: Record<string, unknown>; imports: Array<{ path: string }> }> }> =
        await buildProduct(out);
      const outputs = Object.assign({}, ...metafiles.map((metafile) => metafile.outputs));
      const bundle = (name: string) => {
        const key = Object.keys(outputs).find((output) => output.endsWith(`/${name}`));
        if (!key) throw new Error(`no ${name} among ${Object.keys(outputs).join(', ')}`);
        return { inputs: Object.keys(outputs[key].inputs), imports: outputs[key].imports.map((entry: { path: string }) => entry.path) as string[], text: readFileSync(key, 'utf8') };
      };
      const runtime = /onnxruntime|@huggingface/;

      const extension = bundle('extension.js');
      expect(extension.inputs.filter((input) => input.startsWith('src/worker/') || runtime.test(input))).toEqual([]);
      expect(extension.imports.filter((name) => runtime.test(name))).toEqual([]);
      expect(extension.text).not.toMatch(/require\(["']onnxruntime-node["']\)/);

      const worker = bundle('worker.js');
      expect(worker.inputs).toContain('src/worker/engine.ts');
      expect(worker.inputs.some((input) => input.includes('@huggingface/tokenizers'))).toBe(true);
      expect(worker.imports).toContain('onnxruntime-node');
      expect(worker.text).toMatch(/require\(["']onnxruntime-node["']\)/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
