// The soak benchmark's workload, run inside the real extension host by bench/soak.mjs (bundled as out/bench/soak.js,
// loaded as the "extension tests"): rounds of inline completions with typing-style cancellation, chat replies and
// Explain Attention runs on the bundled model, sampling the extension host's memory and handles after each round.
// Writes its samples as JSON to ATTENTIVE_SOAK_OUT.

import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { api, closeAll, finished, lastReply, openFile, sleep, until } from '../../test/vscode/suite/harness';

interface Sample {
  round: number;
  completions: number;
  chats: number;
  attentions: number;
  seconds: number;
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
  /** process.getActiveResourcesInfo(): handles, requests and timers the event loop holds, by type. */
  resources: Record<string, number>;
}

const env = (name: string, fallback: number) => Number(process.env[name] || fallback);
const ROUNDS = env('ATTENTIVE_SOAK_ROUNDS', 50);
const COMPLETIONS_PER_ROUND = env('ATTENTIVE_SOAK_COMPLETIONS', 20);
const CHATS_PER_ROUND = env('ATTENTIVE_SOAK_CHATS', 4);
const ATTENTIONS_PER_ROUND = env('ATTENTIVE_SOAK_ATTENTIONS', 1);

/** Deterministic pseudo-random numbers, so two runs do the same work. */
let seed = 20261207;
const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const between = (low: number, high: number) => low + random() * (high - low);

/** Keystroke gaps of a fast typist (as bench/completion.mjs): the next keystroke cancels the request; now and then a pause lets it finish. */
const typingGap = () => (random() < 0.2 ? between(600, 1500) : between(60, 180));

const CODE = `import math


def mean(values):
    """The arithmetic mean of a non-empty list."""
    return sum(values) / len(values)


def variance(values):
    m = mean(values)
    return sum((v - m) ** 2 for v in values) / len(values)


class Stats:
    def __init__(self, values):
        self.values = list(values)

    def summary(self):
        return {"mean": mean(self.values), "variance": variance(self.values)}
`;

const TYPED = 'def standard_deviation(values):\n    return math.sqrt(variance(values))\n\n';

const QUESTIONS = [
  'Write a Python function that reverses a list.',
  'What does a decorator do?',
  'Write a function that counts vowels in a string.',
  'How do I read a JSON file in Python?',
  'Explain list comprehensions briefly.',
];

function sample(round: number, counts: { completions: number; chats: number; attentions: number }, started: number): Sample {
  const memory = process.memoryUsage();
  const resources: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1;
  return {
    round,
    ...counts,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    rssMb: Math.round(memory.rss / 1e5) / 10,
    heapUsedMb: Math.round(memory.heapUsed / 1e5) / 10,
    externalMb: Math.round(memory.external / 1e5) / 10,
    resources,
  };
}

export async function run(): Promise<void> {
  const out = process.env['ATTENTIVE_SOAK_OUT'];
  if (!out) throw new Error('ATTENTIVE_SOAK_OUT names the result file');
  const { completion, chat, attention, backend } = await api();
  const settings = vscode.workspace.getConfiguration('attentive');
  await settings.update('maxNewTokens', 48, vscode.ConfigurationTarget.Global);
  await backend.ensureLoaded();
  const counts = { completions: 0, chats: 0, attentions: 0 };
  const started = performance.now();
  const samples: Sample[] = [sample(0, counts, started)];
  const automatic = { triggerKind: vscode.InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined };
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      // Typing: each keystroke asks for a completion and the next one cancels it (VS Code cancels the provider's token).
      const { document, editor } = await openFile(`soak_${round % 2}.py`, CODE);
      let typed = 0;
      for (let i = 0; i < COMPLETIONS_PER_ROUND; i++) {
        const ch = TYPED[typed++ % TYPED.length]!;
        await editor.edit((edit) => edit.insert(document.lineAt(document.lineCount - 1).range.end, ch), { undoStopBefore: false, undoStopAfter: false });
        const position = document.lineAt(document.lineCount - 1).range.end;
        const cancel = new vscode.CancellationTokenSource();
        const answer = completion.provideInlineCompletionItems(document, position, automatic, cancel.token);
        await sleep(typingGap());
        cancel.cancel();
        await answer;
        cancel.dispose();
        counts.completions++;
      }
      for (let i = 0; i < CHATS_PER_ROUND; i++) {
        chat.sendRequest(QUESTIONS[(counts.chats + i) % QUESTIONS.length]!);
        await until('the reply', () => finished(lastReply(chat.openConversation.entries)), 120_000);
        counts.chats++;
        // A new conversation now and then, as users start one; the history keeps them.
        if (counts.chats % 8 === 0) chat.newChat();
      }
      for (let i = 0; i < ATTENTIONS_PER_ROUND; i++) {
        const end = document.lineAt(Math.min(document.lineCount - 1, 8 + ((round * 3) % 12))).range.end;
        await attention.explain(editor, new vscode.Range(new vscode.Position(0, 0), end));
        await until('the head details', () => attention.current?.details, 60_000);
        counts.attentions++;
      }
      await closeAll();
      samples.push(sample(round, counts, started));
      fs.writeFileSync(out, JSON.stringify({ rounds: ROUNDS, samples }, null, 1));
      console.log(`[attentive] soak round ${round}/${ROUNDS}: ${JSON.stringify(samples.at(-1))}`);
    }
  } finally {
    attention.close();
    chat.newChat();
    await settings.update('maxNewTokens', undefined, vscode.ConfigurationTarget.Global);
  }
  // test/vscode/run.mjs waits for this line.
  console.log('[attentive] tests finished: 1 passed, 0 failed');
}
