/**
 * Light looks at a data set's files, for `datasets add` and the import dialog before anything is read in full: which
 * container a path is (detectFormat), what the first bytes of a file say, and the built-in Fashion-MNIST described from
 * its files' headers (no decode: listing data sets stays cheap).
 */
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { constants as zlibConstants, createGunzip } from 'node:zlib';
import { DEFAULT_DATASET, type DatasetFormat, type DatasetRecord } from '../engine/data/dataset';
import { DataError, FASHION_MNIST_CLASSES, IDX_IMAGES_MAGIC, locateFashionMnist, type LocatedDataset } from '../engine/data/index';

/** Bytes looked at from the start of a file's content to tell its format or read its header. */
const HEAD_BYTES = 4096;

/** An IDX file's name as the IDX convention writes it (`train-images-idx3-ubyte`, `….gz`). */
const IDX_NAME = /idx[1-4]-ubyte(\.gz)?$/i;

/** Up to `limit` bytes of what gzip data `raw` (the start of a member) inflates to; inflating stops there. */
function inflateHead(raw: Buffer, limit: number, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const gunzip = createGunzip({ finishFlush: zlibConstants.Z_SYNC_FLUSH });
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => resolve(Buffer.concat(chunks).subarray(0, limit));
    gunzip.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) {
        gunzip.destroy();
        done();
      }
    });
    gunzip.on('end', done);
    gunzip.on('error', (err) => reject(new DataError('is not valid gzip data', path, { cause: err })));
    gunzip.end(raw);
  });
}

/** The first `bytes` bytes of a file's content (fewer when it is shorter), decompressed when it is gzip data. */
export async function fileHead(path: string, bytes = HEAD_BYTES): Promise<Buffer> {
  const handle = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new DataError(err.code === 'ENOENT' ? 'no such file' : `cannot be read (${err.code ?? err.message})`, path, { cause: err });
  });
  let raw: Buffer;
  try {
    // gzip data needs more of the file than it inflates to at first (its header, then the first block)
    const buffer = Buffer.alloc(Math.max(bytes, HEAD_BYTES));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    raw = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  return isGzip(raw) ? inflateHead(raw, bytes, path) : raw.subarray(0, bytes);
}

const isGzip = (head: Uint8Array): boolean => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

/** IDX: two zero bytes, a type byte (0x08 unsigned bytes … 0x0E doubles) and 1 to 4 dimensions. */
export function isIdxHead(head: Uint8Array): boolean {
  return (
    head.length >= 4 &&
    head[0] === 0 &&
    head[1] === 0 &&
    [0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e].includes(head[2]) &&
    head[3] >= 1 &&
    head[3] <= 4
  );
}

const NPY_MAGIC = Buffer.from('\x93NUMPY', 'latin1');
const ZIP_MAGIC = Buffer.from('PK\x03\x04', 'latin1');

/** The format of a file from its name, else from its first bytes; undefined when neither tells. */
async function fileFormat(path: string): Promise<DatasetFormat | undefined> {
  const name = basename(path).toLowerCase();
  if (name.endsWith('.npy')) return 'npy';
  if (name.endsWith('.npz')) return 'npz';
  if (/\.(csv|tsv)(\.gz)?$/.test(name)) return 'csv';
  if (IDX_NAME.test(name) || /\.idx(\.gz)?$/.test(name)) return 'idx';
  const head = await fileHead(path);
  if (isIdxHead(head)) return 'idx';
  if (head.subarray(0, NPY_MAGIC.length).equals(NPY_MAGIC)) return 'npy';
  if (head.subarray(0, ZIP_MAGIC.length).equals(ZIP_MAGIC)) return 'npz';
  return undefined;
}

/**
 * The container `path` is: a folder holding IDX files → idx, any other folder → folder (images, or one subfolder of
 * images per class); a file by its extension (.npy, .npz, .csv[.gz]) or, failing that, by its first bytes (IDX's
 * magic, numpy's, a zip's). One line naming the path when it cannot tell.
 */
export async function detectFormat(path: string): Promise<DatasetFormat> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new DataError(err.code === 'ENOENT' ? 'no such file or folder' : `cannot be read (${err.code ?? err.message})`, path, {
      cause: err,
    });
  });
  if (info.isDirectory()) {
    const names = await readdir(path).catch((err: NodeJS.ErrnoException) => {
      throw new DataError(`cannot be read (${err.code ?? err.message})`, path, { cause: err });
    });
    return names.some((n) => IDX_NAME.test(n)) ? 'idx' : 'folder';
  }
  if (!info.isFile()) throw new DataError('is neither a file nor a folder', path);
  const format = await fileFormat(path);
  if (!format) throw new DataError('cannot tell its format from its name or first bytes: give it (--format idx|folder|csv|npy|npz)', path);
  return format;
}

function u32(buf: Uint8Array, offset: number): number {
  return ((buf[offset] << 24) | (buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]) >>> 0;
}

/** An IDX images file's count and size from its header; a DataError when the header is not one. */
export async function idxImagesHeader(path: string): Promise<{ count: number; height: number; width: number }> {
  const head = await fileHead(path, 16);
  if (head.length < 16 || u32(head, 0) !== IDX_IMAGES_MAGIC) throw new DataError('is not an IDX images file (its header)', path);
  return { count: u32(head, 4), height: u32(head, 8), width: u32(head, 12) };
}

/** Rows of a CSV file (lines, less a header line that does not start with a number), counted as it streams. */
async function csvRows(path: string): Promise<number> {
  const head = await fileHead(path);
  const header = head.length > 0 && !/^\s*[-+.\d]/.test(head.toString('latin1')) ? 1 : 0;
  const raw = createReadStream(path);
  const first = await fileStart(path);
  const stream: AsyncIterable<Buffer> = isGzip(first) ? raw.pipe(createGunzip()) : raw;
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of stream) {
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 0x0a) lines++;
    if (chunk.length > 0) last = chunk[chunk.length - 1];
  }
  if (last !== 0x0a) lines++; // a last line without its newline
  return Math.max(0, lines - header);
}

/** The first two bytes of a file as stored (gzip's magic or not). */
async function fileStart(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await handle.read(b, 0, 2, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The built-in data set's record from the files located here; `sha256` is '' (computed when a run reads them). */
export async function builtInRecord(located: LocatedDataset): Promise<DatasetRecord> {
  let counts: DatasetRecord['counts'];
  let size = { height: 28, width: 28 };
  let source: DatasetRecord['source'];
  if (located.format === 'idx') {
    const train = await idxImagesHeader(located.files.trainImages);
    const test = await idxImagesHeader(located.files.testImages);
    counts = { train: train.count, test: test.count };
    size = { height: train.height, width: train.width };
    source = { format: 'idx', path: located.dir };
  } else {
    counts = { train: await csvRows(located.files.train), test: await csvRows(located.files.test) };
    source = {
      format: 'csv',
      path: located.files.train,
      test: located.files.test,
      labelColumn: 'first',
      imageShape: { ...size, channels: 1 },
    };
  }
  return {
    name: DEFAULT_DATASET,
    uid: BUILT_IN_UID,
    shape: { kind: 'images', ...size, channels: 1 },
    source,
    sha256: '',
    counts,
    classNames: [...FASHION_MNIST_CLASSES],
    notes: [],
    createdAt: '',
  };
}

/** The built-in data set's uid: the same everywhere (it is no row of any history). */
export const BUILT_IN_UID = '0'.repeat(32);

/** Where the built-in data set is (`dataDir` first, as runs look), or why it is not here (its first line). */
export async function locateBuiltIn(dataDir?: string): Promise<{ located: LocatedDataset } | { problem: string }> {
  try {
    return { located: await locateFashionMnist({ dir: dataDir }) };
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    const first = err.message.split('\n')[0];
    return { problem: `not found here: ${first} (see clusterbench data download)` };
  }
}

/** The IDX files of a folder, by name (for the import dialog's look at a folder). */
export async function idxFilesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => IDX_NAME.test(n)).map((n) => join(dir, n));
}
