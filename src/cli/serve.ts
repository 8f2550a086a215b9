// `attentive serve`: listens on 127.0.0.1 (or, with --allow-remote and an API key, elsewhere) until interrupted.

import type { Backend } from '../backend/backend';
import { isLoopback } from '../backend/endpoint/endpointBackend';
import { createOpenAiServer } from './openaiServer';

export interface ServeOptions {
  host: string;
  port: number;
  apiKey?: string;
  allowRemote: boolean;
}

export const DEFAULT_SERVE_PORT = 8012;

/** A refusal of the options, before anything listens (the CLI reports it as a usage error). */
export function serveOptionsProblem(options: ServeOptions): string | undefined {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) return `--port must be 0-65535, got ${options.port}`;
  if (isLoopback(options.host)) return undefined;
  if (!options.allowRemote) return `--host ${options.host} is not this machine: other machines could use the model; pass --allow-remote (with --api-key) to allow that`;
  if (!options.apiKey) return '--allow-remote needs an API key (--api-key or ATTENTIVE_API_KEY)';
  return undefined;
}

/** Serves until SIGINT or SIGTERM; `ready` gets the base URL once listening. */
export async function serve(backend: Backend, modelId: string, options: ServeOptions, ready: (baseUrl: string) => void): Promise<void> {
  const server = createOpenAiServer(backend, { modelId, ...(options.apiKey ? { apiKey: options.apiKey } : {}), loopbackOnly: isLoopback(options.host) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  ready(`http://${host}:${port}/v1`);
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
