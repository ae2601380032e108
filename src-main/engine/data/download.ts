import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DataError, DownloadError, describeError } from './errors';
import { FASHION_MNIST_SHA256 } from './fashion-mnist';
import { readDataFile } from './io';
import { IDX_FILES } from './locate';

export const FASHION_MNIST_BASE_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

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
  /** Default {@link FASHION_MNIST_BASE_URL}. */
  baseUrl?: string;
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

function expectedSha(file: string): string {
  const sha = FASHION_MNIST_SHA256[file.replace(/\.gz$/, '')];
  if (!sha) throw new Error(`no checksum known for ${file}`);
  return sha;
}

/** Whether `path` exists and its decompressed content has the expected checksum. */
async function alreadyVerified(path: string, sha: string): Promise<number | undefined> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return undefined;
    const content = await readDataFile(path, { gzip: true });
    return content.sha256 === sha ? st.size : undefined;
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

async function downloadOne(
  file: string,
  url: string,
  finalPath: string,
  fileIndex: number,
  opts: DownloadOptions,
): Promise<DownloadedFile> {
  const sha = expectedSha(file);
  const fileCount = DOWNLOAD_FILES.length;
  const tmp = join(opts.destDir, `.${file}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
  const signal = opts.signal;
  let received = 0;
  let total: number | undefined;
  try {
    signal?.throwIfAborted();
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
    total = Number.isFinite(length) && length > 0 ? length : undefined;
    opts.onProgress?.({ file, receivedBytes: 0, totalBytes: total, fileIndex, fileCount });

    const fh = await open(tmp, 'wx');
    try {
      const reader = res.body.getReader();
      let lastReported = 0;
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (err) {
          if (signal?.aborted) throw err;
          const of = total === undefined ? '' : ` of ${total}`;
          throw new DownloadError(
            `download interrupted after ${received}${of} bytes (${describeError(err)})`,
            finalPath,
            url,
            { cause: err },
          );
        }
        if (chunk.done) break;
        await fh.write(chunk.value);
        received += chunk.value.length;
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

    let actual: string;
    try {
      actual = (await readDataFile(tmp, { gzip: true })).sha256;
    } catch (err) {
      const problem = err instanceof DataError ? err.problem : describeError(err);
      throw new DownloadError(`downloaded data from ${url} is corrupt: ${problem}`, finalPath, url, { cause: err });
    }
    if (actual !== sha) {
      throw new DownloadError(
        `checksum mismatch for the data downloaded from ${url}: SHA-256 of the decompressed content is ${actual}, expected ${sha}`,
        finalPath,
        url,
      );
    }
    await rename(tmp, finalPath);
    opts.onProgress?.({ file, receivedBytes: received, totalBytes: total ?? received, fileIndex, fileCount, done: true });
    return { file, path: finalPath, sha256: actual, bytes: received, skipped: false };
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    if (signal?.aborted) throw abortReason(signal);
    throw err;
  }
}

/**
 * Downloads the four gzipped IDX files of Fashion-MNIST into `destDir`, verifying the SHA-256 of each
 * file's decompressed content. Each file is written to a temp file in `destDir` and renamed only once
 * verified; on any failure (network, HTTP status, interrupted body, corrupt gzip, wrong checksum, abort) the
 * temp file is removed and a {@link DownloadError} naming the file is thrown (an abort rethrows the signal's
 * reason, an `AbortError` by default). Files already there that verify are skipped.
 */
export async function downloadFashionMnist(opts: DownloadOptions): Promise<DownloadResult> {
  const destDir = resolve(opts.destDir);
  const options = { ...opts, destDir };
  let base = opts.baseUrl ?? FASHION_MNIST_BASE_URL;
  if (!base.endsWith('/')) base += '/';
  try {
    new URL(base);
  } catch {
    throw new DataError(`invalid download base URL: ${JSON.stringify(base)}`);
  }
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
    const sha = expectedSha(file);
    const existing = await alreadyVerified(finalPath, sha);
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
      files.push({ file, path: finalPath, sha256: sha, bytes: existing, skipped: true });
      continue;
    }
    const url = new URL(file, base).toString();
    files.push(await downloadOne(file, url, finalPath, i, options));
  }
  return { dir: destDir, files };
}
