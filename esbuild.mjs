// One bundle per entry point: the extension host, the engine worker, the CLI, and (later) each webview.
// `node esbuild.mjs [--production] [--watch]`
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Node-side bundles: onnxruntime-node is a native addon, so it stays external and is loaded from node_modules. */
const nodeCommon = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  external: ['vscode', 'onnxruntime-node'],
  logLevel: 'info',
};

/** Webview bundles: browser code, one IIFE per view, no Node. */
const webviewCommon = {
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'iife',
  sourcemap: production ? false : 'inline',
  minify: production,
  logLevel: 'info',
};

const builds = [
  { ...webviewCommon, entryPoints: { chat: 'webview/chat/main.ts' }, outdir: 'dist/webview' },
  { ...webviewCommon, entryPoints: { attention: 'webview/attention/main.ts' }, outdir: 'dist/webview' },
  { ...nodeCommon, entryPoints: { extension: 'src/extension/extension.ts' }, outdir: 'dist' },
  { ...nodeCommon, entryPoints: { worker: 'src/engine/worker.ts' }, outdir: 'dist' },
  {
    ...nodeCommon,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    banner: { js: '#!/usr/bin/env node' },
  },
  // Extension-host tests (mocha inside the real VS Code) and the benchmarks' engine entry; never shipped.
  ...(production
    ? []
    : [
        { ...nodeCommon, entryPoints: { index: 'test/vscode/index.ts' }, outdir: 'out/test', external: ['vscode', 'onnxruntime-node', 'mocha'] },
        { ...nodeCommon, entryPoints: { bench: 'bench/lib.ts' }, outdir: 'dist' },
      ]),
];

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
