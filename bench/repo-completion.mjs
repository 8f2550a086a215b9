// Repository-level inline completion (issue 18): does code from other files help? Tasks come from Python projects the
// bundled model never saw (pure-Python wheels from this machine's PyPI wheelhouse whose names appear nowhere in its
// DATA.md; permissive licences): lines that use a name defined in another file of the same project, the cursor put
// before the name, the rest of the line to be written. Each task runs twice through the engine worker, as the
// completion service sends it (512 prompt tokens of the file around the cursor, one line): without cross-file
// context, and with the snippets the extension would choose (bench: src/extension/completion/neighbourSnippets.ts)
// from three "open" files: the one defining the name and two others of the project (as comments for a model without a
// repository format, as the setting "on" sends them). Prints exact match, edit
// similarity and how often the name itself was written, per condition, and how long choosing the snippets took.
//   npm run build && node bench/repo-completion.mjs [--per-project 40] [--context-tokens 256] [--model <folder>]

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { EngineClient, workerTransport, bundledModelFolder, createRandom, FileWindows, queryWords, similarSnippets } = require(path.join(ROOT, 'dist', 'bench.js'));

const { values } = parseArgs({ options: { 'per-project': { type: 'string', default: '40' }, 'context-tokens': { type: 'string', default: '256' }, model: { type: 'string' } } });
const PER_PROJECT = Number(values['per-project']);
const CONTEXT_TOKENS = Number(values['context-tokens']);
const WHEELS = '/opt/pypi/files';
/** Permissive pure-Python projects (licence from each wheel's METADATA, printed below). */
const PROJECTS = ['anytree', 'boltons', 'cattrs', 'arrow', 'automata_lib'];

function extract(project) {
  const wheel = fs.readdirSync(WHEELS).find((name) => name.toLowerCase().startsWith(`${project.toLowerCase()}-`) && name.endsWith('.whl'));
  if (!wheel) throw new Error(`no wheel of ${project} in ${WHEELS}`);
  const target = path.join(ROOT, '.cache', 'repo-bench', wheel.replace(/\.whl$/, ''));
  if (!fs.existsSync(target)) {
    const unzip = spawnSync('python3', ['-m', 'zipfile', '-e', path.join(WHEELS, wheel), target], { encoding: 'utf8' });
    if (unzip.status !== 0) throw new Error(unzip.stderr);
  }
  const metadata = fs.readdirSync(target).find((name) => name.endsWith('.dist-info'));
  const meta = fs.readFileSync(path.join(target, metadata, 'METADATA'), 'utf8');
  const licence = /^License-Expression: (.+)$/m.exec(meta)?.[1] ?? /^License: (.+)$/m.exec(meta)?.[1] ?? /^Classifier: License :: (.+)$/m.exec(meta)?.[1] ?? '?';
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && !entry.name.endsWith('.dist-info')) walk(full);
      else if (entry.name.endsWith('.py')) files.push({ path: path.relative(target, full), text: fs.readFileSync(full, 'utf8') });
    }
  };
  walk(target);
  return { project, wheel, licence, files };
}

const DEFINITION = /^(?:def|class)\s+([A-Za-z_]\w*)/gm;

/** Lines of one file that use a name defined (top level) in another file of the project and not in this one. */
function tasksOf({ project, files }, random) {
  const definedIn = new Map();
  for (const file of files) for (const match of file.text.matchAll(DEFINITION)) if (!definedIn.has(match[1])) definedIn.set(match[1], file.path);
  const tasks = [];
  for (const file of files) {
    const own = new Set([...file.text.matchAll(DEFINITION)].map((m) => m[1]));
    const lines = file.text.split('\n');
    let offset = 0;
    lines.forEach((line) => {
      const start = offset;
      offset += line.length + 1;
      const trimmed = line.trim();
      if (/^(from|import|#|@)/.test(trimmed) || trimmed.startsWith('"') || trimmed.startsWith("'")) return;
      for (const match of line.matchAll(/[A-Za-z_]\w*/g)) {
        const name = match[0];
        const home = definedIn.get(name);
        if (!home || home === file.path || own.has(name) || name.length < 4) continue;
        const target = line.slice(match.index).trimEnd();
        if (target.length < 6) break;
        const cursor = start + match.index;
        tasks.push({ project, file: file.path, home, name, prefix: file.text.slice(0, cursor), suffix: file.text.slice(cursor + line.length - match.index), target });
        break;
      }
    });
  }
  // A fixed sample, the same in every run.
  for (let i = tasks.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [tasks[i], tasks[j]] = [tasks[j], tasks[i]];
  }
  return tasks.slice(0, PER_PROJECT);
}

function editSimilarity(a, b) {
  if (!a && !b) return 1;
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0];
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = previous[j];
      previous[j] = Math.min(previous[j] + 1, previous[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = saved;
    }
  }
  return 1 - previous[b.length] / Math.max(a.length, b.length);
}

const random = createRandom(20261207);
const projects = PROJECTS.map(extract);
const tasks = projects.flatMap((project) => {
  const found = tasksOf(project, random);
  // The "open" files: the name's home and two other files of the project.
  return found.map((task) => {
    const others = project.files.filter((f) => f.path !== task.file && f.path !== task.home);
    const open = [project.files.find((f) => f.path === task.home), ...[0, 1].map(() => others[Math.floor(random() * others.length)])].filter(Boolean);
    return { ...task, open };
  });
});

const folder = values.model ?? bundledModelFolder(ROOT);
const client = new EngineClient(workerTransport(path.join(ROOT, 'dist', 'worker.js')));
const info = await client.load({ folder });
const conditions = { 'without context': [], 'with context': [] };
const lookupMs = [];
let withSnippets = 0;
let homeChosen = 0;
for (const task of tasks) {
  // Made when the files open (not timed); the request-time part is the comparison.
  const files = task.open.map((f) => new FileWindows(f.path, f.text));
  const lookup = performance.now();
  const snippets = similarSnippets(queryWords(task.prefix), files, 3);
  lookupMs.push(performance.now() - lookup);
  if (snippets.length) withSnippets++;
  if (snippets.some((s) => s.path === task.home)) homeChosen++;
  const base = { prefix: task.prefix, suffix: task.suffix, maxNewTokens: 48, maxPromptTokens: 512, maxLines: 1, temperature: 0, fileName: task.file };
  for (const [name, params] of [
    ['without context', base],
    ['with context', snippets.length ? { ...base, context: { snippets, maxTokens: CONTEXT_TOKENS, repoName: task.project, languageId: 'python', asComments: true } } : base],
  ]) {
    const t0 = performance.now();
    const result = await client.call('complete', params);
    const ms = performance.now() - t0;
    const written = result.text.split('\n')[0].trimEnd();
    conditions[name].push({ exact: written === task.target, similarity: editSimilarity(written, task.target), name: written.startsWith(task.name), ms, contextPaths: result.completionPrompt?.contextPaths?.length ?? 0 });
  }
}
await client.dispose();

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
console.log(`${info.name}; ${tasks.length} tasks from ${projects.map((p) => `${p.wheel.replace(/-py3.*$/, '')} (${p.licence})`).join(', ')}`);
console.log(`snippets chosen for ${withSnippets} tasks; the defining file among them in ${homeChosen}; choosing them took p50 ${quantile(lookupMs, 0.5).toFixed(2)} ms, p95 ${quantile(lookupMs, 0.95).toFixed(2)} ms`);
console.log('| condition | exact match | edit similarity | the name written | latency p50 ms | snippets in the prompt (mean) |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [name, runs] of Object.entries(conditions)) {
  console.log(`| ${name} | ${(mean(runs.map((r) => +r.exact)) * 100).toFixed(1)} % | ${mean(runs.map((r) => r.similarity)).toFixed(3)} | ${(mean(runs.map((r) => +r.name)) * 100).toFixed(1)} % | ${quantile(runs.map((r) => r.ms), 0.5).toFixed(0)} | ${mean(runs.map((r) => r.contextPaths)).toFixed(2)} |`);
}
