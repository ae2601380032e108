/**
 * downloadFashionMnist against a local HTTP server (127.0.0.1, random port) serving Debian's files from
 * /usr/share/datasets/fashion-mnist — re-compressed, so only the decompressed content matches the official
 * checksums. Failure cases use the small label files; one test downloads all four and loads them.
 */
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DEBIAN_DATA_DIR,
  DOWNLOAD_FILES,
  DownloadError,
  FASHION_MNIST_BASE_URL,
  FASHION_MNIST_MIRRORS,
  FASHION_MNIST_SHA256,
  downloadFashionMnist,
  loadFashionMnist,
  type DownloadProgress,
} from '../../src-main/engine/data';
import { cleanupTmpDirs, makeTmpDir } from '../helpers/data-fixtures';
import { skipUnless } from '../helpers/prereqs';

type Behaviour = 'ok' | 'cut' | 'corrupt' | 'wrong-content' | 'not-gzip' | '404' | 'stall' | 'endless' | 'too-long' | 'gzip-bomb';

const TRAIN_IMAGES = 'train-images-idx3-ubyte.gz';
const TRAIN_LABELS = 'train-labels-idx1-ubyte.gz';

describe.skipIf(skipUnless('fashionMnist'))('downloadFashionMnist', () => {
  let server: Server;
  let baseUrl: string;
  const behaviour = new Map<string, Behaviour>();
  const requests: string[] = [];
  const cache = new Map<string, Buffer>();
  const endless = { sent: 0, closed: false };
  // 50 MB of zeros: a 49 kB body, within the labels file's body limit, that decompresses to 800 times the file.
  const bomb = gzipSync(Buffer.alloc(50_000_000));

  async function content(name: string): Promise<Buffer> {
    let b = cache.get(name);
    if (!b) {
      b = await readFile(join(DEBIAN_DATA_DIR, name));
      cache.set(name, b);
    }
    return b;
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      const name = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/^\/+/, '');
      requests.push(name);
      void (async () => {
        if (!DOWNLOAD_FILES.includes(name) || behaviour.get(name) === '404') {
          res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
          return;
        }
        const data = await content(name);
        switch (behaviour.get(name) ?? 'ok') {
          case 'ok':
            res.writeHead(200, { 'Content-Length': data.length }).end(data);
            return;
          case 'cut': // announce the whole file, send half, then drop the connection
            res.writeHead(200, { 'Content-Length': data.length });
            res.write(data.subarray(0, data.length >> 1), () => res.destroy());
            return;
          case 'stall': // send half, then never finish
            res.writeHead(200, { 'Content-Length': data.length });
            res.write(data.subarray(0, data.length >> 1));
            return;
          case 'corrupt': {
            const bad = Buffer.from(data);
            for (let i = 100; i < bad.length - 100; i += 50) bad[i] ^= 0xff;
            res.writeHead(200, { 'Content-Length': bad.length }).end(bad);
            return;
          }
          case 'wrong-content': {
            const other = gzipSync(Buffer.from('valid gzip, but not the expected content'));
            res.writeHead(200, { 'Content-Length': other.length }).end(other);
            return;
          }
          case 'not-gzip':
            res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>captive portal</html>');
            return;
          case 'endless': // no Content-Length, and bytes for as long as the client reads
            endless.sent = 0;
            res.writeHead(200);
            res.on('close', () => (endless.closed = true));
            (function more(): void {
              while (!res.destroyed && res.write(Buffer.alloc(64 * 1024, 0x1f))) endless.sent += 64 * 1024;
              if (!res.destroyed) res.once('drain', more);
            })();
            return;
          case 'too-long': // announces 1 GB
            res.writeHead(200, { 'Content-Length': 1_000_000_000 });
            res.write(data.subarray(0, 1000));
            return;
          case 'gzip-bomb':
            res.writeHead(200, { 'Content-Length': bomb.length }).end(bomb);
            return;
        }
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await cleanupTmpDirs();
  });

  beforeEach(() => {
    behaviour.clear();
    requests.length = 0;
  });

  /** A destination folder where train-images is already present (a link to Debian's file), so only the labels are fetched. */
  async function destWithTrainImages(): Promise<string> {
    const dest = await makeTmpDir('cb-dl-');
    await symlink(join(DEBIAN_DATA_DIR, TRAIN_IMAGES), join(dest, TRAIN_IMAGES));
    return dest;
  }

  async function expectOnlyTrainImages(dest: string): Promise<void> {
    expect((await readdir(dest)).sort()).toEqual([TRAIN_IMAGES]);
  }

  async function downloadError(p: Promise<unknown>): Promise<DownloadError> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DownloadError);
    return err as DownloadError;
  }

  it('downloads and verifies all four files, which then load; a second run skips them', async () => {
    const dest = join(await makeTmpDir('cb-dl-'), 'nested', 'fashion-mnist');
    const events: DownloadProgress[] = [];
    const result = await downloadFashionMnist({ destDir: dest, baseUrl, onProgress: (e) => events.push(e) });

    expect(requests).toEqual(DOWNLOAD_FILES);
    expect((await readdir(dest)).sort()).toEqual([...DOWNLOAD_FILES].sort()); // no temp files left
    expect(result.dir).toBe(dest);
    expect(result.name).toBe('fashion-mnist');
    expect(result.files.map((f) => [f.file, f.skipped, f.checksumOf])).toEqual(DOWNLOAD_FILES.map((f) => [f, false, 'decompressed']));
    for (const f of result.files) expect(f.sha256).toBe(FASHION_MNIST_SHA256[f.file.replace('.gz', '')]);

    // progress: per file from 0 to the Content-Length, in order
    const trainImages = events.filter((e) => e.file === TRAIN_IMAGES);
    expect(trainImages[0]).toMatchObject({ receivedBytes: 0, fileIndex: 0, fileCount: 4 });
    expect(trainImages.length).toBeGreaterThan(10);
    const size = (await readFile(join(DEBIAN_DATA_DIR, TRAIN_IMAGES))).length;
    expect(trainImages.at(-1)).toMatchObject({ receivedBytes: size, totalBytes: size, done: true });
    expect(events.at(-1)).toMatchObject({ file: 't10k-labels-idx1-ubyte.gz', fileIndex: 3, done: true });

    const data = await loadFashionMnist({ dir: dest, env: {}, systemDirs: [], trainLimit: 5000, testLimit: 1000 });
    expect(data.train.count).toBe(5000);
    expect(data.test.count).toBe(1000);
    expect(data.info.dir).toBe(dest);
    expect(data.info.checksums).toEqual({ ...FASHION_MNIST_SHA256 });

    requests.length = 0;
    const again: DownloadProgress[] = [];
    const second = await downloadFashionMnist({ destDir: dest, baseUrl, onProgress: (e) => again.push(e) });
    expect(requests).toEqual([]);
    expect(second.files.every((f) => f.skipped)).toBe(true);
    expect(again.map((e) => e.skipped)).toEqual([true, true, true, true]);
  });

  it('a connection dropped mid-body leaves no file behind and names the file', async () => {
    const dest = await destWithTrainImages();
    behaviour.set(TRAIN_LABELS, 'cut');
    const err = await downloadError(downloadFashionMnist({ destDir: dest, baseUrl }));
    expect(err.file).toBe(join(dest, TRAIN_LABELS));
    expect(err.message).toContain(TRAIN_LABELS);
    expect(err.message).toMatch(/download interrupted after \d+ of 29491 bytes/);
    expect(requests).toEqual([TRAIN_LABELS]); // stops at the first failure
    await expectOnlyTrainImages(dest);
  });

  it('a download of corrupted bytes (broken gzip) leaves no file behind', async () => {
    const dest = await destWithTrainImages();
    behaviour.set(TRAIN_LABELS, 'corrupt');
    const err = await downloadError(downloadFashionMnist({ destDir: dest, baseUrl }));
    expect(err.file).toBe(join(dest, TRAIN_LABELS));
    expect(err.message).toMatch(/downloaded data from .*train-labels-idx1-ubyte\.gz is corrupt: corrupt gzip data/);
    await expectOnlyTrainImages(dest);
  });

  it('valid gzip with the wrong content fails the checksum and leaves no file behind', async () => {
    const dest = await destWithTrainImages();
    behaviour.set(TRAIN_LABELS, 'wrong-content');
    const err = await downloadError(downloadFashionMnist({ destDir: dest, baseUrl }));
    expect(err.message).toMatch(/checksum mismatch .*expected bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9/);
    await expectOnlyTrainImages(dest);
  });

  it('a response that is not gzip (e.g. an HTML page) is rejected', async () => {
    const dest = await destWithTrainImages();
    behaviour.set(TRAIN_LABELS, 'not-gzip');
    const err = await downloadError(downloadFashionMnist({ destDir: dest, baseUrl }));
    expect(err.message).toMatch(/does not start with the gzip signature/);
    await expectOnlyTrainImages(dest);
  });

  it('HTTP errors and unreachable servers are clear errors', async () => {
    const dest = await destWithTrainImages();
    behaviour.set(TRAIN_LABELS, '404');
    const err = await downloadError(downloadFashionMnist({ destDir: dest, baseUrl }));
    expect(err.message).toMatch(/cannot download http:\/\/127\.0\.0\.1:\d+\/train-labels-idx1-ubyte\.gz: HTTP 404/);
    expect(err.url).toBe(`${baseUrl}${TRAIN_LABELS}`);

    // a port nobody listens on: the server's port once it is closed
    const tmp = createServer();
    await new Promise<void>((resolve) => tmp.listen(0, '127.0.0.1', resolve));
    const port = (tmp.address() as AddressInfo).port;
    await new Promise((resolve) => tmp.close(resolve));
    const err2 = await downloadError(downloadFashionMnist({ destDir: dest, baseUrl: `http://127.0.0.1:${port}` }));
    expect(err2.message).toMatch(/cannot download .*fetch failed.*ECONNREFUSED/);
    await expectOnlyTrainImages(dest);
  });

  it('abort while downloading rejects with an AbortError and leaves no file behind', async () => {
    const dest = await destWithTrainImages();
    behaviour.set(TRAIN_LABELS, 'stall');
    const controller = new AbortController();
    const p = downloadFashionMnist({
      destDir: dest,
      baseUrl,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.file === TRAIN_LABELS) setTimeout(() => controller.abort(), 100);
      },
    });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    await expectOnlyTrainImages(dest);
    server.closeAllConnections();
  });

  it('tries HTTPS first by default', () => {
    expect(FASHION_MNIST_MIRRORS[0]).toBe(FASHION_MNIST_BASE_URL);
    expect(FASHION_MNIST_BASE_URL).toMatch(/^https:\/\//);
  });

  it("falls back to the next mirror when one cannot deliver a file, and reports the first mirror's error when none can", async () => {
    const dest = await makeTmpDir();
    const dead = createServer((_req, res) => res.writeHead(403).end());
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/`;
    try {
      const result = await downloadFashionMnist({ destDir: dest, baseUrl: [deadUrl, baseUrl] });
      expect(result.files.map((f) => f.skipped)).toEqual([false, false, false, false]);
      const err = await downloadError(
        downloadFashionMnist({ destDir: await makeTmpDir(), baseUrl: [deadUrl, deadUrl.replace('127.0.0.1', 'localhost')] }),
      );
      expect(err.url).toBe(`${deadUrl}${DOWNLOAD_FILES[0]}`);
    } finally {
      await new Promise((resolve) => dead.close(resolve));
    }
  });

  it('stops an endless body as soon as it exceeds the file size, and leaves no file behind', async () => {
    const dest = await destWithTrainImages();
    behaviour.set(TRAIN_LABELS, 'endless');
    const err = await downloadError(downloadFashionMnist({ destDir: dest, baseUrl }));
    expect(err.message).toMatch(
      /train-labels-idx1-ubyte\.gz: the server sent more than the \d+ bytes this file can have; download stopped$/,
    );
    expect(err.file).toBe(join(dest, TRAIN_LABELS));
    await expectOnlyTrainImages(dest);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(endless.closed).toBe(true); // the connection was dropped …
    expect(endless.sent).toBeLessThan(2_000_000); // … long before much was sent
  });

  it('refuses a body announced larger than the file before reading it', async () => {
    const dest = await destWithTrainImages();
    behaviour.set(TRAIN_LABELS, 'too-long');
    const err = await downloadError(downloadFashionMnist({ destDir: dest, baseUrl }));
    expect(err.message).toMatch(
      /train-labels-idx1-ubyte\.gz: the server announced 1000000000 bytes, more than the \d+ this file can have$/,
    );
    await expectOnlyTrainImages(dest);
    server.closeAllConnections();
  });

  it('stops decompressing at the expected size (a gzip bomb), and leaves no file behind', async () => {
    const dest = await destWithTrainImages();
    behaviour.set(TRAIN_LABELS, 'gzip-bomb');
    const before = process.memoryUsage().arrayBuffers;
    const err = await downloadError(downloadFashionMnist({ destDir: dest, baseUrl }));
    expect(err.message).toMatch(/is corrupt: decompresses to more than the expected 60008 bytes$/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(20_000_000);
    await expectOnlyTrainImages(dest);
  });

  it('replaces an existing file that does not verify, and removes stale temp files of dead downloads', async () => {
    const dest = await destWithTrainImages();
    await writeFile(join(dest, TRAIN_LABELS), 'half a file');
    const stale = `.${TRAIN_LABELS}.2147483646.abcd1234.part`;
    await writeFile(join(dest, stale), 'stale');
    await mkdir(join(dest, 'unrelated'));
    // the test files are small: serve them; train-images is linked and verifies, so it is skipped
    const result = await downloadFashionMnist({ destDir: dest, baseUrl });
    expect(requests).toEqual(DOWNLOAD_FILES.slice(1));
    expect(result.files.map((f) => f.skipped)).toEqual([true, false, false, false]);
    expect((await readdir(dest)).sort()).toEqual([...DOWNLOAD_FILES, 'unrelated'].sort());
    expect((await readFile(join(dest, TRAIN_LABELS))).equals(await readFile(join(DEBIAN_DATA_DIR, TRAIN_LABELS)))).toBe(true);
  });
});
