// The extension shell in a real VS Code: activation, the engine worker, the status, and a broken model path.

import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { GenerateResult, ModelInfo } from '../../../src/protocol/engine';
import { SHOW_GENERATING_AFTER_MS } from '../../../src/extension/shared/displayedState';
import { webviewPageHtml } from '../../../src/extension/shared/webviewPage';
import { api } from './harness';

async function setModel(value: string | undefined): Promise<void> {
  await vscode.workspace.getConfiguration('attentive').update('model', value, vscode.ConfigurationTarget.Global);
}

/** Whether ONNX Runtime's native library is mapped into this process (the extension host; worker threads share it). */
const runtimeMapped = (): boolean => readFileSync('/proc/self/maps', 'utf8').includes('onnxruntime');
/** Whether this thread (the extension host's main thread) has required onnxruntime-node; worker threads have their own. */
const runtimeRequired = (): boolean => Object.keys(require.cache).some((file) => file.includes('onnxruntime-node'));

export function engineSuite(): void {
  describe('Attentive extension shell', () => {
    after(() => setModel(undefined));

    it('activates and registers every command it contributes', async () => {
      const { backend } = await api();
      assert.equal(backend.state.kind, 'not-loaded', 'the engine must start lazily, not at activation');
      const commands = new Set(await vscode.commands.getCommands(true));
      const contributed = (vscode.extensions.getExtension('attentive.attentive')!.packageJSON as { contributes: { commands: Array<{ command: string }> } }).contributes.commands;
      assert.ok(contributed.length > 10, `only ${contributed.length} contributed commands`);
      const missing = contributed.map((c) => c.command).filter((command) => !commands.has(command));
      assert.deepEqual(missing, [], 'contributed but not registered');
    });

    it('builds every webview page under a strict Content Security Policy, with a fresh nonce for its one script', () => {
      const panel = vscode.window.createWebviewPanel('attentive.cspTest', 'CSP test', vscode.ViewColumn.One, { enableScripts: true });
      try {
        const extensionUri = vscode.extensions.getExtension('attentive.attentive')!.extensionUri;
        const page = () => webviewPageHtml(panel.webview, extensionUri, { script: 'chat.js', style: 'chat.css', title: 'Chat' });
        const html = page();
        const nonce = /script-src 'nonce-([A-Za-z0-9+/=]{24})'/.exec(html)?.[1];
        assert.ok(nonce, 'no nonce in the policy');
        const source = panel.webview.cspSource;
        const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
        assert.equal(csp, `default-src 'none'; style-src ${source}; img-src ${source} data:; font-src ${source}; script-src 'nonce-${nonce}'`);
        const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
        assert.deepEqual(scripts, [`<script nonce="${nonce}" src="${panel.webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'chat.js'))}">`]);
        assert.ok(!/\sstyle=|<style/.test(html), 'inline styles');
        assert.notEqual(/nonce-([^']+)'/.exec(page())?.[1], nonce, 'the nonce was reused');
      } finally {
        panel.dispose();
      }
    });

    it('loads no ONNX Runtime into the extension host before the first model use', async () => {
      const { backend } = await api();
      assert.equal(backend.state.kind, 'not-loaded');
      assert.equal(runtimeMapped(), false, 'onnxruntime is mapped into the extension host at activation');
      assert.equal(runtimeRequired(), false, 'the extension host required onnxruntime-node at activation');
    });

    it('loads the bundled model in the worker and reaches "ready"', async () => {
      const { backend } = await api();
      const states: string[] = [];
      const listener = backend.onStateChange((state) => states.push(state.kind));
      const info = await vscode.commands.executeCommand<ModelInfo>('attentive.showModelInfo');
      listener.dispose();
      assert.ok(info, 'Show Model Info returned nothing');
      assert.ok(info.layers > 0 && info.vocabSize > 0);
      assert.deepEqual(states.slice(0, 2), ['loading', 'ready']);
      assert.equal(backend.state.kind, 'ready');
    });

    it('after the first model use the runtime is in the process (the worker thread) but never required by the host thread', () => {
      assert.equal(runtimeMapped(), true, 'a loaded model left no onnxruntime mapping: the check above could not fail');
      assert.equal(runtimeRequired(), false, 'the extension host thread required onnxruntime-node');
    });

    it('generates text through the worker', async () => {
      const result = await vscode.commands.executeCommand<GenerateResult>('attentive.generate', { prompt: 'def add(a, b):', maxNewTokens: 12 });
      assert.ok(result, 'generate returned nothing');
      assert.ok(result.tokenIds.length > 0, 'no tokens were generated');
      assert.ok(result.usage.promptTokens > 0);
      console.log(`[attentive] generated ${JSON.stringify(result.text)} (${result.finishReason})`);
    });

    it('shows "generating" in the status bar and Model view only for calls that last', async () => {
      const { backend, displayed } = await api();
      const shown: string[] = [];
      const listener = displayed.onChange((state) => shown.push(state.kind));
      try {
        await backend.ensureLoaded();
        shown.length = 0; // loading states, when this test runs first
        const generate = (maxNewTokens: number) =>
          backend.generate({ prompt: 'def add(a, b):', maxNewTokens, minNewTokens: maxNewTokens, temperature: 0 });
        const quick = performance.now();
        await generate(2);
        const quickMs = performance.now() - quick;
        if (quickMs < SHOW_GENERATING_AFTER_MS) assert.deepEqual(shown, [], `a ${quickMs.toFixed(0)} ms call flashed the spinner`);
        shown.length = 0;
        const long = performance.now();
        const result = await generate(400);
        const longMs = performance.now() - long;
        assert.ok(result.usage.generatedTokens === 400);
        // 400 tokens take seconds, far over the delay: the spinner shows, then goes.
        assert.ok(longMs > SHOW_GENERATING_AFTER_MS + 100, `400 tokens in ${longMs.toFixed(0)} ms`);
        assert.deepEqual(shown, ['generating', 'ready'], `${longMs.toFixed(0)} ms`);
        assert.equal(displayed.state.kind, 'ready');
        console.log(`[attentive] displayed states: ${quickMs.toFixed(0)} ms call -> none; ${longMs.toFixed(0)} ms call -> ${shown.join(', ')}`);
      } finally {
        listener.dispose();
      }
    });

    it('reports a broken model path clearly and stays usable', async () => {
      const { backend } = await api();
      await setModel('/nonexistent/attentive-model');
      const failed = await vscode.commands.executeCommand<ModelInfo | undefined>('attentive.reloadModel');
      assert.equal(failed, undefined);
      assert.equal(backend.state.kind, 'error');
      const state = backend.state;
      assert.ok(state.kind === 'error' && /Model folder not found: \/nonexistent\/attentive-model/.test(state.message), JSON.stringify(state));
      await setModel(undefined);
      const info = await vscode.commands.executeCommand<ModelInfo>('attentive.reloadModel');
      assert.ok(info, 'reloading the bundled model failed after the broken path');
      const result = await vscode.commands.executeCommand<GenerateResult>('attentive.generate', { prompt: 'x = ', maxNewTokens: 4 });
      assert.ok(result && result.tokenIds.length > 0);
    });
  });
}
