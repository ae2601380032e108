import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { catalogEntry, catalogEntryProblem, downloadedDatasetDir, type CatalogEntry, type CatalogFile, type ChecksumOf } from './catalog';
import { DataError, DownloadError, describeError } from './errors';
import { readDataFile } from './io';

export { FASHION_MNIST_BASE_URL, FASHION_MNIST_MIRRORS } from './catalog';

/** Fashion-MNIST's files, in download order (gzipped): the names every IDX set of the catalog has. */
export const DOWNLOAD_FILES: readonly string[] = catalogEntry('fashion-mnist').files.map((f) => f.name);

export interface DownloadProgress {
  /** File name, e.g. `train-images-idx3-ubyte.gz`. */
  file: string;
  receivedBytes: number;
  /** From Content-Length, when the server sends it. */
  totalBytes?: number;
  /** 0-based index of the file in the set's files (their download order). */
  fileIndex: number;
  fileCount: number;
  /** True when the file was already there and verified, so it was not downloaded again. */
  skipped?: boolean;
  /** True on the last event of a file (downloaded and verified, or skipped). */
  done?: boolean;
}

export interface DownloadOptions {
  destDir: string;
  /** A mirror, or mirrors tried in order for each file (default: the set's own mirrors). */
  baseUrl?: string | readonly string[];
  onProgress?: (e: DownloadProgress) => void;
  signal?: AbortSignal;
}

export interface DownloadedFile {
  file: string;
  path: string;
  /** The verified SHA-256: of the .gz file or of its decompressed content, as {@link checksumOf} says. */
  sha256: string;
  checksumOf: ChecksumOf;
  /** Size of the .gz file. */
  bytes: number;
  skipped: boolean;
}

export interface DownloadResult {
  /** The catalog name of the set. */
  name: string;
  dir: string;
  files: DownloadedFile[];
}

const PROGRESS_STEP = 256 * 1024;

/**
 * The most a gzip file of `bytes` decompressed bytes can weigh: deflate grows incompressible data by no more than
 * its stored blocks' headers (5 bytes per 64 KiB, well under the 0.1% allowed here), and 4 KiB covers the gzip
 * header (file name, comment).
 */
export function maxGzipSize(bytes: number): number {
  return bytes + Math.ceil(bytes / 1000) + 4096;
}

/** The most bytes of the .gz file a server may send: its exact size when known, else the bound of its content. */
function maxBodyOf(f: CatalogFile): number {
  return f.checksumOf === 'compressed' ? f.bytes : maxGzipSize(f.bytes);
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The size of `path` when it exists and verifies against `f`, else undefined. */
async function alreadyVerified(path: string, f: CatalogFile): Promise<number | undefined> {
  try {
    const st = await stat(path);
    if (!st.isFile() || st.size > maxBodyOf(f)) return undefined;
    if (f.checksumOf === 'compressed') return st.size === f.bytes && (await fileSha256(path)) === f.sha256 ? st.size : undefined;
    const content = await readDataFile(path, { gzip: true, maxBytes: f.bytes });
    return content.sha256 === f.sha256 ? st.size : undefined;
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

/** Removes temp files of `names` left by a download that was killed (pid no longer running). */
async function removeStaleParts(dir: string, names: readonly string[]): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const m = /^\.(.+)\.(\d+)\.[0-9a-f]+\.part$/.exec(name);
    if (!m || !names.includes(m[1])) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && !isAlive(pid)) await rm(join(dir, name), { force: true });
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The download was aborted', 'AbortError');
}

/** One file's download from one mirror. */
interface Transfer {
  expected: CatalogFile;
  url: string;
  finalPath: string;
  fileIndex: number;
  fileCount: number;
  opts: DownloadOptions;
  /** Most bytes the .gz can have ({@link maxBodyOf}): no more of the body is read. */
  maxBody: number;
}

/** Downloads the file from `t.url` to a temp file, verifies it, and renames it to `t.finalPath`; the temp file goes on failure. */
async function downloadOne(t: Transfer): Promise<DownloadedFile> {
  const { expected, finalPath, fileIndex, fileCount, opts } = t;
  const file = expected.name;
  const tmp = join(opts.destDir, `.${file}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
  const signal = opts.signal;
  try {
    signal?.throwIfAborted();
    const { body, total } = await requestBody(t);
    opts.onProgress?.({ file, receivedBytes: 0, totalBytes: total, fileIndex, fileCount });
    const saved = await saveBody(t, body, total, tmp);
    const sha256 = await verifiedChecksum(t, tmp, saved);
    await rename(tmp, finalPath);
    opts.onProgress?.({ file, receivedBytes: saved.received, totalBytes: total ?? saved.received, fileIndex, fileCount, done: true });
    return { file, path: finalPath, sha256, checksumOf: expected.checksumOf, bytes: saved.received, skipped: false };
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

/** Streams the body into `tmp` (created, never overwritten), reporting progress; returns the bytes received and their SHA-256. */
async function saveBody(
  t: Transfer,
  body: ReadableStream<Uint8Array>,
  total: number | undefined,
  tmp: string,
): Promise<{ received: number; sha256: string }> {
  const { expected, url, finalPath, fileIndex, fileCount, opts, maxBody } = t;
  const file = expected.name;
  const signal = opts.signal;
  const hash = createHash('sha256');
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
      hash.update(chunk.value);
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
  return { received, sha256: hash.digest('hex') };
}

/** The verified SHA-256 of the temp file (or of its decompressed content), when it is the expected one; else a DownloadError. */
async function verifiedChecksum(t: Transfer, tmp: string, saved: { received: number; sha256: string }): Promise<string> {
  const { url, finalPath, expected } = t;
  const mismatch = (what: string, actual: string) =>
    new DownloadError(
      `checksum mismatch for the data downloaded from ${url}: SHA-256 of ${what} is ${actual}, expected ${expected.sha256}`,
      finalPath,
      url,
    );
  if (expected.checksumOf === 'compressed') {
    if (saved.received !== expected.bytes) {
      throw new DownloadError(
        `the file downloaded from ${url} has ${saved.received} bytes, expected ${expected.bytes} (truncated, or not the official file)`,
        finalPath,
        url,
      );
    }
    if (saved.sha256 !== expected.sha256) throw mismatch('the file', saved.sha256);
    return saved.sha256;
  }
  let actual: string;
  try {
    actual = (await readDataFile(tmp, { gzip: true, maxBytes: expected.bytes })).sha256;
  } catch (err) {
    const problem = err instanceof DataError ? err.problem : describeError(err);
    throw new DownloadError(`downloaded data from ${url} is corrupt: ${problem}`, finalPath, url, { cause: err });
  }
  if (actual !== expected.sha256) throw mismatch('the decompressed content', actual);
  return actual;
}

/**
 * Downloads the files of a catalog entry into `destDir`, verifying each against the catalog: the SHA-256 and size of
 * the .gz file as served, or of its decompressed content (the entry's files say which). Each file is written to a
 * temp file in `destDir` and renamed only once verified. Nothing larger than the file can be is read: the body stops
 * at its known size (or {@link maxGzipSize} of its known content), and decompression at the content's size. On any
 * failure (network, HTTP status, a body or content too large, interrupted or short body, corrupt gzip, wrong
 * checksum, abort) the temp file is removed and a {@link DownloadError} naming the file is thrown (an abort rethrows
 * the signal's reason, an `AbortError` by default). Files already there that verify are skipped. An entry that is not
 * well-formed ({@link catalogEntryProblem}) is refused before anything is fetched.
 */
export async function downloadCatalogDataset(entry: CatalogEntry, opts: DownloadOptions): Promise<DownloadResult> {
  const problem = catalogEntryProblem(entry);
  if (problem) throw new DataError(`cannot download this data set: ${problem}`);
  const destDir = resolve(opts.destDir);
  const options = { ...opts, destDir };
  const mirrors = [opts.baseUrl ?? entry.mirrors].flat().map(checkedBaseUrl);
  try {
    await mkdir(destDir, { recursive: true });
  } catch (err) {
    throw new DataError(`cannot create the download folder: ${describeError(err)}`, destDir, { cause: err });
  }
  const names = entry.files.map((f) => f.name);
  await removeStaleParts(destDir, names);

  const fileCount = entry.files.length;
  const files: DownloadedFile[] = [];
  for (const [fileIndex, expected] of entry.files.entries()) {
    opts.signal?.throwIfAborted();
    const file = expected.name;
    const finalPath = join(destDir, file);
    const existing = await alreadyVerified(finalPath, expected);
    if (existing !== undefined) {
      opts.onProgress?.({ file, receivedBytes: existing, totalBytes: existing, fileIndex, fileCount, skipped: true, done: true });
      files.push({ file, path: finalPath, sha256: expected.sha256, checksumOf: expected.checksumOf, bytes: existing, skipped: true });
      continue;
    }
    const transfer = { expected, finalPath, fileIndex, fileCount, opts: options, maxBody: maxBodyOf(expected) };
    files.push(await downloadFromMirrors(transfer, mirrors));
  }
  return { name: entry.name, dir: destDir, files };
}

/** {@link downloadCatalogDataset} of Fashion-MNIST (checksums of the decompressed content). */
export function downloadFashionMnist(opts: DownloadOptions): Promise<DownloadResult> {
  return downloadCatalogDataset(catalogEntry('fashion-mnist'), opts);
}

export interface DownloadKnownOptions extends Omit<DownloadOptions, 'destDir'> {
  /** Default: {@link downloadedDatasetDir} of the name. */
  destDir?: string;
  /** For the default folder (`CLUSTERBENCH_HOME`, …); default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Default: the built-in catalog. */
  catalog?: readonly CatalogEntry[];
}

/**
 * Downloads the catalog's data set `name` (an unknown name is a {@link DataError} listing the known ones) into
 * `destDir`, by default `<appData>/data/<name>/`: afterwards the folder holds the four IDX files.
 */
export async function downloadKnownDataset(name: string, opts: DownloadKnownOptions = {}): Promise<DownloadResult> {
  const entry = catalogEntry(name, opts.catalog);
  const destDir = opts.destDir ?? downloadedDatasetDir(entry.name, opts.env);
  return downloadCatalogDataset(entry, { destDir, baseUrl: opts.baseUrl, onProgress: opts.onProgress, signal: opts.signal });
}

function checkedBaseUrl(base: string): string {
  const withSlash = base.endsWith('/') ? base : `${base}/`;
  let url: URL | undefined;
  try {
    url = new URL(withSlash);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new DataError(`invalid download base URL: ${JSON.stringify(base)}`);
  }
  return withSlash;
}

/** The first mirror that delivers a verified file wins; when none does, the first mirror's error is thrown. */
async function downloadFromMirrors(t: Omit<Transfer, 'url'>, mirrors: string[]): Promise<DownloadedFile> {
  let firstError: unknown;
  for (const base of mirrors) {
    try {
      return await downloadOne({ ...t, url: new URL(t.expected.name, base).toString() });
    } catch (err) {
      if (t.opts.signal?.aborted || !(err instanceof DownloadError)) throw err;
      firstError ??= err;
    }
  }
  throw firstError;
}
