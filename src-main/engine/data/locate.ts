import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defaultDataDir } from '../paths';
import { DataNotFoundError, type SearchedPlace } from './errors';

/** Environment variable naming a data folder (like `--data DIR`). */
export const DATA_DIR_ENV = 'CLUSTERBENCH_DATA';
/** Where Debian's `dataset-fashion-mnist` package installs the (gzipped) IDX files. */
export const DEBIAN_DATA_DIR = '/usr/share/datasets/fashion-mnist';

/** The four IDX files, without `.gz`. */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
/** Kaggle's CSV files (label first, then 784 pixels). */
export const CSV_FILES = { train: 'fashion-mnist_train.csv', test: 'fashion-mnist_test.csv' } as const;

export type DataFormat = 'idx' | 'csv';

export type LocatedDataset =
  | { dir: string; format: 'idx'; files: { trainImages: string; trainLabels: string; testImages: string; testLabels: string } }
  | { dir: string; format: 'csv'; files: { train: string; test: string } };

export type PlaceSource = 'option' | 'env' | 'app' | 'system';

export interface DataDirCandidate {
  dir: string;
  source: PlaceSource;
  /** Given by the user (`--data` or `$CLUSTERBENCH_DATA`): a problem with it is an error, not a reason to look further. */
  explicit: boolean;
  /** How the place is described in messages. */
  label: string;
}

export interface LocateOptions {
  /** `--data DIR`: used alone when given. */
  dir?: string;
  env?: NodeJS.ProcessEnv;
  /** System-wide folders looked at last (default: Debian's {@link DEBIAN_DATA_DIR}). */
  systemDirs?: readonly string[];
}

/** The places looked at, in order: `--data`, `$CLUSTERBENCH_DATA`, the app's data folder, the system folders. */
export function dataDirCandidates(opts: LocateOptions = {}): DataDirCandidate[] {
  const env = opts.env ?? process.env;
  const out: DataDirCandidate[] = [];
  if (opts.dir) out.push({ dir: resolve(opts.dir), source: 'option', explicit: true, label: '--data' });
  const fromEnv = env[DATA_DIR_ENV];
  if (fromEnv) out.push({ dir: resolve(fromEnv), source: 'env', explicit: true, label: `$${DATA_DIR_ENV}` });
  out.push({ dir: resolve(defaultDataDir(env)), source: 'app', explicit: false, label: "the app's data folder" });
  for (const d of opts.systemDirs ?? [DEBIAN_DATA_DIR]) {
    out.push({
      dir: resolve(d),
      source: 'system',
      explicit: false,
      label: d === DEBIAN_DATA_DIR ? 'Debian package dataset-fashion-mnist' : 'system folder',
    });
  }
  return out;
}

export interface DirInspection {
  dir: string;
  /** The complete dataset found there, if any (IDX preferred over CSV). */
  found?: LocatedDataset;
  /** Why none was found: "does not exist", "missing t10k-labels-idx1-ubyte[.gz]", … */
  problem?: string;
}

/** Picks `name` or `name.gz` among the folder's files (the uncompressed one when both are there). */
function pick(names: Set<string>, dir: string, name: string): string | undefined {
  if (names.has(name)) return join(dir, name);
  if (names.has(`${name}.gz`)) return join(dir, `${name}.gz`);
  return undefined;
}

/** Looks for a complete Fashion-MNIST dataset (IDX or CSV) in one folder. */
export async function inspectDataDir(dir: string): Promise<DirInspection> {
  dir = resolve(dir);
  let entries: string[];
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) return { dir, problem: 'is not a folder' };
    entries = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { dir, problem: 'does not exist' };
    if (code === 'ENOTDIR') return { dir, problem: 'is not a folder' };
    if (code === 'EACCES' || code === 'EPERM') return { dir, problem: 'cannot be read (permission denied)' };
    return { dir, problem: `cannot be read (${(err as Error).message})` };
  }
  const names = new Set(entries);

  const idx = {
    trainImages: pick(names, dir, IDX_FILES.trainImages),
    trainLabels: pick(names, dir, IDX_FILES.trainLabels),
    testImages: pick(names, dir, IDX_FILES.testImages),
    testLabels: pick(names, dir, IDX_FILES.testLabels),
  };
  const { trainImages, trainLabels, testImages, testLabels } = idx;
  if (trainImages && trainLabels && testImages && testLabels) {
    return { dir, found: { dir, format: 'idx', files: { trainImages, trainLabels, testImages, testLabels } } };
  }
  const csv = { train: pick(names, dir, CSV_FILES.train), test: pick(names, dir, CSV_FILES.test) };
  if (csv.train && csv.test) return { dir, found: { dir, format: 'csv', files: { train: csv.train, test: csv.test } } };

  const missingIdx = (Object.keys(IDX_FILES) as (keyof typeof IDX_FILES)[]).filter((k) => !idx[k]).map((k) => `${IDX_FILES[k]}[.gz]`);
  const missingCsv = (Object.keys(CSV_FILES) as (keyof typeof CSV_FILES)[]).filter((k) => !csv[k]).map((k) => CSV_FILES[k]);
  if (missingIdx.length < 4) return { dir, problem: `incomplete: missing ${missingIdx.join(', ')}` };
  if (missingCsv.length < 2) return { dir, problem: `incomplete: missing ${missingCsv.join(', ')}` };
  return { dir, problem: 'holds no Fashion-MNIST files' };
}

/** How to get the data, for error messages. */
export function howToGetData(env?: NodeJS.ProcessEnv): string {
  return [
    'To get the data, do one of:',
    `  - run \`clusterbench data download\` (downloads the four IDX files, ~30 MB, into ${defaultDataDir(env)})`,
    "  - install Debian's package: `sudo apt-get install dataset-fashion-mnist` (files in /usr/share/datasets/fashion-mnist)",
    `  - pass --data DIR (or set ${DATA_DIR_ENV}=DIR) for a folder holding the IDX files`,
    `    (${Object.values(IDX_FILES).join(', ')}; gzipped .gz or not)`,
    `    or Kaggle's CSV files (${Object.values(CSV_FILES).join(', ')}).`,
  ].join('\n');
}

/**
 * Finds the Fashion-MNIST data: `--data DIR` (opts.dir), `$CLUSTERBENCH_DATA`, the app's data folder,
 * then `/usr/share/datasets/fashion-mnist`. A folder given explicitly (option or environment) must hold the
 * data: if it does not, that is the error (no silent fall-through to another copy). Otherwise the first
 * complete dataset wins; when none is found, a {@link DataNotFoundError} names every place looked at.
 */
export async function locateFashionMnist(opts: LocateOptions = {}): Promise<LocatedDataset> {
  const env = opts.env ?? process.env;
  const candidates = dataDirCandidates(opts);
  const places: SearchedPlace[] = [];

  const explicit = candidates.find((c) => c.explicit);
  if (explicit) {
    const r = await inspectDataDir(explicit.dir);
    if (r.found) return r.found;
    const place: SearchedPlace = { dir: explicit.dir, source: explicit.label, problem: r.problem ?? 'unusable' };
    throw new DataNotFoundError(
      `Fashion-MNIST data folder given by ${explicit.label} ${place.problem === 'does not exist' ? 'does not exist' : `is not usable (${place.problem})`}: ${explicit.dir}\n${howToGetData(env)}`,
      [place],
      explicit.dir,
    );
  }

  places.push({ dir: undefined, source: `$${DATA_DIR_ENV}`, problem: 'not set' });
  for (const c of candidates) {
    const r = await inspectDataDir(c.dir);
    if (r.found) return r.found;
    places.push({ dir: c.dir, source: c.label, problem: r.problem ?? 'unusable' });
  }
  const lines = places.map((p) => (p.dir ? `  - ${p.dir} (${p.source}): ${p.problem}` : `  - ${p.source}: ${p.problem}`));
  throw new DataNotFoundError(`Fashion-MNIST data not found. Looked in:\n${lines.join('\n')}\n${howToGetData(env)}`, places);
}
