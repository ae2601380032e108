/**
 * Files the engine writes for the user (run histories, figures, caches): a folder check that fails in one line
 * before anything is created, folders made one level at a time, and atomic writes that never write through a link
 * nor replace anything but a regular file, and fail in one line. Node's recursive mkdir spins forever under /proc,
 * hence the check and the level-by-level creation.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, lstatSync, mkdirSync, realpathSync, statfsSync, statSync } from 'node:fs';
import { link, rename, rm, writeFile } from 'node:fs/promises';
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

export interface WriteOptions {
  /** Replace a regular file already at the path (default true: a save dialog has asked); false refuses ("it exists"). */
  overwrite?: boolean;
}

const EXISTS = 'it exists';

/** Why `file` cannot be written over, or undefined: only a regular file is ever replaced, and only when asked. */
function targetProblem(file: string, overwrite: boolean): string | undefined {
  let stat;
  try {
    stat = lstatSync(file);
  } catch {
    return undefined; // nothing there yet (a folder that cannot be read fails at the write, in its own words)
  }
  if (stat.isSymbolicLink()) return 'it is a symbolic link';
  if (stat.isDirectory()) return 'it is a folder';
  if (!stat.isFile()) return 'it is not a regular file';
  return overwrite ? undefined : EXISTS;
}

/** What a failed write means, in words (the errno messages name the temporary file, not the user's). */
const WRITE_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the filesystem is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a folder',
  EEXIST: EXISTS,
  ENAMETOOLONG: 'the name is too long',
  EFBIG: 'the file is too large',
};

/** An error saying in one line why `file` was not written, with the errno code that means it ('EEXIST': it exists). */
function writeError(file: string, reason: string, code: string | undefined, cause?: unknown): Error & { code?: string } {
  return Object.assign(new Error(`cannot write ${file}: ${reason}`, { cause }), code ? { code } : {});
}

/** Filesystems without hard links (FAT, some network mounts) answer link(2) with these. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

/** Moves `tmp` to `file` unless something is there: a hard link refuses atomically; without them, checked just before. */
async function moveIfAbsent(tmp: string, file: string): Promise<void> {
  try {
    await link(tmp, file);
  } catch (err) {
    if (!NO_HARD_LINKS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    if (targetProblem(file, false)) throw Object.assign(new Error(EXISTS), { code: 'EEXIST' });
    await rename(tmp, file);
  }
}

/**
 * Checks the folder and what is at `file` (one-line errors naming `file`), creates the folder, then writes a temporary
 * file and moves it to `file`: renamed over a regular file when `overwrite` (the default), else linked, which fails
 * when something appeared there meanwhile. A link, a folder or a device at `file` is never written through or replaced.
 */
export async function writeFileAtomic(file: string, content: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
  const overwrite = options.overwrite ?? true;
  const dir = dirname(file);
  const problem = folderProblem(dir) ?? targetProblem(file, overwrite);
  if (problem) throw writeError(file, problem, problem === EXISTS ? 'EEXIST' : undefined);
  makeFolders(dir);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, content, { flag: 'wx' });
    await (overwrite ? rename(tmp, file) : moveIfAbsent(tmp, file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw writeError(file, (code && WRITE_ERRORS[code]) || (err as Error).message, code, err);
  } finally {
    await rm(tmp, { force: true });
  }
}
