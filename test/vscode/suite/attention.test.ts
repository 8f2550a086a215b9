// Explain Attention in a real VS Code extension host: the command runs the selected code through the bundled model
// (engine worker), the panel opens beside the editor with one token per model token, its webview loads and gets the
// matrix it shows with the data (then every head's details), a hidden panel's page reloads and gets it all again,
// hovering a token (the panel's own message handler, as the webview calls it) decorates the editor ranges of the
// tokens it attends to, moving the cursor selects a token, CRLF files map exactly, and editing the document marks the
// view stale.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AppliedDecoration } from '../../../src/extension/attention/keyDecorations';
import type { AttentionHostMessage, AttentionView } from '../../../src/protocol/attention';
import { api, closeAll, openFile, until } from './harness';
import { longestEventLoopGap } from '../../helpers/eventLoop';

const HEAD: AttentionView = { kind: 'head', layer: 0, head: 0 };

async function explain(editor: vscode.TextEditor, selection: vscode.Selection): Promise<number> {
  const { attention } = await api();
  editor.selection = selection;
  await vscode.commands.executeCommand('attentive.explainAttention');
  const current = await until('the attention panel with tokens and a loaded webview', () => attention.current?.ready && attention.current.tokens > 0 && attention.current, 120_000);
  return current.tokens;
}

/** What the controller's events told: messages posted to the webview, counted by type, and the decorations now shown. */
const seen = { posted: new Map<AttentionHostMessage['type'], number>(), decorations: [] as AppliedDecoration[] };

export function attentionSuite(): void {
  describe('Attentive: Explain Attention', function () {
    this.timeout(180_000);
    const watching: vscode.Disposable[] = [];
    before(async () => {
      const { attention } = await api();
      watching.push(
        attention.onDidPost((type) => seen.posted.set(type, (seen.posted.get(type) ?? 0) + 1)),
        attention.onDidDecorate((decorations) => (seen.decorations = decorations)),
      );
    });
    after(() => watching.forEach((subscription) => subscription.dispose()));
    afterEach(async () => {
      (await api()).attention.close();
      await closeAll();
    });

    it('opens the view with one token per model token; the matrix on screen goes with the data; hovering a token decorates the editor', async () => {
      const { attention, backend } = await api();
      const matricesBefore = seen.posted.get('matrix') ?? 0;
      const { editor, document } = await openFile('attend.py', 'import os\n\ndef total(values):\n    result = 0\n    for value in values:\n        result += value\n    return result\n');
      const selection = new vscode.Selection(2, 0, 6, 17);
      const tokens = await explain(editor, selection);
      const ids = await backend.tokenize(document.getText(selection));
      // The model's tokens of the code, after the tokenizer's BOS (as the model saw every document in training).
      assert.equal(tokens, ids.length + 1);
      assert.equal(attention.current?.label, 'attend.py:3-7');
      // The panel is a webview panel beside the editor.
      const tab = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.label.startsWith('Attention: attend.py'));
      assert.ok(tab, 'no attention tab');
      assert.notEqual(tab.group.viewColumn, editor.viewColumn);
      // The matrix on screen went out with the data, and every head's thumbnail and statistics after it: the page
      // painted without asking for a matrix.
      await until('head details sent to the webview', () => attention.current?.details && (seen.posted.get('details') ?? 0) > 0, 30_000);
      assert.equal(attention.current?.timings?.matrixWithData, true);
      assert.equal(seen.posted.get('matrix') ?? 0, matricesBefore, 'the webview asked for a matrix it should have had');

      // Hover the last token: the keys it attends to are decorated, each range holding exactly its token's text.
      await attention.handle({ type: 'hoverToken', index: tokens - 1, view: HEAD });
      assert.ok(seen.decorations.length > 0, 'no decorations');
      const matrix = await attention.matrix(HEAD);
      let sum = 0;
      for (const d of seen.decorations) {
        assert.ok(d.token <= tokens - 1);
        assert.equal(d.weight, matrix[(tokens - 1) * tokens + d.token]);
        sum += d.weight;
        assert.ok(d.range.start.line >= 2 && d.range.end.line <= 6, `decoration outside the explained code: ${d.range.start.line}`);
      }
      assert.ok(sum <= 1.0001, `weights sum to ${sum}`);
      const decoratedText = seen.decorations.map((d) => document.getText(d.range));
      assert.ok(decoratedText.every((text) => document.getText(selection).includes(text)));
      // Leaving clears them.
      await attention.handle({ type: 'hoverToken', index: null, view: HEAD });
      assert.equal(seen.decorations.length, 0);

      // Each layer/head/aggregation is its own matrix: rows sum to 1 (head, mean, rollout), nothing above the diagonal.
      for (const view of [HEAD, { kind: 'head', layer: 5, head: 3 }, { kind: 'mean', layer: 2 }, { kind: 'rollout', layer: 5 }] as AttentionView[]) {
        const m = await attention.matrix(view);
        assert.equal(m.length, tokens * tokens);
        for (const q of [0, Math.floor(tokens / 2), tokens - 1]) {
          let rowSum = 0;
          for (let k = 0; k < tokens; k++) {
            if (k > q) assert.equal(m[q * tokens + k], 0);
            rowSum += m[q * tokens + k]!;
          }
          assert.ok(Math.abs(rowSum - 1) < 1e-3, `${JSON.stringify(view)} row ${q} sums to ${rowSum}`);
        }
      }
      assert.notDeepEqual(await attention.matrix(HEAD), await attention.matrix({ kind: 'head', layer: 5, head: 3 }));
      // The head view's all-heads rows: the query's row in each head of the layer, as in that head's matrix.
      const sentRows = seen.posted.get('rows') ?? 0;
      await attention.handle({ type: 'requestRows', requestId: 1, layer: 5, query: 4 });
      assert.equal(seen.posted.get('rows'), sentRows + 1);
      // The JSON export holds every row of the lower triangle.
      const exported = JSON.parse(await attention.exportJsonText(HEAD)) as { tokens: unknown[]; weights: number[][] };
      assert.equal(exported.tokens.length, tokens);
      assert.deepEqual(exported.weights.map((r) => r.length), Array.from({ length: tokens }, (_, i) => i + 1));
    });

    it('1,000 tokens: the host side (engine run, first matrix, then summaries and thumbnails) stays within bounds', async () => {
      const { attention } = await api();
      const body = Array.from({ length: 28 }, (_, i) => `def step_${i}(values, limit=${i}):\n    total = sum(v for v in values if v > limit)\n    return total * ${i + 1}\n\n`).join('');
      const { editor, document } = await openFile('long_attend.py', body);
      const started = Date.now();
      const tokens = await explain(editor, new vscode.Selection(new vscode.Position(0, 0), document.lineAt(document.lineCount - 1).range.end));
      const total = Date.now() - started;
      assert.ok(tokens > 900 && tokens <= 1024, `${tokens} tokens`);
      await until('head details', () => attention.current?.details, 30_000);
      const { engineMs, prepareMs, detailsMs = NaN } = attention.current!.timings!;
      const matrixStarted = performance.now();
      await attention.matrix({ kind: 'head', layer: 3, head: 2 });
      const headMs = performance.now() - matrixStarted;
      // Rollout runs in the analysis thread: the extension host's event loop keeps turning meanwhile.
      const { result: rolloutMatrix, gapMs: longestGap, ms: rolloutMs } = await longestEventLoopGap(() => attention.matrix({ kind: 'rollout', layer: 5 }));
      console.log(`      ${tokens} tokens: command to data ${total} ms (engine ${engineMs} ms, data and first matrix ${prepareMs} ms; then summaries and thumbnails ${detailsMs} ms); one head ${headMs.toFixed(1)} ms, rollout of 6 layers ${rolloutMs.toFixed(0)} ms (longest event-loop gap meanwhile ${longestGap.toFixed(0)} ms)`);
      assert.equal(rolloutMatrix.length, tokens * tokens);
      // On the host's thread this rollout would hold the loop for all of it (over a second here).
      assert.ok(longestGap < 500, `the event loop was held ${longestGap.toFixed(0)} ms during rollout`);
      assert.ok(prepareMs < 3_000, `preparing the data took ${prepareMs} ms`);
      assert.ok(detailsMs < 3_000, `summaries and thumbnails took ${detailsMs} ms`);
      assert.ok(rolloutMs < 10_000, `rollout took ${rolloutMs} ms`);
    });

    it('hidden and shown again, the panel\'s page reloads and gets its data, matrix and details again', async () => {
      const { attention } = await api();
      const { editor } = await openFile('reload.py', 'def area(w, h):\n    return w * h\n');
      await explain(editor, new vscode.Selection(0, 0, 1, 16));
      await until('details sent', () => attention.current?.details, 30_000);
      const panelTab = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.label.startsWith('Attention: reload.py'));
      const group = panelTab()!.group.viewColumn;
      const dataBefore = seen.posted.get('data') ?? 0;
      const detailsBefore = seen.posted.get('details') ?? 0;
      // Another editor on top of the panel in its group hides it: VS Code drops the hidden page.
      await vscode.window.showTextDocument(editor.document, { viewColumn: group, preview: false });
      await until('the panel hidden', () => !panelTab()?.isActive, 10_000);
      await vscode.commands.executeCommand('workbench.action.previousEditorInGroup');
      await until('the panel shown again', () => panelTab()?.isActive, 10_000);
      await until('data and details sent to the reloaded page', () => (seen.posted.get('data') ?? 0) > dataBefore && (seen.posted.get('details') ?? 0) > detailsBefore, 30_000);
      assert.equal(attention.current?.label, 'reload.py:1-2');
    });

    it('a public-style model without attention outputs (Llama-shaped fixture: GQA, RoPE): its graph is rewritten once into the extension\'s storage', async () => {
      const { attention, test } = await api();
      const extension = vscode.extensions.getExtension('attentive.attentive')!;
      const folder = path.join(extension.extensionPath, 'test', 'fixtures', 'models', 'llama-tiny');
      const config = vscode.workspace.getConfiguration('attentive');
      await config.update('model', folder, vscode.ConfigurationTarget.Global);
      try {
        const info = await vscode.commands.executeCommand<{ hasAttentionOutputs: boolean; kvHeads: number; heads: number } | undefined>('attentive.reloadModel');
        assert.ok(info && !info.hasAttentionOutputs && info.kvHeads < info.heads, JSON.stringify(info));
        const { editor } = await openFile('llama_attend.py', 'def mean(xs):\n    return sum(xs) / len(xs)\n');
        const tokens = await explain(editor, new vscode.Selection(0, 0, 1, 27));
        assert.ok(tokens > 5, `${tokens} tokens`);
        await until('head details', () => attention.current?.details, 30_000);
        const m = await attention.matrix({ kind: 'head', layer: 0, head: 1 });
        let rowSum = 0;
        for (let k = 0; k < tokens; k++) rowSum += m[(tokens - 1) * tokens + k]!;
        assert.ok(Math.abs(rowSum - 1) < 1e-3, `last row sums to ${rowSum}`);
        // The rewritten graph is kept in the extension's global storage, not next to the model.
        const graphs = fs.readdirSync(path.join(test!.globalStoragePath, 'model-cache', 'attention-graphs'), { recursive: true }).map(String);
        assert.ok(graphs.some((name) => name.endsWith('.onnx')), `no rewritten graph in global storage: ${graphs.join(', ')}`);
        assert.deepEqual(fs.readdirSync(path.join(folder, 'onnx')).sort(), ['model.onnx', 'model_quantized.onnx']);
      } finally {
        await config.update('model', undefined, vscode.ConfigurationTarget.Global);
        await vscode.commands.executeCommand('attentive.reloadModel');
      }
    });

    it('moving the cursor in the explained code selects that token in the view', async () => {
      const { editor } = await openFile('cursor.py', 'def square(x):\n    return x * x\n');
      await explain(editor, new vscode.Selection(0, 0, 1, 16));
      const before = seen.posted.get('selectToken') ?? 0;
      editor.selection = new vscode.Selection(1, 12, 1, 12);
      await until('selectToken sent to the webview', () => (seen.posted.get('selectToken') ?? 0) > before, 10_000);
    });

    it('with nothing selected it explains the function around the cursor', async () => {
      const { attention } = await api();
      const { editor } = await openFile('block.py', 'x = 1\n\n\ndef double(y):\n    return y * 2\n');
      const tokens = await explain(editor, new vscode.Selection(4, 5, 4, 5));
      assert.ok(tokens > 5);
      assert.equal(attention.current?.label, 'block.py:4-5');
    });

    it('a CRLF file: decorated ranges hold their tokens\' text; an edit marks the view stale and clears the links', async () => {
      const { attention } = await api();
      const { editor, document } = await openFile('crlf_attend.py', 'def greet(name):\r\n\tmessage = "héllo " + name\r\n\treturn message\r\n');
      assert.equal(document.eol, vscode.EndOfLine.CRLF);
      const all = new vscode.Selection(0, 0, 2, 15);
      const tokens = await explain(editor, all);
      const text = document.getText(all);
      assert.ok(text.includes('\r\n'));
      // The max over the last layer's heads reaches many earlier tokens.
      await attention.handle({ type: 'hoverToken', index: tokens - 1, view: { kind: 'max', layer: 5 } });
      assert.ok(seen.decorations.length > 3);
      for (const d of seen.decorations) {
        const decorated = document.getText(d.range);
        assert.ok(text.includes(decorated), `${JSON.stringify(decorated)} is not in the explained text`);
        assert.ok(!decorated.endsWith('\r'), 'a range ends inside a line break');
      }
      await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), '# changed\r\n'));
      await until('the view marked stale', () => attention.current?.stale, 5_000);
      assert.equal(seen.decorations.length, 0);
      await attention.handle({ type: 'hoverToken', index: 1, view: HEAD });
      assert.equal(seen.decorations.length, 0, 'a stale view decorated the editor');
    });
  });
}
