// `npm start`: opens the built extension in a real VS Code (code-server 1.100) on 127.0.0.1 with the bundled model.
// The extension is linked into a fresh extensions folder, so VS Code runs it exactly as installed.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, TEST_DIR, startCodeServer } from './vscode-server.mjs';

const PORT = Number(process.env.ATTENTIVE_PORT || 18080);
const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const runDir = path.join(TEST_DIR, 'run-start');
const extensionsDir = path.join(runDir, 'extensions');
const link = path.join(extensionsDir, `${packageJson.publisher}.${packageJson.name}-${packageJson.version}`);
fs.rmSync(extensionsDir, { recursive: true, force: true });
fs.mkdirSync(extensionsDir, { recursive: true });
fs.symlinkSync(ROOT, link, 'dir');
const workspace = process.argv[2] ? path.resolve(process.argv[2]) : path.join(runDir, 'workspace');
if (!process.argv[2] && !fs.existsSync(workspace)) {
  fs.mkdirSync(workspace, { recursive: true });
  fs.writeFileSync(
    path.join(workspace, 'example.py'),
    'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n',
  );
}

// A fresh profile opens VS Code's walkthrough; start on the workspace instead (workspace trust still asks, as it should).
const userSettings = path.join(runDir, 'user-data', 'User', 'settings.json');
if (!fs.existsSync(userSettings)) {
  fs.mkdirSync(path.dirname(userSettings), { recursive: true });
  fs.writeFileSync(userSettings, JSON.stringify({ 'workbench.startupEditor': 'none' }, null, 2));
}

const server = await startCodeServer({
  runDir,
  port: PORT,
  workspace,
  extensionsDir,
  userDataDir: path.join(runDir, 'user-data'),
  log: path.join(runDir, 'code-server.log'),
});
console.log(`Attentive is running in VS Code at ${server.url}`);
console.log('Open it in a browser on this machine; press Ctrl+C to stop.');
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
