/**
 * The data a run works on: the built-in Fashion-MNIST, or a data set recorded in the history, read again from its
 * source and checked against the content hash recorded when it was added, so that a run never silently scores
 * other data than the data set's.
 */
import { DEFAULT_DATASET, type DatasetRecord, type LoadedDataset, type ReadOptions } from '../data/dataset';
import { DataError } from '../data/errors';
import { loadBuiltIn, loadDataset, withLimits, type RowLimits } from '../data/load';
import type { RunStore } from '../store/index';
import { ParamError } from '../schema/params';
import type { DataOrigin } from './checks';

export interface RunData {
  data: LoadedDataset;
  origin: DataOrigin;
}

/** Why a recorded data set's rows as read now are not those it was added with (null when they are). */
export function changedSince(record: Pick<DatasetRecord, 'name' | 'sha256'>, sha256: string): string | null {
  if (record.sha256 === sha256) return null;
  return (
    `data set '${record.name}' changed on disk since it was added (sha256 ${record.sha256.slice(0, 12)}… then, ` +
    `${sha256.slice(0, 12)}… now): remove it and add it again to use what is there now`
  );
}

/** Reads a recorded data set for a run; a missing source or a changed content is a one-line DataError. */
export async function readRecordedDataset(record: DatasetRecord, options: ReadOptions = {}): Promise<LoadedDataset> {
  let data: LoadedDataset;
  try {
    data = await loadDataset(record.name, record.source, options);
  } catch (err) {
    if (err instanceof DataError) throw new DataError(`data set '${record.name}': ${err.message}`, undefined, { cause: err });
    throw err;
  }
  const changed = changedSince(record, data.sha256);
  if (changed) throw new DataError(changed, record.source.path);
  return data;
}

/** The data set a run names (Fashion-MNIST when it names none), cut to the run's limits. */
export async function loadRunData(
  name: string | undefined,
  limits: RowLimits,
  ctx: { store: RunStore; dataDir?: string; signal?: AbortSignal; onProgress?: ReadOptions['onProgress'] },
): Promise<RunData> {
  if (name === undefined || name === DEFAULT_DATASET) {
    const { data, fashion } = await loadBuiltIn(ctx.dataDir, limits);
    return { data, origin: { dir: fashion.info.dir, format: fashion.info.format, checksums: fashion.info.checksums } };
  }
  const record = ctx.store.getDataset(name);
  if (!record) throw new ParamError([{ param: 'dataset', message: `no data set named '${name}' (see clusterbench datasets list)` }]);
  const data = await readRecordedDataset(record, { signal: ctx.signal, onProgress: ctx.onProgress });
  const images = record.source.imagesOf ? ctx.store.getDataset(record.source.imagesOf) : undefined;
  const origin: DataOrigin = { dir: record.source.path, format: record.source.format, checksums: {} };
  if (images) origin.imagesOf = { name: images.name, shape: images.shape };
  return { data: withLimits(data, limits), origin };
}
