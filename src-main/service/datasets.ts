/**
 * The history's data sets as every entry point adds, lists, shows and removes them: the UI's datasets.* operations
 * (datasetQueryHandlers, answered in the engine worker) and the CLI's `datasets` commands call these, so a data set is
 * checked, read, described and refused in one way and in the same words. A run finds its data set with
 * resolveDataset (the built-in Fashion-MNIST included).
 */
import { resolve } from 'node:path';
import type { DatasetDetail, DatasetEntry, Events, ParsedRequestOf, Responses } from '../contract/index';
import {
  DEFAULT_DATASET,
  describeShape,
  isSingleSplit,
  MAX_IMAGE_SIDE,
  type DatasetFormat,
  type DatasetRecord,
  type DatasetSource,
  type LoadedDataset,
  type ReadOptions,
} from '../engine/data/dataset';
import { loadDataset } from '../engine/data/load';
import { datasetNameProblem, isBuiltInName, type RunStore } from '../engine/store/index';
import { builtInRecord, detectFormat, locateBuiltIn } from './dataset-files';
import { NotFoundError } from './runs';

/** A request the service refuses before reading anything (a bad or taken name, options that contradict), in one line. */
export class DatasetRequestError extends Error {
  override name = 'DatasetRequestError';
}

export type AddDatasetRequest = ParsedRequestOf<'datasets.add'>;

export interface AddDatasetOptions extends ReadOptions {
  /** Where the built-in data set is looked for first (--data), for `imagesOf` naming it. */
  dataDir?: string;
}

/** The one line for a name no data set has. */
export const noDataset = (name: string): NotFoundError => new NotFoundError(`no data set named '${name}' (see clusterbench datasets list)`);

/** Refuses a name that cannot be added (not a data set name, the built-in one's, or taken), before anything is read. */
export function checkNewName(store: RunStore, name: string): void {
  const problem = datasetNameProblem(name);
  if (problem) throw new DatasetRequestError(problem);
  const taken = store.getDataset(name);
  if (taken)
    throw new DatasetRequestError(
      `data set '${name}' already exists (added ${taken.createdAt.replace('T', ' ').slice(0, 16)}); remove it first or choose another name`,
    );
}

/** Options that contradict or are out of bounds, in one line each (the CLI checks its flags the same way). */
export function requestProblem(req: Omit<AddDatasetRequest, 'name' | 'path'>): string | null {
  if (req.testFraction !== undefined && !(req.testFraction > 0 && req.testFraction < 1))
    return `the test fraction must lie strictly between 0 and 1, got ${req.testFraction}`;
  if (req.test !== undefined && req.testFraction !== undefined) return 'give either a test split (test) or a test fraction, not both';
  if (req.testLabels !== undefined && req.test === undefined) return 'test labels need a test split (test)';
  for (const [what, size] of [
    ['size', req.size],
    ['image shape', req.imageShape],
  ] as const) {
    if (size && ![size.height, size.width].every((s) => Number.isInteger(s) && s >= 1 && s <= MAX_IMAGE_SIDE))
      return `the ${what} must be whole numbers of pixels from 1 to ${MAX_IMAGE_SIDE}, got ${size.height}×${size.width}`;
  }
  return null;
}

/** The source to record: the paths absolute, the format given or detected, only the options given. */
async function sourceOf(req: AddDatasetRequest): Promise<DatasetSource> {
  const abs = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(p));
  const path = resolve(req.path);
  const format: DatasetFormat = req.format ?? (await detectFormat(path));
  const source: DatasetSource = {
    format,
    path,
    labels: abs(req.labels),
    test: abs(req.test),
    testLabels: abs(req.testLabels),
    testFraction: req.testFraction,
    size: req.size,
    channels: req.channels,
    labelColumn: req.labelColumn,
    imageShape: req.imageShape,
    imagesOf: req.imagesOf,
  };
  for (const key of Object.keys(source) as (keyof DatasetSource)[]) if (source[key] === undefined) delete source[key];
  return source;
}

/** The images data set `imagesOf` names (added, or the built-in one), checked before anything is read. */
async function imagesTarget(store: RunStore, name: string, dataDir: string | undefined): Promise<DatasetRecord> {
  const target = await resolveDataset(store, name, { dataDir });
  if (target.shape.kind !== 'images')
    throw new DatasetRequestError(
      `'${name}' holds feature rows (${describeShape(target.shape)}), not images: imagesOf names an images data set`,
    );
  return target;
}

/** A cancelled add (the CLI exits 130 on it, as on a cancelled run). */
const cancelled = (name: string): Error =>
  Object.assign(new Error(`adding '${name}' was cancelled; nothing was stored`), { name: 'CancelledError' });

/** Rows of each split as recorded: the test split's count, or null when the data set has one split. */
const countsOf = (data: LoadedDataset): DatasetRecord['counts'] => ({
  train: data.train.count,
  test: isSingleSplit(data) ? null : data.test.count,
});

/**
 * Adds a data set: checks the name and options before reading anything, detects the format when not given, reads the
 * files completely (loadDataset validates them), and stores its record. Any error stores nothing.
 */
export async function addDataset(store: RunStore, req: AddDatasetRequest, options: AddDatasetOptions = {}): Promise<DatasetEntry> {
  store.assertWritable();
  checkNewName(store, req.name);
  const problem = requestProblem(req);
  if (problem) throw new DatasetRequestError(problem);
  const target = req.imagesOf === undefined ? undefined : await imagesTarget(store, req.imagesOf, options.dataDir);
  const source = await sourceOf(req);
  let data: LoadedDataset;
  try {
    data = await loadDataset(req.name, source, { signal: options.signal, onProgress: options.onProgress });
  } catch (err) {
    throw options.signal?.aborted ? cancelled(req.name) : err;
  }
  if (options.signal?.aborted) throw cancelled(req.name);
  if (data.train.count < 2) throw new DatasetRequestError(`${source.path}: ${data.train.count} row to fit on; a data set needs at least 2`);
  const counts = countsOf(data);
  if (target) checkRowsMatch(req.imagesOf!, target, data, counts, source.path);
  const record = store.addDataset({
    name: req.name,
    shape: data.shape,
    source,
    sha256: data.sha256,
    counts,
    classNames: data.classNames ?? null,
    notes: data.notes,
  });
  return { name: record.name, builtIn: false, record };
}

/** What adding a downloaded catalog set did: added it, or found a data set of its name there and left that as it is. */
export type DownloadedAdd = { added: DatasetEntry } | { existing: DatasetRecord };

/**
 * After `data download NAME` (verified): the IDX folder added under NAME, as `datasets add NAME DIR --format idx`
 * adds it; a data set of that name already in the history is left as it is.
 */
export async function addDownloadedDataset(
  store: RunStore,
  name: string,
  dir: string,
  options: AddDatasetOptions = {},
): Promise<DownloadedAdd> {
  const existing = store.getDataset(name);
  if (existing) return { existing };
  return { added: await addDataset(store, { name, path: dir, format: 'idx' }, options) };
}

/** A features data set's rows must be the images' rows, one for one, split the same way. */
function checkRowsMatch(name: string, target: DatasetRecord, data: LoadedDataset, counts: DatasetRecord['counts'], path: string): void {
  if (data.shape.kind !== 'features')
    throw new DatasetRequestError(`${path} holds images (${describeShape(data.shape)}): imagesOf is for feature rows computed from images`);
  const describe = (c: DatasetRecord['counts']): string => (c.test === null ? `${c.train} rows` : `${c.train} + ${c.test} test rows`);
  if (counts.train !== target.counts.train || counts.test !== target.counts.test)
    throw new DatasetRequestError(
      `${path} has ${describe(counts)}, but '${name}' has ${describe(target.counts)}: row i must be the features of image i`,
    );
}

/** The built-in data set's entry: described from its files here, or why it is not here. */
async function builtInEntry(dataDir?: string): Promise<DatasetEntry> {
  const where = await locateBuiltIn(dataDir);
  if ('problem' in where) return { name: DEFAULT_DATASET, builtIn: true, record: null, problem: where.problem };
  try {
    return { name: DEFAULT_DATASET, builtIn: true, record: await builtInRecord(where.located) };
  } catch (err) {
    return { name: DEFAULT_DATASET, builtIn: true, record: null, problem: (err as Error).message };
  }
}

/** The built-in data set first, then those added, by name; a row that cannot be read is listed with why. */
export async function listDatasets(store: RunStore, options: { dataDir?: string } = {}): Promise<DatasetEntry[]> {
  const { records, unreadable } = store.listDatasets();
  const added: DatasetEntry[] = [
    ...records.map((record) => ({ name: record.name, builtIn: false, record })),
    ...unreadable.map((u) => ({ name: u.name, builtIn: false, record: null, problem: u.problem })),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [await builtInEntry(options.dataDir), ...added];
}

/** One data set and how many runs of this history recorded it. */
export async function showDataset(store: RunStore, name: string, options: { dataDir?: string } = {}): Promise<DatasetDetail> {
  if (name === DEFAULT_DATASET) return { ...(await builtInEntry(options.dataDir)), runs: store.datasetRunCount(DEFAULT_DATASET) };
  const record = store.getDataset(name);
  if (!record) throw noDataset(name);
  return { name, builtIn: false, record, runs: store.datasetRunCount(name, record.sha256) };
}

/** Removes a data set's record; the runs that used it keep what they recorded. */
export function removeDataset(store: RunStore, name: string): { name: string; runs: number } {
  if (isBuiltInName(name)) throw new DatasetRequestError(`'${name}' is the built-in data set; it cannot be removed`);
  const removed = store.removeDataset(name);
  if (!removed) throw noDataset(name);
  return { name, runs: removed.runs };
}

/** "N runs used it; they keep what they recorded": what removing a data set did to the runs. */
export function removalNote(runs: number): string {
  return runs === 0 ? 'no run used it' : `${runs} run${runs === 1 ? '' : 's'} used it; they keep what they recorded`;
}

/**
 * The record a run reads its data set from: an added one by name (case-sensitive), or the built-in Fashion-MNIST
 * described from its files here (`dataDir` first; its sha256 is '' until read). One line when there is none.
 */
export async function resolveDataset(store: RunStore, name: string, options: { dataDir?: string } = {}): Promise<DatasetRecord> {
  if (name === DEFAULT_DATASET) {
    const entry = await builtInEntry(options.dataDir);
    if (!entry.record) throw new NotFoundError(`the built-in data set ${DEFAULT_DATASET} is ${entry.problem ?? 'not here'}`);
    return entry.record;
  }
  const record = store.getDataset(name);
  if (!record) throw noDataset(name);
  return record;
}

// ---- The contract's datasets.* operations, answered in the engine worker (and by the CLI in its own process)

/** Adds in progress, by the client's id: datasets.cancelAdd aborts one. */
const adding = new Map<string, AbortController>();

/** What the handlers need of the worker's QueryContext. */
interface DatasetQueryContext {
  dataDir?: string;
  emit: (event: 'datasets.addProgress', payload: Events['datasets.addProgress']) => void;
}

type DatasetOp = 'datasets.list' | 'datasets.show' | 'datasets.add' | 'datasets.cancelAdd' | 'datasets.preview' | 'datasets.remove';

export const datasetQueryHandlers: {
  [O in DatasetOp]: (req: ParsedRequestOf<O>, store: RunStore, ctx: DatasetQueryContext) => Promise<Responses[O]> | Responses[O];
} = {
  'datasets.list': (_req, store, ctx) => listDatasets(store, { dataDir: ctx.dataDir }),
  'datasets.show': (req, store, ctx) => showDataset(store, req.name, { dataDir: ctx.dataDir }),
  'datasets.remove': (req, store) => removeDataset(store, req.name),
  'datasets.preview': async (req) => {
    const { previewDataset } = await import('./dataset-preview');
    return previewDataset(req);
  },
  'datasets.cancelAdd': (req) => {
    const controller = adding.get(req.addId);
    controller?.abort();
    return { cancelled: controller !== undefined };
  },
  'datasets.add': async (req, store, ctx) => {
    const { addId, ...request } = req;
    if (addId !== undefined && adding.has(addId)) throw new DatasetRequestError(`an add with id ${addId} is already running`);
    const controller = new AbortController();
    if (addId !== undefined) adding.set(addId, controller);
    let last = 0;
    try {
      return await addDataset(store, request, {
        dataDir: ctx.dataDir,
        signal: controller.signal,
        onProgress: (done, total) => {
          const now = Date.now();
          if (done < total && now - last < PROGRESS_EVERY_MS) return; // a few events a second, and the last one
          last = now;
          ctx.emit('datasets.addProgress', { addId: addId ?? null, name: request.name, done, total });
        },
      });
    } finally {
      if (addId !== undefined) adding.delete(addId);
    }
  },
};

/** The most often an add reports its progress to the UI. */
const PROGRESS_EVERY_MS = 200;
