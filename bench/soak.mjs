// Soak (issue 17): in one real extension host (code-server + headless Chromium, the bundled model), rounds of inline
// completions with typing-style cancellation, chat replies and Explain Attention runs (bench/soak/workload.ts: by
// default 50 rounds of 20 + 4 + 1, i.e. 1,000 completions, 200 replies, 50 attention runs). Prints the curve of the
// extension host's RSS, V8 heap and event-loop resources after each round, and the growth after warm-up (the first
// 5 rounds): the reference is the process's own size right after warm-up (median of 3 rounds), against the median of
// the last 5. Target: RSS growth < 10 %, no growth in
// handles. The engine worker is a thread of the extension host, so its memory is in the RSS.
//   npm run build && npm run setup:vscode && node bench/soak.mjs [--rounds 50] [--warmup 5]

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, TEST_DIR } from '../scripts/vscode-server.mjs';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '50' }, warmup: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);
const warmup = Number(values.warmup);
const out = path.join(TEST_DIR, 'soak.json');
fs.rmSync(out, { force: true });

const run = spawnSync(process.execPath, [path.join(ROOT, 'test', 'vscode', 'run.mjs')], {
  stdio: 'inherit',
  env: {
    ...process.env,
    ATTENTIVE_TESTS_ENTRY: path.join(ROOT, 'out', 'bench', 'soak.js'),
    ATTENTIVE_SOAK_OUT: out,
    ATTENTIVE_SOAK_ROUNDS: String(rounds),
    ATTENTIVE_TEST_RUN_DIR: path.join(TEST_DIR, 'run-soak'),
    ATTENTIVE_TEST_PORT: process.env.ATTENTIVE_BENCH_PORT || '18184',
    ATTENTIVE_TEST_TIMEOUT_MS: String(60 * 60 * 1000),
  },
});
if (run.status !== 0) {
  console.error(`the soak run failed (exit ${run.status})`);
  process.exit(1);
}

const { samples } = JSON.parse(fs.readFileSync(out, 'utf8'));
const total = (resources) => Object.values(resources).reduce((sum, n) => sum + n, 0);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log('\n| round | completions | replies | attention runs | s | RSS MB | heap MB | external MB | resources |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---|');
for (const s of samples) {
  if (s.round % 5 !== 0 && s.round !== warmup && s.round !== samples.length - 1) continue;
  const resources = Object.entries(s.resources).map(([type, n]) => `${type} ${n}`).join(', ');
  console.log(`| ${s.round} | ${s.completions} | ${s.chats} | ${s.attentions} | ${s.seconds} | ${s.rssMb} | ${s.heapUsedMb} | ${s.externalMb} | ${resources} |`);
}
// Reference: right after warm-up (the median of 3 rounds from it); end: the median of the last 5 rounds.
const warmWindow = samples.slice(warmup, warmup + 3);
const lastWindow = samples.slice(-5);
const at = (window, pick) => median(window.map(pick));
const rssWarm = at(warmWindow, (s) => s.rssMb);
const rssEnd = at(lastWindow, (s) => s.rssMb);
const heapWarm = at(warmWindow, (s) => s.heapUsedMb);
const heapEnd = at(lastWindow, (s) => s.heapUsedMb);
const resourcesWarm = at(warmWindow, (s) => total(s.resources));
const resourcesEnd = at(lastWindow, (s) => total(s.resources));
const growth = (rssEnd / rssWarm - 1) * 100;
console.log(`\nafter warm-up (rounds ${warmup}-${warmup + 2}, medians): RSS ${rssWarm} MB, heap ${heapWarm} MB, ${resourcesWarm} event-loop resources`);
console.log(`end (last 5 rounds, medians): RSS ${rssEnd} MB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} %, ratio ${(rssEnd / rssWarm).toFixed(3)}), heap ${heapEnd} MB, ${resourcesEnd} event-loop resources`);
console.log(`target: RSS growth < 10 %: ${growth < 10 ? 'met' : 'NOT met'}; event-loop resources ${resourcesEnd <= resourcesWarm ? 'not growing' : 'GREW'}`);
