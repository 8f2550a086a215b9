// UI checks of model servers (run by test/vscode/ui.mjs in its workbench): the chat's first-run welcome offers Select
// Model's catalog, and "Connect a model server" walks through Add Model Server's real pickers to a running `attentive serve`; the chat then answers
// from it, and says so plainly when the server goes away.

import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../../../scripts/vscode-server.mjs';
import { freshWindow } from './window.mjs';

/** `attentive serve` from the build (dist/cli.js) on a free port of 127.0.0.1. */
async function startAttentiveServe() {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'serve', '--port', '0', '--threads', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const baseUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`attentive serve did not start:\n${log}`)), 60_000);
    const read = (chunk) => {
      log += chunk.toString();
      const match = /attentive serve: \S+ at (http:\/\/\S+\/v1)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => reject(new Error(`attentive serve exited (${code}):\n${log}`)));
  });
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  return { baseUrl, stop };
}

export async function serverChecks({ page, check, runCommand, chatFrame, settingsFile, baseSettings }) {
  await check('the chat welcome\'s "Download a model" opens the catalog; "Connect a model server" walks through Add Model Server to attentive serve; the chat answers from it, and says so when it goes away', async () => {
    const server = await startAttentiveServe();
    const host = new URL(server.baseUrl).host;
    try {
      await freshWindow({ page, runCommand, settingsFile }, baseSettings, 'Default Dark Modern');
      await runCommand('Attentive: New Chat'); // opens the chat view on an empty conversation
      await chatFrame().getByText('The chat runs on the small model that comes with Attentive').waitFor({ timeout: 30_000 });
      const quick = page.locator('.quick-input-widget');
      // "Download a model" opens Select Model with the catalog (nothing is downloaded until one is picked).
      await chatFrame().getByRole('button', { name: /^Download a chat model/ }).click();
      await quick.locator('.quick-input-title', { hasText: 'Attentive: Select Model' }).waitFor({ timeout: 30_000 });
      await quick.locator('.monaco-list-row', { hasText: 'Qwen2.5-Coder' }).first().waitFor();
      await page.keyboard.press('Escape');
      await chatFrame().getByRole('button', { name: /^Connect a model server/ }).click();

      const step = (n) => quick.locator('.quick-input-title', { hasText: `(${n}/5)` }).waitFor({ timeout: 30_000 });
      await step(1);
      for (const preset of ['Ollama', 'LM Studio', 'llama.cpp', 'vLLM']) await quick.locator('.monaco-list-row', { hasText: preset }).first().waitFor();
      await quick.locator('.monaco-list-row', { hasText: 'Other server' }).click();
      await step(2);
      await quick.locator('input').fill(server.baseUrl);
      await page.keyboard.press('Enter');
      await step(3);
      await page.keyboard.press('Enter'); // no API key
      await step(4); // attentive serve lists its model
      await quick.locator('.monaco-list-row', { hasText: 'attentive-code-14m' }).click();
      await step(5);
      // "Chat and Explain Selection" comes ticked; OK takes it.
      await quick.getByRole('button', { name: 'OK' }).click();
      await page.locator('.notifications-toasts', { hasText: `added as "${host}"` }).waitFor({ timeout: 30_000 });

      // The user's settings name the server (and hold no key); the chat says where it runs now.
      const settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8'));
      assert.deepEqual(settings['attentive.endpoints'], [{ name: host, baseUrl: server.baseUrl, model: 'attentive-code-14m' }]);
      assert.equal(settings['attentive.chat.backend'], host);
      await chatFrame().getByText(`The chat runs on attentive-code-14m at ${host}.`).waitFor({ timeout: 30_000 });

      const input = chatFrame().locator('textarea.input');
      await input.fill('Write a Python function that adds two numbers.');
      await input.press('Enter');
      await chatFrame().locator('.entry-assistant.status-done').last().waitFor({ timeout: 60_000 });
      const answers = await chatFrame().locator('.entry-assistant').count();

      // The server goes away: the next reply fails with the reason; what came before stays.
      await server.stop();
      await input.fill('And one that subtracts them?');
      await input.press('Enter');
      const failed = chatFrame().locator('.entry-assistant.status-error').last();
      await failed.waitFor({ timeout: 60_000 });
      assert.match(await failed.innerText(), new RegExp(`${host.replace(/\./g, '\\.')}.*(refused|not reachable|unreachable)`, 'is'));
      assert.equal(await chatFrame().locator('.entry-assistant').count(), answers + 1);
      assert.equal(await chatFrame().locator('.entry-assistant.status-done').count(), answers);
    } finally {
      await server.stop();
    }
  });
}
