import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { gunzip as gunzipCb } from 'node:zlib';
import { DataError } from './errors';

const gunzip = promisify(gunzipCb);

export interface DataFileContent {
  /** The decompressed bytes. */
  data: Buffer;
  /** SHA-256 (hex) of the decompressed bytes. */
  sha256: string;
  /** Whether the file was gzip-compressed. */
  gzipped: boolean;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The name a data file's checksum is keyed by: its base name without `.gz`. */
export function checksumKey(path: string): string {
  return basename(path).replace(/\.gz$/i, '');
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Reads a data file and decompresses it when it is gzip data. Decompression runs on libuv's thread pool,
 * so the event loop stays free. `gzip`: `'auto'` (default) decompresses files that start with the gzip
 * magic and requires it of files named `*.gz`; `true` requires gzip data whatever the name. `maxBytes`: the
 * most the content may have; decompression stops as soon as it would have more (a gzip bomb never fills memory).
 * Throws a {@link DataError} naming the file for a missing, unreadable or empty file and for corrupt gzip data.
 */
export async function readDataFile(path: string, opts: { gzip?: 'auto' | boolean; maxBytes?: number } = {}): Promise<DataFileContent> {
  const mode = opts.gzip ?? 'auto';
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EACCES' || code === 'EPERM'
          ? 'cannot read the file (permission denied)'
          : code === 'EISDIR'
            ? 'is a folder, not a file'
            : `cannot read the file (${(err as Error).message})`;
    throw new DataError(problem, path, { cause: err });
  }
  if (raw.length === 0) throw new DataError('file is empty', path);

  const mustBeGzip = mode === true || (mode === 'auto' && /\.gz$/i.test(path));
  const gzipped = isGzip(raw);
  if (mustBeGzip && !gzipped) {
    throw new DataError('corrupt gzip data: the file does not start with the gzip signature (1f 8b)', path);
  }
  let data = raw;
  if (gzipped && mode !== false) {
    try {
      data = await gunzip(raw, opts.maxBytes === undefined ? {} : { maxOutputLength: opts.maxBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new DataError(`decompresses to more than the expected ${opts.maxBytes} bytes`, path, { cause: err });
      }
      const msg = (err as Error).message;
      const hint = /unexpected end/i.test(msg) ? ' (the file is truncated)' : '';
      throw new DataError(`corrupt gzip data: ${msg}${hint}`, path, { cause: err });
    }
    if (data.length === 0) throw new DataError('file is empty (after decompression)', path);
  } else if (opts.maxBytes !== undefined && data.length > opts.maxBytes) {
    throw new DataError(`has ${data.length} bytes, more than the expected ${opts.maxBytes}`, path);
  }
  return { data, sha256: sha256Hex(data), gzipped: gzipped && mode !== false };
}
