import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readdirSync, readSync, realpathSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { sha256Hex } from '../data/io';
import type { RunArtifacts } from './types';

/**
 * Where a run history keeps its runs' files (trained weights, codes, maps): a folder named after the database
 * file, `<db file>.artifacts/run-<id>`, so two databases in one folder never share (or delete) each other's files.
 */
export function artifactsRoot(dbPath: string): string {
  return `${dbPath}.artifacts`;
}

export function runArtifactsDir(dbPath: string, runId: number): string {
  return join(artifactsRoot(dbPath), `run-${runId}`);
}

/** The layout before schema 3: `<folder of the db>/artifacts/run-<id>`, shared by every database in that folder. */
export function legacyRunArtifactsDir(dbPath: string, runId: number): string {
  return join(dirname(dbPath), 'artifacts', `run-${runId}`);
}

/** Every file under `dir`, as paths relative to it, sorted (so a listing is the same on every platform). */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(dir, path).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** SHA-256 of a folder: each file's relative path, size and bytes, in sorted order (plain files only). */
export function folderSha256(dir: string): string {
  const parts: Buffer[] = [];
  for (const name of filesUnder(dir)) {
    const bytes = readPlainFile(join(dir, name), {}, 'the file');
    parts.push(Buffer.from(`${name}\0${bytes.length}\0`), bytes);
  }
  return sha256Hex(Buffer.concat(parts));
}

export function fileSha256(file: string): string {
  return sha256Hex(readPlainFile(file, {}, 'the file'));
}

// ---- Reading what a history records: every recorded path is outside input (an imported history may be crafted).

/** A recorded file that cannot be read safely; the message is one line naming it. */
export class ArtifactFileError extends Error {
  override name = 'ArtifactFileError';
}

/** More than any file a run writes (its largest are codes: 70,000 rows × a few thousand float32 at most). */
export const MAX_ARTIFACT_BYTES = 2 ** 30;

/** What size a file must have: exactly `bytes`, or at most `max` (default MAX_ARTIFACT_BYTES). */
export interface ExpectedSize {
  bytes?: number;
  max?: number;
  /** Why `bytes` is that size, for the message ("its 5 × 2 float32 values"). */
  because?: string;
}

/** Where a history's recorded paths may lead: its own artifacts folder, and the shared one of the layout before schema 3. */
function artifactRoots(dbPath: string): string[] {
  return [artifactsRoot(dbPath), join(dirname(dbPath), 'artifacts')].flatMap((root) => {
    try {
      return [realpathSync(root)];
    } catch {
      return [];
    }
  });
}

/** Whether a resolved path lies strictly inside a resolved folder. */
export const isInsideFolder = (path: string, folder: string): boolean => path.startsWith(folder.endsWith(sep) ? folder : folder + sep);

/** Whether `path` (resolved, links followed) lies inside this history's artifacts folder; false for a missing path. */
export function isInsideArtifacts(dbPath: string, path: string): boolean {
  try {
    const real = realpathSync(path);
    return artifactRoots(dbPath).some((root) => isInsideFolder(real, root));
  } catch {
    return false;
  }
}

/**
 * The real path (links followed) of a path recorded with a run, which must lie inside the history's artifacts folder;
 * null when nothing is there (a deleted file: the caller does without it). Anything else throws one line.
 */
export function containedArtifactPath(dbPath: string, path: string, what: string): string | null {
  if (!isAbsolute(path)) throw new ArtifactFileError(`${what} ${shown(path)} is not an absolute path`);
  let real: string;
  try {
    real = realpathSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new ArtifactFileError(`${what} ${shown(path)} cannot be resolved (${code ?? (e as Error).message})`);
  }
  if (!artifactRoots(dbPath).some((root) => isInsideFolder(real, root)))
    throw new ArtifactFileError(`${what} ${shown(path)} is outside this history's artifacts folder ${artifactsRoot(dbPath)}`);
  return real;
}

/** A kind of file that is not a plain one, for messages. */
export function fileKind(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a folder';
  return 'a plain file';
}

function sizeProblem(size: number, expected: ExpectedSize): string | null {
  if (expected.bytes !== undefined && size !== expected.bytes)
    return `has ${size} bytes, not the ${expected.bytes}${expected.because ? ` ${expected.because} take` : ' expected'}`;
  const max = expected.max ?? MAX_ARTIFACT_BYTES;
  return size > max ? `has ${size} bytes, more than the ${max} allowed` : null;
}

/**
 * Checks that `path` is a plain file (not a link, FIFO, device or socket, which could block or never end) of the
 * expected size, without opening it; returns its size. One line naming it (after `what`) otherwise.
 */
export function checkPlainFile(path: string, expected: ExpectedSize, what: string): number {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) throw new ArtifactFileError(`${what} ${shown(path)} does not exist`);
  return checkedSize(st, path, expected, what);
}

function checkedSize(st: Stats, path: string, expected: ExpectedSize, what: string): number {
  if (!st.isFile()) throw new ArtifactFileError(`${what} ${shown(path)} is not a plain file`);
  const problem = sizeProblem(st.size, expected);
  if (problem) throw new ArtifactFileError(`${what} ${shown(path)} ${problem}`);
  return st.size;
}

/** The bytes of a plain file of the expected size (see checkPlainFile), checked again on the open file before reading. */
export function readPlainFile(path: string, expected: ExpectedSize, what: string): Buffer {
  checkPlainFile(path, expected, what);
  // O_NONBLOCK: a file swapped for a FIFO since the check cannot block the open; O_NOFOLLOW: nor one swapped for a link.
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  try {
    const size = checkedSize(fstatSync(fd), path, expected, what);
    const bytes = Buffer.allocUnsafe(size);
    for (let read = 0; read < size;) {
      const n = readSync(fd, bytes, read, size - read, read);
      if (n === 0) throw new ArtifactFileError(`${what} ${shown(path)} shrank while it was read`);
      read += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/** A recorded artifact file's bytes (see containedArtifactPath and readPlainFile); null when it is missing. */
export function readArtifactFile(dbPath: string, path: string, expected: ExpectedSize, what: string): Buffer | null {
  const real = containedArtifactPath(dbPath, path, what);
  return real === null ? null : readPlainFile(real, expected, what);
}

/** A path or name in a message: quoted, control characters escaped (one line whatever it holds), long ones cut. */
export function shown(text: string): string {
  return JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text);
}

/**
 * The checksums recorded with a run for the files another run may reuse (its autoencoder folder, its codes), keyed
 * `<artifact>Sha256`: a reused file must still match them. Only artifacts present in `artifacts` and on disk count.
 */
export function checksumsOf(artifacts: RunArtifacts): RunArtifacts {
  const sums: RunArtifacts = {};
  const { autoencoder, codesFit, codesEval } = artifacts;
  if (autoencoder && existsSync(autoencoder)) sums.autoencoderSha256 = folderSha256(autoencoder);
  if (codesFit && existsSync(codesFit)) sums.codesFitSha256 = fileSha256(codesFit);
  if (codesEval && existsSync(codesEval)) sums.codesEvalSha256 = fileSha256(codesEval);
  return sums;
}
