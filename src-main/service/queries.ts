// Read-side operations of the contract, answered inside the engine worker so the UI thread never parses
// data, renders figures or walks large arrays.
import type {
  BackendInfo,
  ClusterImagesPage,
  DatasetSummary,
  Operation,
  ParsedRequestOf,
  Responses,
  RunEmbedding,
} from '../contract/index';
import { probeBackends, setWasmThreads } from '../engine/backend/index';
import { FASHION_MNIST_CLASSES, pixelStats, type DownloadProgress, type FashionMnist } from '../engine/data/index';
import { Pca } from '../engine/manifold/pca';
import { downloadKnownDataset } from '../engine/data/download';
import type { RunStore } from '../engine/store/index';
import { readArtifactFile } from '../engine/store/artifact-files';
import type { RunRecord } from '../engine/store/types';
import { valuesPerImage } from '../engine/types';

import { confusionFile, historyCsvFile, runJsonFile } from './exports';
import { withHistory } from './history';
import { methodTableFile } from './method-table';
import { runArraysFile } from './run-arrays';
import { builtInData, forgetLoadedData, imageBatch, imageBytes, scoredRows } from './run-data';
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
    data = await builtInData(dataDir);
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
  forgetLoadedData();
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
    if (!run.assignments || !run.dataset) throw new NotFoundError(`Run #${req.id} has no cluster assignments (status ${run.status})`);
    const k = Number(run.params.k);
    if (req.cluster >= k) throw new NotFoundError(`Run #${req.id} has no cluster ${req.cluster} (k=${k})`);
    const ev = run.evaluation;
    if (req.onlyMistakes && !ev) throw new NotFoundError(`Run #${req.id}'s data set is unlabelled: it has no mistakes to show`);
    const rows = await scoredRows(store, run, ctx.dataDir);
    if (!rows.images)
      throw new NotFoundError(
        rows.noImages ??
          `Run #${req.id}'s data set '${run.dataset.name}' holds feature rows and names no images (datasets add … --images-of)`,
      );
    const mapped = ev ? ev.mapping[req.cluster] : -1;
    const labels = ev ? rows.labels : null;
    let members: number[] = [];
    run.assignments.forEach((c, i) => {
      if (c === req.cluster) members.push(i);
    });
    const size = members.length;
    const correct = labels ? members.filter((i) => labels[i] === mapped).length : 0;
    if (req.onlyMistakes && labels) members = members.filter((i) => labels[i] !== mapped);
    if (req.shuffleSeed !== undefined) members = shuffled(members, req.shuffleSeed);
    const page = members.slice(req.offset, req.offset + req.limit);
    const result: ClusterImagesPage = {
      ...imageBatch(rows.images, labels, page),
      cluster: req.cluster,
      mappedLabel: mapped,
      clusterSize: size,
      purity: labels ? (size ? correct / size : 0) : null,
      total: members.length,
      offset: req.offset,
    };
    return result;
  },

  'runs.imageDetail': async (req, store, ctx) => {
    const run = requireRun(store, req.id, true);
    if (!run.assignments || !run.dataset) throw new NotFoundError(`Run #${req.id} has no cluster assignments`);
    if (req.index >= run.assignments.length)
      throw new NotFoundError(`Run #${req.id} evaluated ${run.assignments.length} images; there is no image ${req.index}`);
    const { reconstructImage, checkedModelFolder } = await import('./reconstruct');
    const modelDir = checkedModelFolder(store.path, run); // before the data: a tampered folder is refused at once
    const rows = await scoredRows(store, run, ctx.dataDir);
    if (!rows.images)
      throw new NotFoundError(rows.noImages ?? `Run #${req.id}'s data set '${run.dataset.name}' holds feature rows and names no images`);
    const cluster = run.assignments[req.index];
    const labelled = run.evaluation !== null && rows.labels !== null;
    // a features data set's encoder reconstructs feature rows, not the images shown
    const reconstructs = modelDir !== null && run.dataset.shape?.kind !== 'features';
    return {
      index: req.index,
      label: labelled ? rows.labels![req.index] : -1,
      cluster,
      mappedLabel: labelled ? run.evaluation!.mapping[cluster] : -1,
      width: rows.images.width,
      height: rows.images.height,
      channels: rows.images.channels ?? 1,
      pixelsBase64: imageBytes(rows.images, [req.index]),
      reconstructionBase64: reconstructs ? await reconstructImage(run, modelDir, rows.images, req.index) : null,
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
    const rows = await scoredRows(store, run, ctx.dataDir);
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
          // a features data set's rows are what was clustered: they are projected, not the images they were made from
          const { features } = rows;
          if (features)
            return { points: await project2d(features.values, count, features.cols, PIXEL_PCA_FIT_ROWS), source: 'codes' as const };
          const pictures = rows.images;
          if (!pictures) throw new NotFoundError(`Run #${run.id} stored no map and no codes, and its data set names no images`);
          const size = valuesPerImage(pictures);
          return {
            points: await project2d(pictures.images.subarray(0, count * size), count, size, PIXEL_PCA_FIT_ROWS),
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
    out.labels = indices.map((i) => (rows.labels && run.evaluation ? rows.labels[i] : -1));
    return out;
  },

  'dataset.info': (_req, _store, ctx) => datasetSummary(ctx.dataDir),

  'dataset.samples': async (req, _store, ctx) => {
    const data = await builtInData(ctx.dataDir);
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
    return imageBatch(set, set.labels, picked);
  },

  'dataset.download': (req, _store, ctx) => downloadDataset({ name: req.name, onProgress: (e) => ctx.emit('dataset.downloadProgress', e) }),

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
  'export.runArrays': (req, store) => runArraysFile(store, req),
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
