import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DataError, DownloadError, describeError } from './errors';
import { FASHION_MNIST_BYTES, FASHION_MNIST_SHA256 } from './fashion-mnist';
import { readDataFile } from './io';
import { IDX_FILES } from './locate';

/**
 * Zalando Research's bucket, over HTTPS: its website endpoint (the http://fashion-mnist.s3-website… address in
 * their README) serves plain HTTP only; the bucket's REST endpoint serves the same files with TLS.
 */
export const FASHION_MNIST_BASE_URL = 'https://fashion-mnist.s3.eu-central-1.amazonaws.com/';
/**
 * Tried in order for each file until one delivers it: HTTPS first, then the address in Zalando's README (plain
 * HTTP; the SHA-256 check still guards the content). Not verified from the build machines, which have no network.
 */
export const FASHION_MNIST_MIRRORS: readonly string[] = [
  FASHION_MNIST_BASE_URL,
  'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
];

/** The files downloaded, in order (gzipped). */
export const DOWNLOAD_FILES: readonly string[] = [
  IDX_FILES.trainImages,
  IDX_FILES.trainLabels,
  IDX_FILES.testImages,
  IDX_FILES.testLabels,
].map((name) => `${name}.gz`);

export interface DownloadProgress {
  /** File name, e.g. `train-images-idx3-ubyte.gz`. */
  file: string;
  receivedBytes: number;
  /** From Content-Length, when the server sends it. */
  totalBytes?: number;
  /** 0-based index of the file in {@link DOWNLOAD_FILES}. */
  fileIndex: number;
  fileCount: number;
  /** True when the file was already there and verified, so it was not downloaded again. */
  skipped?: boolean;
  /** True on the last event of a file (downloaded and verified, or skipped). */
  done?: boolean;
}

export interface DownloadOptions {
  destDir: string;
  /** A mirror, or mirrors tried in order for each file (default {@link FASHION_MNIST_MIRRORS}). */
  baseUrl?: string | readonly string[];
  onProgress?: (e: DownloadProgress) => void;
  signal?: AbortSignal;
}

export interface DownloadedFile {
  file: string;
  path: string;
  /** SHA-256 of the decompressed content (verified). */
  sha256: string;
  /** Size of the .gz file. */
  bytes: number;
  skipped: boolean;
}

export interface DownloadResult {
  dir: string;
  files: DownloadedFile[];
}

const PROGRESS_STEP = 256 * 1024;

/** What a downloaded file must decompress to: its SHA-256 and size. */
interface Expected {
  sha: string;
  bytes: number;
}

function expectedOf(file: string): Expected {
  const key = file.replace(/\.gz$/, '');
  const sha = FASHION_MNIST_SHA256[key];
  const bytes = FASHION_MNIST_BYTES[key];
  if (!sha || !bytes) throw new Error(`no checksum known for ${file}`);
  return { sha, bytes };
}

/**
 * The most a gzip file of `bytes` decompressed bytes can weigh: deflate grows incompressible data by no more than
 * its stored blocks' headers (5 bytes per 64 KiB, well under the 0.1% allowed here), and 4 KiB covers the gzip
 * header (file name, comment).
 */
export function maxGzipSize(bytes: number): number {
  return bytes + Math.ceil(bytes / 1000) + 4096;
}

/** Whether `path` exists and its decompressed content has the expected checksum. */
async function alreadyVerified(path: string, expected: Expected): Promise<number | undefined> {
  try {
    const st = await stat(path);
    if (!st.isFile() || st.size > maxGzipSize(expected.bytes)) return undefined;
    const content = await readDataFile(path, { gzip: true, maxBytes: expected.bytes });
    return content.sha256 === expected.sha ? st.size : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temp files left by a download that was killed (pid no longer running). */
async function removeStaleParts(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const m = /^\.(.+\.gz)\.(\d+)\.[0-9a-f]+\.part$/.exec(name);
    if (!m || !DOWNLOAD_FILES.includes(m[1])) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && !isAlive(pid)) await rm(join(dir, name), { force: true });
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The download was aborted', 'AbortError');
}

/** One file's download from one mirror. */
interface Transfer {
  file: string;
  url: string;
  finalPath: string;
  fileIndex: number;
  opts: DownloadOptions;
  /** Most bytes the .gz can have ({@link maxGzipSize} of its content): no more of the body is read. */
  maxBody: number;
}

/** Downloads `file` from `url` to a temp file, verifies it, and renames it to `finalPath`; the temp file goes on failure. */
async function downloadOne(
  file: string,
  url: string,
  finalPath: string,
  fileIndex: number,
  opts: DownloadOptions,
): Promise<DownloadedFile> {
  const expected = expectedOf(file);
  const t: Transfer = { file, url, finalPath, fileIndex, opts, maxBody: maxGzipSize(expected.bytes) };
  const fileCount = DOWNLOAD_FILES.length;
  const tmp = join(opts.destDir, `.${file}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
  const signal = opts.signal;
  try {
    signal?.throwIfAborted();
    const { body, total } = await requestBody(t);
    opts.onProgress?.({ file, receivedBytes: 0, totalBytes: total, fileIndex, fileCount });
    const received = await saveBody(t, body, total, tmp);
    const actual = await verifiedChecksum(t, tmp, expected);
    await rename(tmp, finalPath);
    opts.onProgress?.({ file, receivedBytes: received, totalBytes: total ?? received, fileIndex, fileCount, done: true });
    return { file, path: finalPath, sha256: actual, bytes: received, skipped: false };
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    if (signal?.aborted) throw abortReason(signal);
    throw err;
  }
}

/** The response body, and its announced length when the server sends one; refuses failures and oversized bodies. */
async function requestBody(t: Transfer): Promise<{ body: ReadableStream<Uint8Array>; total: number | undefined }> {
  const { url, finalPath, maxBody } = t;
  const signal = t.opts.signal;
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'follow' });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new DownloadError(`cannot download ${url}: ${describeError(err)}`, finalPath, url, { cause: err });
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    throw new DownloadError(`cannot download ${url}: HTTP ${res.status} ${res.statusText}`.trim(), finalPath, url);
  }
  const length = Number(res.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? length : undefined;
  if (total !== undefined && total > maxBody) {
    await res.body.cancel().catch(() => undefined);
    throw new DownloadError(`the server announced ${total} bytes, more than the ${maxBody} this file can have`, finalPath, url);
  }
  return { body: res.body, total };
}

/** Streams the body into `tmp` (created, never overwritten), reporting progress; returns the bytes received. */
async function saveBody(t: Transfer, body: ReadableStream<Uint8Array>, total: number | undefined, tmp: string): Promise<number> {
  const { file, url, finalPath, fileIndex, opts, maxBody } = t;
  const signal = opts.signal;
  const fileCount = DOWNLOAD_FILES.length;
  let received = 0;
  const fh = await open(tmp, 'wx');
  try {
    const reader = body.getReader();
    let lastReported = 0;
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (signal?.aborted) throw err;
        const of = total === undefined ? '' : ` of ${total}`;
        throw new DownloadError(`download interrupted after ${received}${of} bytes (${describeError(err)})`, finalPath, url, {
          cause: err,
        });
      }
      if (chunk.done) break;
      received += chunk.value.length;
      if (received > maxBody) {
        // Whatever the server has in mind, no more of it is read, and the partial file goes.
        await reader.cancel().catch(() => undefined);
        throw new DownloadError(`the server sent more than the ${maxBody} bytes this file can have; download stopped`, finalPath, url);
      }
      await fh.write(chunk.value);
      if (received - lastReported >= PROGRESS_STEP) {
        lastReported = received;
        opts.onProgress?.({ file, receivedBytes: received, totalBytes: total, fileIndex, fileCount });
      }
    }
  } finally {
    await fh.close();
  }
  if (total !== undefined && received !== total) {
    throw new DownloadError(`download incomplete: received ${received} of ${total} bytes`, finalPath, url);
  }
  return received;
}

/** The SHA-256 of the decompressed temp file, when it is the expected one; else a DownloadError saying what is wrong. */
async function verifiedChecksum(t: Transfer, tmp: string, expected: Expected): Promise<string> {
  const { url, finalPath } = t;
  let actual: string;
  try {
    actual = (await readDataFile(tmp, { gzip: true, maxBytes: expected.bytes })).sha256;
  } catch (err) {
    const problem = err instanceof DataError ? err.problem : describeError(err);
    throw new DownloadError(`downloaded data from ${url} is corrupt: ${problem}`, finalPath, url, { cause: err });
  }
  if (actual !== expected.sha) {
    throw new DownloadError(
      `checksum mismatch for the data downloaded from ${url}: SHA-256 of the decompressed content is ${actual}, expected ${expected.sha}`,
      finalPath,
      url,
    );
  }
  return actual;
}

/**
 * Downloads the four gzipped IDX files of Fashion-MNIST into `destDir`, verifying the SHA-256 of each
 * file's decompressed content. Each file is written to a temp file in `destDir` and renamed only once
 * verified. Nothing larger than the file can be is read: the body stops at {@link maxGzipSize} of the known
 * decompressed size, and decompression at that size. On any failure (network, HTTP status, a body or content too
 * large, interrupted body, corrupt gzip, wrong checksum, abort) the
 * temp file is removed and a {@link DownloadError} naming the file is thrown (an abort rethrows the signal's
 * reason, an `AbortError` by default). Files already there that verify are skipped.
 */
export async function downloadFashionMnist(opts: DownloadOptions): Promise<DownloadResult> {
  const destDir = resolve(opts.destDir);
  const options = { ...opts, destDir };
  const mirrors = [opts.baseUrl ?? FASHION_MNIST_MIRRORS].flat().map(checkedBaseUrl);
  try {
    await mkdir(destDir, { recursive: true });
  } catch (err) {
    throw new DataError(`cannot create the download folder: ${describeError(err)}`, destDir, { cause: err });
  }
  await removeStaleParts(destDir);

  const files: DownloadedFile[] = [];
  for (let i = 0; i < DOWNLOAD_FILES.length; i++) {
    opts.signal?.throwIfAborted();
    const file = DOWNLOAD_FILES[i];
    const finalPath = join(destDir, file);
    const expected = expectedOf(file);
    const existing = await alreadyVerified(finalPath, expected);
    if (existing !== undefined) {
      opts.onProgress?.({
        file,
        receivedBytes: existing,
        totalBytes: existing,
        fileIndex: i,
        fileCount: DOWNLOAD_FILES.length,
        skipped: true,
        done: true,
      });
      files.push({ file, path: finalPath, sha256: expected.sha, bytes: existing, skipped: true });
      continue;
    }
    files.push(await downloadFromMirrors(file, mirrors, finalPath, i, options));
  }
  return { dir: destDir, files };
}

function checkedBaseUrl(base: string): string {
  const withSlash = base.endsWith('/') ? base : `${base}/`;
  try {
    new URL(withSlash);
  } catch {
    throw new DataError(`invalid download base URL: ${JSON.stringify(base)}`);
  }
  return withSlash;
}

/** The first mirror that delivers a verified file wins; when none does, the first mirror's error is thrown. */
async function downloadFromMirrors(
  file: string,
  mirrors: string[],
  finalPath: string,
  index: number,
  options: DownloadOptions,
): Promise<DownloadedFile> {
  let firstError: unknown;
  for (const base of mirrors) {
    try {
      return await downloadOne(file, new URL(file, base).toString(), finalPath, index, options);
    } catch (err) {
      if (options.signal?.aborted || !(err instanceof DownloadError)) throw err;
      firstError ??= err;
    }
  }
  throw firstError;
}
