import type { ImageSet } from '../types';
import { parseCsvImagesAsync } from './csv';
import { DataError } from './errors';
import { parseIdxImages, parseIdxLabels, type RawImages } from './idx';
import { checksumKey, readDataFile } from './io';
import { locateFashionMnist, type DataFormat, type LocatedDataset, type LocateOptions } from './locate';

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** SHA-256 of the official files' DECOMPRESSED content, keyed by base name without `.gz`. */
export const FASHION_MNIST_SHA256: Readonly<Record<string, string>> = Object.freeze({
  'train-images-idx3-ubyte': 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
  'train-labels-idx1-ubyte': 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
  't10k-images-idx3-ubyte': '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
  't10k-labels-idx1-ubyte': '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
});

/** Size in bytes of the official files' DECOMPRESSED content (IDX header + data), keyed like {@link FASHION_MNIST_SHA256}. */
export const FASHION_MNIST_BYTES: Readonly<Record<string, number>> = Object.freeze({
  'train-images-idx3-ubyte': 16 + 60_000 * 28 * 28,
  'train-labels-idx1-ubyte': 8 + 60_000,
  't10k-images-idx3-ubyte': 16 + 10_000 * 28 * 28,
  't10k-labels-idx1-ubyte': 8 + 10_000,
});

export interface FashionMnistInfo {
  name: 'fashion-mnist';
  /** The folder the data was loaded from (absolute). */
  dir: string;
  format: DataFormat;
  /** SHA-256 hex of each file's decompressed content, keyed by file base name without `.gz`. */
  checksums: Record<string, string>;
}

export interface FashionMnist {
  train: ImageSet;
  test: ImageSet;
  info: FashionMnistInfo;
}

export interface LoadFashionMnistOptions extends LocateOptions {
  /** Keep only the first N training images (applied after parsing and validation of the whole file). */
  trainLimit?: number;
  /** Keep only the first N test images. */
  testLimit?: number;
}

const TO_UNIT = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = i / 255;
  return t;
})();

/** Bytes 0..255 → Float32 in [0, 1] (value / 255). */
export function normalisePixels(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = TO_UNIT[pixels[i]];
  return out;
}

/**
 * Normalised copy of raw images and their labels; with `limit`, of the first `limit` items only (the rest
 * has been validated already but is not kept, which saves memory and time).
 */
export function toImageSet(raw: RawImages, labels: Uint8Array, limit?: number): ImageSet {
  const count = limit === undefined ? raw.count : Math.min(limit, raw.count);
  const size = raw.height * raw.width;
  return {
    images: normalisePixels(raw.pixels.subarray(0, count * size)),
    // a plain Uint8Array copy (not a Buffer view), so that the (large) file buffer can be freed
    labels: new Uint8Array(labels.subarray(0, count)),
    count,
    height: raw.height,
    width: raw.width,
  };
}

/** Min, max and mean pixel value of a set: the stored verification of the normalisation. Zeros for an empty set. */
export function pixelStats(set: ImageSet): { min: number; max: number; mean: number } {
  const px = set.images;
  const n = set.count * set.height * set.width;
  if (n === 0) return { min: 0, max: 0, mean: 0 };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = px[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / n };
}

/** The first `limit` items of a set, as views into the same buffers (no copy). `undefined` or a limit ≥ count returns the set itself. */
export function subset(set: ImageSet, limit: number | undefined): ImageSet {
  if (limit === undefined || limit >= set.count) return set;
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`subset limit must be a non-negative integer, got ${limit}`);
  const size = set.height * set.width;
  return {
    images: set.images.subarray(0, limit * size),
    labels: set.labels.subarray(0, limit),
    count: limit,
    height: set.height,
    width: set.width,
  };
}

/** Reads one IDX split (images + labels file, each gzipped or not). */
export async function readIdxSplit(
  imagesPath: string,
  labelsPath: string,
  limit?: number,
): Promise<{ set: ImageSet; checksums: Record<string, string> }> {
  const [imgFile, lblFile] = await Promise.all([readDataFile(imagesPath), readDataFile(labelsPath)]);
  const raw = parseIdxImages(imgFile.data, imagesPath);
  const labels = parseIdxLabels(lblFile.data, labelsPath);
  if (raw.count !== labels.length) {
    throw new DataError(`image/label count mismatch: ${raw.count} images but ${labels.length} labels in ${labelsPath}`, imagesPath);
  }
  return {
    set: toImageSet(raw, labels, limit),
    checksums: { [checksumKey(imagesPath)]: imgFile.sha256, [checksumKey(labelsPath)]: lblFile.sha256 },
  };
}

/** Reads one CSV split (label first, then 784 pixels; header optional; gzipped or not). */
export async function readCsvSplit(path: string, limit?: number): Promise<{ set: ImageSet; checksums: Record<string, string> }> {
  const file = await readDataFile(path);
  const raw = await parseCsvImagesAsync(file.data, path);
  return { set: toImageSet(raw, raw.labels, limit), checksums: { [checksumKey(path)]: file.sha256 } };
}

function checkLimit(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
}

/** Loads a dataset already located (see {@link locateFashionMnist}). */
export async function loadLocatedFashionMnist(
  located: LocatedDataset,
  limits: { trainLimit?: number; testLimit?: number } = {},
): Promise<FashionMnist> {
  checkLimit('trainLimit', limits.trainLimit);
  checkLimit('testLimit', limits.testLimit);
  let train: { set: ImageSet; checksums: Record<string, string> };
  let test: { set: ImageSet; checksums: Record<string, string> };
  if (located.format === 'idx') {
    const f = located.files;
    // sequentially: keeps the peak memory (compressed + decompressed + float buffers) lower
    train = await readIdxSplit(f.trainImages, f.trainLabels, limits.trainLimit);
    test = await readIdxSplit(f.testImages, f.testLabels, limits.testLimit);
  } else {
    train = await readCsvSplit(located.files.train, limits.trainLimit);
    test = await readCsvSplit(located.files.test, limits.testLimit);
  }
  return {
    train: train.set,
    test: test.set,
    info: { name: 'fashion-mnist', dir: located.dir, format: located.format, checksums: { ...train.checksums, ...test.checksums } },
  };
}

/**
 * Locates (`dir` option, `$CLUSTERBENCH_DATA`, the app's data folder, `/usr/share/datasets/fashion-mnist`)
 * and loads Fashion-MNIST, IDX or CSV. Pixels are normalised to [0, 1]. Every file is validated completely
 * before the limits are applied; any problem throws a {@link DataError} naming the file.
 */
export async function loadFashionMnist(opts: LoadFashionMnistOptions = {}): Promise<FashionMnist> {
  checkLimit('trainLimit', opts.trainLimit);
  checkLimit('testLimit', opts.testLimit);
  const located = await locateFashionMnist(opts);
  return loadLocatedFashionMnist(located, opts);
}
