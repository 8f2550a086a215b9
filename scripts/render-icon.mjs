// Renders media/icon.svg to media/icon.png (128 x 128; the marketplace and VS Code want a PNG icon) in Chromium.
//   node scripts/render-icon.mjs   (after npm run setup:vscode, which installs playwright-core)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, TEST_DIR, launchChromium } from './vscode-server.mjs';

const runDir = fs.mkdtempSync(path.join(TEST_DIR, 'icon-'));
const browser = await launchChromium(runDir);
try {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 128, height: 128 });
  const svg = fs.readFileSync(path.join(ROOT, 'media', 'icon.svg'), 'utf8');
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
  await page.locator('svg').screenshot({ path: path.join(ROOT, 'media', 'icon.png'), omitBackground: true });
} finally {
  await browser.close();
  fs.rmSync(runDir, { recursive: true, force: true });
}
