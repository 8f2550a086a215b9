// Builds one VSIX per platform with @vscode/vsce: production bundles, ONNX Runtime's native files for that platform
// only, the bundled model's 4-bit ONNX file (not fp32 or int8), and the licences of everything shipped. Each VSIX is
// checked against an allow-list of file patterns and a size budget; the build fails on a stray file or an oversize VSIX.
//   npm run package [-- --target linux-x64 --target win32-x64 ...]   (default: every target)
// Output: dist-vsix/attentive-<target>-<version>.vsix, and dist-vsix/sizes.md (the table in the README).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { buildProduct } from '../esbuild.mjs';
import { ROOT, TEST_DIR, freshRunFolder, isolatedEnv } from './vscode-server.mjs';
import { listVsix } from './vsix.mjs';

/** The size budget of one VSIX (issue 7). */
export const BUDGET_BYTES = 40 * 1024 * 1024;

/** ONNX Runtime's files per target (node_modules/onnxruntime-node/bin/napi-v6/<platform>/<arch>/): what the binding loads. */
export const TARGETS = {
  'linux-x64': { dir: 'linux/x64', files: ['onnxruntime_binding.node', 'libonnxruntime.so.1'] },
  'linux-arm64': { dir: 'linux/arm64', files: ['onnxruntime_binding.node', 'libonnxruntime.so.1'] },
  // The binding links @rpath/libonnxruntime.1.dylib; the package's libonnxruntime.1.31.1.dylib is a copy of it.
  'darwin-arm64': { dir: 'darwin/arm64', files: ['onnxruntime_binding.node', 'libonnxruntime.1.dylib'] },
  // DirectML.dll and dxcompiler.dll are delay-loaded by onnxruntime.dll for the DirectML execution
  // provider only; Attentive runs on the CPU provider.
  'win32-x64': { dir: 'win32/x64', files: ['onnxruntime_binding.node', 'onnxruntime.dll'] },
  // onnxruntime-node 1.31.1 ships no macOS x64 binaries, so there is nothing to run the model with there.
  'darwin-x64': { unavailable: 'onnxruntime-node 1.31.1 has no darwin/x64 binaries' },
};

/** The bundled model's files that ship (models/<name>/...): configs, tokenizer, card, and the 4-bit ONNX file. */
const MODEL_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'README.md', 'DATA.md', 'onnx/model_q4.onnx'];

/** Every file a VSIX may hold (paths inside its extension/ folder); anything else fails the build. */
export const ALLOWED = [
  /^package\.json$/,
  /^(readme|changelog)\.md$/, // vsce writes them lower-case
  /^LICENSE\.txt$/,
  /^THIRD_PARTY_NOTICES\.md$/,
  /^dist\/(extension|worker|analysis|indexer)\.js$/,
  /^dist\/tree-sitter\/tree-sitter(-[a-z]+)?\.wasm$/,
  /^dist\/webview\/(chat|attention)\.js$/,
  // dist/cjs/package.json says "commonjs" (the package itself is an ES module)
  /^dist\/node_modules\/onnxruntime-common\/(package\.json|dist\/cjs\/([\w./-]+\.js|package\.json))$/,
  /^dist\/node_modules\/onnxruntime-node\/(package\.json|dist\/\w+\.js)$/,
  /^dist\/node_modules\/onnxruntime-node\/bin\/napi-v6\/[a-z0-9]+\/[a-z0-9]+\/(onnxruntime_binding\.node|libonnxruntime\.so\.1|libonnxruntime\.1\.dylib|onnxruntime\.dll)$/,
  /^media\/(chat|attention)\.css$/,
  /^media\/(attentive\.svg|icon\.png)$/,
  /^media\/walkthrough\/\w+\.md$/,
  /^docs\/(chat|attention)-(dark|light)\.png$/,
  /^models\/(manifest\.json|README\.md)$/,
  /^models\/[\w.-]+\/(config|generation_config|tokenizer|tokenizer_config|special_tokens_map)\.json$/,
  /^models\/[\w.-]+\/(README|DATA)\.md$/,
  /^models\/[\w.-]+\/onnx\/model_q4\.onnx$/,
];

/** Entries of a VSIX outside the allow-list ([Content_Types].xml and extension.vsixmanifest are vsce's own). */
export function unexpectedEntries(entries) {
  return entries.filter((name) => {
    if (name === '[Content_Types].xml' || name === 'extension.vsixmanifest') return false;
    if (!name.startsWith('extension/')) return true;
    const inside = name.slice('extension/'.length);
    return !ALLOWED.some((pattern) => pattern.test(inside));
  });
}

const copy = (from, to) => {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
};

/** Package name -> folder in node_modules, for the packages bundled into the production JavaScript. */
function bundledPackages(metafiles) {
  const names = new Set();
  for (const metafile of metafiles) {
    for (const input of Object.keys(metafile.inputs)) {
      const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
      if (match) names.add(match[1]);
    }
  }
  return [...names].sort();
}

/** THIRD_PARTY_NOTICES.md: each shipped third-party package with its licence text (or its declared licence). */
function thirdPartyNotices(packages) {
  const parts = [
    '# Third-party notices',
    '',
    'Attentive ships the following third-party software. The bundled model is our own (see models/attentive-code-14m/README.md and',
    'DATA.md for its training data and their licences).',
    '',
  ];
  for (const name of packages) {
    const folder = path.join(ROOT, 'node_modules', name);
    const manifest = JSON.parse(fs.readFileSync(path.join(folder, 'package.json'), 'utf8'));
    const licenceFile = fs.readdirSync(folder).find((file) => /^(licen[cs]e|copying)(\.md|\.txt)?$/i.test(file));
    parts.push(`## ${name} ${manifest.version} (${manifest.license ?? 'see below'})`, '');
    if (licenceFile) parts.push('```', fs.readFileSync(path.join(folder, licenceFile), 'utf8').trim(), '```', '');
    else parts.push(`Licensed under ${manifest.license}${manifest.author ? `; ${typeof manifest.author === 'string' ? manifest.author : manifest.author.name}` : ''}. The package carries no licence file.`, '');
  }
  return parts.join('\n');
}

/** The manifest as shipped: no scripts, no development fields, no dependencies (their files are staged by hand). */
function shippedManifest() {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  for (const key of ['scripts', 'devDependencies', 'dependencies', 'bin', 'private']) delete manifest[key];
  return manifest;
}

/** A folder holding exactly what the VSIX for `target` ships. */
function stage(target, spec, productDir, notices) {
  const dir = path.join(ROOT, '.package', target);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(shippedManifest(), null, 2)}\n`);
  for (const file of ['README.md', 'CHANGELOG.md', '.vscodeignore']) copy(path.join(ROOT, file), path.join(dir, file));
  copy(path.join(ROOT, 'LICENSE'), path.join(dir, 'LICENSE.txt'));
  fs.writeFileSync(path.join(dir, 'THIRD_PARTY_NOTICES.md'), notices);
  fs.cpSync(productDir, path.join(dir, 'dist'), { recursive: true });
  for (const file of ['chat.css', 'attention.css', 'attentive.svg', 'icon.png']) copy(path.join(ROOT, 'media', file), path.join(dir, 'media', file));
  fs.cpSync(path.join(ROOT, 'media', 'walkthrough'), path.join(dir, 'media', 'walkthrough'), { recursive: true });
  for (const file of ['chat-dark.png', 'chat-light.png', 'attention-dark.png', 'attention-light.png']) copy(path.join(ROOT, 'docs', file), path.join(dir, 'docs', file));
  // The bundled model.
  const models = path.join(ROOT, 'models');
  const { default: modelName } = JSON.parse(fs.readFileSync(path.join(models, 'manifest.json'), 'utf8'));
  for (const file of ['manifest.json', 'README.md']) copy(path.join(models, file), path.join(dir, 'models', file));
  for (const file of MODEL_FILES) copy(path.join(models, modelName, file), path.join(dir, 'models', modelName, file));
  // ONNX Runtime beside the bundles (dist/node_modules is where Node looks first for dist/*.js's require).
  const ortFrom = path.join(ROOT, 'node_modules', 'onnxruntime-node');
  const commonFrom = path.join(ROOT, 'node_modules', 'onnxruntime-common');
  const ortTo = path.join(dir, 'dist', 'node_modules', 'onnxruntime-node');
  const commonTo = path.join(dir, 'dist', 'node_modules', 'onnxruntime-common');
  copy(path.join(ortFrom, 'package.json'), path.join(ortTo, 'package.json'));
  for (const file of fs.readdirSync(path.join(ortFrom, 'dist')).filter((f) => f.endsWith('.js'))) copy(path.join(ortFrom, 'dist', file), path.join(ortTo, 'dist', file));
  for (const file of spec.files) copy(path.join(ortFrom, 'bin', 'napi-v6', spec.dir, file), path.join(ortTo, 'bin', 'napi-v6', spec.dir, file));
  copy(path.join(commonFrom, 'package.json'), path.join(commonTo, 'package.json'));
  fs.cpSync(path.join(commonFrom, 'dist', 'cjs'), path.join(commonTo, 'dist', 'cjs'), { recursive: true, filter: (from) => fs.statSync(from).isDirectory() || from.endsWith('.js') || path.basename(from) === 'package.json' });
  return dir;
}

export async function packageTargets(targets) {
  const outDir = path.join(ROOT, 'dist-vsix');
  fs.mkdirSync(outDir, { recursive: true });
  const productDir = path.join(ROOT, '.package', 'product');
  fs.rmSync(productDir, { recursive: true, force: true });
  const metafiles = await buildProduct(productDir);
  const ortNotice = ['onnxruntime-node', 'onnxruntime-common'];
  const notices = thirdPartyNotices([...new Set([...bundledPackages(metafiles), ...ortNotice])].sort());
  const version = shippedManifest().version;
  const vsce = path.join(ROOT, 'node_modules', '.bin', 'vsce');
  const results = [];
  for (const target of targets) {
    const spec = TARGETS[target];
    if (!spec) throw new Error(`unknown target ${target}; known: ${Object.keys(TARGETS).join(', ')}`);
    if (spec.unavailable) {
      console.log(`${target}: skipped (${spec.unavailable})`);
      results.push({ target, skipped: spec.unavailable });
      continue;
    }
    const dir = stage(target, spec, productDir, notices);
    const vsix = path.join(outDir, `attentive-${target}-${version}.vsix`);
    fs.rmSync(vsix, { force: true });
    // --no-dependencies: the staged folder already holds exactly the runtime files; --no-rewrite-relative-links: the
    // README's images ship in the VSIX and VS Code shows them from the installed folder (there is no public repository).
    execFileSync(vsce, ['package', '--target', target, '--no-dependencies', '--no-rewrite-relative-links', '--allow-missing-repository', '--skip-license', '--out', vsix], {
      cwd: dir,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const entries = listVsix(vsix);
    const unexpected = unexpectedEntries(entries.map((e) => e.name));
    const bytes = fs.statSync(vsix).size;
    results.push({ target, vsix, bytes, files: entries.length, unpacked: entries.reduce((sum, e) => sum + e.size, 0), unexpected });
    console.log(`${target}: ${path.relative(ROOT, vsix)} ${(bytes / 1024 / 1024).toFixed(1)} MB, ${entries.length} files`);
  }
  const table = [
    '| platform | VSIX size | unpacked | files |',
    '|---|---:|---:|---:|',
    ...results.map((r) => (r.skipped ? `| ${r.target} | not built: ${r.skipped} | | |` : `| ${r.target} | ${(r.bytes / 1024 / 1024).toFixed(1)} MB | ${(r.unpacked / 1024 / 1024).toFixed(1)} MB | ${r.files} |`)),
    '',
    `Budget: ${BUDGET_BYTES / 1024 / 1024} MB per VSIX.`,
  ].join('\n');
  fs.writeFileSync(path.join(outDir, 'sizes.md'), `${table}\n`);
  console.log(table);
  const failures = [];
  for (const r of results) {
    if (r.skipped) continue;
    if (r.unexpected.length) failures.push(`${r.target}: files outside the allow-list: ${r.unexpected.join(', ')}`);
    if (r.bytes > BUDGET_BYTES) failures.push(`${r.target}: ${(r.bytes / 1024 / 1024).toFixed(1)} MB is over the ${BUDGET_BYTES / 1024 / 1024} MB budget`);
  }
  if (failures.length) throw new Error(failures.join('\n'));
  return results;
}

/**
 * A fresh run folder for the test code-server with this machine's VSIX built and installed (--install-extension into
 * an empty extensions folder), as users get the extension. Returns the paths startCodeServer takes, the VSIX build
 * result and the installed extension's folder.
 */
export async function prepareVsixRun(runDir, settings) {
  const [built] = await packageTargets([`${process.platform}-${process.arch}`]);
  if (!built || built.skipped) throw new Error(`no VSIX for ${process.platform}-${process.arch}`);
  const { workspace, extensionsDir, userDataDir, settingsFile } = freshRunFolder(runDir, settings);
  const codeServer = path.join(TEST_DIR, 'node_modules', '.bin', 'code-server');
  execFileSync(codeServer, ['--extensions-dir', extensionsDir, '--user-data-dir', userDataDir, '--install-extension', built.vsix], { env: isolatedEnv(runDir), stdio: ['ignore', 'ignore', 'inherit'] });
  const installed = fs.readdirSync(extensionsDir).filter((name) => name.startsWith('attentive.attentive-'));
  if (installed.length !== 1) throw new Error(`expected one installed Attentive in ${extensionsDir}, found: ${fs.readdirSync(extensionsDir).join(', ')}`);
  return { runDir, workspace, extensionsDir, userDataDir, settingsFile, built, installedDir: path.join(extensionsDir, installed[0]) };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const { values } = parseArgs({ options: { target: { type: 'string', multiple: true } } });
  try {
    await packageTargets(values.target ?? Object.keys(TARGETS));
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
