/**
 * Writing a run's files, which the store owns: each run keeps them in its own folder of the history's artifacts folder
 * (runArtifactsDir; see artifact-files.ts for reading a recorded path back): float32 matrices (codes, 2-D maps), an
 * encoder copied from another run, and the folder's removal with the run (RunStore.deleteRun) or when it fails.
 */
import { rmSync } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../files';
import { ArtifactFileError, readArtifactFile, runArtifactsDir, shown } from './artifact-files';
import { StoreError } from './errors';

export { runArtifactsDir };

/**
 * Removes a run's folder (runArtifactsDir) and only it: a link in its place is removed, never followed, and the id is a
 * checked integer, so nothing outside the history's artifacts folder can go. Throws one line when something is left.
 */
export function removeRunFolder(dbPath: string, runId: number): void {
  const dir = runArtifactsDir(dbPath, runId);
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') return; // a file where the artifacts folder would be: the run has no folder
    throw new ArtifactFileError(`the folder ${shown(dir)} of run ${runId} could not be removed (${code ?? (e as Error).message})`);
  }
}

/** Removes the folders of deleted runs, each tried; FILES_LEFT names the first that could not go (the rows are gone). */
export function removeRunFolders(dbPath: string, ids: readonly number[]): void {
  const left = ids.flatMap((id) => {
    try {
      removeRunFolder(dbPath, id);
      return [];
    } catch (e) {
      return [{ id, why: (e as Error).message }];
    }
  });
  if (left.length === 0) return;
  const more = left.length > 1 ? ` (and ${left.length - 1} more)` : '';
  throw new StoreError('FILES_LEFT', `run ${left[0].id} was deleted, but ${left[0].why}${more}: remove it by hand`);
}

/** removeRunFolder for the pipeline's clean-up of a run that did not complete (a rejection instead of a throw). */
export async function removeRunArtifacts(dbPath: string, runId: number): Promise<void> {
  removeRunFolder(dbPath, runId);
}

/** Writes a float32 matrix as raw little-endian bytes, atomically. */
export async function writeMatrixFile(file: string, data: Float32Array): Promise<void> {
  await writeFileAtomic(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/**
 * A run's recorded float32 matrix (codes, embeddings), read through the checked reader: inside this history's
 * artifacts folder after links, a plain file of exactly rows × cols values.
 */
export function readMatrixFile(dbPath: string, file: string, rows: number, cols: number, what: string): Float32Array {
  const bytes = readArtifactFile(dbPath, file, { bytes: rows * cols * 4, because: `its ${rows} × ${cols} float32 values` }, what);
  if (bytes === null) throw new ArtifactFileError(`${what} ${shown(file)} is missing`);
  const out = new Float32Array(rows * cols);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export async function copyArtifact(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await cp(from, to, { recursive: true });
}
