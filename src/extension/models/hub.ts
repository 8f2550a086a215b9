// The Hugging Face Hub, as far as downloading a model goes: list a repository's files (with sizes and hashes), pick
// the ones the engine needs, and where each one is served. No vscode import: tested against a local server.
//
// Requests go through Node's http/https modules, which VS Code's extension host routes through the proxy the user
// configured (http.proxy, or the system's); `fetch` would bypass it.

import * as http from 'node:http';
import type { IncomingMessage } from 'node:http';
import * as https from 'node:https';

/** One file of a repository, as the hub's tree API lists it. */
export interface HubFile {
  path: string;
  size: number;
  /** SHA-256 of the content (Git LFS files: lfs.oid). */
  sha256?: string;
  /** Git blob id (SHA-1 of "blob <size>\0" + content) for files stored in git itself (configs, small tokenizers). */
  gitOid?: string;
}

export class HubError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A repository id "owner/name" (letters, digits, - _ .), the form the hub accepts. */
export const REPO_ID = /^[A-Za-z0-9][\w.-]{0,95}\/[A-Za-z0-9][\w.-]{0,95}$/;

export function repoUrl(hub: string, repo: string, file: string, revision = 'main'): string {
  if (!REPO_ID.test(repo)) throw new HubError(`Not a Hugging Face repository id: ${repo}`);
  const encoded = file.split('/').map(encodeURIComponent).join('/');
  return `${hub.replace(/\/+$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/${encoded}`;
}

/** A GET (with extra headers, e.g. a Range) after up to 5 redirects; resolves to the final response. */
export function get(url: string, headers: Record<string, string>, signal?: AbortSignal, redirects = 5): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = client(url).get(url, { headers, signal }, (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        if (redirects === 0) reject(new HubError(`Too many redirects for ${url}`));
        else resolve(get(new URL(response.headers.location, url).toString(), headers, signal, redirects - 1));
        return;
      }
      resolve(response);
    });
    request.on('error', (error) => reject(signal?.aborted ? new HubError('Cancelled') : new HubError(`Cannot reach the hub (${error.message})`)));
  });
}

/** GET a JSON document, or throw a HubError that says what went wrong. */
export async function getJson(url: string, signal?: AbortSignal): Promise<unknown> {
  const response = await get(url, { accept: 'application/json' }, signal);
  const status = response.statusCode ?? 0;
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  if (status !== 200) throw new HubError(status === 404 ? `Not found on the hub: ${url}` : `The hub answered ${status} for ${url}`, status);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HubError(`The hub sent something that is not JSON for ${url}`);
  }
}

export function client(url: string): typeof http | typeof https {
  const protocol = new URL(url).protocol;
  if (protocol === 'https:') return https;
  if (protocol === 'http:') return http;
  throw new HubError(`Unsupported address ${url}`);
}

/** Every file of `repo` at `revision`, from the hub's tree API (recursive). */
export async function listRepoFiles(hub: string, repo: string, revision = 'main', signal?: AbortSignal): Promise<HubFile[]> {
  if (!REPO_ID.test(repo)) throw new HubError(`Not a Hugging Face repository id: ${repo}`);
  const url = `${hub.replace(/\/+$/, '')}/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`;
  const raw = await getJson(url, signal);
  if (!Array.isArray(raw)) throw new HubError(`Unexpected answer from ${url}`);
  const files: HubFile[] = [];
  for (const entry of raw as Array<Record<string, unknown>>) {
    if (entry['type'] !== 'file' || typeof entry['path'] !== 'string' || typeof entry['size'] !== 'number') continue;
    const lfs = entry['lfs'] as { oid?: unknown; size?: unknown } | undefined;
    const file: HubFile = { path: entry['path'], size: typeof lfs?.size === 'number' ? lfs.size : entry['size'] };
    if (typeof lfs?.oid === 'string' && /^[0-9a-f]{64}$/.test(lfs.oid)) file.sha256 = lfs.oid;
    else if (typeof entry['oid'] === 'string' && /^[0-9a-f]{40}$/.test(entry['oid'])) file.gitOid = entry['oid'];
    files.push(file);
  }
  return files;
}

export type Quantization = 'q4' | 'int8' | 'fp16' | 'fp32';

/** ONNX file names per quantization, in the transformers.js layout (onnx/), best first (the engine's list). */
const ONNX_NAMES: Record<Quantization, string[]> = {
  q4: ['model_q4.onnx', 'model_q4f16.onnx', 'decoder_model_merged_q4.onnx', 'decoder_model_merged_q4f16.onnx'],
  int8: ['model_quantized.onnx', 'model_int8.onnx', 'model_uint8.onnx', 'decoder_model_merged_quantized.onnx'],
  fp16: ['model_fp16.onnx', 'decoder_model_merged_fp16.onnx'],
  fp32: ['model.onnx', 'decoder_model_merged.onnx'],
};
const CONFIG_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];
const REQUIRED_CONFIG = ['config.json', 'tokenizer.json'];

/**
 * The files the engine needs from a repository: its configs and tokenizer, and one ONNX file of the first
 * quantization in `preference` that the repository has (with its external-data files, for models over 2 GB).
 */
export function filesToDownload(files: HubFile[], preference: Quantization[] = ['q4', 'int8', 'fp32', 'fp16']): { files: HubFile[]; quantization: Quantization } {
  const byPath = new Map(files.map((file) => [file.path, file]));
  const missing = REQUIRED_CONFIG.filter((name) => !byPath.has(name));
  if (missing.length) throw new HubError(`The repository has no ${missing.join(' or ')}: it is not a model in the transformers.js layout`);
  for (const quantization of preference) {
    for (const name of ONNX_NAMES[quantization]) {
      const onnx = byPath.get(`onnx/${name}`);
      if (!onnx) continue;
      // External data: onnx/model_q4.onnx_data, onnx/model_q4.onnx_data_1, ...
      const data = files.filter((file) => file.path.startsWith(`${onnx.path}_data`) || file.path === `${onnx.path}.data`);
      return { files: [...CONFIG_FILES.flatMap((n) => byPath.get(n) ?? []), onnx, ...data], quantization };
    }
  }
  throw new HubError(`The repository has no ONNX decoder (onnx/model*.onnx) in ${preference.join(', ')}`);
}
