// Read-side operations of the contract, answered inside the engine worker so the UI thread never parses
// data, renders figures or walks large arrays.
import { isAbsolute } from 'node:path';
import { statSync } from 'node:fs';
import type {
  BackendInfo,
  ClusterImagesPage,
  DatasetSummary,
  ImageBatch,
  Operation,
  ParsedRequestOf,
  Responses,
  RunEmbedding,
} from '../contract/index';
import { probeBackends, setWasmThreads } from '../engine/backend/index';
import {
  FASHION_MNIST_CLASSES,
  inspectDataDir,
  loadFashionMnist,
  pixelStats,
  type DownloadProgress,
  type FashionMnist,
} from '../engine/data/index';
import { Pca } from '../engine/manifold/pca';
import { downloadKnownDataset } from '../engine/data/download';
import type { RunStore } from '../engine/store/index';
import { ArtifactFileError, checkPlainFile, isInsideArtifacts, readArtifactFile, shown } from '../engine/store/artifact-files';
import type { DatasetInfo, RunRecord } from '../engine/store/types';
import type { ImageSet } from '../engine/types';

import { confusionFile, historyCsvFile, runJsonFile } from './exports';
import { withHistory } from './history';
import { methodTableFile } from './method-table';
import { compareRuns, listRuns, NotFoundError, requireRun } from './runs';
import { datasetQueryHandlers } from './datasets';
import { summarize } from './summarize';

export { NotFoundError };

export interface QueryContext {
  dbPath?: string;
  dataDir?: string;
  /** True while an experiment is running in this worker: nothing may switch the tfjs backend then. */
  busy: () => boolean;
  emit: (event: 'dataset.downloadProgress' | 'datasets.addProgress', payload: unknown) => void;
}

const datasets = new Map<string, Promise<FashionMnist>>();

/** Loads (once per folder) the dataset a run was made on, or the default one. */
function dataset(dir?: string): Promise<FashionMnist> {
  const key = dir ?? '';
  let loading = datasets.get(key);
  if (!loading) {
    loading = loadFashionMnist({ dir });
    loading.catch(() => datasets.delete(key));
    datasets.set(key, loading);
  }
  return loading;
}

function toBytes(set: ImageSet, indices: number[]): string {
  const size = set.width * set.height;
  const out = Buffer.alloc(indices.length * size);
  indices.forEach((index, i) => {
    const src = set.images.subarray(index * size, (index + 1) * size);
    for (let p = 0; p < size; p++) out[i * size + p] = Math.round(src[p] * 255);
  });
  return out.toString('base64');
}

function batch(set: ImageSet, indices: number[]): ImageBatch {
  return { width: set.width, height: set.height, indices, labels: indices.map((i) => set.labels[i]), pixelsBase64: toBytes(set, indices) };
}

/** A deterministic shuffle so "resample" shows other images of a big cluster, reproducibly. */
function shuffled(values: number[], seed: number): number[] {
  const out = [...values];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

let lastBackends: BackendInfo[] | undefined;

/** The widest codes a run writes (an autoencoder's code layer; pixels are never stored as codes). */
const MAX_CODE_COLUMNS = 4096;

/**
 * A float32 matrix the run recorded (written by writeMatrixFile), `rows × cols` values, read through the checked
 * reader: inside this history's artifacts folder, a plain file of exactly that size. null when it is missing.
 */
function readMatrixArtifact(
  dbPath: string,
  run: RunRecord,
  key: 'map2dEval' | 'codesEval',
  rows: number,
  cols: number,
): Float32Array | null {
  const path = run.artifacts[key];
  if (!path) return null;
  const expected = { bytes: rows * cols * 4, because: `its ${rows} × ${cols} float32 values` };
  const bytes = readArtifactFile(dbPath, path, expected, `Run #${run.id}'s ${key}`);
  if (!bytes) return null;
  const data = new Float32Array(rows * cols);
  new Uint8Array(data.buffer).set(bytes);
  return data;
}

/** The width of a run's codes, as recorded with them (null when not a sensible width). */
function codeColumns(run: RunRecord): number | null {
  const cols = Number(run.artifacts.codeSize);
  return Number.isInteger(cols) && cols >= 1 && cols <= MAX_CODE_COLUMNS ? cols : null;
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

/**
 * The data a run was evaluated on: its recorded folder when that is here (see recordedDataFolder), else the data
 * folder in use (--data, $CLUSTERBENCH_DATA, the app's), which then must hold the very files recorded with the run.
 */
async function runDataset(dbPath: string, run: RunRecord, recorded: DatasetInfo, ctx: QueryContext): Promise<FashionMnist> {
  const data = await dataset((await recordedDataFolder(dbPath, run, recorded.dir)) ?? ctx.dataDir);
  if (!sameChecksums(data.info.checksums, recorded.checksums))
    throw new NotFoundError(
      `Run #${run.id} was evaluated on other data than ${data.info.dir} (its files' checksums differ; it was made with ${shown(recorded.dir)})`,
    );
  return data;
}

/** PCA rows fitted for the pixel fallback: a fixed, evenly spaced sample keeps it well under a second. */
const PIXEL_PCA_FIT_ROWS = 1000;
/** 2-D projections computed for runs without a stored map, by history and run id (runs never change once completed). */
const projections = new Map<string, Promise<{ points: Float32Array; source: 'codes' | 'pixels' }>>();

/** PCA to 2-D of `rows × cols` values, the components fitted on at most `fitRows` evenly spaced rows. */
async function project2d(data: Float32Array, rows: number, cols: number, fitRows: number): Promise<Float32Array> {
  let fit = { data, rows, cols };
  if (rows > fitRows) {
    const sample = new Float32Array(fitRows * cols);
    for (let i = 0; i < fitRows; i++) {
      const src = Math.floor((i * rows) / fitRows) * cols;
      sample.set(data.subarray(src, src + cols), i * cols);
    }
    fit = { data: sample, rows: fitRows, cols };
  }
  const model = await new Pca({ nComponents: Math.min(2, cols), device: false }).fit(fit);
  const projected = model.transform({ data, rows, cols });
  if (model.params.nComponents === 2) return projected;
  // a single column: the map's y is 0
  const out = new Float32Array(rows * 2);
  for (let i = 0; i < rows; i++) out[2 * i] = projected[i];
  return out;
}

/** Evenly spaced eval indices, at most `max` of them (all when max is undefined or large enough). */
function thinned(count: number, max?: number): number[] {
  if (max === undefined || max >= count) return Array.from({ length: count }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.floor((i * count) / max));
}

type Handler<O extends Operation> = (req: ParsedRequestOf<O>, store: RunStore, ctx: QueryContext) => Promise<Responses[O]> | Responses[O];

/** What the data folder holds: where, its checksums, counts and pixel statistics, or why there is none. */
export async function datasetSummary(dataDir?: string): Promise<DatasetSummary> {
  const classNames = [...FASHION_MNIST_CLASSES];
  let data: FashionMnist;
  try {
    data = await dataset(dataDir);
  } catch (err) {
    return { available: false, problem: (err as Error).message, classNames };
  }
  const raw = new Array<number>(256).fill(0);
  const normalized = new Array<number>(20).fill(0);
  const px = data.train.images;
  for (let i = 0; i < px.length; i++) {
    raw[Math.round(px[i] * 255)]++;
    normalized[Math.min(19, Math.floor(px[i] * 20))]++;
  }
  return {
    available: true,
    info: data.info,
    trainCount: data.train.count,
    testCount: data.test.count,
    classNames,
    rawHistogram: raw,
    normalizedHistogram: normalized,
    pixelStats: pixelStats(data.train),
  };
}

export interface DownloadDatasetOptions {
  /** A name from the download catalog (engine/data/catalog.ts); default `fashion-mnist`. */
  name?: string;
  /** Default: `<appData>/data/<name>/` (downloadedDatasetDir). */
  destDir?: string;
  /** A mirror (default: the official ones). */
  baseUrl?: string;
  onProgress?: (event: DownloadProgress) => void;
}

/** Downloads the official files and verifies their checksums; datasets loaded before are read again. */
export async function downloadDataset(options: DownloadDatasetOptions = {}): Promise<{ dir: string }> {
  const { name = 'fashion-mnist', destDir, baseUrl, onProgress } = options;
  const { dir } = await downloadKnownDataset(name, { destDir, baseUrl, onProgress });
  datasets.clear();
  return { dir };
}

export interface BackendStatusOptions {
  measure: boolean;
  /** XNNPACK threads of the wasm backend, set first (the engine worker sets its own when it starts). */
  wasmThreads?: number;
  onProgress?: (message: string) => void;
}

/** Every tfjs backend: available or why not, its device and threads, its measured training speed. */
export function backendStatuses(options: BackendStatusOptions) {
  if (options.wasmThreads !== undefined) setWasmThreads(options.wasmThreads);
  return probeBackends({ measure: options.measure, onProgress: options.onProgress });
}

export const queryHandlers: { [O in Operation]?: Handler<O> } = {
  ...datasetQueryHandlers,
  'runs.list': (req, store) => listRuns(store, req).map(summarize),
  'runs.get': (req, store) => requireRun(store, req.id),
  'runs.delete': async (req, store) => {
    const deleted = store.deleteRun(req.id); // with its files; refuses a live running run and a read-only history, in one line
    return { deleted };
  },
  'history.info': (_req, store) =>
    store.readOnlyReason === null
      ? { path: store.path, readOnly: false }
      : { path: store.path, readOnly: true, reason: store.readOnlyReason },
  'runs.compare': (req, store) => compareRuns(store, req.ids),

  'runs.clusterImages': async (req, store, ctx) => {
    const run = requireRun(store, req.id, true);
    if (!run.assignments || !run.evaluation || !run.dataset)
      throw new NotFoundError(`Run #${req.id} has no cluster assignments (status ${run.status})`);
    const ev = run.evaluation;
    if (req.cluster >= ev.mapping.length) throw new NotFoundError(`Run #${req.id} has no cluster ${req.cluster} (k=${ev.mapping.length})`);
    const { test } = await runDataset(store.path, run, run.dataset, ctx);
    const mapped = ev.mapping[req.cluster];
    let members: number[] = [];
    run.assignments.forEach((c, i) => {
      if (c === req.cluster) members.push(i);
    });
    const size = members.length;
    const correct = members.filter((i) => test.labels[i] === mapped).length;
    if (req.onlyMistakes) members = members.filter((i) => test.labels[i] !== mapped);
    if (req.shuffleSeed !== undefined) members = shuffled(members, req.shuffleSeed);
    const page = members.slice(req.offset, req.offset + req.limit);
    const result: ClusterImagesPage = {
      ...batch(test, page),
      cluster: req.cluster,
      mappedLabel: mapped,
      clusterSize: size,
      purity: size ? correct / size : 0,
      total: members.length,
      offset: req.offset,
    };
    return result;
  },

  'runs.imageDetail': async (req, store, ctx) => {
    const run = requireRun(store, req.id, true);
    if (!run.assignments || !run.dataset || !run.evaluation) throw new NotFoundError(`Run #${req.id} has no cluster assignments`);
    if (req.index >= run.assignments.length)
      throw new NotFoundError(`Run #${req.id} evaluated ${run.assignments.length} images; there is no image ${req.index}`);
    const { reconstructImage, checkedModelFolder } = await import('./reconstruct');
    const modelDir = checkedModelFolder(store.path, run); // before the data: a tampered folder is refused at once
    const { test } = await runDataset(store.path, run, run.dataset, ctx);
    const cluster = run.assignments[req.index];
    return {
      index: req.index,
      label: test.labels[req.index],
      cluster,
      mappedLabel: run.evaluation.mapping[cluster],
      pixelsBase64: toBytes(test, [req.index]),
      reconstructionBase64: modelDir === null ? null : await reconstructImage(run, modelDir, test, req.index),
    };
  },

  'runs.embedding': async (req, store, ctx) => {
    const run = requireRun(store, req.id, true);
    if (!run.assignments || !run.dataset) throw new NotFoundError(`Run #${req.id} has no cluster assignments (status ${run.status})`);
    const count = run.assignments.length;
    // The recorded files are checked before anything else is loaded: a tampered history answers at once.
    const stored = readMatrixArtifact(store.path, run, 'map2dEval', count, 2);
    const cols = codeColumns(run);
    const codes = stored || cols === null ? null : readMatrixArtifact(store.path, run, 'codesEval', count, cols);
    const { test } = await runDataset(store.path, run, run.dataset, ctx);
    let points: Float32Array;
    let method: RunEmbedding['method'] = 'pca';
    let source: RunEmbedding['source'] = 'map';
    if (stored) {
      points = stored;
      method = run.artifacts.map2dMethod === 'umap' ? 'umap' : 'pca';
    } else {
      const key = `${store.path}#${run.id}`;
      let computing = projections.get(key);
      if (!computing) {
        computing = (async () => {
          if (codes && cols !== null) return { points: await project2d(codes, count, cols, 5000), source: 'codes' as const };
          if (test.count < count) throw new NotFoundError(`Run #${run.id} evaluated ${count} images; the dataset has ${test.count}`);
          const size = test.width * test.height;
          return {
            points: await project2d(test.images.subarray(0, count * size), count, size, PIXEL_PCA_FIT_ROWS),
            source: 'pixels' as const,
          };
        })();
        computing.catch(() => projections.delete(key));
        projections.set(key, computing);
      }
      ({ points, source } = await computing);
    }
    const indices = thinned(count, req.maxPoints);
    const out: RunEmbedding = { points: new Array<number>(indices.length * 2), clusters: [], labels: [], indices, method, source };
    indices.forEach((index, i) => {
      out.points[2 * i] = points[2 * index];
      out.points[2 * i + 1] = points[2 * index + 1];
    });
    out.clusters = indices.map((i) => run.assignments![i]);
    out.labels = indices.map((i) => test.labels[i]);
    return out;
  },

  'dataset.info': (_req, _store, ctx) => datasetSummary(ctx.dataDir),

  'dataset.samples': async (req, _store, ctx) => {
    const data = await dataset(ctx.dataDir);
    const set = req.split === 'train' ? data.train : data.test;
    const picked: number[] = [];
    for (let label = 0; label < 10; label++) {
      let n = 0;
      for (let i = 0; i < set.count && n < req.perClass; i++) {
        if (set.labels[i] === label) {
          picked.push(i);
          n++;
        }
      }
    }
    return batch(set, picked);
  },

  'dataset.download': (req, _store, ctx) =>
    downloadDataset({ name: req.name, onProgress: (e) => ctx.emit('dataset.downloadProgress', e) }),

  'backends.list': async (req, _store, ctx) => {
    // Probing switches the tfjs backend, which must never happen under a running experiment.
    if (ctx.busy() && lastBackends) return lastBackends;
    if (ctx.busy()) throw new Error('Backends can be listed once the current run has finished');
    lastBackends = (await backendStatuses({ measure: req.measure })).map((b) => ({
      name: b.name,
      available: b.available,
      reason: b.reason,
      device: b.device,
      software: b.software,
      imagesPerSec: b.imagesPerSec,
    }));
    return lastBackends;
  },

  'export.confusion': (req, store) => confusionFile(store, req),
  'export.runJson': (req, store) => runJsonFile(store, req.id),
  'export.historyCsv': (_req, store) => historyCsvFile(store),
  'export.methodTable': (req, store) => methodTableFile(store, req),
};

function handlerOf<O extends Operation>(op: O): Handler<O> {
  const handler = queryHandlers[op] as Handler<O> | undefined;
  if (!handler) throw new Error(`Operation ${op} is not answered by the engine worker`);
  return handler;
}

/** Answers one contract operation on an open history: the CLI calls it in its own process, on the history it opened. */
export async function answerQuery<O extends Operation>(
  op: O,
  request: ParsedRequestOf<O>,
  store: RunStore,
  ctx: QueryContext,
): Promise<Responses[O]> {
  return handlerOf(op)(request, store, ctx);
}

/** Answers one contract operation in the engine worker, on the history opened for it alone. */
export async function handleQuery(op: Operation, request: unknown, ctx: QueryContext): Promise<unknown> {
  const handler = handlerOf(op); // refused before the history is opened
  return withHistory(ctx.dbPath, (store) => handler(request as never, store, ctx), { recoverStale: false });
}
