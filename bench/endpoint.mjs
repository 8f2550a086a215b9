// Model-server overhead: Attentive's endpoint backend against a bare streaming HTTP client, both asking Hugging
// Face's `transformers serve` on 127.0.0.1 the same greedy chat request, interleaved in one run.
//   node bench/endpoint.mjs [--runs 9] [--max-tokens 64]
// Prints time to first token and tokens/s for both, the overhead in ms and the speed ratio (target: <= 5 ms,
// >= 0.95x), then inline-completion requests through the editor's completion path and the backend beside the same
// bare request.

import * as http from 'node:http';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { EndpointBackend, startTransformersServe, CompletionService, DEFAULT_COMPLETION_SETTINGS, textLineSource } = require(path.join(ROOT, 'dist', 'bench.js'));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '9' }, 'max-tokens': { type: 'string', default: '64' } } });
const runs = Number(values.runs);
const maxTokens = Number(values['max-tokens']);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];

/** The floor: one POST, server-sent events split by hand, nothing else. */
function bare(url, body) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let first = 0;
    let buffer = '';
    let usage;
    const request = http.request(url, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (response) => {
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const line = buffer.slice(0, end).trim();
          buffer = buffer.slice(end + 2);
          if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
          const data = JSON.parse(line.slice(6));
          const choice = data.choices?.[0];
          if (!first && (choice?.delta?.content || choice?.text)) first = performance.now();
          if (data.usage) usage = data.usage;
        }
      });
      response.on('end', () => resolve({ ttft: first - started, total: performance.now() - started, first, last: performance.now(), tokens: usage?.completion_tokens ?? 0 }));
    });
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

const server = await startTransformersServe();
try {
  const backend = new EndpointBackend({ baseUrl: server.baseUrl, model: server.modelId, contextLength: 2048, fimFamily: 'qwen' });
  await backend.ensureLoaded();
  const messages = [{ role: 'user', content: 'Write a Python function that returns the largest of three numbers.' }];
  const chatBody = { model: server.modelId, messages, max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } };
  const rows = { attentive: [], bare: [] };
  for (let i = 0; i < runs + 1; i++) {
    const started = performance.now();
    const a = await backend.chat({ messages, maxNewTokens: maxTokens, temperature: 0 });
    const attentiveMs = performance.now() - started;
    const b = await bare(`${server.baseUrl}/chat/completions`, chatBody);
    if (i === 0) continue; // warm-up
    // Tokens/s over the whole request: this server sends a small model's reply in a few bursts, so the time between
    // the first and the last delta says nothing.
    rows.attentive.push({ ttft: a.usage.timeToFirstTokenMs, tps: (a.usage.generatedTokens * 1000) / attentiveMs, tokens: a.usage.generatedTokens });
    rows.bare.push({ ttft: b.ttft, tps: (b.tokens * 1000) / b.total, tokens: b.tokens });
  }
  const summary = (list) => ({ ttft: median(list.map((r) => r.ttft)), tps: median(list.map((r) => r.tps)), tokens: median(list.map((r) => r.tokens)) });
  const a = summary(rows.attentive);
  const b = summary(rows.bare);
  console.log(`transformers serve, random-weight Qwen2 (test/helpers/make_served_model.py), greedy chat, ${maxTokens} tokens at most, median of ${runs} interleaved runs`);
  console.log('| client | time to first token ms | tokens/s (whole request) | tokens |');
  console.log('|---|---:|---:|---:|');
  console.log(`| bare streaming HTTP client | ${b.ttft.toFixed(1)} | ${b.tps.toFixed(0)} | ${b.tokens} |`);
  console.log(`| Attentive endpoint backend | ${a.ttft.toFixed(1)} | ${a.tps.toFixed(0)} | ${a.tokens} |`);
  console.log(`overhead to first token: ${(a.ttft - b.ttft).toFixed(1)} ms (target <= 5); tokens/s ratio ${(a.tps / b.tps).toFixed(3)} (target >= 0.95)`);

  // Inline completion: what the editor's provider awaits after its debounce (CompletionService: the cursor window, the
  // FIM prompt, the streamed request, post-processing; its cache off), the backend's request alone, and the same
  // request sent bare, interleaved.
  const prefix = 'def largest(a, b, c):\n    """Return the largest of three numbers."""\n    ';
  const suffix = '\n\n\nprint(largest(1, 2, 3))\n';
  const prefixLines = prefix.split('\n');
  const service = new CompletionService((params, signal) => backend.complete(params, { priority: 'high', signal }), () => ({ ...DEFAULT_COMPLETION_SETTINGS, maxNewTokens: 16 }), false);
  const completion = { editor: [], attentive: [], bare: [] };
  const fimPrompt = `<|fim_prefix|>${prefix}<|fim_suffix|>${suffix}<|fim_middle|>`;
  for (let i = 0; i < runs * 2 + 1; i++) {
    let started = performance.now();
    const outcome = await service.provide({ document: textLineSource(prefix + suffix), line: prefixLines.length - 1, character: prefixLines.at(-1).length, languageId: 'python' });
    const editorMs = performance.now() - started;
    if (!outcome) throw new Error('the completion service gave no answer');
    started = performance.now();
    await backend.complete({ prefix, suffix, maxNewTokens: 16, temperature: 0 });
    const attentiveMs = performance.now() - started;
    const b = await bare(`${server.baseUrl}/completions`, { model: server.modelId, prompt: fimPrompt, max_tokens: 16, temperature: 0, stream: true, stop: ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|im_end|>'] });
    if (i === 0) continue;
    completion.editor.push(editorMs);
    completion.attentive.push(attentiveMs);
    completion.bare.push(b.total);
  }
  console.log(`\ninline completion (16 tokens at most), ${runs * 2} requests each:`);
  console.log('| client | request to text p50 ms | p95 ms |');
  console.log('|---|---:|---:|');
  console.log(`| bare request (the server's own latency) | ${median(completion.bare).toFixed(1)} | ${p95(completion.bare).toFixed(1)} |`);
  console.log(`| Attentive endpoint backend | ${median(completion.attentive).toFixed(1)} | ${p95(completion.attentive).toFixed(1)} |`);
  console.log(`| the editor's completion path (to ghost text) | ${median(completion.editor).toFixed(1)} | ${p95(completion.editor).toFixed(1)} |`);
  await backend.dispose();
} finally {
  await server.stop();
}
