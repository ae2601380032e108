import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../files';
import { runArtifactsDir } from '../store/artifact-files';

// Each run's files (trained weights, codes) live in its database's own artifacts folder.
export { runArtifactsDir };

export async function removeRunArtifacts(dbPath: string, runId: number): Promise<void> {
  await rm(runArtifactsDir(dbPath, runId), { recursive: true, force: true });
}

/** Writes a float32 matrix as raw little-endian bytes, atomically. */
export async function writeMatrixFile(file: string, data: Float32Array): Promise<void> {
  await writeFileAtomic(file, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

export async function readMatrixFile(file: string, rows: number, cols: number): Promise<Float32Array> {
  const bytes = await readFile(file);
  if (bytes.byteLength !== rows * cols * 4) {
    throw new Error(`${file}: expected ${rows}×${cols} float32 values (${rows * cols * 4} bytes), found ${bytes.byteLength} bytes`);
  }
  const out = new Float32Array(rows * cols);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export async function copyArtifact(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await cp(from, to, { recursive: true });
}
