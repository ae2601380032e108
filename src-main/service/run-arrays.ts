/**
 * A run's arrays for numpy: its codes, embeddings, cluster assignments and cluster probabilities, each read through the
 * checked reader (inside this history's artifacts folder, a plain file of exactly the size its shape says, and the
 * checksum recorded with it when there is one), with a manifest (`export.json`) saying what each array holds and which
 * rows of which split it covers. `export run --what` writes them as .npy (and CSV) files, export.runArrays as one .npz.
 */
import { zipSync } from 'fflate';
import { RUN_ARRAY_ITEMS, type ExportedFile, type ParsedRequestOf, type RunArrayItem } from '../contract/index';
import { MAX_ROWS } from '../engine/data/dataset';
import { encodeNpy } from '../engine/data/formats/npy-codec';
import { sha256Hex } from '../engine/data/io';
import type { RunStore } from '../engine/store/index';
import { ArtifactFileError, readArtifactFile } from '../engine/store/artifact-files';
import type { RunRecord } from '../engine/store/types';
import { NotFoundError, requireRun } from './runs';

/** The widest matrix a run writes (an autoencoder's code layer, a UMAP embedding, k probabilities). */
const MAX_COLUMNS = 4096;
/** The most bytes the app's export.runArrays sends through the UI (the CLI writes any size the reader allows). */
export const MAX_APP_ARRAY_BYTES = 256 * 2 ** 20;

export interface RunArray {
  /** File name without extension, a Python identifier: codes_fit, codes_eval, embedding, map2d, assignments, probabilities. */
  name: string;
  item: RunArrayItem;
  /** What it holds, in words. */
  holds: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  /** Which rows: the split and the indices in it. */
  rows: string;
  /** Column names for CSV. */
  columns: string[];
  data: Float32Array | Int32Array;
}

/** What export.json says about the run and its data set. */
export interface RunArraysManifest {
  format: 'clusterbench-run-arrays/1';
  run: { id: number; uid: string | null; task: string; params: Record<string, unknown>; encoderFitOn: string | null };
  dataset: {
    name: string;
    sha256: string | null;
    shape: unknown;
    labelled: boolean | null;
    singleSplit: boolean;
    fitSize: number;
    evalSize: number;
  } | null;
  files: { file: string; csv?: string; item: RunArrayItem; holds: string; dtype: string; shape: number[]; rows: string }[];
}

/** A count recorded with a run, trusted only within bounds before anything is allocated from it. */
function bounded(value: unknown, max: number, what: string, run: RunRecord): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new ArtifactFileError(`Run #${run.id}'s ${what} (${String(value).slice(0, 40)}) is not a count from 1 to ${max}`);
  return n;
}

/**
 * A float32 matrix the run recorded under artifact `key`: rows × cols values; null when the run recorded none or its file
 * is gone. A recorded checksum (`<key>Sha256`) must still match.
 */
function readMatrix(dbPath: string, run: RunRecord, key: string, rows: number, cols: number): Float32Array | null {
  const path = run.artifacts[key];
  if (!path) return null;
  const what = `Run #${run.id}'s ${key}`;
  const bytes = readArtifactFile(dbPath, path, { bytes: rows * cols * 4, because: `its ${rows} × ${cols} float32 values` }, what);
  if (!bytes) return null;
  const recorded = run.artifacts[`${key}Sha256`];
  if (recorded && sha256Hex(bytes) !== recorded) throw new ArtifactFileError(`${what} no longer matches the checksum recorded with it`);
  const data = new Float32Array(rows * cols);
  new Uint8Array(data.buffer).set(bytes);
  return data;
}

const usesGmm = (run: RunRecord): boolean => run.task === 'ae-gmm' || run.params.cluster === 'gmm';
const encodesNothing = (run: RunRecord): boolean => run.task === 'kmeans' || run.params.encoder === 'none';

/** Why a run has none of an item, in a few words (what the one-line refusal says in brackets). */
function whyMissing(run: RunRecord, item: RunArrayItem): string {
  const recorded: Record<RunArrayItem, string[]> = {
    codes: ['codesFit', 'codesEval'],
    embedding: ['embeddingEval', 'map2dEval'],
    assignments: [],
    probabilities: ['probabilitiesEval'],
  };
  if (recorded[item].some((key) => run.artifacts[key])) return 'its files are gone';
  switch (item) {
    case 'codes':
      return encodesNothing(run) ? 'it clusters the raw data: no encoder' : 'none were recorded';
    case 'embedding':
      return 'only runs with UMAP or a 2-D map have one';
    case 'assignments':
      return 'none were recorded';
    case 'probabilities':
      return usesGmm(run) ? 'this run did not record them' : 'k-means runs have none';
  }
}

const range = (n: number) => `indices 0…${n - 1}`;
const numbered = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** The arrays of `item` the run has (none: an empty list). */
function arraysOf(dbPath: string, run: RunRecord, item: RunArrayItem): RunArray[] {
  const ds = run.dataset;
  const evalSize = run.assignments?.length ?? (ds ? bounded(ds.evalSize, MAX_ROWS, 'eval size', run) : 0);
  const single = ds?.singleSplit === true;
  const evalRows = `eval rows: ${single ? 'the data set' : 'the test split'}, ${range(evalSize)}, in order`;
  const fitSize = ds ? bounded(ds.fitSize, MAX_ROWS, 'fit size', run) : 0;
  const fitRows = `fit rows: ${single ? 'the data set' : 'the training split'}, ${range(fitSize)}, in order`;
  const matrix = (name: string, key: string, rows: number, cols: number, holds: string, rowsText: string, prefix: string): RunArray[] => {
    const data = readMatrix(dbPath, run, key, rows, cols);
    return data
      ? [{ name, item, holds, dtype: 'float32', shape: [rows, cols], rows: rowsText, columns: numbered(prefix, cols), data }]
      : [];
  };
  switch (item) {
    case 'assignments':
      if (!run.assignments) return [];
      return [
        {
          name: 'assignments',
          item,
          holds: `the cluster (0…k−1) of each eval row`,
          dtype: 'int32',
          shape: [evalSize],
          rows: evalRows,
          columns: ['cluster'],
          data: run.assignments,
        },
      ];
    case 'codes': {
      if (!run.artifacts.codesFit && !run.artifacts.codesEval) return [];
      const cols = bounded(run.artifacts.codeSize, MAX_COLUMNS, 'code size', run);
      const what = `the encoder's codes (${cols} per row)`;
      return [
        ...(fitSize ? matrix('codes_fit', 'codesFit', fitSize, cols, `${what} of the fit rows`, fitRows, 'code_') : []),
        ...matrix('codes_eval', 'codesEval', evalSize, cols, `${what} of the eval rows`, evalRows, 'code_'),
      ];
    }
    case 'embedding': {
      const dims = run.artifacts.embeddingEval ? bounded(run.artifacts.embeddingDims, MAX_COLUMNS, 'embedding width', run) : 0;
      const map = run.artifacts.map2dMethod === 'umap' ? 'a 2-component UMAP' : 'a PCA';
      return [
        ...(dims
          ? matrix(
              'embedding',
              'embeddingEval',
              evalSize,
              dims,
              `the UMAP embedding the clusterer saw (${dims} dimensions)`,
              evalRows,
              'dim_',
            )
          : []),
        ...matrix('map2d', 'map2dEval', evalSize, 2, `the 2-D map the app draws (${map} of the clustered features)`, evalRows, 'xy_'),
      ];
    }
    case 'probabilities': {
      if (!run.artifacts.probabilitiesEval) return [];
      const k = bounded(run.params.k, MAX_COLUMNS, 'k', run);
      const what = 'the posterior probability of each mixture component (rows sum to 1)';
      return matrix('probabilities', 'probabilitiesEval', evalSize, k, what, evalRows, 'p_');
    }
  }
}

/**
 * The arrays asked for (all the run has when `what` is absent), or one line naming every item it lacks; the manifest
 * names a CSV beside each .npy when `csv`.
 */
export function runArrays(
  store: RunStore,
  id: number,
  what?: readonly RunArrayItem[],
  csv = false,
): { arrays: RunArray[]; manifest: RunArraysManifest } {
  const run = requireRun(store, id, true);
  if (run.status !== 'completed') throw new NotFoundError(`Run #${run.id} is ${run.status}: only a completed run's arrays are exported`);
  const items = what ? [...new Set(what)] : RUN_ARRAY_ITEMS;
  const found = items.map((item) => ({ item, arrays: arraysOf(store.path, run, item) }));
  const missing = found.filter((f) => f.arrays.length === 0);
  if (what ? missing.length > 0 : missing.length === items.length) {
    const list = missing.map((m) => `${m.item} (${whyMissing(run, m.item)})`);
    throw new NotFoundError(`Run #${run.id} has no ${list.join(', no ')}: nothing was exported`);
  }
  const arrays = found.flatMap((f) => f.arrays);
  return { arrays, manifest: manifestOf(run, arrays, csv) };
}

/** export.json: the run, its data set, and each file (its CSV too when `csv`). */
function manifestOf(run: RunRecord, arrays: readonly RunArray[], csv: boolean): RunArraysManifest {
  const ds = run.dataset;
  return {
    format: 'clusterbench-run-arrays/1',
    run: { id: run.id, uid: run.uid, task: run.task, params: run.params, encoderFitOn: run.artifacts.encoderFitOn ?? null },
    dataset: ds && {
      name: ds.name,
      sha256: ds.sha256 ?? null,
      shape: ds.shape ?? { kind: 'images', height: 28, width: 28, channels: 1 },
      labelled: ds.labelled ?? true,
      singleSplit: ds.singleSplit ?? false,
      fitSize: ds.fitSize,
      evalSize: ds.evalSize,
    },
    files: arrays.map((a) => ({
      file: `${a.name}.npy`,
      ...(csv ? { csv: `${a.name}.csv` } : {}),
      item: a.item,
      holds: a.holds,
      dtype: a.dtype,
      shape: a.shape,
      rows: a.rows,
    })),
  };
}

export const npyOf = (array: RunArray): Uint8Array => encodeNpy(array.data, array.shape);

/** The shortest decimal that reads back as the same float32 (0.1f is "0.1", not 0.10000000149011612). */
function float32Text(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  for (let digits = 1; digits < 9; digits++) {
    const text = value.toPrecision(digits);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(Number(value.toPrecision(9)));
}

/** The most values one CSV file holds (beyond it the .npy is the way: a CSV of it would be gigabytes of text). */
export const MAX_CSV_VALUES = 50_000_000;

/** An array as CSV: a header of column names, then one line per row; built in chunks, never one giant string. */
export function csvOf(array: RunArray): Uint8Array {
  if (array.data.length > MAX_CSV_VALUES)
    throw new Error(`${array.name} has ${array.data.length} values, too many for CSV (at most ${MAX_CSV_VALUES}): use its .npy`);
  const cols = array.shape[1] ?? 1;
  const rows = array.shape[0];
  const text = array.dtype === 'float32' ? float32Text : String;
  const chunks: Buffer[] = [Buffer.from(`${array.columns.join(',')}\n`)];
  const CHUNK_ROWS = 4096;
  for (let start = 0; start < rows; start += CHUNK_ROWS) {
    const lines: string[] = [];
    for (let r = start; r < Math.min(rows, start + CHUNK_ROWS); r++) {
      const row: string[] = new Array(cols);
      for (let c = 0; c < cols; c++) row[c] = text(array.data[r * cols + c]);
      lines.push(row.join(','));
    }
    chunks.push(Buffer.from(`${lines.join('\n')}\n`));
  }
  return Buffer.concat(chunks);
}

/** The run's arrays as one .npz (numpy.load reads it; export.json is a member too) for the app's save dialog. */
export function runArraysFile(store: RunStore, req: ParsedRequestOf<'export.runArrays'>): ExportedFile {
  const { arrays, manifest } = runArrays(store, req.id, req.what);
  const bytes = arrays.reduce((sum, a) => sum + a.data.byteLength, 0);
  if (bytes > MAX_APP_ARRAY_BYTES)
    throw new NotFoundError(
      `Run #${req.id}'s arrays are ${Math.ceil(bytes / 2 ** 20)} MiB, more than the app saves (${MAX_APP_ARRAY_BYTES / 2 ** 20} MiB): ` +
        `use clusterbench export run ${req.id} --what ${[...new Set(arrays.map((a) => a.item))].join(',')} --out FOLDER`,
    );
  const members: Record<string, Uint8Array> = { 'export.json': Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) };
  for (const array of arrays) members[`${array.name}.npy`] = npyOf(array);
  const zip = zipSync(members, { level: 0 }); // stored, as numpy.savez writes (float data hardly compresses)
  return {
    suggestedName: `clusterbench-run-${req.id}-arrays.npz`,
    mime: 'application/octet-stream',
    encoding: 'base64',
    data: Buffer.from(zip).toString('base64'),
  };
}
