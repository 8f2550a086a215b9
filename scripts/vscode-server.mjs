// Starts code-server (a real VS Code 1.100) on 127.0.0.1 with every file it writes under .vscode-test/.
// Shared by `npm start` (scripts/start.mjs), the extension and UI tests (test/vscode/) and the benchmarks (bench/).

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TEST_DIR = path.join(ROOT, '.vscode-test');

/** Environment that keeps code-server, Chromium and VS Code out of ~ and /tmp, and off the network. */
export function isolatedEnv(runDir) {
  const tmp = path.join(runDir, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  return {
    ...process.env,
    TMPDIR: tmp,
    XDG_CONFIG_HOME: path.join(runDir, 'xdg', 'config'),
    XDG_DATA_HOME: path.join(runDir, 'xdg', 'data'),
    XDG_CACHE_HOME: path.join(runDir, 'xdg', 'cache'),
    EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: 'http://127.0.0.1:9/gallery', itemUrl: 'http://127.0.0.1:9/item' }),
  };
}

export function waitForHttp(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () =>
      http
        .get(url, (response) => {
          response.resume();
          resolve();
        })
        .on('error', () => (Date.now() > deadline ? reject(new Error(`timed out waiting for ${url}`)) : setTimeout(attempt, 200)));
    attempt();
  });
}

/**
 * @param {{ runDir: string, port: number, workspace: string, extensionsDir: string, userDataDir: string, log: string }} options
 */
export async function startCodeServer({ runDir, port, workspace, extensionsDir, userDataDir, log }) {
  const binary = path.join(TEST_DIR, 'node_modules', '.bin', 'code-server');
  if (!fs.existsSync(binary)) throw new Error(`code-server is not installed: run scripts/setup-vscode-test.sh`);
  const host = `127.0.0.1:${port}`;
  const child = spawn(
    binary,
    [
      '--auth', 'none', '--bind-addr', host, '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override',
      '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, workspace,
    ],
    { env: isolatedEnv(runDir), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logStream = fs.createWriteStream(log);
  child.stdout.pipe(logStream);
  child.stderr.pipe(logStream);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  await Promise.race([
    waitForHttp(`http://${host}/healthz`, 60_000),
    exited.then((code) => Promise.reject(new Error(`code-server exited with ${code}; see ${log}`))),
  ]);
  return {
    host,
    url: `http://${host}/?folder=${encodeURIComponent(workspace)}`,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  };
}

export async function launchChromium(runDir) {
  const { chromium } = await import(path.join(TEST_DIR, 'node_modules', 'playwright-core', 'index.mjs'));
  const profile = fs.mkdtempSync(path.join(runDir, 'chromium-'));
  const env = isolatedEnv(runDir);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    env,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Workbench settings that keep a test or benchmark window quiet (no welcome page, no trust prompt, no tips) and off
 * the network: VS Code's own experiment service (default.exp-tas.com, reached from the extension host) is off, so
 * the no-network test sees only what extensions do.
 */
export const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'git.openRepositoryInParentFolders': 'never',
};

/** An empty run folder with a workspace, an empty extensions folder and user settings (the paths startCodeServer takes). */
export function freshRunFolder(runDir, settings) {
  fs.rmSync(runDir, { recursive: true, force: true });
  const workspace = path.join(runDir, 'workspace');
  const extensionsDir = path.join(runDir, 'extensions');
  const userDataDir = path.join(runDir, 'user-data');
  fs.mkdirSync(workspace, { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  const settingsFile = path.join(userDataDir, 'User', 'settings.json');
  fs.writeFileSync(settingsFile, JSON.stringify(settings));
  return { runDir, workspace, extensionsDir, userDataDir, settingsFile };
}

/**
 * A fresh run folder for the workbench as users get it: the extension linked into an empty extensions folder
 * (installed, not under development). scripts/package.mjs's prepareVsixRun installs the VSIX instead.
 */
export function prepareInstalledRun(runDir, settings) {
  const run = freshRunFolder(runDir, settings);
  const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  fs.symlinkSync(ROOT, path.join(run.extensionsDir, `${packageJson.publisher}.${packageJson.name}-${packageJson.version}`), 'dir');
  return run;
}

/** Runs a command from the palette by its title, as a user would (Playwright page of the workbench). */
export async function runPaletteCommand(page, title) {
  // Right after a (re)load the palette may not list extension commands yet: retry a few times.
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`>${title}`);
    try {
      await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 5_000 });
      await page.keyboard.press('Enter');
      return;
    } catch (error) {
      await page.keyboard.press('Escape');
      if (attempt === 6) throw error;
    }
  }
}
