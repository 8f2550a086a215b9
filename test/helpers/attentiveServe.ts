// `attentive serve` (the built CLI, dist/cli.js) as a model server that answers prompt log-probabilities (echo), on a
// free port of 127.0.0.1, serving the bundled model until stop().

import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { repositoryRoot, stopChild } from './transformersServe';

export interface AttentiveServer {
  /** The API base, ending in /v1. */
  baseUrl: string;
  modelId: string;
  stop(): Promise<void>;
}

/** `apiKey`: the server refuses requests without it. */
export async function startAttentiveServe(options: { apiKey?: string } = {}): Promise<AttentiveServer> {
  const cli = path.join(repositoryRoot(), 'dist', 'cli.js');
  // In an extension host process.execPath is VS Code's own runtime: run it as plain Node.
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--threads', '1', ...(options.apiKey ? ['--api-key', options.apiKey] : [])], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const started = await new Promise<{ modelId: string; baseUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`attentive serve did not start:\n${log}`)), 120_000);
    const read = (chunk: Buffer) => {
      log += chunk.toString();
      // "attentive serve: <model> at http://127.0.0.1:<port>/v1 (Ctrl+C stops)"
      const match = /attentive serve: (\S+) at (http:\/\/\S+\/v1)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve({ modelId: match[1]!, baseUrl: match[2]! });
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`attentive serve exited (${code}):\n${log}`));
    });
  });
  return {
    ...started,
    stop: () => stopChild(child),
  };
}
