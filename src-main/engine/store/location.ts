import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { folderProblem, isWritable, makeFolders, type WritableCheck } from '../files';
import { StoreError } from './errors';

export type { WritableCheck };

export type HistoryAccess = { readOnly: false } | { readOnly: true; reason: string };

/**
 * Whether a run history can be opened for writing. SQLite writes its -wal and -shm files next to the database,
 * so the folder must be writable as well as the file. A history that does not exist yet will be created: read-write.
 */
export function historyAccess(dbPath: string, canWrite: WritableCheck = isWritable): HistoryAccess {
  if (!existsSync(dbPath)) return { readOnly: false };
  const dir = dirname(dbPath);
  if (!canWrite(dir)) return { readOnly: true, reason: `its folder ${dir} is not writable` };
  if (!canWrite(dbPath)) return { readOnly: true, reason: `the file ${dbPath} is not writable` };
  return { readOnly: false };
}

/**
 * Checks, before creating anything, that a new database can be made at `dbPath`: its nearest existing folder
 * must be a writable folder on a normal filesystem. (Node's recursive mkdir spins forever under /proc.)
 */
export function checkDatabaseFolder(dbPath: string, canWrite: WritableCheck = isWritable): void {
  const problem = folderProblem(dirname(dbPath), canWrite);
  if (problem) throw new StoreError('CANNOT_OPEN', `cannot create the run history ${dbPath}: ${problem}`);
}

/** Creates the missing folders above `dbPath` one level at a time, after checkDatabaseFolder. */
export function makeDatabaseFolder(dbPath: string): void {
  makeFolders(dirname(dbPath));
}
