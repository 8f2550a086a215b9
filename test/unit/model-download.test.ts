// Downloading models from a hub (src/extension/models/): real HTTP on 127.0.0.1 against a hub-shaped server that
// serves the fixture models, real files, and the real engine on what was downloaded. Resume after a dropped
// connection, a corrupted file, cancellation, hostile file names from the metadata, listing and deleting.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LoadedModel } from '../../src/worker/engine';
import { confinedPath, deleteDownloaded, describeProgress, downloadModel, listDownloaded, type DownloadProgress } from '../../src/extension/models/download';
import { filesToDownload, HubError, listRepoFiles, repoUrl, type HubFile } from '../../src/extension/models/hub';
import { startHubServer, type HubServer } from '../helpers/hubServer';

const FIXTURES = path.resolve(__dirname, '../fixtures/models');
const REPO = 'fixtures/llama-tiny';
let hub: HubServer;
let root: string;

beforeAll(async () => {
  hub = await startHubServer({ [REPO]: path.join(FIXTURES, 'llama-tiny'), 'fixtures/gpt2-tiny': path.join(FIXTURES, 'gpt2-tiny') });
});
afterAll(() => hub.close());
afterEach(() => {
  hub.faults.dropAfter = undefined;
  hub.faults.corrupt = undefined;
  hub.faults.slowMs = undefined;
  hub.faults.extraEntries = undefined;
  hub.faults.oversize = undefined;
  hub.faults.stallAfter = undefined;
  hub.faults.redirectTo = undefined;
  hub.faults.hugeListing = undefined;
  hub.requests.length = 0;
  if (root) fs.rmSync(root, { recursive: true, force: true });
});
const freshRoot = () => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'attentive-models-')));
const onnxOf = (folder: string) => path.join(folder, 'onnx', 'model_quantized.onnx');

describe('the hub client', () => {
  it('lists a repository with sizes and hashes, and picks the files the engine needs', async () => {
    const files = await listRepoFiles(hub.url, REPO);
    const onnx = files.find((f) => f.path === 'onnx/model_quantized.onnx')!;
    expect(onnx.size).toBe(fs.statSync(path.join(FIXTURES, 'llama-tiny', 'onnx', 'model_quantized.onnx')).size);
    expect(onnx.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(files.find((f) => f.path === 'config.json')!.gitOid).toMatch(/^[0-9a-f]{40}$/);
    const { files: wanted, quantization } = filesToDownload(files);
    expect(quantization).toBe('int8'); // the fixture has no 4-bit file
    expect(wanted.map((f) => f.path)).toEqual(['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'onnx/model_quantized.onnx']);
    expect(filesToDownload(files, ['fp32']).files.at(-1)!.path).toBe('onnx/model.onnx');
  });

  it('says plainly what is wrong with a repository that is not a model, or not there', async () => {
    expect(() => filesToDownload([{ path: 'README.md', size: 1, gitOid: '0'.repeat(40) }])).toThrow(/no config.json or tokenizer.json/);
    // 4-bit first (model_q4 over model_q4f16), then 8-bit, float32, float16.
    const configs = [{ path: 'config.json', size: 1 }, { path: 'tokenizer.json', size: 1 }] as HubFile[];
    const file = (name: string) => ({ path: `onnx/${name}`, size: 1 }) as HubFile;
    expect(filesToDownload([...configs, file('model_bnb4.onnx'), file('model.onnx')])).toMatchObject({ quantization: 'q4', files: [...configs, { path: 'onnx/model_bnb4.onnx' }] });
    expect(filesToDownload([...configs, file('model_uint8.onnx')])).toMatchObject({ quantization: 'int8', files: [...configs, { path: 'onnx/model_uint8.onnx' }] });
    expect(filesToDownload([...configs, file('model_q4f16.onnx'), file('model_quantized.onnx')])).toMatchObject({ quantization: 'q4', files: [...configs, { path: 'onnx/model_q4f16.onnx' }] });
    expect(filesToDownload([...configs, file('model_q4f16.onnx'), file('model_q4.onnx')]).files.at(-1)!.path).toBe('onnx/model_q4.onnx');
    expect(filesToDownload([...configs, file('model_fp16.onnx')])).toMatchObject({ quantization: 'fp16' });
    // External data in several parts comes along with its file, and only its own.
    const parts = [file('model.onnx'), file('model.onnx_data'), file('model.onnx_data_1'), file('model_fp16.onnx_data')];
    expect(filesToDownload([...configs, ...parts], ['fp32']).files.map((f) => f.path)).toEqual(['config.json', 'tokenizer.json', 'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model.onnx_data_1']);
    // A layout the engine does not run is refused from the listing, before anything is downloaded, with the reason.
    const refusal = (paths: string[], preference?: Array<'q4' | 'int8' | 'fp32' | 'fp16'>) => {
      try {
        filesToDownload([...configs, ...paths.map((p) => ({ path: p, size: 1 }) as HubFile)], preference);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refusal([])).toMatch(/^The repository has no ONNX files/);
    expect(refusal(['onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx'])).toMatch(/encoder-decoder export .*decoder-only/);
    expect(refusal(['model.onnx', 'decoder_model.onnx'])).toMatch(/at its root \(model\.onnx, decoder_model\.onnx\), Optimum's own layout/);
    expect(refusal(['onnx/decoder_model.onnx', 'onnx/decoder_with_past_model.onnx'])).toMatch(/only Optimum's split decoder pair/);
    expect(refusal(['onnx/model_fp16.onnx'], ['q4', 'int8'])).toBe('The repository has its model only in fp16, not in q4, int8');
    expect(refusal(['onnx/model_O4.onnx'])).toMatch(/None of the repository's ONNX files \(model_O4\.onnx\) is one Attentive loads/);
    expect(() => filesToDownload(configs)).toThrow(HubError);
    await expect(listRepoFiles(hub.url, 'nobody/nothing')).rejects.toThrow(/Not found on the hub/);
    await expect(listRepoFiles(hub.url, '../etc')).rejects.toThrow(/Not a Hugging Face repository id/);
    expect(() => repoUrl(hub.url, 'a/b/c', 'x')).toThrow(HubError);
    await expect(listRepoFiles('http://127.0.0.1:9', REPO)).rejects.toThrow(/Cannot reach the hub/);
  });
});

describe('download progress', () => {
  it('says bytes, speed and time left, not counting bytes resumed from an earlier attempt', () => {
    // 100 MB already there, 20 MB more in 10 s: 2 MB/s, 380 MB left -> 190 s -> 4 min.
    expect(describeProgress({ done: 120e6, total: 500e6, file: 'x' }, 0, 100e6, 10_000)).toBe('120.0 MB of 500.0 MB · 2.0 MB/s · 4 min left');
    expect(describeProgress({ done: 490e6, total: 500e6, file: 'x' }, 0, 0, 10_000)).toBe('490.0 MB of 500.0 MB · 49.0 MB/s · 1 s left');
    expect(describeProgress({ done: 0, total: 2e9, file: 'x' }, 0, 0, 1_000)).toBe('0.0 MB of 2.00 GB · 0.0 MB/s');
  });
});

describe('downloading a model', () => {
  it('downloads the needed files with progress, records them, runs them in the engine, lists and deletes them', async () => {
    freshRoot();
    const progress: DownloadProgress[] = [];
    const { folder, record } = await downloadModel({ hub: hub.url, repo: REPO, root, onProgress: (p) => progress.push(p) });
    expect(folder).toBe(path.join(root, 'fixtures', 'llama-tiny'));
    expect(fs.readFileSync(onnxOf(folder))).toEqual(fs.readFileSync(path.join(FIXTURES, 'llama-tiny', 'onnx', 'model_quantized.onnx')));
    expect(fs.existsSync(path.join(folder, 'onnx', 'model.onnx'))).toBe(false); // only the chosen quantization
    expect(record.quantization).toBe('int8');
    const total = record.files.reduce((sum, f) => sum + f.size, 0);
    expect(progress.at(-1)!.done).toBe(total);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.done).toBeGreaterThanOrEqual(progress[i - 1]!.done);
    // The ONNX file came through the redirect to the "CDN".
    expect(hub.requests.some((r) => r.path.startsWith('/cdn/'))).toBe(true);

    const model = await LoadedModel.load(folder, { threads: 1 });
    try {
      const result = await model.generate({ prompt: 'def add(a, b):', maxNewTokens: 4, temperature: 0 });
      expect(result.tokenIds.length).toBeGreaterThan(0);
    } finally {
      await model.release();
    }

    const listed = listDownloaded(root);
    expect(listed.map((m) => m.record.repo)).toEqual([REPO]);
    expect(listed[0]!.bytes).toBeGreaterThan(total); // the files and the record
    // A second download finds everything in place: only the listing is fetched.
    hub.requests.length = 0;
    await downloadModel({ hub: hub.url, repo: REPO, root });
    expect(hub.requests.map((r) => r.path)).toEqual([`/api/models/${REPO}/tree/main`]);
    deleteDownloaded(root, folder);
    expect(fs.existsSync(folder)).toBe(false);
    expect(listDownloaded(root)).toEqual([]);
    expect(() => deleteDownloaded(root, os.tmpdir())).toThrow(/Not a downloaded model/);
  });

  it('resumes with a Range request after the server drops the connection half-way', async () => {
    freshRoot();
    const size = fs.statSync(path.join(FIXTURES, 'llama-tiny', 'onnx', 'model_quantized.onnx')).size;
    const half = Math.floor(size / 2);
    hub.faults.dropAfter = new Map([['onnx/model_quantized.onnx', half]]);
    await expect(downloadModel({ hub: hub.url, repo: REPO, root })).rejects.toThrow(/interrupted|stopped at/);
    const folder = path.join(root, 'fixtures', 'llama-tiny');
    expect(fs.existsSync(onnxOf(folder))).toBe(false);
    const kept = fs.statSync(`${onnxOf(folder)}.partial`).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(half);
    hub.requests.length = 0;
    await downloadModel({ hub: hub.url, repo: REPO, root });
    expect(hub.requests.find((r) => r.path.endsWith('model_quantized.onnx') && r.path.startsWith('/cdn/'))?.range).toBe(`bytes=${kept}-`);
    expect(fs.readFileSync(onnxOf(folder))).toEqual(fs.readFileSync(path.join(FIXTURES, 'llama-tiny', 'onnx', 'model_quantized.onnx')));
    expect(fs.existsSync(`${onnxOf(folder)}.partial`)).toBe(false);
  });

  it('deletes a file that does not match the hub\'s hash, and says so', async () => {
    freshRoot();
    hub.faults.corrupt = new Set(['onnx/model_quantized.onnx']);
    await expect(downloadModel({ hub: hub.url, repo: REPO, root })).rejects.toThrow(/onnx\/model_quantized.onnx does not match the hub's SHA-256.*deleted/);
    const folder = path.join(root, 'fixtures', 'llama-tiny');
    expect(fs.existsSync(onnxOf(folder))).toBe(false);
    expect(fs.existsSync(`${onnxOf(folder)}.partial`)).toBe(false);
    expect(listDownloaded(root)).toEqual([]);
    // A corrupted small file is caught by its git blob id.
    hub.faults.corrupt = new Set(['tokenizer.json']);
    await expect(downloadModel({ hub: hub.url, repo: 'fixtures/gpt2-tiny', root })).rejects.toThrow(/tokenizer.json does not match the hub's git blob id/);
  });

  it('stops when cancelled, keeps what it has, and finishes from there next time', async () => {
    freshRoot();
    hub.faults.slowMs = 20;
    const controller = new AbortController();
    const attempt = downloadModel({
      hub: hub.url,
      repo: REPO,
      root,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.file.endsWith('.onnx') && p.done > 0 && !controller.signal.aborted) controller.abort();
      },
    });
    await expect(attempt).rejects.toThrow(/Cancelled/);
    const folder = path.join(root, 'fixtures', 'llama-tiny');
    expect(fs.existsSync(onnxOf(folder))).toBe(false);
    hub.faults.slowMs = undefined;
    await downloadModel({ hub: hub.url, repo: REPO, root });
    expect(fs.readFileSync(onnxOf(folder))).toEqual(fs.readFileSync(path.join(FIXTURES, 'llama-tiny', 'onnx', 'model_quantized.onnx')));
  });

  it('never writes outside the storage folder, whatever names the metadata holds', async () => {
    freshRoot();
    for (const bad of ['../evil', '/etc/passwd', 'a\\..\\b', 'C:evil', '', 'a//b', 'onnx/./x', 'x\0y']) expect(() => confinedPath(root, bad)).toThrow(/Refusing/);
    expect(confinedPath(root, 'onnx/model.onnx')).toBe(path.join(root, 'onnx', 'model.onnx'));
    // External data listed with a path that climbs out of the model folder.
    hub.faults.extraEntries = [{ type: 'file', path: 'onnx/model_quantized.onnx_data/../../../../escaped', size: 4, lfs: { oid: 'a'.repeat(64), size: 4 } }];
    await expect(downloadModel({ hub: hub.url, repo: REPO, root })).rejects.toThrow(/Refusing the file name/);
    expect(fs.existsSync(path.join(root, '..', 'escaped'))).toBe(false);
    expect(fs.readdirSync(path.dirname(root)).includes('escaped')).toBe(false);
  });

  it('stops a server that sends more than the listed size, and deletes what it sent', async () => {
    freshRoot();
    hub.faults.oversize = new Set(['onnx/model_quantized.onnx']);
    const listed = fs.statSync(path.join(FIXTURES, 'llama-tiny', 'onnx', 'model_quantized.onnx')).size;
    await expect(downloadModel({ hub: hub.url, repo: REPO, root })).rejects.toThrow(`The hub sent more than the ${listed} bytes listed for onnx/model_quantized.onnx: stopped, and what it sent deleted`);
    const folder = path.join(root, 'fixtures', 'llama-tiny');
    expect(fs.existsSync(onnxOf(folder))).toBe(false);
    expect(fs.existsSync(`${onnxOf(folder)}.partial`)).toBe(false);
  });

  it('gives up a stalled connection after its idle time, keeping what came for the next attempt', async () => {
    freshRoot();
    hub.faults.stallAfter = new Map([['onnx/model_quantized.onnx', 10_000]]);
    const started = Date.now();
    await expect(downloadModel({ hub: hub.url, repo: REPO, root, idleMs: 300 })).rejects.toThrow(/Download of onnx\/model_quantized\.onnx interrupted \(nothing from 127\.0\.0\.1:\d+ for 300 ms\); it resumes where it stopped next time/);
    expect(Date.now() - started).toBeLessThan(5000);
    const folder = path.join(root, 'fixtures', 'llama-tiny');
    expect(fs.statSync(`${onnxOf(folder)}.partial`).size).toBe(10_000);
    await downloadModel({ hub: hub.url, repo: REPO, root, idleMs: 300 });
    expect(fs.readFileSync(onnxOf(folder))).toEqual(fs.readFileSync(path.join(FIXTURES, 'llama-tiny', 'onnx', 'model_quantized.onnx')));
  });

  it('follows redirects only to https (or this machine), and refuses an oversized listing', async () => {
    freshRoot();
    hub.faults.redirectTo = new Map([['config.json', 'http://example.invalid/config.json']]);
    await expect(downloadModel({ hub: hub.url, repo: REPO, root })).rejects.toThrow('The hub sent /fixtures/llama-tiny/resolve/main/config.json on to http://example.invalid, which is not https: refused');
    hub.faults.redirectTo = undefined;
    hub.faults.hugeListing = true;
    await expect(listRepoFiles(hub.url, REPO)).rejects.toThrow(/^The hub's answer for .* is over 32 MB: refused$/);
  });

  it('runs one download per repository: a second request joins the first', async () => {
    freshRoot();
    const [first, second] = await Promise.all([downloadModel({ hub: hub.url, repo: REPO, root }), downloadModel({ hub: hub.url, repo: REPO, root })]);
    expect(second).toBe(first);
    expect(hub.requests.filter((r) => r.path.startsWith('/cdn/') && r.path.endsWith('model_quantized.onnx'))).toHaveLength(1);
  });

  it('downloads again a file on disk whose content was changed since, even at the same size', async () => {
    freshRoot();
    const { folder } = await downloadModel({ hub: hub.url, repo: REPO, root });
    const bytes = fs.readFileSync(onnxOf(folder));
    bytes[100] ^= 0xff;
    fs.writeFileSync(onnxOf(folder), bytes);
    hub.requests.length = 0;
    await downloadModel({ hub: hub.url, repo: REPO, root });
    expect(hub.requests.filter((r) => r.path.endsWith('model_quantized.onnx')).length).toBeGreaterThan(0);
    expect(hub.requests.some((r) => r.path.endsWith('tokenizer.json'))).toBe(false); // unchanged files are kept
    expect(fs.readFileSync(onnxOf(folder))).toEqual(fs.readFileSync(path.join(FIXTURES, 'llama-tiny', 'onnx', 'model_quantized.onnx')));
  });
});
