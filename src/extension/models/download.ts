// Downloading a model from the hub into the extension's storage: one file at a time into "<name>.partial", resumed
// with an HTTP Range request after an interruption, verified against the hub's hash (SHA-256 for LFS files, the git
// blob id for the rest) and only then renamed into place. A file that does not match is deleted. No vscode import.

import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { megabytes } from '../../protocol/estimates';
import { filesToDownload, get, HubError, listRepoFiles, repoUrl, type GetOptions, type HubFile, type Quantization } from './hub';

/** What is written next to a downloaded model: where it came from and what it holds. */
export const DOWNLOAD_RECORD = 'attentive-download.json';

export interface DownloadRecord {
  repo: string;
  revision: string;
  hub: string;
  quantization: Quantization;
  files: Array<{ path: string; size: number }>;
  downloadedAt: string;
}

export interface DownloadProgress {
  /** Bytes on disk of the files to download (resumed bytes included). */
  done: number;
  total: number;
  file: string;
}

/**
 * `root` joined with `segments`, refusing anything that could leave it: absolute names, "..", ".", empty segments,
 * backslashes, drive letters, control characters (names come from remote metadata).
 */
export function confinedPath(root: string, ...segments: string[]): string {
  const parts = segments.flatMap((segment) => segment.split('/'));
  for (const part of parts) {
    if (!part || part === '.' || part === '..' || /[\\:]/.test(part) || [...part].some((c) => c.charCodeAt(0) < 0x20)) throw new HubError(`Refusing the file name ${JSON.stringify(segments.join('/'))}`);
  }
  const resolved = path.resolve(root, ...parts);
  if (!resolved.startsWith(path.resolve(root) + path.sep)) throw new HubError(`Refusing the file name ${JSON.stringify(segments.join('/'))}`);
  return resolved;
}

/** The folder a repository is stored in under `root` ("owner/name" -> root/owner/name). */
export function modelFolderFor(root: string, repo: string): string {
  return confinedPath(root, ...repo.split('/'));
}

function verifier(file: HubFile): { hash: Hash; expected: string; kind: string } {
  if (file.sha256) return { hash: createHash('sha256'), expected: file.sha256, kind: 'SHA-256' };
  if (file.gitOid) {
    const hash = createHash('sha1');
    hash.update(`blob ${file.size}\0`);
    return { hash, expected: file.gitOid, kind: 'git blob id' };
  }
  throw new HubError(`The hub gave no hash for ${file.path}: it cannot be verified`);
}

function hashExisting(file: string, hash: Hash): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve())
      .on('error', reject);
  });
}

/**
 * Downloads one file to `dest`, resuming "<dest>.partial" if an earlier attempt left one. `onBytes` gets the bytes
 * on disk as they grow. Throws HubError('Cancelled') when the signal aborts (the partial file stays for a resume);
 * a server that sends more than the listed size is stopped and what it sent deleted.
 */
export async function downloadFile(url: string, dest: string, file: HubFile, onBytes: (bytes: number) => void, options: GetOptions = {}): Promise<void> {
  const { signal } = options;
  const partial = `${dest}.partial`;
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const { hash, expected, kind } = verifier(file);
  let have = fs.existsSync(partial) ? fs.statSync(partial).size : 0;
  if (have > file.size) {
    fs.rmSync(partial);
    have = 0;
  }
  const response = await get(url, have > 0 && have < file.size ? { range: `bytes=${have}-` } : {}, options);
  const status = response.statusCode ?? 0;
  if (status === 206 && have > 0) {
    await hashExisting(partial, hash);
  } else if (status === 200) {
    have = 0; // the server sent the whole file: start over
  } else if (!(status === 416 && have === file.size)) {
    response.resume();
    throw new HubError(status === 404 ? `Not found on the hub: ${file.path}` : `The hub answered ${status} for ${file.path}`, status);
  }
  onBytes(have);
  if (status === 416) {
    response.resume();
    await hashExisting(partial, hash);
  } else {
    await new Promise<void>((resolve, reject) => {
      const out = fs.createWriteStream(partial, { flags: have > 0 ? 'a' : 'w' });
      let bytes = have;
      let oversize = false;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > file.size) {
          oversize = true;
          response.destroy(new Error('more bytes than listed')); // fail() below
          return;
        }
        hash.update(chunk);
        onBytes(bytes);
      });
      let failed = false;
      const fail = (error: Error) => {
        if (failed) return;
        failed = true;
        // Keep every byte that arrived (flushed, not dropped), so the next attempt resumes after them.
        response.unpipe(out);
        if (oversize) {
          out.end(() => {
            fs.rmSync(partial, { force: true });
            reject(new HubError(`The hub sent more than the ${file.size} bytes listed for ${file.path}: stopped, and what it sent deleted`));
          });
          return;
        }
        const reason = signal?.aborted ? new HubError('Cancelled') : new HubError(`Download of ${file.path} interrupted (${error.message}); it resumes where it stopped next time`);
        out.end(() => reject(reason));
      };
      response.on('error', fail);
      // A moment later: when the connection was given up, the 'error' with its reason comes right after this.
      response.on('aborted', () => setImmediate(() => fail(new Error('connection closed'))));
      out.on('error', fail);
      out.on('finish', () => {
        if (!failed) resolve();
      });
      response.pipe(out);
    });
    if (fs.statSync(partial).size !== file.size) {
      throw new HubError(`Download of ${file.path} stopped at ${fs.statSync(partial).size} of ${file.size} bytes; it resumes where it stopped next time`);
    }
  }
  const actual = hash.digest('hex');
  if (actual !== expected) {
    fs.rmSync(partial, { force: true });
    throw new HubError(`${file.path} does not match the hub's ${kind} (${actual.slice(0, 12)}… instead of ${expected.slice(0, 12)}…): deleted`);
  }
  fs.renameSync(partial, dest);
}

export interface ModelDownload {
  hub: string;
  repo: string;
  revision?: string;
  /** Where downloaded models live (the extension's global storage); the model goes to root/owner/name. */
  root: string;
  quantization?: Quantization[];
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** Give up a connection after this long without a byte (default: hub.ts's IDLE_TIMEOUT_MS). */
  idleMs?: number;
}

/** Whether a file on disk has the content the hub lists for it. */
async function matchesHub(dest: string, file: HubFile): Promise<boolean> {
  const { hash, expected } = verifier(file);
  await hashExisting(dest, hash);
  return hash.digest('hex') === expected;
}

/** Downloads under way, by model folder: a second request for the same repository joins the first. */
const inFlight = new Map<string, Promise<{ folder: string; record: DownloadRecord }>>();

/**
 * Lists the repository, downloads the files the engine needs (keeping ones already there that match the hub's
 * hashes), records it. One download per repository at a time: a second call while one runs gets the first's result.
 */
export function downloadModel(options: ModelDownload): Promise<{ folder: string; record: DownloadRecord }> {
  let folder: string;
  try {
    folder = modelFolderFor(options.root, options.repo);
  } catch (error) {
    return Promise.reject(error as Error);
  }
  const running = inFlight.get(folder);
  if (running) return running;
  const download = runDownload(options).finally(() => inFlight.delete(folder));
  inFlight.set(folder, download);
  return download;
}

async function runDownload(options: ModelDownload): Promise<{ folder: string; record: DownloadRecord }> {
  const revision = options.revision ?? 'main';
  const listed = await listRepoFiles(options.hub, options.repo, revision, options.signal);
  const { files, quantization } = filesToDownload(listed, options.quantization);
  const folder = modelFolderFor(options.root, options.repo);
  const total = files.reduce((sum, file) => sum + file.size, 0);
  let finished = 0;
  for (const file of files) {
    const dest = confinedPath(folder, file.path);
    // A file already there is kept only if it still matches the hub's hash (it may have been changed since).
    if (fs.existsSync(dest) && fs.statSync(dest).size === file.size && (await matchesHub(dest, file))) {
      finished += file.size;
      options.onProgress?.({ done: finished, total, file: file.path });
      continue;
    }
    fs.rmSync(dest, { force: true });
    const fetch = { ...(options.signal ? { signal: options.signal } : {}), ...(options.idleMs ? { idleMs: options.idleMs } : {}) };
    await downloadFile(repoUrl(options.hub, options.repo, file.path, revision), dest, file, (bytes) => options.onProgress?.({ done: finished + bytes, total, file: file.path }), fetch);
    finished += file.size;
  }
  const record: DownloadRecord = {
    repo: options.repo,
    revision,
    hub: options.hub,
    quantization,
    files: files.map((file) => ({ path: file.path, size: file.size })),
    downloadedAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(folder, DOWNLOAD_RECORD), `${JSON.stringify(record, null, 1)}\n`);
  return { folder, record };
}

/** Downloaded models under `root` (folders with a download record), with their size on disk. */
export function listDownloaded(root: string): Array<{ folder: string; record: DownloadRecord; bytes: number }> {
  const out: Array<{ folder: string; record: DownloadRecord; bytes: number }> = [];
  if (!fs.existsSync(root)) return out;
  for (const owner of fs.readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory())) {
    for (const name of fs.readdirSync(path.join(root, owner.name), { withFileTypes: true }).filter((e) => e.isDirectory())) {
      const folder = path.join(root, owner.name, name.name);
      const recordFile = path.join(folder, DOWNLOAD_RECORD);
      if (!fs.existsSync(recordFile)) continue;
      try {
        const record = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as DownloadRecord;
        const bytes = fs
          .readdirSync(folder, { recursive: true, withFileTypes: true })
          .filter((e) => e.isFile())
          .reduce((sum, e) => sum + fs.statSync(path.join(e.parentPath, e.name)).size, 0);
        out.push({ folder, record, bytes });
      } catch {
        // A record that does not parse: not listed (Manage Models can still reveal the storage folder).
      }
    }
  }
  return out;
}

/** Deletes a downloaded model's folder (only inside `root`). */
export function deleteDownloaded(root: string, folder: string): void {
  const resolved = path.resolve(folder);
  if (!resolved.startsWith(path.resolve(root) + path.sep)) throw new HubError(`Not a downloaded model: ${folder}`);
  fs.rmSync(resolved, { recursive: true, force: true });
  const owner = path.dirname(resolved);
  if (owner !== path.resolve(root) && fs.existsSync(owner) && fs.readdirSync(owner).length === 0) fs.rmdirSync(owner);
}

export { megabytes };

/** "12.0 MB of 480.0 MB · 3.4 MB/s · 2 min left": bytes, speed since the start (not counting resumed bytes), time left. */
export function describeProgress(progress: DownloadProgress, startedAt: number, startedWith: number, now = Date.now()): string {
  const seconds = Math.max(0.001, (now - startedAt) / 1000);
  const speed = (progress.done - startedWith) / seconds;
  const left = speed > 0 ? (progress.total - progress.done) / speed : Infinity;
  const eta = !Number.isFinite(left) ? '' : left < 90 ? ` · ${Math.ceil(left)} s left` : ` · ${Math.ceil(left / 60)} min left`;
  return `${megabytes(progress.done)} of ${megabytes(progress.total)} · ${megabytes(speed)}/s${eta}`;
}
