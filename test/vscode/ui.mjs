// UI tests: drive the real VS Code workbench (code-server 1.100 + headless Chromium) like a person, with the
// extension installed as users get it (linked into an empty extensions folder), and check what is on screen.
// Screenshots go to .vscode-test/screenshots/. Exit code 0 = all checks passed.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
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
}, Number(process.env.ATTENTIVE_TEST_TIMEOUT_MS || 240_000));
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

  await check('a code block is inserted into the editor at the cursor', async () => {
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

  // ---- Explain Attention -------------------------------------------------------------------------------------
  /** The attention panel's webview frame (the chat's webview may be open too), or null until it has rendered. */
  async function attentionFrame(timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const frame of page.frames()) {
        if (await frame.$('.attention .heatmap-canvas').catch(() => null)) return frame;
      }
      if (Date.now() > deadline) throw new Error('the attention view did not render');
      await page.waitForTimeout(200);
    }
  }
  const canvasUrl = (frame) => frame.evaluate(() => globalThis.document.querySelector('.heatmap-canvas').toDataURL());
  async function changed(frame, before, what) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const now = await canvasUrl(frame);
      if (now !== before) return now;
      if (Date.now() > deadline) throw new Error(`the heatmap did not change after ${what}`);
      await page.waitForTimeout(100);
    }
  }
  /** A reloaded window in the theme (read at start-up) with the bundled model, no editors and no sidebar. */
  async function freshWindow(theme) {
    fs.writeFileSync(settingsFile, JSON.stringify({ ...baseSettings, 'workbench.colorTheme': theme }));
    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await runCommand('View: Close All Editors');
    if (await page.locator('.part.sidebar').isVisible()) await runCommand('View: Close Primary Side Bar');
    if (await page.locator('.part.panel').isVisible()) await runCommand('View: Hide Panel');
  }
  /** Opens fib.py, selects it all and runs Explain Attention; resolves to the rendered view's frame. */
  async function explainFib() {
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('fib.py');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'fib.py' }).first().click();
    const lines = page.locator('.monaco-editor .view-lines', { hasText: 'def fibonacci' }).first();
    await lines.waitFor({ timeout: 20_000 });
    await lines.click();
    await page.keyboard.press('Control+A');
    await runCommand('Attentive: Explain Attention');
    const frame = await attentionFrame();
    // The first matrix is painted when the canvas has the token count as its size.
    await frame.waitForFunction(() => Number(globalThis.document.querySelector('.heatmap-canvas').dataset.seq) > 10, null, { timeout: 30_000 });
    return frame;
  }
  /**
   * Hovers a token, `back` tokens before the last one or the last whose text matches: the editor decorates the
   * tokens it attends to.
   */
  async function hoverToken(frame, which) {
    if (which instanceof RegExp) return frame.locator('.tokens .tok').filter({ hasText: which }).last().hover();
    const count = await frame.locator('.tokens .tok').count();
    await frame.locator(`.tokens .tok[data-index="${count - 1 - which}"]`).hover();
  }
  /** The editor's decorations from the attention view (VS Code renders a decoration type as a "ced-…" class). */
  const decorationBoxes = async () => {
    const boxes = await page.locator('.monaco-editor div[class*="ced-"], .monaco-editor span[class*="ced-"]').evaluateAll((nodes) =>
      nodes.map((node) => `${node.className}@${node.getBoundingClientRect().left},${node.getBoundingClientRect().top}`),
    );
    return boxes.sort().join(' ');
  };

  await check('Explain Attention opens the view beside the editor; switching layer and head changes the picture; hovering links to the code', async () => {
    await freshWindow('Default Dark Modern');
    const frame = await explainFib();
    // Tokens as the model sees them: the indentation shows as middle dots, line ends as ↵.
    const tokens = await frame.locator('.tokens .tok').allInnerTexts();
    assert.ok(tokens.length > 20, `only ${tokens.length} tokens`);
    assert.ok(tokens.some((t) => t.includes('↵')), 'no visible line break');
    assert.ok(tokens.some((t) => t.includes('·')), 'no visible space');
    assert.match(await frame.locator('.meta').innerText(), new RegExp(`${tokens.length} tokens`));
    // Layer 6, then head 4: a new picture each time.
    const first = await canvasUrl(frame);
    await frame.selectOption('select[aria-label="Layer"]', '5');
    const second = await changed(frame, first, 'choosing layer 6');
    await frame.selectOption('select[aria-label="Head"]', '3');
    await changed(frame, second, 'choosing head 4');
    // The model view: a thumbnail per layer and head; a click opens that head.
    await frame.getByRole('tab', { name: 'Model view' }).click();
    await frame.locator('.thumb').nth(35).waitFor({ timeout: 20_000 }); // they come after the first paint
    assert.equal(await frame.locator('.thumb').count(), 36);
    // Each thumbnail is painted (not blank): the canvas has opaque pixels.
    const painted = await frame.evaluate(() =>
      Array.from(globalThis.document.querySelectorAll('.thumb-canvas')).filter((c) => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0)).length,
    );
    assert.equal(painted, 36, `${painted} of 36 thumbnails painted`);
    await page.screenshot({ path: path.join(shots, 'attention-model-view.png') });
    const third = await canvasUrl(frame);
    await frame.locator('.thumb[data-layer="1"][data-head="2"]').click();
    await changed(frame, third, 'opening layer 2 head 3 from the model view');
    assert.equal(await frame.locator('select[aria-label="Layer"]').inputValue(), '1');
    assert.equal(await frame.locator('select[aria-label="Head"]').inputValue(), '2');
    // Hovering a heatmap cell shows its query, key and weight.
    const canvas = frame.locator('.heatmap-canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = await canvas.boundingBox();
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.4);
    await frame.locator('.tooltip', { hasText: /Weight \d\.\d{4}/ }).waitFor({ timeout: 10_000 });
    assert.match(await frame.locator('.live').innerText(), /after softmax/);
    // Hovering a token decorates, in the editor, the tokens it attends to (background alpha = weight).
    await frame.selectOption('select[aria-label="Layer"]', '0');
    await frame.selectOption('select[aria-label="Head"]', '0');
    // Surprise: tokens coloured by surprisal; hovering one lists the model's top-5 guesses for its place.
    await frame.getByRole('button', { name: /Colour tokens by surprisal/ }).click();
    await hoverToken(frame, 3);
    assert.equal(await frame.locator('.live .predictions li').count(), 5);
    assert.match(await frame.locator('.live').innerText(), /\d+\.\d\d bits/);
    await page.screenshot({ path: path.join(shots, 'attention-surprise.png') });
    await frame.getByRole('button', { name: /Colour tokens by surprisal/ }).click();
    // Head view: lines from a hovered token to the ones it attends to; all heads of the layer in their own colours.
    await frame.getByRole('tab', { name: 'Head view' }).click();
    await frame.locator('.hv-queries .hv-token').last().hover();
    await frame.locator('.hv-lines line').first().waitFor({ timeout: 10_000 });
    // Seen once in a fresh-clone run: the toggle was not on after the click (screenshot: caption of one head). Wait
    // for it to be on, click once more if it is not, and say so in the log.
    const allHeads = frame.getByRole('button', { name: /Draw every head/ });
    const allHeadsOn = frame.locator('button.toggle[aria-pressed="true"]', { hasText: /All heads of layer/ });
    await allHeads.click();
    if (!(await allHeadsOn.waitFor({ timeout: 3_000 }).then(() => true, () => false))) {
      console.log(`    [attentive] "All heads" was not on after a click (aria-pressed=${await allHeads.getAttribute('aria-pressed')}); clicking again`);
      await allHeads.click();
      await allHeadsOn.waitFor({ timeout: 3_000 });
    }
    await frame.locator('.hv-queries .hv-token').nth(5).hover();
    await frame.locator('.hv-queries .hv-token').last().hover();
    await frame.waitForFunction(() => new Set(Array.from(globalThis.document.querySelectorAll('.hv-lines line'), (l) => l.getAttribute('stroke'))).size > 2, null, { timeout: 10_000 });
    await page.screenshot({ path: path.join(shots, 'attention-head-view.png') });
    await frame.getByRole('button', { name: /Draw every head/ }).click();
    await frame.getByRole('tab', { name: 'Heatmap' }).click();
    // Export PNG and JSON: VS Code's save dialog (the simple one, in the browser) with the suggested name; Enter saves.
    for (const [label, file, check] of [
      ['Export the heatmap as a PNG image', 'attention-head-0-0.png', (bytes) => assert.equal(bytes.subarray(1, 4).toString(), 'PNG')],
      ["Export this view's weights as JSON", 'attention-head-0-0.json', (bytes) => assert.ok(JSON.parse(bytes.toString()).weights.length > 20)],
    ]) {
      const target = path.join(workspace, file);
      fs.rmSync(target, { force: true });
      await frame.getByRole('button', { name: label }).click();
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ timeout: 10_000 });
      // The dialog fills in the suggested path as it resolves the folder.
      const suggested = Date.now() + 10_000;
      while (!(await input.inputValue()).endsWith(`/workspace/${file}`) && Date.now() < suggested) await page.waitForTimeout(100);
      assert.equal(await input.inputValue(), target);
      await page.keyboard.press('Enter');
      const saved = Date.now() + 10_000;
      while (!fs.existsSync(target) && Date.now() < saved) await page.waitForTimeout(100);
      assert.ok(fs.existsSync(target), `${file} was not saved`);
      check(fs.readFileSync(target));
    }
    // Off the heatmap (whose hovered row was decorated too) nothing is decorated; hovering a token decorates its keys,
    // and leaving clears them.
    await frame.locator('.view-title').hover();
    const cleared = Date.now() + 10_000;
    while ((await decorationBoxes()) !== '' && Date.now() < cleared) await page.waitForTimeout(100);
    const before = await decorationBoxes();
    assert.equal(before, '', 'decorations stayed after the pointer left the heatmap');
    await hoverToken(frame, 1);
    const deadline = Date.now() + 10_000;
    let during = await decorationBoxes();
    while (during === before && Date.now() < deadline) {
      await page.waitForTimeout(100);
      during = await decorationBoxes();
    }
    assert.notEqual(during, before, 'hovering a token changed no decoration in the editor');
    assert.ok(during.length > 0, 'no decorations while hovering a token');
    await page.screenshot({ path: path.join(shots, 'attention-hover.png') });
    await frame.locator('.view-title').hover();
    const back = Date.now() + 10_000;
    while ((await decorationBoxes()) !== before && Date.now() < back) await page.waitForTimeout(100);
    assert.equal(await decorationBoxes(), before);
  });

  await check('Explain Attention with more code than the context: cut to 1,024 tokens, stays responsive', async () => {
    // About 1,400 tokens of Python: the view explains the first lines that fit and says so.
    const body = Array.from({ length: 40 }, (_, i) => `def step_${i}(values, limit=${i}):\n    total = sum(v for v in values if v > limit)\n    return total * ${i + 1}\n\n`).join('');
    fs.writeFileSync(path.join(workspace, 'long.py'), body);
    await freshWindow('Default Dark Modern');
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('long.py');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'long.py' }).first().click();
    const lines = page.locator('.monaco-editor .view-lines', { hasText: 'def step_0' }).first();
    await lines.waitFor({ timeout: 20_000 });
    await lines.click();
    await page.keyboard.press('Control+A');
    const started = Date.now();
    await runCommand('Attentive: Explain Attention');
    const frame = await attentionFrame();
    await frame.waitForFunction(() => Number(globalThis.document.querySelector('.heatmap-canvas').dataset.seq) > 900, null, { timeout: 60_000 });
    const firstPaint = Date.now() - started;
    const seq = await frame.evaluate(() => Number(globalThis.document.querySelector('.heatmap-canvas').dataset.seq));
    // More tokens than pixels: the canvas holds the matrix max-pooled to the pixels on screen.
    const resolution = await frame.evaluate(() => globalThis.document.querySelector('.heatmap-canvas').width);
    assert.ok(resolution < seq, `canvas ${resolution} px for ${seq} tokens`);
    assert.ok(seq > 900 && seq <= 1024, `${seq} tokens`);
    assert.match(await frame.locator('.note').innerText(), /Only the first \d+ lines were explained/);
    // Another head: the host sends one 4 MB matrix and the view paints it.
    const switchStarted = Date.now();
    await frame.selectOption('select[aria-label="Head"]', '2');
    await frame.locator('.heatmap-canvas[data-view="Layer 1 · head 3"]').waitFor({ timeout: 20_000 });
    const switchMs = Date.now() - switchStarted;
    const paintMs = Number(await frame.locator('.heatmap-canvas').getAttribute('data-paint-ms'));
    const fetchMs = Number(await frame.locator('.heatmap-canvas').getAttribute('data-fetch-ms'));
    // Hovering: a pointer move to a new row each frame (the view re-colours ~1,000 tokens and tells the host); the
    // frames' intervals while it does so.
    const frames = await frame.evaluate(async () => {
      const canvas = globalThis.document.querySelector('.heatmap-canvas');
      const rect = canvas.getBoundingClientRect();
      const nextFrame = () => new Promise((resolve) => globalThis.requestAnimationFrame(resolve));
      const idle = [];
      for (let i = 0; i < 30; i++) idle.push(await nextFrame());
      const idleIntervals = idle.slice(1).map((t, i) => t - idle[i]).sort((a, b) => a - b);
      const stamps = [];
      for (let i = 0; i < 90; i++) {
        const y = rect.top + ((i + 0.5) / 90) * rect.height;
        canvas.dispatchEvent(new globalThis.MouseEvent('mousemove', { clientX: rect.left + rect.width * 0.1, clientY: y, bubbles: true }));
        stamps.push(await nextFrame());
      }
      const intervals = stamps.slice(1).map((t, i) => t - stamps[i]).sort((a, b) => a - b);
      return { median: intervals[Math.floor(intervals.length / 2)], p90: intervals[Math.floor(intervals.length * 0.9)], idle: idleIntervals[Math.floor(idleIntervals.length / 2)] };
    });
    console.log(
      `    ${seq} tokens: command to first paint ${firstPaint} ms (palette and model load included), head switch ${switchMs} ms ` +
        `(matrix from the host ${fetchMs} ms, paint ${paintMs} ms), frame while hovering: median ${frames.median.toFixed(1)} ms, p90 ${frames.p90.toFixed(1)} ms (idle ${frames.idle.toFixed(1)} ms)`,
    );
    assert.ok(paintMs < 200, `painting took ${paintMs} ms`);
    assert.ok(frames.median < 50, `frames took ${frames.median} ms while hovering`);
    await frame.locator('.tooltip', { hasText: 'Weight' }).waitFor({ state: 'attached', timeout: 5_000 });
    await page.screenshot({ path: path.join(shots, 'attention-1024.png') });
  });

  await check('screenshots of Explain Attention in the dark and light themes', async () => {
    for (const [theme, file] of [['Default Dark Modern', 'attention-dark.png'], ['Default Light Modern', 'attention-light.png']]) {
      await freshWindow(theme);
      const frame = await explainFib();
      await frame.selectOption('select[aria-label="Aggregation"]', 'head');
      await frame.selectOption('select[aria-label="Layer"]', '2');
      await frame.selectOption('select[aria-label="Head"]', '1');
      await frame.waitForFunction(() => globalThis.document.querySelector('.view-title').textContent === 'Layer 3 · head 2');
      // Put the editor's cursor on line 4 (its token is selected in the view), then hover the `b` at that line's end.
      await page.locator('.monaco-editor .view-lines', { hasText: 'def fibonacci' }).first().click();
      await page.keyboard.press('Control+Home');
      for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
      await page.keyboard.press('End');
      await page.waitForTimeout(500);
      await hoverToken(frame, /^·b$/);
      await page.waitForTimeout(500);
      await page.screenshot({ path: path.join(docs, file) });
    }
    fs.writeFileSync(settingsFile, JSON.stringify(baseSettings));
  });
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
