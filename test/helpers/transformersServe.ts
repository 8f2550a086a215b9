// Hugging Face's `transformers serve` as the real OpenAI-compatible model server of the tests: its Python environment
// comes from scripts/setup-serve-venv.sh (offline, from the machine's wheelhouse), its model is a random-weight Qwen2
// folder saved by transformers itself (make_served_model.py, kept in .cache/served-model/), and it listens on a free
// port of 127.0.0.1 until stop().

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

/** The repository root, from this file or from a bundle of it (out/test/, dist/). */
export function repositoryRoot(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'scripts', 'setup-serve-venv.sh'))) return dir;
  }
  throw new Error(`no repository root above ${__dirname}`);
}

const ROOT = repositoryRoot();
const VENV = path.join(ROOT, '.venv-serve');
const MODEL_DIR = path.join(ROOT, '.cache', 'served-model');
const OFFLINE = { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', HF_HUB_DISABLE_TELEMETRY: '1' };

export interface TransformersServer {
  /** The API base, ending in /v1. */
  baseUrl: string;
  /** The id the server knows the model by (its folder). */
  modelId: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/health', timeout: 2_000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('error', () => resolve(false));
    request.on('timeout', () => request.destroy());
  });
}

export async function startTransformersServe(): Promise<TransformersServer> {
  execFileSync('bash', [path.join(ROOT, 'scripts', 'setup-serve-venv.sh')], { stdio: 'inherit', timeout: 900_000 });
  if (!fs.existsSync(path.join(MODEL_DIR, 'model.safetensors'))) {
    execFileSync(path.join(VENV, 'bin', 'python'), [path.join(ROOT, 'test', 'helpers', 'make_served_model.py'), MODEL_DIR], { stdio: 'inherit', env: OFFLINE, timeout: 300_000 });
  }
  const port = await freePort();
  const log: string[] = [];
  const child: ChildProcess = spawn(path.join(VENV, 'bin', 'transformers'), ['serve', MODEL_DIR, '--host', '127.0.0.1', '--port', String(port)], { env: OFFLINE, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  const deadline = Date.now() + 120_000;
  while (!(await healthy(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`transformers serve did not start (exit ${child.exitCode}):\n${log.join('').slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    modelId: MODEL_DIR,
    stop: () => stopChild(child),
  };
}

/** Ends a server process: SIGTERM, then SIGKILL after 5 s; resolves once it has exited. */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}
