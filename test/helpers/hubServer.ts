// A hub-shaped HTTP server on 127.0.0.1 for download tests: serves folders as repositories through the endpoints the
// downloader uses (the tree API and resolve/ with a redirect to a "CDN" path for LFS files, Range and ETag support),
// and can misbehave on request: drop a connection half-way, corrupt a file, or send slowly.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface HubFaults {
  /** Close the connection after this many body bytes of the next full or ranged response for a path (once). */
  dropAfter?: Map<string, number>;
  /** Serve this path with one byte changed (its listed hashes stay those of the real file). */
  corrupt?: Set<string>;
  /** Send bodies in 16 KB pieces this many ms apart. */
  slowMs?: number;
  /** Extra tree entries (e.g. hostile paths) listed for every repository. */
  extraEntries?: Array<Record<string, unknown>>;
  /** Serve these paths with 1 MB more than the file (no content-length), as a hostile server could. */
  oversize?: Set<string>;
  /** Send this many body bytes of a path, then nothing more, keeping the connection open. */
  stallAfter?: Map<string, number>;
  /** Redirect these paths (resolve/ requests) to the given address. */
  redirectTo?: Map<string, string>;
  /** Answer tree listings with ~40 MB of entries. */
  hugeListing?: boolean;
}

export interface RequestLog {
  path: string;
  range?: string;
}

export interface HubServer {
  url: string;
  requests: RequestLog[];
  faults: HubFaults;
  close(): Promise<void>;
}

const isLfs = (file: string) => file.endsWith('.onnx') || file.includes('.onnx_data');

function listFiles(folder: string): string[] {
  return fs
    .readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
}

/** `repos`: "owner/name" -> folder on disk. */
export async function startHubServer(repos: Record<string, string>): Promise<HubServer> {
  const requests: RequestLog[] = [];
  const faults: HubFaults = {};
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const log: RequestLog = { path: url.pathname };
    if (req.headers.range) log.range = req.headers.range;
    requests.push(log);
    const tree = url.pathname.match(/^\/api\/models\/([^/]+\/[^/]+)\/tree\/main$/);
    if (tree) {
      if (faults.hugeListing) {
        const entry = JSON.stringify({ type: 'file', path: `padding/${'x'.repeat(200)}.txt`, size: 1, oid: '0'.repeat(40) });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('[');
        for (let i = 0; i < 160_000; i++) res.write(i ? `,${entry}` : entry);
        return void res.end(']');
      }
      const folder = repos[tree[1]!];
      if (!folder) return void res.writeHead(404).end('{"error":"Repository not found"}');
      const entries = listFiles(folder).map((file) => {
        const bytes = fs.readFileSync(path.join(folder, file));
        const gitOid = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
        const entry: Record<string, unknown> = { type: 'file', path: file, size: bytes.length, oid: gitOid };
        if (isLfs(file)) entry['lfs'] = { oid: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, pointerSize: 134 };
        return entry;
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ type: 'directory', path: 'onnx', size: 0, oid: '0'.repeat(40) }, ...entries, ...(faults.extraEntries ?? [])]));
      return;
    }
    const resolve = url.pathname.match(/^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/);
    if (resolve) {
      const [, repo, file] = resolve;
      const decoded = decodeURIComponent(file!);
      const redirect = faults.redirectTo?.get(decoded);
      if (redirect) return void res.writeHead(302, { location: redirect }).end();
      // LFS files are served elsewhere (the hub redirects them to its CDN).
      if (isLfs(decoded)) return void res.writeHead(302, { location: `/cdn/${repo}/${file}` }).end();
      return void serveFile(req, res, repos[repo!], decoded);
    }
    const cdn = url.pathname.match(/^\/cdn\/([^/]+\/[^/]+)\/(.+)$/);
    if (cdn) return void serveFile(req, res, repos[cdn[1]!], decodeURIComponent(cdn[2]!));
    res.writeHead(404).end();
  });

  function serveFile(req: http.IncomingMessage, res: http.ServerResponse, folder: string | undefined, file: string): void {
    const full = folder ? path.join(folder, file) : '';
    if (!folder || !full.startsWith(folder + path.sep) || !fs.existsSync(full)) return void res.writeHead(404).end('Entry not found');
    let bytes = fs.readFileSync(full);
    if (faults.corrupt?.has(file)) {
      bytes = Buffer.from(bytes);
      bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    }
    if (faults.oversize?.has(file)) {
      res.writeHead(200); // no content-length: the body ends when the server says so
      res.write(bytes);
      return void res.end(Buffer.alloc(1024 * 1024, 0x41));
    }
    const etag = `"${createHash('sha256').update(bytes).digest('hex')}"`;
    const range = req.headers.range?.match(/^bytes=(\d+)-$/);
    let start = 0;
    if (range) {
      start = Number(range[1]);
      if (start >= bytes.length) return void res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
      res.writeHead(206, { 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}`, 'content-length': bytes.length - start, etag, 'accept-ranges': 'bytes' });
    } else {
      res.writeHead(200, { 'content-length': bytes.length, etag, 'accept-ranges': 'bytes' });
    }
    const body = bytes.subarray(start);
    const stall = faults.stallAfter?.get(file);
    if (stall !== undefined) {
      faults.stallAfter!.delete(file);
      return void res.write(body.subarray(0, stall)); // and never ends
    }
    const drop = faults.dropAfter?.get(file);
    if (drop !== undefined) {
      faults.dropAfter!.delete(file);
      res.write(body.subarray(0, drop), () => res.socket?.destroy());
      return;
    }
    if (!faults.slowMs) return void res.end(body);
    let offset = 0;
    const next = () => {
      if (res.destroyed) return;
      if (offset >= body.length) return void res.end();
      res.write(body.subarray(offset, offset + 16_384));
      offset += 16_384;
      setTimeout(next, faults.slowMs);
    };
    next();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
