// UI checks of the surprise map (run by test/vscode/ui.mjs in its workbench): the code is painted in the theme's
// surprise colours, hovering a token says how surprising it was and what the model expected, an edit removes the map.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../../../scripts/vscode-server.mjs';
import { freshWindow, openAndSelectAll } from './window.mjs';

/** The contributed surprise colours' defaults for a theme kind, as [r, g, b, alpha]. */
function contributedColors(kind) {
  const colors = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).contributes.colors;
  return colors
    .filter((c) => c.id.startsWith('attentive.surprise.'))
    .map((c) => {
      const hex = c.defaults[kind].slice(1);
      return [0, 2, 4, 6].map((i, k) => (k === 3 ? parseInt(hex.slice(i, i + 2) || 'ff', 16) / 255 : parseInt(hex.slice(i, i + 2), 16)));
    });
}

function parseCss(color) {
  const [r, g, b, a = 1] = color.match(/[\d.]+/g).map(Number);
  return [r, g, b, a];
}

export async function surpriseChecks({ page, check, runCommand, docs, settingsFile, baseSettings }) {
  /** The surprise map's painted boxes in the editor (VS Code renders each decoration type as a "ced-…" class). */
  const paintedBoxes = () =>
    page.locator('.monaco-editor .view-overlays div[class*="ced-"]').evaluateAll((nodes) =>
      nodes
        .map((node) => {
          const box = node.getBoundingClientRect();
          return { color: globalThis.getComputedStyle(node).backgroundColor, x: box.left + box.width / 2, y: box.top + box.height / 2 };
        })
        .filter((b) => b.color !== 'rgba(0, 0, 0, 0)'),
    );

  await check('Show Surprise Map paints the code in the theme\'s surprise colours; hovering a token gives its bits and the model\'s guesses; an edit removes it', async () => {
    await freshWindow({ page, runCommand, settingsFile }, baseSettings, 'Default Dark Modern');
    await openAndSelectAll(page, 'fib.py', 'def fibonacci');
    await runCommand('Attentive: Show Surprise Map');
    const deadline = Date.now() + 60_000;
    let boxes = [];
    while ((boxes = await paintedBoxes()).length === 0 && Date.now() < deadline) await page.waitForTimeout(200);
    assert.ok(boxes.length > 0, 'no token was painted');
    const expected = contributedColors('dark');
    const seen = [...new Set(boxes.map((b) => b.color))].map(parseCss);
    for (const color of seen) {
      assert.ok(
        expected.some((e) => e.slice(0, 3).every((v, i) => v === color[i]) && Math.abs(e[3] - color[3]) < 0.01),
        `painted in ${color}, not a surprise colour (${JSON.stringify(expected)})`,
      );
    }
    assert.ok(seen.length >= 2, `one level only: ${JSON.stringify(seen)}`);
    // The most surprising token (the most opaque colour), hovered.
    const top = boxes.reduce((best, b) => (parseCss(b.color)[3] > parseCss(best.color)[3] ? b : best));
    await page.keyboard.press('ArrowRight'); // drop the selection so the colours show as they are
    await page.mouse.move(top.x, top.y);
    const hover = page.locator('.monaco-hover', { hasText: 'Scored by' }).first();
    await hover.waitFor({ timeout: 15_000 });
    await page.waitForTimeout(500); // the hover fades in
    const text = await hover.innerText();
    assert.match(text, /Surprise \d+\.\d bits · the model gave it [\d.]+ %/);
    assert.match(text, /It expected:\s".*"\s[\d.]+\s%/); // appendText writes spaces as no-break spaces
    assert.match(text, /Scored\sby\sthe\slocal\smodel/);
    await page.screenshot({ path: path.join(docs, 'surprise-map.png'), clip: { x: 0, y: 0, width: 900, height: 260 } });
    // An edit: the offsets are stale, so the map goes.
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+End');
    await page.keyboard.type('# edited\n');
    const gone = Date.now() + 10_000;
    while ((await paintedBoxes()).length > 0 && Date.now() < gone) await page.waitForTimeout(200);
    assert.equal((await paintedBoxes()).length, 0, 'the map stayed after an edit');
    await page.keyboard.press('Control+Z');
    await page.keyboard.press('Control+S');
  });
}
