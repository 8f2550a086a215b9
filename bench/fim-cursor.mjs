// Fill-in-the-middle against prefix-only completion where an editor asks for it most: the cursor in the middle of
// a line of a held-out file, the rest of that line to be written. Runs the engine's `complete` (worker, bundled
// model unless --model) with fillInTheMiddle true and false on the same cases; a case is an exact match when the
// suggestion (one line, greedy) equals the rest of the line, whitespace-trimmed.
//   npm run build && node bench/fim-cursor.mjs [--cases 200] [--model DIR] [--docs training/.data/val_docs.jsonl]

import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { EngineClient, workerTransport, bundledModelFolder } = require(path.join(ROOT, 'dist', 'bench.js'));
const { values } = parseArgs({
  options: { cases: { type: 'string', default: '200' }, model: { type: 'string' }, docs: { type: 'string', default: path.join(ROOT, 'training/.data/val_docs.jsonl') } },
});

const docs = fs.readFileSync(values.docs, 'utf8').trim().split('\n').map((line) => JSON.parse(line).text);
let seed = 1;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const cases = [];
while (cases.length < Number(values.cases)) {
  const lines = docs[Math.floor(random() * docs.length)].split('\n');
  const i = 1 + Math.floor(random() * (lines.length - 1));
  const line = lines[i];
  if (!line || line.trim().length < 8) continue;
  const indent = line.length - line.trimStart().length;
  const cut = indent + 1 + Math.floor(random() * (line.trimEnd().length - indent - 3)); // after at least one visible character
  cases.push({ prefix: `${lines.slice(0, i).join('\n')}\n${line.slice(0, cut)}`, rest: line.slice(cut), suffix: `\n${lines.slice(i + 1).join('\n')}` });
}

const client = new EngineClient(workerTransport(path.join(ROOT, 'dist', 'worker.js')));
const info = await client.load({ folder: values.model ? path.resolve(values.model) : bundledModelFolder(ROOT) });
console.log(`${info.name} (${info.quantization}); ${cases.length} held-out cases, cursor mid-line`);
console.log('| prompt | exact match | first 3 characters right |');
console.log('|---|---:|---:|');
for (const fillInTheMiddle of [true, false]) {
  let exact = 0;
  let start = 0;
  for (const c of cases) {
    const result = await client.call('complete', { prefix: c.prefix, suffix: c.suffix, fillInTheMiddle, maxLines: 1, maxNewTokens: 32, temperature: 0, maxPromptTokens: 768 });
    if (result.text.trim() === c.rest.trim()) exact++;
    if (result.text.slice(0, 3) === c.rest.slice(0, 3)) start++;
  }
  console.log(`| ${fillInTheMiddle ? 'fill-in-the-middle (prefix + suffix)' : 'prefix only'} | ${exact} / ${cases.length} | ${start} / ${cases.length} |`);
}
await client.dispose();
