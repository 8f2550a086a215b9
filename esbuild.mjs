// One bundle per entry point: the extension host, the engine worker, the attention analysis thread, the CLI, and
// each webview.
// `node esbuild.mjs [--production] [--watch]`; scripts/package.mjs calls buildProduct() for the VSIX.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Node-side bundles: onnxruntime-node is a native addon, so it stays external and is loaded from node_modules. */
function nodeCommon(production) {
  return {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: production ? false : 'linked',
    minify: production,
    external: ['vscode', 'onnxruntime-node'],
    logLevel: 'info',
  };
}

/** Webview bundles: browser code, one IIFE per view, no Node. */
function webviewCommon(production) {
  return {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: production ? false : 'inline',
    minify: production,
    logLevel: 'info',
  };
}

/** What users get: the extension host, the engine worker, the analysis thread and the webviews (not the CLI), under `outRoot`. */
function productBuilds(production, outRoot) {
  return [
    { ...webviewCommon(production), entryPoints: { chat: 'webview/chat/main.ts' }, outdir: `${outRoot}/webview` },
    { ...webviewCommon(production), entryPoints: { attention: 'webview/attention/main.ts' }, outdir: `${outRoot}/webview` },
    { ...nodeCommon(production), entryPoints: { extension: 'src/extension/extension.ts' }, outdir: outRoot },
    { ...nodeCommon(production), entryPoints: { worker: 'src/worker/main.ts' }, outdir: outRoot },
    { ...nodeCommon(production), entryPoints: { analysis: 'src/extension/attention/analysisThread.ts' }, outdir: outRoot },
    { ...nodeCommon(production), entryPoints: { indexer: 'src/extension/shared/indexThread.ts' }, outdir: outRoot },
  ];
}

/** The tree-sitter runtime and the grammars the workspace index uses (src/extension/shared/codeChunks.ts), beside the bundles. */
function copyTreeSitter(outRoot) {
  const from = 'node_modules/@vscode/tree-sitter-wasm/wasm';
  const grammars = JSON.parse(fs.readFileSync('src/extension/shared/treeSitterGrammars.json', 'utf8'));
  fs.mkdirSync(`${outRoot}/tree-sitter`, { recursive: true });
  for (const file of ['tree-sitter.wasm', ...new Set(Object.values(grammars))]) fs.copyFileSync(`${from}/${file}`, `${outRoot}/tree-sitter/${file}`);
}

/** Production bundles for a VSIX under `outRoot`; resolves to esbuild's metafiles (what went into each bundle). */
export async function buildProduct(outRoot) {
  const results = await Promise.all(productBuilds(true, outRoot).map((options) => esbuild.build({ ...options, metafile: true, logLevel: 'warning' })));
  copyTreeSitter(outRoot);
  return results.map((result) => result.metafile);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const production = process.argv.includes('--production');
  const watch = process.argv.includes('--watch');
  const builds = [
    ...productBuilds(production, 'dist'),
    { ...nodeCommon(production), entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
    // Extension-host tests (mocha inside the real VS Code) and the benchmarks' engine entry; never shipped.
    ...(production
      ? []
      : [
          { ...nodeCommon(false), entryPoints: { index: 'test/vscode/index.ts' }, outdir: 'out/test', external: ['vscode', 'onnxruntime-node', 'mocha'] },
          { ...nodeCommon(false), entryPoints: { bench: 'bench/lib.ts' }, outdir: 'dist' },
          // bench/soak.mjs's workload, loaded by the extension host as its "extension tests".
          { ...nodeCommon(false), entryPoints: { soak: 'bench/soak/workload.ts' }, outdir: 'out/bench' },
        ]),
  ];
  if (watch) {
    copyTreeSitter('dist');
    for (const options of builds) await (await esbuild.context(options)).watch();
  } else {
    await Promise.all(builds.map((options) => esbuild.build(options)));
    copyTreeSitter('dist');
  }
}
