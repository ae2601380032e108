/**
 * Files the engine writes for the user (run histories, figures, caches): a folder check that fails in one line
 * before anything is created, folders made one level at a time, and atomic writes. Node's recursive mkdir
 * spins forever under /proc, hence the check and the level-by-level creation.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

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

/** Why files cannot be created in `dir` (checked at its nearest existing folder), or undefined when they can. */
export function folderProblem(dir: string, canWrite: WritableCheck = isWritable): string | undefined {
  const ancestor = nearestExisting(dir);
  if (isKernelFilesystem(ancestor)) return `${ancestor} is not a normal filesystem`;
  if (!statSync(ancestor).isDirectory()) return `${ancestor} is not a folder`;
  if (!canWrite(ancestor)) return `${ancestor} is not writable`;
  return undefined;
}

/** Creates `dir` and its missing parents one level at a time; call folderProblem first. */
export function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // made by another process meanwhile
    }
  }
}

/** Checks the folder (one-line error naming `file`), creates it, then writes to a temporary file renamed over `file`. */
export async function writeFileAtomic(file: string, content: string | Uint8Array): Promise<void> {
  const dir = dirname(file);
  const problem = folderProblem(dir);
  if (problem) throw new Error(`cannot write ${file}: ${problem}`);
  makeFolders(dir);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content, { flag: 'wx' });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
