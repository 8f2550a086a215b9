// The packaging test: builds the linux-x64 VSIX (npm run package's code, allow-list and size budget included),
// installs it into the test code-server with --install-extension (an empty extensions folder: the development folder
// is nowhere in this run), opens a workspace and, in headless Chromium, gets one inline completion (ghost text in the
// editor) and one chat reply through the installed extension. Then it checks what was written: nothing in the
// installed extension's folder or the workspace, and every file whose path names Attentive lies in the extension's
// storage (or is VS Code's log of its output channel).
//   node test/package/install.mjs   (after npm run setup:vscode)

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { prepareVsixRun } from '../../scripts/package.mjs';
import { QUIET_SETTINGS, TEST_DIR, launchChromium, runPaletteCommand, startCodeServer } from '../../scripts/vscode-server.mjs';

const PORT = Number(process.env.ATTENTIVE_PACKAGE_PORT || 18185);
const runDir = path.join(TEST_DIR, 'run-package');
const watchdog = setTimeout(() => {
  console.error('the packaging test timed out');
  process.exit(124);
}, 600_000);
watchdog.unref();

/** path -> "size:mtime" of every file under `dir` (empty when it does not exist). */
function snapshot(dir) {
  const files = new Map();
  if (!fs.existsSync(dir)) return files;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    // A file deleted between the listing and this (VS Code's vscode.lock as code-server exits) is not there.
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (stat) files.set(path.relative(dir, file), `${stat.size}:${stat.mtimeMs}`);
  }
  return files;
}

/** Files added or changed between two snapshots. */
function written(before, after) {
  return [...after].filter(([file, stamp]) => before.get(file) !== stamp).map(([file]) => file);
}

const { workspace, extensionsDir, userDataDir, built: result, installedDir } = await prepareVsixRun(runDir, { ...QUIET_SETTINGS, 'attentive.temperature': 0 });
assert.equal(result.target, 'linux-x64');
assert.equal(result.unexpected.length, 0);
fs.writeFileSync(path.join(workspace, 'shapes.py'), 'class Rectangle:\n    def __init__(self, width, height):\n        self.width = width\n        self.height = height\n\n    def area(self):\n        return \n');
assert.ok(!fs.lstatSync(installedDir).isSymbolicLink(), 'the extension must be an installed copy, not a link to the sources');
assert.ok(fs.existsSync(path.join(installedDir, 'models', 'attentive-code-14m', 'onnx', 'model_q4.onnx')));
assert.ok(!fs.existsSync(path.join(installedDir, 'src')), 'sources were installed');

const before = { extension: snapshot(installedDir), workspace: snapshot(workspace), run: snapshot(runDir) };
const server = await startCodeServer({ runDir, port: PORT, workspace, extensionsDir, userDataDir, log: path.join(runDir, 'code-server.log') });
const browser = await launchChromium(runDir);
let page;
try {
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.goto(server.url);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });

  // The first-start walkthrough is registered.
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').fill('>Welcome: Open Walkthrough');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Open Walkthrough' }).first().click();
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Get started with Attentive' }).first().waitFor({ timeout: 20_000 });
  await page.keyboard.press('Escape');
  console.log('  ✔ the "Get started with Attentive" walkthrough is offered');

  // One inline completion: after "return " in area(), ask for a suggestion (Ctrl+Alt+Space) and see ghost text.
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill('shapes.py');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'shapes.py' }).first().click();
  const returnLine = page.locator('.monaco-editor .view-line', { hasText: /^\s*return\s*$/ }).last();
  await returnLine.waitFor({ timeout: 20_000 });
  await returnLine.click();
  await page.keyboard.press('End');
  const ghost = page.locator('.monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text');
  let suggestion = '';
  for (let attempt = 0; attempt < 5 && !suggestion; attempt++) {
    await page.keyboard.press('Control+Alt+Space');
    suggestion = await ghost
      .first()
      .waitFor({ timeout: 30_000 })
      .then(() => ghost.allInnerTexts())
      .then((texts) => texts.join('').trim())
      .catch(() => '');
  }
  assert.ok(suggestion.length > 0, 'no ghost text in the editor');
  console.log(`  ✔ inline completion through the installed VSIX: ${JSON.stringify(suggestion)}`);
  await page.keyboard.press('Escape');

  // One chat reply.
  await runPaletteCommand(page, 'Attentive: Focus Chat');
  const chat = page.frameLocator('iframe.webview.ready[src*="extensionId=attentive.attentive"]').frameLocator('#active-frame');
  const input = chat.locator('textarea.input');
  await input.waitFor({ timeout: 30_000 });
  await input.fill('Write a Python function that returns the area of a circle.');
  await input.press('Enter');
  const reply = chat.locator('.entry-assistant.status-done').last();
  await reply.waitFor({ timeout: 90_000 });
  const text = (await reply.innerText()).trim();
  assert.ok(text.length > 0, 'empty chat reply');
  console.log(`  ✔ chat reply through the installed VSIX (${text.length} characters)`);
} catch (error) {
  await page?.screenshot({ path: path.join(runDir, 'failed.png') }).catch(() => undefined);
  throw error;
} finally {
  await browser.close();
  await server.stop();
}

// What was written.
const changedInExtension = written(before.extension, snapshot(installedDir));
assert.deepEqual(changedInExtension, [], `files written into the installed extension: ${changedInExtension.join(', ')}`);
const changedInWorkspace = written(before.workspace, snapshot(workspace));
assert.deepEqual(changedInWorkspace, [], `files written into the workspace: ${changedInWorkspace.join(', ')}`);
const ours = written(before.run, snapshot(runDir)).filter((file) => /attentive/i.test(file) && !file.startsWith(`extensions${path.sep}`));
const storage = [
  /^user-data\/User\/globalStorage\/attentive\.attentive\//,
  /^user-data\/User\/workspaceStorage\/[^/]+\/attentive\.attentive\//,
  // VS Code's own copy of the "Attentive" output channel.
  /^user-data\/logs\/.+\/output_logging_[^/]+\/\d+-Attentive\.log$/,
];
const outside = ours.filter((file) => !storage.some((pattern) => pattern.test(file.split(path.sep).join('/'))));
assert.deepEqual(outside, [], `files written outside the extension's storage: ${outside.join(', ')}`);
// ONNX Runtime's telemetry (a device id and an event database it would upload) stays off in the installed extension.
const telemetry = written(before.run, snapshot(runDir)).filter((file) => file.includes(`${path.sep}.onnxruntime${path.sep}`));
assert.deepEqual(telemetry, [], `ONNX Runtime telemetry files written: ${telemetry.join(', ')}`);
console.log(`  ✔ nothing written outside the extension's storage (${ours.length} files inside it or in VS Code's log), no ONNX Runtime telemetry`);
console.log(`VSIX ${path.basename(result.vsix)}: ${(result.bytes / 1024 / 1024).toFixed(1)} MB`);
process.exit(0);
