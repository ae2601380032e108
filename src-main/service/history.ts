/**
 * Opening the run history for one operation, the one way every entry point does it: the engine worker per contract
 * request (queries.ts), the CLI per command. Callers get the store only for the length of `fn`; what they do with it
 * is the service's operations (queries.ts, import-ops.ts, slurm-child.ts).
 */
import { resolve } from 'node:path';
import { defaultDbPath } from '../engine/paths';
import { RunStore } from '../engine/store/index';

/** The store's type, for callers outside the service (the CLI imports nothing from the store itself). */
export type { RunStore, SweepRecord } from '../engine/store/index';

export interface OpenHistoryOptions {
  /** Mark runs and sweeps whose process is gone as interrupted on open (the default; the worker reads without). */
  recoverStale?: boolean;
  /** What the store has to say about the history (old-layout folders left in place…), one line each. */
  onNotice?: (notice: string) => void;
}

/** The history file `dbPath` names, or the app's (absolute). */
export const historyPath = (dbPath?: string): string => resolve(dbPath ?? defaultDbPath());

/**
 * Opens the history at `dbPath` (the app's when absent), runs `fn` on it and always closes it. A history that cannot be
 * written opens read-only: reads work, writes fail with one line.
 */
export async function withHistory<T>(
  dbPath: string | undefined,
  fn: (store: RunStore) => Promise<T> | T,
  options: OpenHistoryOptions = {},
): Promise<T> {
  const store = RunStore.open(dbPath, { recoverStale: options.recoverStale });
  try {
    for (const notice of store.notices) options.onNotice?.(notice);
    return await fn(store);
  } finally {
    store.close();
  }
}
