// UI checks of model servers (run by test/vscode/ui.mjs in its workbench): the chat's first-run welcome offers Select
// Model's catalog, and "Connect a model server" walks through Add Model Server's real pickers to a running `attentive serve`; the chat then answers
// from it, and says so plainly when the server goes away.

import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { ROOT } from '../../../scripts/vscode-server.mjs';
import { freshWindow, openAndSelectAll } from './window.mjs';

/** `attentive serve` from the build (dist/cli.js) on a free port of 127.0.0.1. */
async function startAttentiveServe(apiKey) {
  const args = [path.join(ROOT, 'dist', 'cli.js'), 'serve', '--port', '0', '--threads', '1', ...(apiKey ? ['--api-key', apiKey] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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

      // The Model view says where the chat runs.
      const roleRow = (label) => page.locator('.monaco-list-row', { hasText: label });
      await showModelView(page);
      await roleRow('Chat').filter({ hasText: `attentive-code-14m at ${host}` }).first().waitFor({ timeout: 15_000 });

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
      await roleRow('Chat').filter({ hasText: `attentive-code-14m at ${host}: error` }).first().waitFor({ timeout: 15_000 });
    } finally {
      await server.stop();
    }
  });

  await check('the first completion request to a new server asks once in a dialog; a busy server (429) shows in the Model view with its Retry-After', async () => {
    let completions = 0;
    const busy = http.createServer((request, response) => {
      request.resume();
      if (request.method === 'GET') {
        response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'coder', object: 'model' }] }));
        return;
      }
      completions++;
      response.writeHead(429, { 'Retry-After': '30', 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { message: 'Too many requests' } }));
    });
    await new Promise((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${busy.address().port}/v1`;
    const host = new URL(baseUrl).host;
    try {
      await freshWindow({ page, runCommand, settingsFile }, { ...baseSettings, 'attentive.endpoints': [{ name: 'busy', baseUrl, model: 'coder' }], 'attentive.completion.backend': 'busy' }, 'Default Dark Modern');
      // Once the extension is up, the Model view says where completion runs.
      const completionRow = page.locator('.monaco-list-row', { hasText: 'Inline completion' });
      await showModelView(page);
      await completionRow.filter({ hasText: `coder at ${host}` }).first().waitFor({ timeout: 30_000 });
      await openAndSelectAll(page, 'fib.py', 'def fibonacci');
      await page.keyboard.press('Control+End');
      // At the end of a line, with no word for the suggest widget to complete.
      await page.keyboard.type('x = ');
      // Nothing goes to the server before the user allows it.
      await allowServer(page, host, () => assert.equal(completions, 0));
      // The editor gave up on the request that waited for the answer; the next keystroke asks the server (a digit:
      // no word for the suggest widget, whose open list would take precedence).
      await page.keyboard.type('1');
      await completionRow.filter({ hasText: `coder at ${host}: busy, asked to wait 30 s` }).first().waitFor({ timeout: 30_000 });
      assert.equal(completions, 1);
      // Typing on sends nothing while the server asked to wait.
      await page.keyboard.type(' + 2');
      await page.waitForTimeout(1_000);
      assert.equal(completions, 1);
    } finally {
      await page.keyboard.press('Escape');
      await runCommand('File: Revert File');
      busy.close();
    }
  });

  await check('a server that refuses the missing key says so with a Set API Key button; the key typed there is sent and the chat answers', async () => {
    const server = await startAttentiveServe('sk-ui-key');
    const host = new URL(server.baseUrl).host;
    try {
      const endpoints = [{ name: 'keyed', baseUrl: server.baseUrl, model: 'attentive-code-14m' }];
      await freshWindow({ page, runCommand, settingsFile }, { ...baseSettings, 'attentive.endpoints': endpoints, 'attentive.chat.backend': 'keyed' }, 'Default Dark Modern');
      await runCommand('Attentive: New Chat');
      const input = chatFrame().locator('textarea.input');
      await input.fill('Hello');
      await input.press('Enter');
      await allowServer(page, host);
      await chatFrame().locator('.entry-assistant.status-error', { hasText: 'HTTP 401' }).last().waitFor({ timeout: 30_000 });
      const offer = page.locator('.notifications-toasts .notification-toast', { hasText: `the model server at ${host} needs an API key` });
      await offer.waitFor({ timeout: 15_000 });
      await offer.locator('.monaco-button', { hasText: 'Set API Key' }).click();
      const quick = page.locator('.quick-input-widget');
      await quick.locator('.quick-input-title', { hasText: `API key for keyed (${host})` }).waitFor({ timeout: 15_000 });
      assert.equal(await quick.locator('input').getAttribute('type'), 'password');
      await quick.locator('input').fill('sk-ui-key');
      await page.keyboard.press('Enter');
      await page.locator('.notifications-toasts', { hasText: 'the API key for keyed is saved' }).waitFor({ timeout: 15_000 });
      assert.ok(!fs.readFileSync(settingsFile, 'utf8').includes('sk-ui-key'), 'the key is in the settings file');
      const answers = await chatFrame().locator('.entry-assistant.status-done').count();
      await input.fill('Hello again');
      await input.press('Enter');
      await chatFrame().locator('.entry-assistant.status-done').nth(answers).waitFor({ timeout: 60_000 });
    } finally {
      await server.stop();
    }
  });
}

/** The Attentive container's Model view, expanded. */
async function showModelView(page) {
  const header = page.locator('.pane-header', { hasText: 'Model' });
  if (!(await header.isVisible())) await page.locator('.activitybar [aria-label^="Attentive"]').first().click();
  await header.waitFor({ timeout: 20_000 });
  if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
}

/**
 * Answers the consent dialog for `host` with Allow; `beforeAllowing` runs while it is open. (Playwright's visibility
 * check never saw the modal dialog box as visible here, so its text is polled.)
 */
async function allowServer(page, host, beforeAllowing = () => undefined) {
  const asking = `Attentive will send your code and messages to the model server at ${host}`;
  const dialogText = () => page.evaluate(() => globalThis.document.querySelector('.monaco-dialog-box')?.innerText ?? '');
  const deadline = Date.now() + 30_000;
  while (!(await dialogText()).includes(asking) && Date.now() < deadline) await page.waitForTimeout(200);
  assert.ok((await dialogText()).includes(asking), `no dialog asked about ${host}`);
  beforeAllowing();
  await page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Allow' }).click();
}
