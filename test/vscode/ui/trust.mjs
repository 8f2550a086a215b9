// UI check of Restricted Mode (run by test/vscode/ui.mjs in its workbench): in a folder the user has not trusted,
// Attentive ignores the folder's own attentive.model (package.json's restrictedConfigurations), so a repository
// cannot make the editor load and run a model of its choosing; the same folder trusted gets its setting.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../../../scripts/vscode-server.mjs';
import { freshWindow } from './window.mjs';

export async function trustChecks({ page, check, runCommand, settingsFile, baseSettings, workspace }) {
  await check("in an untrusted folder the folder's attentive.model is ignored and the bundled model loads; trusted, the folder's model loads", async () => {
    const folderSettings = path.join(workspace, '.vscode', 'settings.json');
    fs.mkdirSync(path.dirname(folderSettings), { recursive: true });
    fs.writeFileSync(folderSettings, JSON.stringify({ 'attentive.model': path.join(ROOT, 'test', 'fixtures', 'models', 'llama-tiny') }));
    const modelNotice = (name) => page.locator('.notifications-toasts', { hasText: name }).first();
    try {
      // Untrusted: workspace trust on, and no prompt (the user dismissed it), so the window is in Restricted Mode.
      await freshWindow(
        { page, runCommand, settingsFile },
        { ...baseSettings, 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never' },
        'Default Dark Modern',
      );
      await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 30_000 });
      await runCommand('Attentive: Show Model Info');
      await modelNotice('attentive-code-14m').waitFor({ timeout: 60_000 });
      if (await modelNotice('llama-tiny').isVisible()) throw new Error("the untrusted folder's model was loaded");

      // The control: the same folder trusted (trust off: every folder is trusted) loads the folder's model.
      await freshWindow({ page, runCommand, settingsFile }, baseSettings, 'Default Dark Modern');
      await runCommand('Attentive: Show Model Info');
      await modelNotice('llama-tiny').waitFor({ timeout: 60_000 });
    } finally {
      fs.rmSync(path.dirname(folderSettings), { recursive: true, force: true });
      await page.keyboard.press('Escape');
    }
  });
}
