// UI checks of edits (run by test/vscode/ui.mjs in its workbench): Edit Selection from the keyboard streams the
// model's rewrite into an inline diff painted in the theme's diff colours, Escape puts the file back, Ctrl+Enter
// accepts and one Ctrl+Z undoes the whole edit.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freshWindow, openAndSelectAll } from './window.mjs';

/** What the editor paints: lines struck through, and the whole-line backgrounds of our decorations. */
async function painted(page) {
  return page.evaluate(() => {
    const editor = globalThis.document.querySelector('.monaco-editor');
    if (!editor) return { struck: [], backgrounds: [] };
    const struck = Array.from(editor.querySelectorAll('.view-line span'))
      .filter((node) => globalThis.getComputedStyle(node).textDecorationLine.includes('line-through'))
      .map((node) => node.closest('.view-line').textContent.replace(/\u00a0/g, ' ')); // the editor renders spaces as no-break spaces
    const backgrounds = Array.from(editor.querySelectorAll('.view-overlays div[class*="ced-"]'))
      .map((node) => globalThis.getComputedStyle(node).backgroundColor)
      .filter((color) => color !== 'rgba(0, 0, 0, 0)');
    return { struck: [...new Set(struck)], backgrounds };
  });
}

/** The file's text once saved: polls until `wanted` holds (the save reaches the disk a moment after Ctrl+S). */
async function savedText(file, wanted) {
  const deadline = Date.now() + 10_000;
  let text = fs.readFileSync(file, 'utf8');
  while (!wanted(text) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    text = fs.readFileSync(file, 'utf8');
  }
  return text;
}

export async function editChecks({ page, check, runCommand, shots, workspace, settingsFile, baseSettings }) {
  await check('Edit Selection (Ctrl+Alt+K): the rewrite streams in as a diff in the theme\'s colours; Escape restores the file, Ctrl+Enter accepts, one Ctrl+Z undoes it', async () => {
    // A file of its own: earlier checks leave fib.py edited in its editor.
    const file = path.join(workspace, 'fib_edit.py');
    const original = 'def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n';
    fs.writeFileSync(file, original);
    await freshWindow({ page, runCommand, settingsFile }, baseSettings, 'Default Dark Modern');
    await openAndSelectAll(page, 'fib_edit.py', 'def fibonacci');
    const editorLines = page.locator('.monaco-editor .view-lines').first();
    /** The function's body (lines 2-4): a part of the file, so the diff is inline (a whole file opens the diff editor too). */
    const selectBody = async () => {
      await page.keyboard.press('Control+Home');
      await page.keyboard.press('ArrowDown');
      for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+ArrowDown');
    };
    await selectBody();

    const ask = async () => {
      await page.keyboard.press('Control+Alt+K');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ timeout: 10_000 });
      await input.fill('add type hints');
      await input.press('Enter');
      // The original's first line struck through, on the theme's removed-line background, beside the added lines.
      const deadline = Date.now() + 60_000;
      let now = await painted(page);
      while (!(now.struck.length && now.backgrounds.length >= 2) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        now = await painted(page);
      }
      assert.ok(now.struck.length, `no struck-through lines: ${JSON.stringify(now)}`);
      return now;
    };

    const first = await ask();
    assert.ok(first.struck.some((line) => line.includes('a, b = 0, 1')), JSON.stringify(first));
    assert.ok(new Set(first.backgrounds).size >= 2, `removed and added lines get different backgrounds: ${JSON.stringify(first.backgrounds)}`);
    await page.locator('.codelens-decoration', { hasText: 'Accept All' }).waitFor({ timeout: 60_000 });
    await page.screenshot({ path: path.join(shots, 'edit-diff.png') });
    await editorLines.click();
    await page.keyboard.press('Escape');
    await page.locator('.codelens-decoration', { hasText: 'Accept All' }).waitFor({ state: 'detached', timeout: 10_000 });
    assert.deepEqual((await painted(page)).struck, []);
    await page.keyboard.press('Control+S');
    assert.equal(await savedText(file, (text) => text === original), original);

    await selectBody();
    await ask();
    await page.locator('.codelens-decoration', { hasText: 'Accept All' }).waitFor({ timeout: 60_000 });
    await page.keyboard.press('Control+Enter');
    await page.locator('.codelens-decoration', { hasText: 'Accept All' }).waitFor({ state: 'detached', timeout: 10_000 });
    assert.deepEqual((await painted(page)).struck, []);
    await page.keyboard.press('Control+S');
    assert.notEqual(await savedText(file, (text) => text !== original), original, 'accepted and saved');
    await page.keyboard.press('Control+Z');
    await page.keyboard.press('Control+S');
    assert.equal(await savedText(file, (text) => text === original), original, 'one Ctrl+Z brings back the original');
  });
}
