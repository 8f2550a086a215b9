// Workbench steps the UI check files share (Playwright page of the real VS Code).

import * as fs from 'node:fs';

/** A reloaded window in the theme (read at start-up) with `settings`, no editors, no sidebar and no panel. */
export async function freshWindow({ page, runCommand, settingsFile }, settings, theme) {
  fs.writeFileSync(settingsFile, JSON.stringify({ ...settings, 'workbench.colorTheme': theme }));
  await page.reload();
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await runCommand('View: Close All Editors');
  if (await page.locator('.part.sidebar').isVisible()) await runCommand('View: Close Primary Side Bar');
  if (await page.locator('.part.panel').isVisible()) await runCommand('View: Hide Panel');
}

/** Opens a workspace file with Quick Open and selects all of it; `firstLine` is text of its first line. */
export async function openAndSelectAll(page, name, firstLine) {
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill(name);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click();
  const lines = page.locator('.monaco-editor .view-lines', { hasText: firstLine }).first();
  await lines.waitFor({ timeout: 20_000 });
  await lines.click();
  await page.keyboard.press('Control+A');
}
