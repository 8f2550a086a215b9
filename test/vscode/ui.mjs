// UI tests: drive the real VS Code workbench (code-server 1.100 + headless Chromium) like a person, with the
// extension installed as users get it (linked into an empty extensions folder), and check what is on screen.
// Screenshots go to .vscode-test/screenshots/. Exit code 0 = all checks passed.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attentionChecks } from './ui/attention.mjs';
import { editChecks } from './ui/edit.mjs';
import { serverChecks } from './ui/servers.mjs';
import { surpriseChecks } from './ui/surprise.mjs';
import { trustChecks } from './ui/trust.mjs';
import { QUIET_SETTINGS, ROOT, TEST_DIR, launchChromium, prepareInstalledRun, runPaletteCommand, startCodeServer } from '../../scripts/vscode-server.mjs';

const PORT = Number(process.env.ATTENTIVE_UI_PORT || 18182);
// A second run beside another needs its own folder (and ATTENTIVE_UI_PORT).
const runDir = process.env.ATTENTIVE_UI_RUN_DIR || path.join(TEST_DIR, 'run-ui-tests');
const shots = path.join(TEST_DIR, 'screenshots');
fs.mkdirSync(shots, { recursive: true });
// Long replies may run to 1,024 tokens: at ~500 tokens/s a 256-token reply can end before Stop is clicked.
const baseSettings = { ...QUIET_SETTINGS, 'attentive.temperature': 0, 'attentive.maxNewTokens': 1024 };
const { workspace, extensionsDir, userDataDir, settingsFile } = prepareInstalledRun(runDir, baseSettings);
fs.writeFileSync(path.join(workspace, 'fib.py'), 'def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n');
// The first session starts with a model path that does not exist (as a user with a typo would).
const badModel = path.join(runDir, 'no-such-model');
fs.writeFileSync(settingsFile, JSON.stringify({ ...baseSettings, 'attentive.model': badModel }));

const results = [];
let currentPage = null;
async function check(name, body) {
  // ATTENTIVE_UI_GREP runs only the checks whose names contain it (each such check sets up what it needs).
  if (process.env.ATTENTIVE_UI_GREP && !name.includes(process.env.ATTENTIVE_UI_GREP)) return;
  const started = Date.now();
  try {
    await body();
    results.push({ name, ok: true });
    console.log(`  ✔ ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    results.push({ name, ok: false });
    await currentPage?.screenshot({ path: path.join(shots, `failed-${results.length}.png`) }).catch(() => undefined);
    console.log(`  ✗ ${name}\n    ${String(error?.stack ?? error).split('\n').slice(0, 4).join('\n    ')}`);
  }
}

let server;
let browser;
const watchdog = setTimeout(() => {
  console.error('UI tests timed out');
  process.exit(124);
}, Number(process.env.ATTENTIVE_TEST_TIMEOUT_MS || 600_000));
watchdog.unref();

try {
  server = await startCodeServer({ runDir, port: PORT, workspace, extensionsDir, userDataDir, log: path.join(runDir, 'code-server.log') });
  browser = await launchChromium(runDir);
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  currentPage = page;
  await page.goto(server.url);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });

  /** Runs a command from the palette by its title, as a user would. */
  const runCommand = (title) => runPaletteCommand(page, title);
  const statusItem = page.locator('#attentive\\.attentive\\.attentive\\.model, .statusbar-item[id*="attentive.model"]');

  await check('the Attentive activity-bar container shows the Model view, not loaded until first use', async () => {
    await page.locator('.activitybar [aria-label^="Attentive"]').first().click();
    const header = page.locator('.pane-header', { hasText: 'Model' });
    await header.waitFor({ timeout: 20_000 });
    if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
    await page.locator('.monaco-list-row', { hasText: 'model not loaded yet' }).waitFor({ timeout: 20_000 });
  });

  await check('a broken model path shows a clear error notification', async () => {
    await runCommand('Attentive: Show Model Info');
    await page.locator('.notifications-toasts', { hasText: `Model folder not found: ${badModel}` }).waitFor({ timeout: 30_000 });
    await page.locator('.notifications-toasts .monaco-button', { hasText: 'Open Settings' }).waitFor();
    await statusItem.filter({ hasText: 'Attentive' }).waitFor();
    await page.screenshot({ path: path.join(shots, 'model-error.png') });
  });

  await check('after fixing the setting, Show Model Info loads the bundled model and the status bar says ready', async () => {
    fs.writeFileSync(settingsFile, JSON.stringify(baseSettings));
    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await runCommand('Attentive: Show Model Info');
    await page.locator('.notifications-toasts', { hasText: 'attentive-code-14m' }).waitFor({ timeout: 60_000 });
    await statusItem.filter({ hasText: 'attentive-code-14m' }).waitFor({ timeout: 30_000 });
    assert.match((await statusItem.first().getAttribute('aria-label')) ?? '', /attentive-code-14m/);
    // The sidebar still shows the Attentive container after the reload; its Model view now lists the model.
    await page.getByRole('treeitem', { name: /^Parameters 13\.8M/ }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(shots, 'model-ready.png') });
  });

  // ---- Chat -------------------------------------------------------------------------------------------------
  const chatFrame = () => page.frameLocator('iframe.webview.ready[src*="extensionId=attentive.attentive"]').frameLocator('#active-frame');
  const docs = path.join(ROOT, 'docs');

  await check('the chat view opens and a sent message streams a reply', async () => {
    await runCommand('Attentive: Focus Chat');
    const input = chatFrame().locator('textarea.input');
    await input.waitFor({ timeout: 30_000 });
    await input.fill('Write a Python function that returns the largest of three numbers.');
    await input.press('Enter');
    const reply = chatFrame().locator('.entry-assistant[data-entry-id].status-done').last();
    await reply.waitFor({ timeout: 60_000 });
    const text = await reply.innerText();
    assert.ok(text.trim().length > 10, `reply too short: ${JSON.stringify(text)}`);
    await chatFrame().locator('.entry', { hasText: /tok\/s/ }).last().waitFor();
    await page.screenshot({ path: path.join(shots, 'chat-reply.png') });
  });

  await check('Stop ends a reply at once and keeps the partial text, marked as stopped', async () => {
    await runCommand('Attentive: Focus Chat');
    await chatFrame().locator('textarea.input').waitFor({ timeout: 30_000 });
    // Greedy replies can end on their own before Stop is clicked: try a few long requests.
    const requests = [
      'Write a long Python module with a class for a bank account and many methods.',
      'Explain in detail how Python dictionaries work inside, with examples.',
      'Write ten Python functions for string processing.',
      'Write a Python class for a library with books, members and loans, with many methods.',
      'Write a long TypeScript module with an interface and a class for a shopping cart.',
    ];
    for (const [attempt, request] of requests.entries()) {
      // The page clicks the real Stop button itself as soon as the reply shows its first text: a click from here
      // lands a few hundred ms later, by when a short greedy reply (~500 tokens/s) may have ended on its own.
      await chatFrame()
        .locator('body')
        .evaluate((body) => {
          const observer = new globalThis.MutationObserver(() => {
            const streaming = [...body.querySelectorAll('.entry-assistant.status-streaming')].pop();
            const stop = body.querySelector('button[aria-label="Stop generating (Escape)"]');
            if (!streaming || !stop || !streaming.textContent.trim()) return;
            observer.disconnect();
            body.dataset.stopWasVisible = String(stop.offsetParent !== null && !stop.disabled);
            stop.click();
          });
          observer.observe(body, { subtree: true, childList: true, characterData: true, attributes: true });
        });
      const input = chatFrame().locator('textarea.input');
      await input.fill(request);
      await input.press('Enter');
      try {
        await chatFrame().locator('.entry-assistant.status-stopped').last().waitFor({ timeout: 10_000 });
        assert.equal(await chatFrame().locator('body').getAttribute('data-stop-was-visible'), 'true', 'Stop was not on screen while the reply streamed');
        const partial = await chatFrame().locator('.entry-assistant.status-stopped').last().innerText();
        assert.ok(partial.trim().length > 0, 'the stopped reply lost its text');
        return;
      } catch (error) {
        if (attempt === requests.length - 1) throw error;
        await chatFrame().locator('.entry-assistant.status-done').last().waitFor({ timeout: 60_000 });
      }
    }
  });

  await check('Regenerate replaces the last reply', async () => {
    const last = chatFrame().locator('.entry-assistant[data-entry-id]').last();
    const before = await last.getAttribute('data-entry-id');
    await chatFrame().getByRole('button', { name: 'Regenerate reply' }).last().click();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const id = await last.getAttribute('data-entry-id');
      const finished = /status-(done|stopped)/.test((await last.getAttribute('class')) ?? '');
      if (id !== before && finished) break;
      if (Date.now() > deadline) throw new Error('the regenerated reply did not finish');
      await page.waitForTimeout(100);
    }
  });

  await check('a message sent while a reply streams is shown as queued, and New Chat cancels both', async () => {
    // Greedy replies can end on their own before the second message is sent: try a few long requests.
    // (The bundled model's greedy reply to the first runs to the token limit.)
    const requests = ['Write a Python function that checks whether a number is prime.', 'Write a long Python module with a class for a library and many methods.', 'Write a Python class for a bank account with many methods.'];
    for (const [attempt, request] of requests.entries()) {
      await runCommand('Attentive: New Chat');
      await chatFrame().locator('.welcome').waitFor({ timeout: 10_000 });
      const input = chatFrame().locator('textarea.input');
      await input.fill(request);
      await input.press('Enter');
      const first = chatFrame().locator('.entry-assistant.status-streaming').last();
      await first.waitFor({ timeout: 30_000 });
      const firstId = await first.getAttribute('data-entry-id');
      await input.fill('Now add docstrings.');
      await input.press('Enter');
      try {
        const queued = chatFrame().locator('.entry-assistant.status-queued');
        await queued.waitFor({ timeout: 2_000 });
        assert.match(await queued.innerText(), /Queued…/);
        const queuedId = await queued.getAttribute('data-entry-id');
        // While a reply runs the button offers to queue another message.
        await input.fill('x');
        await chatFrame().getByRole('button', { name: 'Queue message (Enter)' }).waitFor({ timeout: 2_000 });
        await input.fill('');
        await page.screenshot({ path: path.join(shots, 'chat-queued.png') });
        await chatFrame().getByRole('button', { name: 'New chat' }).click();
        await chatFrame().locator('.welcome').waitFor({ timeout: 10_000 });
        // Back in the old conversation: the queued request never ran and the running one was stopped.
        await chatFrame().getByRole('button', { name: 'Chat history' }).click();
        await chatFrame().locator('.history-open', { hasText: request.slice(0, 40) }).first().click();
        const stopped = chatFrame().locator(`.entry-assistant[data-entry-id="${queuedId}"]`);
        await stopped.locator('.entry-marker.stopped').waitFor({ timeout: 10_000 });
        assert.match((await stopped.getAttribute('class')) ?? '', /status-stopped/);
        const firstClass = (await chatFrame().locator(`.entry-assistant[data-entry-id="${firstId}"]`).getAttribute('class')) ?? '';
        assert.match(firstClass, /status-(stopped|done)/);
        return;
      } catch (error) {
        if (attempt === requests.length - 1) throw error;
      }
    }
  });

  await check('a code block is inserted at the cursor through a diff that Ctrl+Enter accepts', async () => {
    const file = path.join(workspace, 'insert.py');
    fs.writeFileSync(file, '# start\n');
    await runCommand('Attentive: New Chat');
    await chatFrame().locator('.welcome').waitFor({ timeout: 10_000 }); // the new, empty chat is on screen
    const input = chatFrame().locator('textarea.input');
    await input.fill('Write a Python function that adds two numbers.');
    await input.press('Enter');
    await chatFrame().locator('.entry-assistant.status-done').last().waitFor({ timeout: 60_000 });
    const insert = chatFrame().locator('.code-toolbar button[data-action="insert"]').last();
    if ((await insert.count()) === 0) throw new Error('the reply has no code block to insert');
    const code = await chatFrame().locator('pre code').last().innerText();
    // Open the file and put the cursor at its end, then click Insert in the chat.
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('insert.py');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'insert.py' }).first().click();
    await page.locator('.monaco-editor .view-lines', { hasText: '# start' }).waitFor();
    await page.keyboard.press('Control+End');
    await insert.click();
    // The code comes in as added lines to accept; Ctrl+Enter in the editor accepts them.
    await page.locator('.codelens-decoration', { hasText: 'Accept All' }).waitFor({ timeout: 10_000 });
    await page.keyboard.press('Control+Enter');
    await page.locator('.codelens-decoration', { hasText: 'Accept All' }).waitFor({ state: 'detached', timeout: 10_000 });
    await page.keyboard.press('Control+S');
    const deadline = Date.now() + 10_000;
    while (!fs.readFileSync(file, 'utf8').includes(code.trim().split('\n')[0]) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.ok(fs.readFileSync(file, 'utf8').includes(code.trim().split('\n')[0]), `not inserted: ${fs.readFileSync(file, 'utf8')}`);
  });

  await check('Explain Selection from the editor context menu explains the selected code', async () => {
    await page.locator('.monaco-editor .view-lines', { hasText: '# start' }).first().click();
    await page.keyboard.press('Control+A');
    // The workbench ignores a click that lands right after the menu opens (it guards against the right-click's
    // own mouse-up), so open the menu, then choose the item as a user would, and try again if the menu stayed.
    const item = page.getByRole('menuitem', { name: /^Explain Selection/ }).first();
    for (let attempt = 1; ; attempt++) {
      await page.locator('.monaco-editor .view-lines', { hasText: '# start' }).first().click({ button: 'right' });
      await item.waitFor({ timeout: 10_000 });
      await page.waitForTimeout(300);
      await item.hover();
      await page.keyboard.press('Enter');
      try {
        await item.waitFor({ state: 'hidden', timeout: 3_000 });
        break;
      } catch (error) {
        await page.keyboard.press('Escape');
        if (attempt === 3) throw error;
      }
    }
    await chatFrame().locator('.entry', { hasText: 'insert.py' }).last().waitFor({ timeout: 30_000 });
    await chatFrame().locator('.entry-assistant.status-done').last().waitFor({ timeout: 60_000 });
    // The request's chip shows the selection's size in the model's tokens, counted after it was sent.
    const tokens = chatFrame().locator('.entry-user').last().locator('.chip-tokens');
    await tokens.waitFor({ timeout: 30_000 });
    const text = await tokens.textContent();
    if (!/^[1-9][\d,]* tokens?$/.test(text ?? '')) throw new Error(`the chip says ${JSON.stringify(text)}`);
  });

  await check('typing @ in the chat input offers mentions; @file asks in a quick pick and the file becomes a chip', async () => {
    await runCommand('Attentive: Focus Chat');
    const input = chatFrame().locator('textarea.input');
    await input.waitFor({ timeout: 30_000 });
    await input.fill('');
    await input.pressSequentially('what does @fi');
    await chatFrame().locator('.slash-menu .slash-name', { hasText: '@file' }).waitFor({ timeout: 10_000 });
    await input.press('Enter');
    // VS Code's own quick pick of the workspace's files.
    const quickInput = page.locator('.quick-input-widget input');
    await quickInput.waitFor({ timeout: 10_000 });
    await quickInput.fill('fib.py');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'fib.py' }).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Enter');
    const chip = chatFrame().locator('.composer .chip', { hasText: 'fib.py' });
    await chip.waitFor({ timeout: 10_000 });
    if ((await input.inputValue()) !== 'what does ') throw new Error(`the input holds ${JSON.stringify(await input.inputValue())}`);
    await chip.locator('.chip-tokens').waitFor({ timeout: 30_000 });
    await chip.locator('.chip-remove').click();
    await chip.waitFor({ state: 'detached', timeout: 10_000 });
    await input.fill('');
  });

  await check('after a window reload the conversation is still there', async () => {
    const title = 'Write a Python function that adds two numbers.';
    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await runCommand('Attentive: Focus Chat');
    await chatFrame().locator('.entry', { hasText: 'insert.py' }).first().waitFor({ timeout: 30_000 });
    await chatFrame().getByRole('button', { name: 'Chat history' }).click();
    await chatFrame().getByText(title).first().waitFor({ timeout: 10_000 });
    await page.keyboard.press('Escape');
  });

  await check('screenshots of the chat in the light and dark themes', async () => {
    fs.mkdirSync(docs, { recursive: true });
    await runCommand('Attentive: New Chat');
    await chatFrame().locator('.welcome').waitFor({ timeout: 10_000 }); // the new, empty chat is on screen
    const input = chatFrame().locator('textarea.input');
    await input.fill('Write a TypeScript function that sums an array of numbers.');
    await input.press('Enter');
    await chatFrame().locator('.entry-assistant.status-done').last().waitFor({ timeout: 60_000 });
    await runCommand('View: Close All Editors');
    await runCommand('View: Hide Panel');
    for (const [theme, file] of [['Default Light Modern', 'chat-light.png'], ['Default Dark Modern', 'chat-dark.png']]) {
      // The theme is read at start-up, so write it and reload the window (the chat comes back from its history).
      fs.writeFileSync(settingsFile, JSON.stringify({ ...baseSettings, 'workbench.colorTheme': theme }));
      await page.reload();
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      // The window comes back with the editors and the panel it had: the picture is of the chat alone.
      await runCommand('View: Close All Editors');
      if (await page.locator('.part.panel').isVisible()) await runCommand('View: Hide Panel');
      await runCommand('Attentive: Focus Chat');
      await chatFrame().locator('.entry-assistant.status-done').last().waitFor({ timeout: 30_000 });
      // Code in a block has no background of its own (VS Code's default webview style gives <code> one, which drew a
      // grey box per line); the block itself has the theme's code-block background.
      const code = chatFrame().locator('.code-block pre code').last();
      await code.waitFor({ timeout: 10_000 });
      const styles = await code.evaluate((node) => {
        const view = node.ownerDocument.defaultView;
        const style = (el) => view.getComputedStyle(el).backgroundColor;
        const spans = Array.from(node.querySelectorAll('span')).map(style);
        return { code: style(node), spans: [...new Set(spans)], block: style(node.closest('.code-block')), padding: view.getComputedStyle(node).padding };
      });
      assert.equal(styles.code, 'rgba(0, 0, 0, 0)', `${theme}: code background ${styles.code}`);
      assert.ok(styles.spans.every((c) => c === 'rgba(0, 0, 0, 0)'), `${theme}: highlighted spans have a background: ${styles.spans}`);
      assert.equal(styles.padding, '0px', `${theme}: code padding ${styles.padding}`);
      assert.notEqual(styles.block, 'rgba(0, 0, 0, 0)', `${theme}: the code block has no background`);
      await page.waitForTimeout(1000);
      await page.screenshot({ path: path.join(docs, file) });
    }
    fs.writeFileSync(settingsFile, JSON.stringify(baseSettings));
  });

  await serverChecks({ page, check, runCommand, chatFrame, settingsFile, baseSettings });
  await attentionChecks({ page, check, runCommand, docs, shots, workspace, settingsFile, baseSettings });
  await surpriseChecks({ page, check, runCommand, docs, settingsFile, baseSettings });
  await editChecks({ page, check, runCommand, shots, workspace, settingsFile, baseSettings });
  await trustChecks({ page, check, runCommand, settingsFile, baseSettings, workspace });
} catch (error) {
  console.error(error);
  results.push({ name: 'harness', ok: false });
} finally {
  await browser?.close();
  await server?.stop();
}
const failed = results.filter((r) => !r.ok).length;
console.log(`UI tests: ${results.length - failed} passed, ${failed} failed; screenshots in ${shots}`);
process.exit(failed || results.length === 0 ? 1 : 0);
