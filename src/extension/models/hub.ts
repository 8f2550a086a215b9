// The Hugging Face Hub, as far as downloading a model goes: list a repository's files (with sizes and hashes), pick
// the ones the engine needs, and where each one is served. No vscode import: tested against a local server.
//
// Requests go through Node's http/https modules, which VS Code's extension host routes through the proxy the user
// configured (http.proxy, or the system's); `fetch` would bypass it.

import * as http from 'node:http';
import type { IncomingMessage } from 'node:http';
import * as https from 'node:https';
import { isLoopback } from '../../backend/endpoint/endpointBackend';
import type { Quantization } from '../../protocol/engine';
import { durationText } from '../../protocol/estimates';
import { ONNX_FILES } from '../../protocol/onnxFiles';

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

/** A connection that sends nothing for this long (connecting, or in the middle of a body) is given up. */
export const IDLE_TIMEOUT_MS = 30_000;
/** The most a JSON answer (a repository's file list) may weigh: a listing of ~150,000 files. */
export const MAX_JSON_BYTES = 32 * 1024 * 1024;

export interface GetOptions {
  signal?: AbortSignal;
  /** Give up after this long without a byte (default IDLE_TIMEOUT_MS). */
  idleMs?: number;
}

/**
 * A GET (with extra headers, e.g. a Range) after up to 5 redirects, only to https addresses (or loopback ones), with
 * no Authorization header sent to another origin; resolves to the final response. Its socket is given up after
 * `idleMs` without a byte, body included: the response then ends with an error.
 */
export function get(url: string, headers: Record<string, string>, options: GetOptions = {}, redirects = 5): Promise<IncomingMessage> {
  const { signal, idleMs = IDLE_TIMEOUT_MS } = options;
  return new Promise((resolve, reject) => {
    const from = new URL(url);
    let received: IncomingMessage | undefined;
    const request = client(url).get(url, { headers, signal }, (response) => {
      received = response;
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400 && response.headers.location) {
        response.resume();
        const next = new URL(response.headers.location, url);
        if (redirects === 0) return reject(new HubError(`Too many redirects for ${url}`));
        if (next.protocol !== 'https:' && !(next.protocol === 'http:' && isLoopback(next.hostname))) {
          return reject(new HubError(`The hub sent ${from.pathname} on to ${next.origin}, which is not https: refused`));
        }
        const { authorization: _key, ...rest } = headers;
        resolve(get(next.toString(), next.origin === from.origin ? headers : rest, options, redirects - 1));
        return;
      }
      resolve(response);
    });
    request.setTimeout(idleMs, () => {
      const error = new Error(`nothing from ${from.host} for ${durationText(idleMs)}`);
      received?.destroy(error); // a body that stalled ends with this reason
      request.destroy(error);
    });
    request.on('error', (error) => reject(signal?.aborted ? new HubError('Cancelled') : new HubError(`Cannot reach the hub (${error.message})`)));
  });
}

/** GET a JSON document (at most MAX_JSON_BYTES), or throw a HubError that says what went wrong. */
export async function getJson(url: string, signal?: AbortSignal): Promise<unknown> {
  const response = await get(url, { accept: 'application/json' }, signal ? { signal } : {});
  const status = response.statusCode ?? 0;
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of response) {
      bytes += (chunk as Buffer).length;
      if (bytes > MAX_JSON_BYTES) {
        response.destroy();
        throw new HubError(`The hub's answer for ${url} is over ${MAX_JSON_BYTES / 1024 / 1024} MB: refused`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    throw error instanceof HubError ? error : new HubError(`The hub's answer for ${url} broke off (${(error as Error).message})`);
  }
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

export type { Quantization };

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
  // Its decoder_model_merged.onnx is the decoder half of a sequence-to-sequence model (T5, BART), not a language model.
  const encoder = files.find((file) => /(^|\/)encoder_model[^/]*\.onnx$/.test(file.path));
  if (encoder) throw new HubError(`The repository is an encoder-decoder export (${encoder.path}): Attentive runs decoder-only language models`);
  for (const quantization of preference) {
    for (const name of ONNX_FILES[quantization]) {
      const onnx = byPath.get(`onnx/${name}`);
      if (!onnx) continue;
      // External data: onnx/model_q4.onnx_data, onnx/model_q4.onnx_data_1, ...
      const data = files.filter((file) => file.path.startsWith(`${onnx.path}_data`) || file.path === `${onnx.path}.data`);
      return { files: [...CONFIG_FILES.flatMap((n) => byPath.get(n) ?? []), onnx, ...data], quantization };
    }
  }
  throw new HubError(unsupportedLayout(files.map((file) => file.path).filter((p) => /\.onnx$/.test(p)), preference));
}

/** Why none of a repository's ONNX files is one the engine runs, from their names alone (nothing is downloaded). */
function unsupportedLayout(onnxPaths: string[], preference: Quantization[]): string {
  const names = onnxPaths.map((p) => p.slice(p.lastIndexOf('/') + 1));
  const listed = names.length > 6 ? `${names.slice(0, 6).join(', ')}, …` : names.join(', ');
  if (names.length === 0) return 'The repository has no ONNX files: Attentive runs ONNX exports (onnx/model*.onnx, the transformers.js layout)';
  if (!onnxPaths.some((p) => p.startsWith('onnx/'))) return `The repository's ONNX files are at its root (${listed}), Optimum's own layout: Attentive reads the transformers.js layout, onnx/model*.onnx`;
  if (names.some((name) => name.startsWith('decoder_with_past_model'))) return `The repository has only Optimum's split decoder pair (${listed}): Attentive runs a single decoder, onnx/model*.onnx or decoder_model_merged*.onnx`;
  const other = (Object.keys(ONNX_FILES) as Quantization[]).filter((q) => !preference.includes(q) && ONNX_FILES[q].some((name) => names.includes(name)));
  if (other.length) return `The repository has its model only in ${other.join(', ')}, not in ${preference.join(', ')}`;
  return `None of the repository's ONNX files (${listed}) is one Attentive loads (onnx/model.onnx, model_q4.onnx, model_quantized.onnx and the other transformers.js names)`;
}
