/**
 * Tiny Fashion-MNIST-shaped fixtures for the data-layer tests: IDX and CSV files, gzipped or not, valid or
 * broken on purpose, written into temp folders.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const SIDE = 28;
export const PIXELS = SIDE * SIDE;

export const IDX_NAMES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
export const CSV_NAMES = { train: 'fashion-mnist_train.csv', test: 'fashion-mnist_test.csv' } as const;

const tmpDirs: string[] = [];

/** A fresh temp folder; {@link cleanupTmpDirs} removes them all (call it in afterAll). */
export async function makeTmpDir(prefix = 'cb-data-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}

export async function cleanupTmpDirs(): Promise<void> {
  await Promise.all(tmpDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Deterministic pseudo-random bytes (mulberry32), for reproducible images. */
export function syntheticPixels(count: number, seed = 1, size = PIXELS): Uint8Array {
  let a = seed >>> 0;
  const out = new Uint8Array(count * size);
  for (let i = 0; i < out.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) % 256;
    // mostly background, like the real images; make sure 0 and 255 occur
    out[i] = i % 97 === 0 ? 255 : r < 128 ? 0 : r;
  }
  return out;
}

export function syntheticLabels(count: number, offset = 0): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = (i + offset) % 10;
  return out;
}

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

export interface IdxImagesSpec {
  /** Number announced in the header (default: pixels.length / (rows × cols)). */
  count?: number;
  rows?: number;
  cols?: number;
  magic?: number;
  /** Drop this many bytes off the end (a truncated file). */
  truncateBy?: number;
  /** Extra bytes appended after the data. */
  extraBytes?: number;
}

export function idxImagesBuffer(pixels: Uint8Array, spec: IdxImagesSpec = {}): Buffer {
  const rows = spec.rows ?? SIDE;
  const cols = spec.cols ?? SIDE;
  const count = spec.count ?? Math.floor(pixels.length / (rows * cols));
  const buf = Buffer.concat([
    u32be(spec.magic ?? 2051),
    u32be(count),
    u32be(rows),
    u32be(cols),
    Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength),
    Buffer.alloc(spec.extraBytes ?? 0),
  ]);
  return spec.truncateBy ? buf.subarray(0, buf.length - spec.truncateBy) : buf;
}

export function idxLabelsBuffer(labels: ArrayLike<number>, spec: { count?: number; magic?: number; truncateBy?: number } = {}): Buffer {
  const buf = Buffer.concat([u32be(spec.magic ?? 2049), u32be(spec.count ?? labels.length), Buffer.from(Array.from(labels))]);
  return spec.truncateBy ? buf.subarray(0, buf.length - spec.truncateBy) : buf;
}

export interface CsvRow {
  label: number | string;
  pixels: ArrayLike<number | string>;
}

/** Kaggle-style CSV text: `label,pixel1,…,pixel784` header (optional), then one row per image. */
export function csvText(rows: CsvRow[], opts: { header?: boolean; eol?: string; trailingNewline?: boolean } = {}): string {
  const eol = opts.eol ?? '\n';
  const lines: string[] = [];
  if (opts.header ?? true) lines.push(['label', ...Array.from({ length: PIXELS }, (_, i) => `pixel${i + 1}`)].join(','));
  for (const r of rows) lines.push([r.label, ...Array.from(r.pixels)].join(','));
  return lines.join(eol) + ((opts.trailingNewline ?? true) ? eol : '');
}

/** CSV rows for raw images and labels. */
export function csvRows(pixels: Uint8Array, labels: ArrayLike<number>): CsvRow[] {
  const rows: CsvRow[] = [];
  for (let i = 0; i < labels.length; i++) rows.push({ label: labels[i], pixels: pixels.subarray(i * PIXELS, (i + 1) * PIXELS) });
  return rows;
}

/** Writes `content` to `dir/name` (+ `.gz`, gzipped, when `gzip`). Returns the path. */
export async function writeFixture(dir: string, name: string, content: Buffer | string, opts: { gzip?: boolean } = {}): Promise<string> {
  const path = join(dir, opts.gzip ? `${name}.gz` : name);
  await mkdir(dirname(path), { recursive: true });
  const data = typeof content === 'string' ? Buffer.from(content) : content;
  await writeFile(path, opts.gzip ? gzipSync(data) : data);
  return path;
}

export interface SyntheticDataset {
  dir: string;
  train: { pixels: Uint8Array; labels: Uint8Array };
  test: { pixels: Uint8Array; labels: Uint8Array };
}

/** Writes a complete, valid (tiny) IDX dataset: the four files, gzipped or not. */
export async function writeIdxDataset(
  dir: string,
  opts: { trainCount?: number; testCount?: number; gzip?: boolean; seed?: number } = {},
): Promise<SyntheticDataset> {
  const trainCount = opts.trainCount ?? 12;
  const testCount = opts.testCount ?? 5;
  const seed = opts.seed ?? 7;
  const train = { pixels: syntheticPixels(trainCount, seed), labels: syntheticLabels(trainCount) };
  const test = { pixels: syntheticPixels(testCount, seed + 1), labels: syntheticLabels(testCount, 3) };
  const gzip = opts.gzip ?? false;
  await writeFixture(dir, IDX_NAMES.trainImages, idxImagesBuffer(train.pixels), { gzip });
  await writeFixture(dir, IDX_NAMES.trainLabels, idxLabelsBuffer(train.labels), { gzip });
  await writeFixture(dir, IDX_NAMES.testImages, idxImagesBuffer(test.pixels), { gzip });
  await writeFixture(dir, IDX_NAMES.testLabels, idxLabelsBuffer(test.labels), { gzip });
  return { dir, train, test };
}

/** Writes a complete, valid (tiny) CSV dataset: Kaggle's two files. */
export async function writeCsvDataset(
  dir: string,
  opts: { trainCount?: number; testCount?: number; gzip?: boolean; header?: boolean; seed?: number } = {},
): Promise<SyntheticDataset> {
  const trainCount = opts.trainCount ?? 12;
  const testCount = opts.testCount ?? 5;
  const seed = opts.seed ?? 7;
  const train = { pixels: syntheticPixels(trainCount, seed), labels: syntheticLabels(trainCount) };
  const test = { pixels: syntheticPixels(testCount, seed + 1), labels: syntheticLabels(testCount, 3) };
  const gzip = opts.gzip ?? false;
  await writeFixture(dir, CSV_NAMES.train, csvText(csvRows(train.pixels, train.labels), { header: opts.header }), { gzip });
  await writeFixture(dir, CSV_NAMES.test, csvText(csvRows(test.pixels, test.labels), { header: opts.header }), { gzip });
  return { dir, train, test };
}

/** Pixels / 255 as Float32, the expected normalisation. */
export function expectedFloats(pixels: Uint8Array): Float32Array {
  return Float32Array.from(pixels, (v) => v / 255);
}

/** Bytewise equality of two typed arrays (fast, unlike a deep toEqual of large arrays); same type required. */
export function sameTypedArray(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.constructor !== b.constructor || a.byteLength !== b.byteLength) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
