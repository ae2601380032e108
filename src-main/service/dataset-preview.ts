/**
 * datasets.preview: a light look at a path for the import dialog, before anything is read in full — its format, and
 * what its headers or first lines say; an image folder through the folder reader's preview (its listing, a sample's
 * sizes, a few thumbnails). Nothing here decodes a whole data set: a big file answers as fast as a small one, and a
 * problem found in a file's header is one line in the summary, not an error.
 */
import { open, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { DatasetPreview, ParsedRequestOf } from '../contract/index';
import type { ImageFolderPreview } from '../contract/datasets';
import type { DatasetFormat } from '../engine/data/dataset';
import { DataError } from '../engine/data/errors';
import { previewImageFolder } from '../engine/data/formats/image-folder';
import { detectFormat, fileHead, idxFilesIn, isIdxHead } from './dataset-files';

/** Characters of a CSV line shown. */
const LINE_CHARS = 200;
/** Members of an .npz listed. */
const MAX_MEMBERS = 20;
/** Bytes read from the end of an .npz to find its directory (the end record, at most 64 KiB of comment before it). */
const ZIP_TAIL_BYTES = 66 * 1024;

const u32be = (b: Uint8Array, o: number): number => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

/** An IDX file's header: its element type and dimensions, e.g. "60000 × 28 × 28 (bytes)". */
async function idxLine(path: string): Promise<string> {
  const head = await fileHead(path, 4 + 4 * 4);
  if (!isIdxHead(head)) return `${basename(path)}: not an IDX file (its first bytes)`;
  const dims = head[3];
  if (head.length < 4 + 4 * dims) return `${basename(path)}: truncated IDX header`;
  const sizes = Array.from({ length: dims }, (_, i) => u32be(head, 4 + 4 * i));
  const type = { 0x08: 'bytes', 0x09: 'signed bytes', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64' }[head[2]];
  return `${basename(path)}: ${sizes.join(' × ')} (${type})`;
}

/** An .npy file's header: shape and dtype as numpy wrote them. */
async function npyLine(path: string): Promise<string> {
  const head = await fileHead(path, 4096);
  const magic = head.subarray(0, 6).toString('latin1');
  if (magic !== '\x93NUMPY') return `${basename(path)}: not an .npy file (its first bytes)`;
  const major = head[6];
  const start = major === 1 ? 10 : 12;
  const length = major === 1 ? head.readUInt16LE(8) : head.readUInt32LE(8);
  const header = head.subarray(start, Math.min(head.length, start + length)).toString('latin1');
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  const dtype = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  if (shape === undefined || dtype === undefined) return `${basename(path)}: an .npy header this look cannot read`;
  return `${basename(path)}: shape (${shape.replace(/,\s*$/, '')}), dtype ${dtype}`;
}

/** An .npz archive's members, from its central directory (names only; nothing is inflated). */
async function npzLines(path: string): Promise<string[]> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const tail = Buffer.alloc(Math.min(size, ZIP_TAIL_BYTES));
    await handle.read(tail, 0, tail.length, size - tail.length);
    const end = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (end < 0 || end + 22 > tail.length) return [`${basename(path)}: no zip directory found (not an .npz, or truncated)`];
    const entries = tail.readUInt16LE(end + 10);
    const dirSize = tail.readUInt32LE(end + 12);
    const dirOffset = tail.readUInt32LE(end + 16);
    if (dirOffset + dirSize > size || dirSize > 16 * 2 ** 20) return [`${basename(path)}: a zip directory this look cannot read`];
    const dir = Buffer.alloc(dirSize);
    await handle.read(dir, 0, dirSize, dirOffset);
    const names: string[] = [];
    for (let at = 0, i = 0; i < entries && at + 46 <= dir.length && dir.readUInt32LE(at) === 0x02014b50; i++) {
      const nameLength = dir.readUInt16LE(at + 28);
      names.push(dir.subarray(at + 46, at + 46 + nameLength).toString('utf8'));
      at += 46 + nameLength + dir.readUInt16LE(at + 30) + dir.readUInt16LE(at + 32);
    }
    const shown = names.slice(0, MAX_MEMBERS).join(', ') + (names.length > MAX_MEMBERS ? `, … (${names.length} in all)` : '');
    return [`${basename(path)}: ${entries} member${entries === 1 ? '' : 's'}: ${shown}`];
  } finally {
    await handle.close();
  }
}

/** A CSV file's first lines, cut short, and how many columns the first one has. */
async function csvLines(path: string): Promise<string[]> {
  const text = (await fileHead(path, 64 * 1024)).toString('utf8');
  const lines = text.split(/\r?\n/).slice(0, 3);
  const columns = lines[0]?.split(',').length ?? 0;
  return [
    `${basename(path)}: ${columns} column${columns === 1 ? '' : 's'} in its first line`,
    ...lines.filter((l) => l.length > 0).map((l) => (l.length > LINE_CHARS ? `${l.slice(0, LINE_CHARS)}…` : l)),
  ];
}

/** An image folder's look (the folder reader's preview), thumbnails as base64, and its summary lines. */
async function folderLook(
  path: string,
  req: ParsedRequestOf<'datasets.preview'>,
): Promise<{ folder: ImageFolderPreview; summary: string[] }> {
  const preview = await previewImageFolder(path, { size: req.size, channels: req.channels });
  const { classNames, trainCounts, testCounts, otherFiles, sizes, sampled, size, channels } = preview;
  const folder: ImageFolderPreview = {
    ...{ classNames, trainCounts, otherFiles, sizes, sampled, size, channels },
    ...(testCounts ? { testCounts } : {}),
    thumbnails: preview.thumbnails.map(({ pixels, ...t }) => ({ ...t, pixelsBase64: Buffer.from(pixels).toString('base64') })),
  };
  const count = (counts: number[]): number => counts.reduce((a, b) => a + b, 0);
  const labels = folder.classNames === null ? 'no class folders (unlabelled)' : `${folder.classNames.length} class folders`;
  const summary = [
    `${count(folder.trainCounts)} images${folder.testCounts ? ` + ${count(folder.testCounts)} in test/` : ''}, ${labels}`,
    `read at ${folder.size.height}×${folder.size.width}×${folder.channels} (${folder.sampled} sampled)`,
  ];
  if (folder.otherFiles.count > 0) {
    const files = folder.otherFiles.count === 1 ? '1 file' : `${folder.otherFiles.count} files`;
    summary.push(`${files} not named as images (e.g. ${folder.otherFiles.examples[0]})`);
  }
  return { folder, summary };
}

async function summaryOf(path: string, format: DatasetFormat, isFolder: boolean): Promise<string[]> {
  switch (format) {
    case 'idx': {
      const files = isFolder ? await idxFilesIn(path) : [path];
      if (files.length === 0) return ['no IDX files here'];
      return Promise.all(files.sort().map(idxLine));
    }
    case 'npy':
      return [await npyLine(path)];
    case 'npz':
      return npzLines(path);
    case 'csv':
      return csvLines(path);
    case 'folder':
      return []; // previewDataset looks at folders itself
  }
}

/** The format of `path` (given or detected) and what a light look at it finds. */
export async function previewDataset(req: ParsedRequestOf<'datasets.preview'>): Promise<DatasetPreview> {
  const path = resolve(req.path);
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new DataError(err.code === 'ENOENT' ? 'no such file or folder' : `cannot be read (${err.code ?? err.message})`, path);
  });
  const format = req.format ?? (await detectFormat(path));
  if (format === 'folder') return { path, format, ...(await folderLook(path, req)) };
  let summary: string[];
  try {
    summary = await summaryOf(path, format, info.isDirectory());
  } catch (err) {
    if (!(err instanceof DataError) && !(err as NodeJS.ErrnoException).code) throw err;
    summary = [(err as Error).message];
  }
  return { path, format, summary };
}
