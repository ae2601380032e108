/**
 * The rows a run scored, read again for the workbench's grids, image details and maps: Fashion-MNIST from the run's
 * recorded folder (or the one in use, holding the very files recorded with the run), or a data set of the history,
 * read again and checked against the content hash the run recorded. A features data set shows the images it was
 * computed from when it names them (`--images-of`).
 */
import { isAbsolute } from 'node:path';
import { statSync } from 'node:fs';
import type { ImageBatch } from '../contract/index';
import { DEFAULT_DATASET, rowSize, type DatasetRecord, type LoadedDataset } from '../engine/data/dataset';
import { inspectDataDir, loadFashionMnist, type FashionMnist } from '../engine/data/index';
import { readRecordedDataset } from '../engine/experiments/data';
import type { RunStore } from '../engine/store/index';
import { ArtifactFileError, checkPlainFile, isInsideArtifacts, shown } from '../engine/store/artifact-files';
import type { DatasetInfo, RunRecord } from '../engine/store/types';
import { valuesPerImage, type Images } from '../engine/types';
import { NotFoundError } from './runs';

/** The scored rows of a run, as images when there are images to show, with their labels when labelled. */
export interface ScoredRows {
  count: number;
  /** null: a features data set that names no images, or whose images cannot be read (`noImages` says why). */
  images: Images | null;
  labels: Uint8Array | null;
  /** Why the images a features data set names cannot be shown, in one line. */
  noImages?: string;
  /** A features data set's scored rows (`count × cols`): what its runs clustered, and what a map projects. */
  features?: { values: Float32Array; cols: number };
}

const builtIns = new Map<string, Promise<FashionMnist>>();

/** Loads (once per folder) Fashion-MNIST from `dir`, or from where it is found. */
export function builtInData(dir?: string): Promise<FashionMnist> {
  const key = dir ?? '';
  let loading = builtIns.get(key);
  if (!loading) {
    loading = loadFashionMnist({ dir });
    loading.catch(() => builtIns.delete(key));
    builtIns.set(key, loading);
  }
  return loading;
}

/** Forgets what was loaded (after a download replaced the files). */
export function forgetLoadedData(): void {
  builtIns.clear();
  recorded.clear();
}

/** Larger than any Fashion-MNIST file (the training CSV is about 130 MB). */
const MAX_DATA_FILE_BYTES = 512 * 2 ** 20;

/**
 * The recorded data folder of a run when it can be read here: an absolute folder outside this history's artifacts
 * folder (a run's data is never among run files, where an import could have put some) whose data files are plain
 * files of a sensible size. null when it is not here or holds no dataset (a run made on another machine).
 */
async function recordedDataFolder(dbPath: string, run: RunRecord, dir: string): Promise<string | null> {
  const what = `Run #${run.id}'s data folder ${shown(dir)}`;
  if (!isAbsolute(dir)) throw new ArtifactFileError(`${what} is not an absolute path`);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return null;
  if (isInsideArtifacts(dbPath, dir)) throw new ArtifactFileError(`${what} is inside this history's artifacts folder`);
  const found = (await inspectDataDir(dir)).found;
  if (!found) return null;
  for (const file of Object.values(found.files)) {
    const st = statSync(file); // links followed: a dataset may be linked from elsewhere
    if (!st.isFile()) throw new ArtifactFileError(`${what} holds ${shown(file.slice(dir.length + 1))}, which is not a plain file`);
    if (st.size > MAX_DATA_FILE_BYTES) checkPlainFile(file, { max: MAX_DATA_FILE_BYTES }, `${what} holds`);
  }
  return dir;
}

const sameChecksums = (a: Record<string, string>, b: Record<string, string>): boolean =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** Fashion-MNIST as a run recorded it: its folder when here, else the folder in use, which must hold the same files. */
async function builtInOfRun(dbPath: string, run: RunRecord, info: DatasetInfo, dataDir?: string): Promise<ScoredRows> {
  const data = await builtInData((await recordedDataFolder(dbPath, run, info.dir)) ?? dataDir);
  if (!sameChecksums(data.info.checksums, info.checksums))
    throw new NotFoundError(
      `Run #${run.id} was evaluated on other data than ${data.info.dir} (its files' checksums differ; it was made with ${shown(info.dir)})`,
    );
  const { test } = data;
  return { count: test.count, images: test, labels: test.labels };
}

const recorded = new Map<string, Promise<LoadedDataset>>();

/** A recorded data set, read once per content hash. */
function recordedData(record: DatasetRecord): Promise<LoadedDataset> {
  const key = `${record.name}#${record.sha256}`;
  let loading = recorded.get(key);
  if (!loading) {
    loading = readRecordedDataset(record);
    loading.catch(() => recorded.delete(key));
    recorded.set(key, loading);
  }
  return loading;
}

/** The history's record of a data set named by a run, when it still holds what the run read (else a NotFoundError). */
function recordOfRun(store: RunStore, run: RunRecord, info: DatasetInfo): DatasetRecord {
  const record = store.getDataset(info.name);
  if (!record) throw new NotFoundError(`Run #${run.id}'s data set '${info.name}' is not in this history (removed, or made elsewhere)`);
  if (info.sha256 && record.sha256 !== info.sha256)
    throw new NotFoundError(`data set '${info.name}' has changed since run #${run.id} was made: its rows cannot be shown`);
  return record;
}

/** The scored split of a loaded data set: the test split, or the one split; cut to the rows the run scored. */
function scoredSplit(data: LoadedDataset, count: number): { values: Float32Array; labels: Uint8Array | null } {
  const split = data.test;
  if (split.count < count) throw new NotFoundError(`data set '${data.name}' has ${split.count} rows to score; the run scored ${count}`);
  return { values: split.values, labels: split.labels ?? null };
}

function asImages(data: LoadedDataset, values: Float32Array, count: number): Images | null {
  const { shape } = data;
  if (shape.kind !== 'images') return null;
  return { images: values.subarray(0, count * rowSize(shape)), count, height: shape.height, width: shape.width, channels: shape.channels };
}

/** The rows a run scored (see ScoredRows). */
export async function scoredRows(store: RunStore, run: RunRecord, dataDir?: string): Promise<ScoredRows> {
  const info = run.dataset;
  if (!info) throw new NotFoundError(`Run #${run.id} recorded no data set`);
  if (info.name === DEFAULT_DATASET) return builtInOfRun(store.path, run, info, dataDir);
  const count = info.evalSize;
  const record = recordOfRun(store, run, info);
  const data = await recordedData(record);
  const { values, labels } = scoredSplit(data, count);
  const scoredLabels = labels ? labels.subarray(0, count) : null;
  const images = asImages(data, values, count);
  if (images || data.shape.kind !== 'features') return { count, images, labels: scoredLabels };
  const features = { values: values.subarray(0, count * data.shape.dim), cols: data.shape.dim };
  const { imagesOf } = record.source;
  if (!imagesOf) return { count, images: null, labels: scoredLabels, features };
  try {
    return { count, images: await imagesOfRows(store, info.name, imagesOf, count, dataDir), labels: scoredLabels, features };
  } catch (err) {
    // the rows themselves are here: what needs no images (a map, the labels) still works
    return { count, images: null, labels: scoredLabels, features, noImages: (err as Error).message };
  }
}

/**
 * The images a features data set names (`--images-of`), the first `count` of their scored split: an added images data
 * set, or the built-in Fashion-MNIST's test images. One line when the named data set is no longer in the history.
 */
async function imagesOfRows(store: RunStore, name: string, imagesOf: string, count: number, dataDir?: string): Promise<Images> {
  if (imagesOf === DEFAULT_DATASET) {
    const { test } = await builtInData(dataDir);
    if (test.count < count) throw new NotFoundError(`${DEFAULT_DATASET} has ${test.count} test images; the run scored ${count}`);
    return { images: test.images.subarray(0, count * valuesPerImage(test)), count, height: test.height, width: test.width, channels: 1 };
  }
  const pictures = store.getDataset(imagesOf);
  if (!pictures) throw new NotFoundError(`data set '${name}' shows the images of '${imagesOf}', which is not in this history (removed?)`);
  const pictureData = await recordedData(pictures);
  const images = asImages(pictureData, scoredSplit(pictureData, count).values, count);
  if (!images) throw new NotFoundError(`data set '${name}' shows the images of '${imagesOf}', which holds feature rows`);
  return images;
}

/** The values of images at `indices` as bytes 0–255, base64 (channels last, as the contract's ImageBatch). */
export function imageBytes(set: Images, indices: number[]): string {
  const size = set.width * set.height * (set.channels ?? 1);
  const out = Buffer.alloc(indices.length * size);
  indices.forEach((index, i) => {
    const src = set.images.subarray(index * size, (index + 1) * size);
    for (let p = 0; p < size; p++) out[i * size + p] = Math.round(Math.min(1, Math.max(0, src[p])) * 255);
  });
  return out.toString('base64');
}

/** The images at `indices` with their labels (-1 each when unlabelled) as the contract sends them. */
export function imageBatch(set: Images, labels: Uint8Array | null, indices: number[]): ImageBatch {
  return {
    width: set.width,
    height: set.height,
    channels: set.channels ?? 1,
    indices,
    labels: indices.map((i) => (labels ? labels[i] : -1)),
    pixelsBase64: imageBytes(set, indices),
  };
}
