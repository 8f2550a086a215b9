// The surprise map in a real extension host: "Show Surprise Map" paints the selected code by the local model's
// surprisal, and, with Explain Selection on a model server that returns prompt log-probabilities (`attentive serve`
// over real HTTP), by the server's numbers; an edit or "Clear Surprise Map" removes it.

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { SurpriseOutcome } from '../../../src/extension/surprise/registerSurprise';
import { SURPRISE_LEVELS, type SurpriseMap } from '../../../src/extension/surprise/surpriseMap';
import { startAttentiveServe, type AttentiveServer } from '../../helpers/attentiveServe';
import { api, closeAll, openFile, until } from './harness';

const CODE = 'def mean(values):\n    total = 0\n    for v in values:\n        total += v\n    return total / len(values)\n\nprint(mean([1, 2, 3]))\n';

async function setSettings(values: Record<string, unknown>): Promise<void> {
  const config = vscode.workspace.getConfiguration('attentive');
  for (const [key, value] of Object.entries(values)) await config.update(key, value, vscode.ConfigurationTarget.Global);
  await (await api()).servers.refresh();
}

async function showMap(): Promise<SurpriseMap> {
  const outcome = await vscode.commands.executeCommand<SurpriseOutcome>('attentive.showSurpriseMap');
  assert.equal(outcome.kind, 'shown', JSON.stringify(outcome));
  return (outcome as Extract<SurpriseOutcome, { kind: 'shown' }>).map;
}

/** Each painted token as "line:col-line:col bits". */
const described = (map: SurpriseMap) => map.tokens.map((t) => `${t.range.start.line}:${t.range.start.character}-${t.range.end.line}:${t.range.end.character}`);

export function surpriseSuite(): void {
  describe('Attentive: surprise map', function () {
    this.timeout(300_000);
    let server: AttentiveServer | undefined;

    after(async () => {
      await setSettings({ endpoints: undefined, 'explain.backend': undefined });
      await closeAll();
      await server?.stop();
    });

    it('paints the selection by the local model\'s surprisal: every token, its bits and level, as the backend scores them', async () => {
      const { backend, surprise } = await api();
      const { document, editor } = await openFile('surprise.py', CODE);
      editor.selection = new vscode.Selection(0, 0, 4, 30);
      const map = await showMap();
      assert.equal(map.source, 'the local model');
      assert.equal(map.uri.toString(), document.uri.toString());
      assert.equal(surprise.current, map);

      // The numbers are the model's: score the same text directly and match token by token.
      const text = document.getText(editor.selection);
      const scored = await backend.surprisal(text);
      const expected = scored.tokens
        .map((token, index) => ({ token, index, bits: scored.surprisal[index]! }))
        .filter(({ token, bits }) => token.start >= 0 && Number.isFinite(bits) && text.slice(token.start, token.end).trim().length > 0);
      assert.equal(map.tokens.length, expected.length);
      map.tokens.forEach((painted, i) => {
        const { token, index, bits } = expected[i]!;
        assert.equal(document.getText(painted.range), text.slice(token.start, token.end).trim());
        assert.ok(Math.abs(painted.bits - bits) < 1e-6);
        assert.equal(painted.level, bits >= 10 ? 2 : bits >= 6 ? 1 : bits >= 3 ? 0 : -1);
        assert.deepEqual(painted.predictions, scored.predictions[index]);
      });
      assert.deepEqual(SURPRISE_LEVELS.map((l) => l.bits), [3, 6, 10]);
      // Real code and a small model: some tokens are expected (unpainted) and some are not.
      assert.ok(map.tokens.some((t) => t.level < 0) && map.tokens.some((t) => t.level >= 1), described(map).join(' '));
      // Nothing outside the selection is scored.
      assert.ok(map.tokens.every((t) => t.range.end.line <= 4));
    });

    it('a selection longer than the model\'s context is scored as far as it fits, and says so', async () => {
      // About 1,400 tokens of Python for a model with 1,024 tokens of context.
      const body = Array.from({ length: 40 }, (_, i) => `def step_${i}(values, limit=${i}):\n    total = sum(v for v in values if v > limit)\n    return total * ${i + 1}\n\n`).join('');
      const { document, editor } = await openFile('surprise_long.py', body);
      editor.selection = new vscode.Selection(new vscode.Position(0, 0), document.lineAt(document.lineCount - 1).range.end);
      const map = await showMap();
      const lines = Number(/Only the first (\d+) lines were scored: the selection is longer than the model's context of 1024 tokens/.exec(map.note ?? '')?.[1]);
      assert.ok(lines > 20 && lines < document.lineCount - 1, map.note);
      assert.ok(map.tokens.every((t) => t.range.end.line < lines));
      // ...and all of them: the painted tokens reach the last scored lines.
      assert.ok(Math.max(...map.tokens.map((t) => t.range.end.line)) >= lines - 2, `${map.tokens.length} tokens up to line ${Math.max(...map.tokens.map((t) => t.range.end.line))}`);
    });

    it('an edit to the document removes the map; Clear Surprise Map does too', async () => {
      const { surprise } = await api();
      const { editor } = await openFile('surprise_edit.py', CODE);
      editor.selection = new vscode.Selection(0, 0, 1, 13);
      await showMap();
      await editor.edit((edit) => edit.insert(new vscode.Position(6, 0), '# note\n'));
      await until('the map cleared by the edit', () => surprise.current === undefined, 5_000);
      await showMap();
      await vscode.commands.executeCommand('attentive.clearSurpriseMap');
      assert.equal(surprise.current, undefined);
    });

    it('with Explain Selection on a model server with prompt log-probabilities, the map is the server\'s (attentive serve: the same model, the same numbers)', async () => {
      const { servers } = await api();
      const { editor } = await openFile('surprise_served.py', CODE);
      editor.selection = new vscode.Selection(0, 0, 4, 30);
      const local = await showMap();

      server = await startAttentiveServe();
      const host = new URL(server.baseUrl).host;
      await servers.allowHost(host);
      await setSettings({ endpoints: [{ name: 'mine', baseUrl: server.baseUrl, model: server.modelId, contextLength: 1024 }], 'explain.backend': 'mine' });
      const served = await showMap();
      assert.equal(served.source, `${server.modelId} at ${host}`);
      assert.deepEqual(described(served), described(local));
      served.tokens.forEach((token, i) => assert.ok(Math.abs(token.bits - local.tokens[i]!.bits) < 1e-3, `${token.bits} vs ${local.tokens[i]!.bits}`));
      assert.deepEqual(
        served.tokens.map((t) => t.predictions.map((p) => p.text)),
        local.tokens.map((t) => t.predictions.map((p) => p.text)),
      );
    });

    it('a server the user has not allowed gets nothing, and the command says why', async () => {
      const { surprise } = await api();
      assert.ok(server);
      // 'localhost' is another host name for the same server: not allowed yet.
      const other = server.baseUrl.replace('127.0.0.1', 'localhost');
      await setSettings({ endpoints: [{ name: 'other', baseUrl: other, model: server.modelId }], 'explain.backend': 'other' });
      const outcome = await vscode.commands.executeCommand<SurpriseOutcome>('attentive.showSurpriseMap');
      assert.equal(outcome.kind, 'failed');
      assert.match((outcome as { message: string }).message, /not allowed/);
      assert.equal(surprise.current, undefined);
    });
  });
}
