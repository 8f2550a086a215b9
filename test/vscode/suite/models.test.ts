// Choosing models in a real VS Code: "Attentive: Select Model" with a local folder (then a chat with that model), and
// with a Hugging Face repository downloaded over real HTTP from a hub-shaped server on 127.0.0.1 into the extension's
// global storage, then loaded, listed (as Manage Models lists them) and deleted.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { listDownloaded, deleteDownloaded } from '../../../src/extension/models/download';
import type { ModelInfo } from '../../../src/protocol/engine';
import { startHubServer, type HubServer } from '../../helpers/hubServer';
import { api, lastReply, sleep, until } from './harness';


/** The engine's model once it is the one in `folder` (loaded on first use, or reloaded after the setting changed). */
async function loadedFrom(folder: string): Promise<ModelInfo> {
  const { backend } = await api();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const info = await backend.ensureLoaded();
    if (info.folder === folder) return info;
    if (Date.now() > deadline) throw new Error(`the engine still runs ${info.folder}, not ${folder}`);
    await sleep(200);
  }
}

export function modelsSuite(): void {
  describe('Attentive: Select Model', function () {
    this.timeout(120_000);
    let hub: HubServer;
    const config = () => vscode.workspace.getConfiguration('attentive');
    const fixture = (name: string) => path.join(vscode.extensions.getExtension('attentive.attentive')!.extensionPath, 'test', 'fixtures', 'models', name);

    // Optimum's split decoder pair, which the engine does not run: a real model's files under those names.
    const splitDecoder = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-split-decoder-'));

    before(async () => {
      for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(fixture(`gpt2-tiny/${file}`), path.join(splitDecoder, file));
      fs.mkdirSync(path.join(splitDecoder, 'onnx'));
      for (const file of ['decoder_model.onnx', 'decoder_with_past_model.onnx']) fs.copyFileSync(fixture('gpt2-tiny/onnx/model.onnx'), path.join(splitDecoder, 'onnx', file));
      hub = await startHubServer({ 'fixtures/attentive-tiny': fixture('attentive-tiny'), 'fixtures/split-decoder': splitDecoder });
    });
    after(async () => {
      await config().update('model', undefined, vscode.ConfigurationTarget.Global);
      await config().update('hub.url', undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('attentive.reloadModel');
      await hub.close();
      fs.rmSync(splitDecoder, { recursive: true, force: true });
    });

    it('a local model folder: selected, loaded, and the chat answers with it', async () => {
      const { chat, test } = await api();
      const folder = fixture('llama-tiny');
      // Named by the caller, not picked in Select Model: the user is asked first, and nothing changes on a no.
      const questions: string[] = [];
      await test!.models.select({ folder }, async (question) => (questions.push(question), false));
      assert.deepEqual(questions, [`Use the model in ${folder} for Attentive?`]);
      assert.notEqual(config().get('model'), folder);
      await test!.models.select({ folder }, async () => true);
      assert.equal(config().get('model'), folder);
      const info = await loadedFrom(folder);
      assert.equal(info.name, 'llama-tiny');
      chat.newChat();
      chat.sendRequest('Say hello.');
      const reply = await until('a finished reply', () => {
        const r = lastReply(chat.openConversation.entries);
        return r && ['done', 'stopped', 'error'].includes(r.status) && r;
      });
      assert.equal(reply.status, 'done', reply.error);
      assert.ok(reply.stats && reply.stats.generatedTokens > 0);
      assert.equal(reply.stats.model, info.name);
    });

    it('a hub repository: downloaded into global storage over HTTP after the user said yes to its size, loaded, listed, deleted', async () => {
      const { test } = await api();
      await config().update('hub.url', hub.url, vscode.ConfigurationTarget.Global);
      const storage = path.join(test!.globalStoragePath, 'models');
      const folder = path.join(storage, 'fixtures', 'attentive-tiny');
      // A no: only the listing was read (for the size in the question), nothing downloaded, the setting kept.
      const questions: string[] = [];
      await test!.models.select({ repo: 'fixtures/attentive-tiny' }, async (question) => (questions.push(question), false));
      assert.match(questions[0] ?? '', /^Download fixtures\/attentive-tiny \(int8, 6 files, [\d.]+ MB\) from 127\.0\.0\.1:\d+\?$/);
      assert.ok(!fs.existsSync(folder), 'downloaded without a yes');
      assert.ok(!hub.requests.some((r) => r.path.includes('/resolve/')), 'a file was requested without a yes');
      await test!.models.select({ repo: 'fixtures/attentive-tiny' }, async () => true);
      assert.equal(config().get('model'), folder);
      assert.ok(fs.existsSync(path.join(folder, 'onnx')), 'nothing downloaded');
      assert.ok(hub.requests.some((r) => r.path === '/api/models/fixtures/attentive-tiny/tree/main'));
      const info = await loadedFrom(folder);
      assert.equal(path.dirname(info.onnxFile), path.join(folder, 'onnx'));
      const result = await vscode.commands.executeCommand<{ tokenIds: number[] }>('attentive.generate', { prompt: 'x = ', maxNewTokens: 3 });
      assert.ok(result && result.tokenIds.length > 0);
      assert.deepEqual(listDownloaded(storage).map((m) => m.record.repo), ['fixtures/attentive-tiny']);
      await config().update('model', undefined, vscode.ConfigurationTarget.Global);
      deleteDownloaded(storage, folder);
      assert.deepEqual(listDownloaded(storage), []);
    });

    it('a hub repository in a layout the engine does not run is refused from its listing: nothing downloaded, the model kept', async () => {
      const { test } = await api();
      await config().update('hub.url', hub.url, vscode.ConfigurationTarget.Global);
      const before = config().get('model');
      const requestsBefore = hub.requests.length;
      await test!.models.select({ repo: 'fixtures/split-decoder' }, async () => true);
      const requests = hub.requests.slice(requestsBefore).map((r) => r.path);
      assert.deepEqual(requests, ['/api/models/fixtures/split-decoder/tree/main'], 'only the listing was asked for');
      assert.equal(config().get('model'), before);
      assert.ok(!fs.existsSync(path.join(test!.globalStoragePath, 'models', 'fixtures', 'split-decoder')), 'a folder was created');
    });
  });
}
