// CompletionService against the real engine (bundled model, in-process transport, real ONNX Runtime): a burst of
// keystrokes leaves no queued engine work, typing into the suggestion is answered from the cache, and a 10 MB file
// costs only the lines near the cursor.

import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledModelFolder } from '../../src/backend/local/bundledModel';
import { EngineClient } from '../../src/backend/local/engineClient';
import { inProcessTransport } from '../../src/worker/inProcessTransport';
import { CompletionService, DEFAULT_COMPLETION_SETTINGS } from '../../src/extension/completion/completionService';
import type { LineSource } from '../../src/extension/completion/documentWindow';

const ROOT = path.resolve(__dirname, '../..');

/** A document held as lines, counting the lines read (vscode.TextDocument.lineAt is the same kind of access). */
function documentOf(text: string): LineSource & { linesRead: number } {
  const lines = text.split('\n');
  const doc = {
    linesRead: 0,
    lineCount: lines.length,
    eol: '\n',
    lineAt(line: number) {
      doc.linesRead++;
      return lines[line]!;
    },
  };
  return doc;
}

const endOf = (text: string) => {
  const lines = text.split('\n');
  return { line: lines.length - 1, character: lines.at(-1)!.length };
};

let client: EngineClient;
let service: CompletionService;

beforeAll(async () => {
  client = new EngineClient(inProcessTransport());
  await client.load({ folder: bundledModelFolder(ROOT), options: { threads: 1 } });
  service = new CompletionService((params, signal) => client.call('complete', params, { priority: 'high', signal }), () => DEFAULT_COMPLETION_SETTINGS);
});
afterAll(() => client.dispose());

describe('CompletionService on the bundled model', () => {
  it('a burst of 100 keystrokes leaves no queued engine work, and only the last request is answered', async () => {
    const file = 'import os\n\n\ndef walk_python_files(root):\n    for dirpath, dirnames, filenames in os.walk(root):\n        for name in sorted(filenames):\n            if name.endswith(".py"):\n                yield os.path.join(dirpath, name)\n';
    const typed = file.slice(0, 100);
    const cancelledBefore = service.cancelled;
    // One request per keystroke, none awaited before the next: each new one aborts the one in flight.
    const requests = Array.from({ length: 100 }, (_, i) => {
      const text = typed.slice(0, i + 1);
      return service.provide({ document: documentOf(text), ...endOf(text), languageId: 'python' });
    });
    const outcomes = await Promise.all(requests);
    expect(client.pendingCalls).toBe(0);
    expect(outcomes.at(-1)).not.toBeNull();
    const answered = outcomes.filter((o) => o && o.source === 'engine').length;
    expect(answered).toBeLessThanOrEqual(3); // the first may finish before the second arrives; the rest are superseded
    expect(service.cancelled - cancelledBefore).toBeGreaterThanOrEqual(95);
  });

  it('typing the suggestion keeps showing its rest from the cache, without a new request', async () => {
    const text = 'class Counter:\n    def __init__(self):\n        self.count = 0\n\n    def increment(self):\n        self.';
    const first = await service.provide({ document: documentOf(text), ...endOf(text), languageId: 'python' });
    expect(first?.source).toBe('engine');
    expect(first!.text.length).toBeGreaterThan(2);
    const typed = text + first!.text.slice(0, 2);
    const calls = client.pendingCalls;
    const second = await service.provide({ document: documentOf(typed), ...endOf(typed), languageId: 'python' });
    expect(second).toMatchObject({ source: 'cache', text: first!.text.slice(2) });
    expect(client.pendingCalls).toBe(calls);
    // Backspacing to the first position finds its entry again.
    const back = await service.provide({ document: documentOf(text), ...endOf(text), languageId: 'python' });
    expect(back).toMatchObject({ source: 'cache', text: first!.text });
  });

  it('reads only the lines near the cursor of a 10 MB file', async () => {
    const line = 'value = compute(value, 12345)  # padding the file to ten megabytes\n';
    const big = line.repeat(Math.ceil((10 * 1024 * 1024) / line.length)) + 'def f(x):\n    return ';
    const doc = documentOf(big);
    const outcome = await service.provide({ document: doc, ...endOf(big), languageId: 'python' });
    expect(outcome).not.toBeNull();
    expect(doc.linesRead).toBeLessThan(1000);
    expect(outcome!.result!.usage.promptTokens).toBeLessThanOrEqual(DEFAULT_COMPLETION_SETTINGS.maxPromptTokens);
  });
});
