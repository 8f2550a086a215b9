// No network unless the user starts a download: the engine (the CLI's worker on the bundled model and on the
// Llama-shaped fixture, whose graph is rewritten for attention) runs under strace, and no socket of the internet
// families (AF_INET, AF_INET6) is ever created or connected. Unix sockets (Node's own plumbing) are allowed. And
// ONNX Runtime's telemetry (1.29+: a device id and an event database under ~/.cache, uploaded to Microsoft) is off.
// Needs strace (installed by .ci/run).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const LLAMA = path.join(ROOT, 'test', 'fixtures', 'models', 'llama-tiny');

/** The socket() and connect() calls of `args` run under strace (every thread and child). */
function socketCalls(args: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-strace-')), 'trace');
  execFileSync('strace', ['-f', '-qq', '-e', 'trace=socket,connect', '-o', log, process.execPath, CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
  fs.rmSync(path.dirname(log), { recursive: true, force: true });
  return lines;
}

const internet = (lines: string[]) => lines.filter((line) => /AF_INET6?\b/.test(line));

describe('no network', () => {
  it('strace sees a connection when there is one (the check can fail)', () => {
    const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-strace-')), 'trace');
    // A connection attempt to a closed local port: refused, but the socket and connect calls are there.
    execFileSync('strace', ['-f', '-qq', '-e', 'trace=socket,connect', '-o', log, process.execPath, '-e', "require('net').connect(9, '127.0.0.1').on('error', () => {})"]);
    expect(internet(fs.readFileSync(log, 'utf8').split('\n')).length).toBeGreaterThan(0);
  });

  it('the engine opens no internet socket: load, generate, chat, complete, attention', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-nonet-'));
    const env = { ...process.env, TMPDIR: tmp };
    const calls = [
      ...socketCalls(['generate', '--prompt', 'def add(a, b):', '--max-tokens', '8'], env),
      ...socketCalls(['chat', 'Write a function that adds two numbers.', '--max-tokens', '8'], env),
      ...socketCalls(['complete', '--prefix', 'def add(a, b):\n    return ', '--suffix', '\n', '--max-tokens', '8'], env),
      ...socketCalls(['attention', '--model', LLAMA, '--text', 'x = 1\ny = x + 1\n', '--json'], env),
    ];
    fs.rmSync(tmp, { recursive: true, force: true });
    expect(internet(calls)).toEqual([]);
  }, 120_000);

  it("ONNX Runtime's own telemetry is off: no device id or event database is written (it would upload to Microsoft)", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-telemetry-'));
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: path.join(home, 'home'), XDG_CACHE_HOME: path.join(home, 'cache') };
    // ONNX Runtime also stays silent where it detects a CI service; neither the switch nor those may be set here.
    for (const name of ['ORT_DISABLE_TELEMETRY', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI']) delete env[name];
    const written = () => (fs.existsSync(home) ? fs.readdirSync(home, { recursive: true }).map(String).filter((f) => f.includes('onnxruntime')) : []);
    try {
      // Control: ONNX Runtime loaded without the engine writes them here (a machine where it does not would make the
      // check below say nothing, so it is reported).
      const model = path.join(ROOT, 'models', 'attentive-code-14m', 'onnx', 'model_q4.onnx');
      execFileSync(process.execPath, ['-e', `require('onnxruntime-node').InferenceSession.create(${JSON.stringify(model)}).then(() => process.exit(0))`], { cwd: ROOT, env });
      if (written().length === 0) console.warn('ONNX Runtime wrote no telemetry files even without ORT_DISABLE_TELEMETRY on this machine');
      fs.rmSync(home, { recursive: true, force: true });
      fs.mkdirSync(home);
      execFileSync(process.execPath, [CLI, 'generate', '--prompt', 'x = ', '--max-tokens', '4'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      execFileSync(process.execPath, [CLI, 'attention', '--model', LLAMA, '--text', 'x = 1', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      expect(written()).toEqual([]);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});
