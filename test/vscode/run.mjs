// Runs the extension's mocha tests inside a real VS Code extension host (code-server 1.100 + headless Chromium),
// the way VS Code's own browser integration tests do: the workbench gets extensionDevelopmentPath and
// extensionTestsPath in its payload, and calls window.codeAutomationExit(code) when mocha is done.
// Exit code = number of failures (0 = all passed).

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as util from 'node:util';
import { QUIET_SETTINGS, ROOT, TEST_DIR, launchChromium, startCodeServer } from '../../scripts/vscode-server.mjs';

const PORT = Number(process.env.ATTENTIVE_TEST_PORT || 18181);
const TIMEOUT_MS = Number(process.env.ATTENTIVE_TEST_TIMEOUT_MS || 300_000);
// A second run beside another (two engineers on one machine) needs its own folder and port.
const runDir = process.env.ATTENTIVE_TEST_RUN_DIR || path.join(TEST_DIR, 'run-extension-tests');
fs.rmSync(runDir, { recursive: true, force: true });
const workspace = path.join(runDir, 'workspace');
fs.mkdirSync(workspace, { recursive: true });
fs.writeFileSync(path.join(workspace, 'sample.py'), 'def add(a, b):\n    return a + b\n');
fs.writeFileSync(path.join(workspace, 'sample.ts'), 'export function add(a: number, b: number): number {\n  return a + b;\n}\n');
const userDataDir = path.join(runDir, 'user-data');
fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(QUIET_SETTINGS));

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
let server;
let browser;
let finished = false;
let summary = null;

async function finish(code) {
  if (finished) return;
  finished = true;
  if (code === 0 && !summary) {
    console.error('VS Code reported success but mocha never finished (did the extension host die?)');
    code = 1;
  }
  if (code === 0 && summary && summary.passed === 0) {
    console.error('no extension test ran');
    code = 1;
  }
  await browser?.close();
  await server?.stop();
  console.log(`[${elapsed()}] extension tests exit code ${code}`);
  process.exit(code);
}

const watchdog = setTimeout(() => {
  console.error(`extension tests timed out after ${TIMEOUT_MS / 1000}s; code-server log: ${runDir}/code-server.log`);
  void finish(124);
}, TIMEOUT_MS);
watchdog.unref();

try {
  server = await startCodeServer({
    runDir,
    port: PORT,
    workspace,
    extensionsDir: path.join(runDir, 'extensions'),
    userDataDir,
    log: path.join(runDir, 'code-server.log'),
  });
  console.log(`[${elapsed()}] code-server up on ${server.host}`);
  browser = await launchChromium(runDir);
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const line = util.format(...args);
    const finishedLine = /\[attentive\] tests finished: (\d+) passed, (\d+) failed/.exec(line);
    if (finishedLine) summary = { passed: Number(finishedLine[1]), failed: Number(finishedLine[2]) };
    // The extension host's console reaches us here; keep mocha's report and errors, drop workbench noise.
    if (process.env.VERBOSE || /^\s*(✔|✓|✗|\d+\)|\d+ passing|\d+ failing|\d+ pending|\[attentive\])/.test(line) || /^\s{2,}\S/.test(line)) {
      console.log(line);
    }
  });
  await page.exposeFunction('codeAutomationExit', (code) => finish(code));
  const remote = (p) => `vscode-remote://${server.host}${p}`;
  const payload = JSON.stringify([
    ['extensionDevelopmentPath', remote(ROOT)],
    // ATTENTIVE_TESTS_ENTRY: another bundle to run the same way (bench/soak.mjs's workload).
    ['extensionTestsPath', remote(process.env.ATTENTIVE_TESTS_ENTRY || path.join(ROOT, 'out', 'test', 'index.js'))],
    ['skipWelcome', 'true'],
  ]);
  await page.goto(`${server.url}&payload=${encodeURIComponent(payload)}`);
} catch (error) {
  console.error(error);
  await finish(1);
}
