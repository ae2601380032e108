import { accessSync, constants, existsSync, mkdirSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreError } from './errors';

/** Whether this process may write `path`. Injectable: as root, permissions never say no, only read-only mounts do. */
export type WritableCheck = (path: string) => boolean;

export const isWritable: WritableCheck = (path) => {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

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

/** statfs types of kernel filesystems that cannot hold files: proc, sysfs. */
const KERNEL_FILESYSTEMS = new Set([0x9fa0, 0x62656572]);

function isKernelFilesystem(path: string): boolean {
  if (/^\/(proc|sys)(\/|$)/.test(realpathSync(path))) return true;
  try {
    return KERNEL_FILESYSTEMS.has(Number(statfsSync(path).type));
  } catch {
    return false;
  }
}

function nearestExisting(dir: string): string {
  let current = dir;
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

/**
 * Checks, before creating anything, that a new database can be made at `dbPath`: its nearest existing folder
 * must be a writable folder on a normal filesystem. (Node's recursive mkdir spins forever under /proc.)
 */
export function checkDatabaseFolder(dbPath: string, canWrite: WritableCheck = isWritable): void {
  const fail = (why: string): never => {
    throw new StoreError('CANNOT_OPEN', `cannot create the run history ${dbPath}: ${why}`);
  };
  const ancestor = nearestExisting(dirname(dbPath));
  if (isKernelFilesystem(ancestor)) fail(`${ancestor} is not a normal filesystem`);
  if (!statSync(ancestor).isDirectory()) fail(`${ancestor} is not a folder`);
  if (!canWrite(ancestor)) fail(`${ancestor} is not writable`);
}

/** Creates the missing folders above `dbPath` one level at a time, after checkDatabaseFolder. */
export function makeDatabaseFolder(dbPath: string): void {
  const missing: string[] = [];
  for (let dir = dirname(dbPath); !existsSync(dir) && dirname(dir) !== dir; dir = dirname(dir)) missing.unshift(dir);
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // made by another process meanwhile
    }
  }
}
