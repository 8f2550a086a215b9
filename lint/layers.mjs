// The layers, as an ESLint rule: which folder may import which, and which packages each may use.
// protocol <- worker <- backend <- extension features and the CLI; webviews import only the protocol.
// docs/ARCHITECTURE.md draws the same picture; test/unit/architecture.test.ts proves each rule fires.
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** Node's built-in modules, with or without the `node:` prefix: webviews run in a browser, the protocol anywhere. */
const NODE_BUILTINS = /^(node:|(assert|buffer|child_process|crypto|events|fs|http|https|net|os|path|stream|url|util|worker_threads|zlib)(\/|$))/;
/** Packages that load the model: only the worker may bring them in (they are heavy, one is a native addon). */
const RUNTIME_PACKAGES = /^(onnxruntime-node|onnxruntime-web|@huggingface\/(tokenizers|jinja|transformers))(\/|$)/;

/**
 * Each zone: the folders (relative to the repository root) its files may import, and a check on package imports.
 * `own` stands for the file's own zone folder. The first zone whose `folder` holds the file applies.
 */
const ZONES = [
  {
    folder: 'src/protocol',
    name: 'the protocol',
    may: [],
    why: 'the protocol is typed messages and their validators; it imports nothing of ours and runs anywhere',
    packages: (name) => (name === 'vscode' || NODE_BUILTINS.test(name) || RUNTIME_PACKAGES.test(name) ? 'the protocol imports no packages' : undefined),
  },
  {
    folder: 'src/worker',
    name: 'the engine worker',
    may: ['src/protocol'],
    why: 'the worker side talks to the host only through the protocol',
    packages: (name) => (name === 'vscode' ? 'the engine runs in a worker thread, outside VS Code' : undefined),
  },
  {
    folder: 'src/backend',
    name: 'a backend',
    may: ['src/protocol'],
    why: 'a backend reaches the engine through the worker transport and the protocol, never by importing worker code (that would load ONNX Runtime into the extension host)',
    packages: (name) =>
      name === 'vscode' ? 'backends are plain Node so the CLI and tests can use them' : RUNTIME_PACKAGES.test(name) ? 'only the engine worker loads the runtime' : undefined,
  },
  {
    folder: 'src/cli',
    name: 'the CLI',
    may: ['src/protocol', 'src/backend', 'src/worker'],
    why: 'the CLI is a front end like the extension: it uses a backend (here over an in-process engine)',
    packages: (name) => (name === 'vscode' ? 'the CLI runs outside VS Code' : undefined),
  },
  {
    folder: 'src/extension/shared',
    name: 'the features\' shared code',
    // package.json: the settings' defaults (settingDefaults.ts)
    may: ['src/protocol', 'src/backend', 'package.json'],
    why: 'shared code serves every feature and so imports none of them',
    packages: extensionPackages,
  },
  {
    folder: 'src/extension/*',
    name: 'a feature',
    may: ['src/protocol', 'src/backend', 'src/extension/shared'],
    why: 'a feature talks to a Backend, never to the engine worker, and not to other features (shared code goes in src/extension/shared)',
    packages: extensionPackages,
  },
  {
    folder: 'src/extension',
    name: 'the extension entry point',
    may: ['src/protocol', 'src/backend', 'src/extension/*'],
    why: 'the entry point wires features to a backend; engine internals stay in the worker',
    packages: extensionPackages,
  },
  {
    folder: 'webview/shared',
    name: 'the webviews\' shared code',
    may: ['src/protocol'],
    why: 'webview code runs in a sandboxed browser page and exchanges only protocol messages with the host',
    packages: webviewPackages,
  },
  {
    folder: 'webview/*',
    name: 'a webview',
    may: ['src/protocol', 'webview/shared'],
    why: 'webview code runs in a sandboxed browser page and exchanges only protocol messages with the host',
    packages: webviewPackages,
  },
];

function extensionPackages(name) {
  return RUNTIME_PACKAGES.test(name) ? 'the extension host never loads the runtime: the model runs in the engine worker' : undefined;
}

function webviewPackages(name) {
  if (name === 'vscode') return 'webviews run in a browser page, outside the extension host';
  if (NODE_BUILTINS.test(name)) return 'webviews run in a browser page, without Node';
  if (RUNTIME_PACKAGES.test(name)) return 'webviews never load the runtime';
  return undefined;
}

/** The folder a pattern with a trailing `/*` names for `file` (the pattern with `*` replaced by the file's folder). */
function expand(pattern, relativeFile) {
  if (!pattern.endsWith('/*')) return pattern;
  const base = pattern.slice(0, -2);
  const rest = relativeFile.slice(base.length + 1);
  return rest.includes('/') ? `${base}/${rest.split('/')[0]}` : undefined;
}

const inside = (file, folder) => file === folder || file.startsWith(`${folder}/`);

/** The zone of a repository-relative path and the folder it stands for, or undefined outside src/ and webview/. */
function zoneOf(relativeFile) {
  for (const zone of ZONES) {
    const folder = expand(zone.folder, relativeFile);
    if (folder && inside(relativeFile, folder)) return { zone, folder };
  }
  return undefined;
}

/** Whether an import of `target` from `own` (both zone folders) is one of `may` (patterns `x/*` match any x/<one folder>). */
function allowed(may, own, targetFolder) {
  if (targetFolder === own) return true;
  return may.some((pattern) => (pattern.endsWith('/*') ? path.dirname(targetFolder) === pattern.slice(0, -2) && targetFolder !== own : targetFolder === pattern));
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'Keeps the layers: each folder imports only the layers below it (lint/layers.mjs)' },
    schema: [],
    messages: {
      layer: '{{from}} ({{file}}) may not import {{target}}: {{why}}.',
      package: '{{from}} ({{file}}) may not import "{{name}}": {{why}}.',
    },
  },
  create(context) {
    const file = path.relative(ROOT, context.filename).split(path.sep).join('/');
    const found = zoneOf(file);
    if (!found) return {};
    const { zone, folder } = found;

    function check(node, specifier) {
      if (typeof specifier !== 'string') return;
      if (!specifier.startsWith('.')) {
        const why = zone.packages(specifier);
        if (why) context.report({ node, messageId: 'package', data: { from: zone.name, file, name: specifier, why } });
        return;
      }
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      const targetZone = zoneOf(target);
      const targetFolder = targetZone ? targetZone.folder : target;
      if (!allowed(zone.may, folder, targetFolder)) {
        context.report({ node, messageId: 'layer', data: { from: zone.name, file, target: targetFolder, why: zone.why } });
      }
    }

    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
      CallExpression: (node) => {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments[0]?.type === 'Literal') check(node, node.arguments[0].value);
      },
    };
  },
};

export const layersPlugin = { rules: { layers: rule } };
