/**
 * The run history's sweeps as every entry point reads and changes them: the UI's sweeps.* operations (sweep-ops.ts and
 * the sweep runner) and the CLI's `sweep` and `sweeps` commands call these, so a sweep is found, shown, listed,
 * exported, cancelled, deleted and recorded in one way and in the same words.
 */
import type { ExportedFile, SweepDetail, SweepSummary } from '../contract/index';
import type { RunStore } from '../engine/store/index';
import type { NewSweep, SweepCancel, SweepRecord } from '../engine/store/types';
import { NotFoundError } from './runs';
import { sweepCsv, sweepDetail, sweepSummary } from './sweep-views';

export type { SweepCancel, SweepRecord };

/** The error for a sweep the history does not hold, naming the history (the contract's 'not-found'). */
export const sweepNotFound = (store: RunStore, id: number): NotFoundError => new NotFoundError(`No sweep #${id} in ${store.path}`);

/** A sweep of the history, or a NotFoundError naming the history. */
export function requireSweep(store: RunStore, id: number): SweepRecord {
  const sweep = store.getSweep(id);
  if (!sweep) throw sweepNotFound(store, id);
  return sweep;
}

/** A sweep's detail (children, progress, summary rows); one line when it is missing or cannot be read. */
export function getSweepDetail(store: RunStore, id: number): SweepDetail {
  return sweepDetail(requireSweep(store, id), store.sweepRuns(id));
}

/** Every sweep, newest first; one that cannot be read is listed with the reason. */
export function listSweeps(store: RunStore): SweepSummary[] {
  return store.listSweeps().map((sweep) => sweepSummary(sweep, store.sweepRuns(sweep.id)));
}

/** A sweep's summary rows as the CSV file `sweeps export` writes and the UI saves. */
export function sweepCsvFile(store: RunStore, id: number): ExportedFile {
  return { suggestedName: `clusterbench-sweep-${id}.csv`, mime: 'text/csv', encoding: 'utf8', data: sweepCsv(getSweepDetail(store, id)) };
}

/**
 * Deletes a sweep and (unless `deleteRuns` is false) its runs with their files; refused in one line while a live
 * process runs it. The ids of the runs deleted, or null when the history holds no such sweep.
 */
export function deleteSweep(store: RunStore, id: number, options: { deleteRuns: boolean }): number[] | null {
  return store.deleteSweep(id, { deleteRuns: options.deleteRuns });
}

/**
 * Cancels a sweep run by another process, or by none: a live one is asked to (through the history), one whose process
 * is gone is marked cancelled. 'not-running' for a sweep that does not run; a missing sweep is a NotFoundError.
 */
export function cancelSweepElsewhere(store: RunStore, id: number): SweepCancel {
  requireSweep(store, id);
  return store.cancelSweep(id);
}

/** A new sweep: its plan's runs, its name, and its uid when another history recorded it first (an emitted sweep). */
export interface NewSweepOf {
  plan: Pick<NewSweep, 'task' | 'base' | 'grid' | 'seeds'>;
  name: string | null;
  uid?: string;
}

/**
 * Records a new sweep, queued: the runner that claims it marks it running (the sweep runner here, a Slurm task's
 * `sweeps run-child`). A history that cannot be written refuses it in one line.
 */
export function recordSweep(store: RunStore, sweep: NewSweepOf): SweepRecord {
  store.assertWritable();
  const { task, base, grid, seeds } = sweep.plan;
  return store.createSweep({ uid: sweep.uid, name: sweep.name, task, base, grid, seeds, status: 'queued' });
}

/**
 * Records a sweep queued to run elsewhere, then `write`s what runs it there (`sweep --emit slurm`): when the write
 * fails, the sweep is deleted again, so no sweep is left that nothing will run.
 */
export function queueSweep<T>(
  store: RunStore,
  plan: NewSweepOf['plan'],
  name: string | null,
  write: (sweep: SweepRecord) => T,
): { sweep: SweepRecord; written: T } {
  const sweep = recordSweep(store, { plan, name });
  try {
    return { sweep, written: write(sweep) };
  } catch (err) {
    store.deleteSweep(sweep.id);
    throw err;
  }
}
