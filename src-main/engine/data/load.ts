/**
 * Reads a data set for a run or for `datasets add`: Fashion-MNIST (built in, located as always) or a recorded
 * source through its format's reader, then splits it (the container's own test split, a second path, a held-out
 * fraction, or none: one split that runs fit on and score).
 */
import { createHash } from 'node:crypto';
import { Rng } from '../math/rng';
import {
  DEFAULT_DATASET,
  rowSize,
  type DataSplit,
  type DatasetSource,
  type FormatReader,
  type LoadedDataset,
  type ReadData,
  type ReadOptions,
} from './dataset';
import { DataError } from './errors';
import { FASHION_MNIST_CLASSES, loadFashionMnist, type FashionMnist } from './fashion-mnist';
import { FORMAT_READERS } from './formats/index';

/** The seed of the held-out split's shuffle: fixed, so that a data set splits the same way every time it is read. */
const SPLIT_SEED = 0;

export interface RowLimits {
  /** Keep only the first N rows of the training split / of the test split. */
  trainLimit?: number;
  testLimit?: number;
}

/** The first `limit` rows of a split, as views (no copy). */
export function firstRows(split: DataSplit, size: number, limit: number | undefined): DataSplit {
  if (limit === undefined || limit >= split.count) return split;
  return {
    values: split.values.subarray(0, limit * size),
    count: limit,
    ...(split.labels ? { labels: split.labels.subarray(0, limit) } : {}),
  };
}

/** The rows at `indices` (ascending), copied. */
function pickRows(split: DataSplit, size: number, indices: Int32Array): DataSplit {
  const values = new Float32Array(indices.length * size);
  const labels = split.labels ? new Uint8Array(indices.length) : undefined;
  indices.forEach((row, i) => {
    values.set(split.values.subarray(row * size, (row + 1) * size), i * size);
    if (labels) labels[i] = split.labels![row];
  });
  return { values, count: indices.length, ...(labels ? { labels } : {}) };
}

/**
 * Holds out `fraction` of the rows as the test split: a seeded shuffle picks them, and both splits keep the rows'
 * order (so row i of a features data set still lines up with image i of the data set it was computed from).
 */
export function holdOut(split: DataSplit, size: number, fraction: number): { train: DataSplit; test: DataSplit } {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`the test fraction must lie strictly between 0 and 1, got ${fraction}`);
  const nTest = Math.round(split.count * fraction);
  if (nTest < 1 || nTest >= split.count)
    throw new DataError(
      `a test fraction of ${fraction} leaves ${nTest} of ${split.count} rows for the test split: choose another fraction`,
    );
  const order = new Rng(SPLIT_SEED).permutation(split.count);
  const testRows = order.slice(0, nTest).sort();
  const isTest = new Uint8Array(split.count);
  for (const row of testRows) isTest[row] = 1;
  const trainRows = new Int32Array(split.count - nTest);
  let t = 0;
  for (let row = 0; row < split.count; row++) if (!isTest[row]) trainRows[t++] = row;
  return { train: pickRows(split, size, trainRows), test: pickRows(split, size, testRows) };
}

function splitOf(name: string, read: ReadData, source: DatasetSource): LoadedDataset {
  const size = rowSize(read.shape);
  const base = { name, shape: read.shape, sha256: read.sha256, notes: [...read.notes], classNames: read.classNames };
  if (read.test && source.testFraction !== undefined)
    throw new DataError(`${source.path} holds its own test split: a test fraction cannot be used with it`);
  if (read.test) return { ...base, train: read.train, test: read.test };
  if (source.testFraction !== undefined) return { ...base, ...holdOut(read.train, size, source.testFraction) };
  return { ...base, train: read.train, test: read.train };
}

/** Reads a recorded source through its format's reader and splits it. */
export async function loadDataset(name: string, source: DatasetSource, options: ReadOptions = {}): Promise<LoadedDataset> {
  const reader = FORMAT_READERS[source.format] as FormatReader | undefined; // a hand-edited history may name any
  if (!reader) throw new DataError(`no reader for the format '${String(source.format)}'`, source.path);
  const read = await reader(source, options);
  if (read.train.count < 1) throw new DataError('holds no rows', source.path);
  if (read.classNames === undefined && (read.train.labels || read.test?.labels))
    throw new Error(`the ${source.format} reader gave labels without class names`); // a reader's bug, not the user's
  return splitOf(name, read, source);
}

/** The content hash of Fashion-MNIST as loaded: of its files' checksums, in name order. */
function fashionMnistSha256(data: FashionMnist): string {
  const lines = Object.entries(data.info.checksums)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([file, sum]) => `${file} ${sum}\n`);
  return createHash('sha256').update(lines.join('')).digest('hex');
}

/** Fashion-MNIST, located as always (`dir`, `$CLUSTERBENCH_DATA`, the app's folder, Debian's package). */
export async function loadBuiltIn(
  dir: string | undefined,
  limits: RowLimits = {},
): Promise<{ data: LoadedDataset; fashion: FashionMnist }> {
  const fashion = await loadFashionMnist({ dir, ...limits });
  const shape = { kind: 'images', height: fashion.train.height, width: fashion.train.width, channels: 1 } as const;
  const split = (set: FashionMnist['train']): DataSplit => ({ values: set.images, count: set.count, labels: set.labels });
  return {
    data: {
      name: DEFAULT_DATASET,
      shape,
      train: split(fashion.train),
      test: split(fashion.test),
      classNames: [...FASHION_MNIST_CLASSES],
      sha256: fashionMnistSha256(fashion),
      notes: [],
    },
    fashion,
  };
}

/** A loaded data set cut to the first rows of each split (a single split is cut once, and stays single). */
export function withLimits(data: LoadedDataset, limits: RowLimits): LoadedDataset {
  const size = rowSize(data.shape);
  const train = firstRows(data.train, size, limits.trainLimit);
  const single = data.test === data.train;
  return { ...data, train, test: single ? train : firstRows(data.test, size, limits.testLimit) };
}
