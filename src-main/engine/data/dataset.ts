/**
 * A data set as the engine sees it, whatever it was read from: images (H×W×C, channels last, values in [0, 1]) or
 * feature rows (d values each), labelled or not, in one or two splits. Each container format (formats/*) reads its
 * files into a {@link ReadData}; `load.ts` turns a {@link DatasetSource} (what the history records of a data set)
 * into a {@link LoadedDataset}. Pure types and small helpers: no file access here.
 */

/** The containers a data set can be read from. */
export const DATASET_FORMATS = ['idx', 'folder', 'csv', 'npy', 'npz'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export const DATASET_KINDS = ['images', 'features'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

/** The largest number of classes a labelled data set may have (labels are stored as bytes). */
export const MAX_CLASSES = 256;
/** The largest side of an image, in pixels, and the widest feature row: bounds checked before anything is allocated. */
export const MAX_IMAGE_SIDE = 1024;
export const MAX_FEATURES = 1_000_000;
/** The most rows a data set may have (a bound checked before a header's count is trusted). */
export const MAX_ROWS = 10_000_000;

export type DatasetShape = { kind: 'images'; height: number; width: number; channels: 1 | 3 } | { kind: 'features'; dim: number };

/** One split: `count` rows of `rowSize(shape)` float32 values each, row-major; labels when the data set has them. */
export interface DataSplit {
  values: Float32Array;
  count: number;
  labels?: Uint8Array;
}

/** What a format reader gives back: the rows it read, and the sha256 of every byte it read, in a stable order. */
export interface ReadData {
  shape: DatasetShape;
  train: DataSplit;
  /** The test split, when the container holds one (IDX's t10k files, a `test/` folder, an npz `x_test`). */
  test?: DataSplit;
  /** One name per label 0..C-1, when labelled (folder names, or `class 0` … when the container has none). */
  classNames?: string[];
  sha256: string;
  /** What the reader decided without failing (e.g. "skipped 3 files that are not images: a.txt, …"), one line each. */
  notes: string[];
}

/**
 * Where a data set's rows come from, as the history records it: enough to read them again, byte for byte. Paths
 * are absolute. Options that a format does not use are absent.
 */
export interface DatasetSource {
  format: DatasetFormat;
  /** The file or folder the (training) rows come from. */
  path: string;
  /** A separate labels file (.npy or IDX labels) for `path`'s rows. */
  labels?: string;
  /** The test split in its own file or folder (same format), and its labels file. */
  test?: string;
  testLabels?: string;
  /** Hold out this fraction of the rows as the test split (a fixed, seeded shuffle: the same split every time). */
  testFraction?: number;
  /** Folders: every image is resized to this size (default: the most common size in the folder). */
  size?: { height: number; width: number };
  /** Folders: force grayscale (1) or colour (3); default: colour when any image has colour. */
  channels?: 1 | 3;
  /** CSV: whether the first column is the label (default: when the header calls it label/class/target/y). */
  labelColumn?: 'first' | 'none';
  /** CSV and .npy/.npz of flat rows: read them as images of this shape (values 0..255 are divided by 255). */
  imageShape?: { height: number; width: number; channels: 1 | 3 };
  /** A features data set: the name of the images data set its rows were computed from (row i ↔ image i). */
  imagesOf?: string;
}

/** A data set read and split: what a run fits and scores. */
export interface LoadedDataset {
  name: string;
  shape: DatasetShape;
  train: DataSplit;
  /** The scored split. The same object as `train` when the data set has one split: runs fit on and score all rows. */
  test: DataSplit;
  classNames?: string[];
  sha256: string;
  notes: string[];
}

/** Values per row. */
export function rowSize(shape: DatasetShape): number {
  return shape.kind === 'images' ? shape.height * shape.width * shape.channels : shape.dim;
}

/** `28×28×1`, `32×32×3`, `d=128`: how the UI and the CLI write a shape. */
export function describeShape(shape: DatasetShape): string {
  return shape.kind === 'images' ? `${shape.height}×${shape.width}×${shape.channels}` : `d=${shape.dim}`;
}

export const isLabelled = (data: Pick<LoadedDataset, 'train' | 'test'>): boolean => data.test.labels !== undefined;

/** Whether the run fits on and scores the same rows (no separate test split). */
export const isSingleSplit = (data: Pick<LoadedDataset, 'train' | 'test'>): boolean => data.train === data.test;

/** `class 0`, `class 1`, …: the names of labels a container gives without names. */
export function defaultClassNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `class ${i}`);
}

/** The built-in data set: needs no `datasets add`, and is what a run uses when it names none. */
export const DEFAULT_DATASET = 'fashion-mnist';

/** A data set's name: a short word a shell and a file name take as is (letters, digits, `.`, `_`, `-`). */
export const DATASET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A data set as the history keeps it (store/datasets.ts): its description and where to read it again. */
export interface DatasetRecord {
  name: string;
  /** Random hex id, the same in every history the record is imported into. */
  uid: string;
  shape: DatasetShape;
  source: DatasetSource;
  /** sha256 of what was read when it was added: a run compares it with what it reads. */
  sha256: string;
  counts: { train: number; test: number | null };
  /** null: unlabelled. */
  classNames: string[] | null;
  /** What the reader decided when it was added (skipped files, …). */
  notes: string[];
  createdAt: string;
}

/** What every format reader takes besides the source: cancellation and progress (files or bytes done of total). */
export interface ReadOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** A format reader: reads `source.path` (and `labels`, and `test`/`testLabels` when given) completely, or throws a DataError. */
export type FormatReader = (source: DatasetSource, options?: ReadOptions) => Promise<ReadData>;
