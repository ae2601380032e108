import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
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

/** SHA-256 of a folder: each file's relative path, size and bytes, in sorted order. */
export function folderSha256(dir: string): string {
  const parts: Buffer[] = [];
  for (const name of filesUnder(dir)) {
    const bytes = readFileSync(join(dir, name));
    parts.push(Buffer.from(`${name}\0${bytes.length}\0`), bytes);
  }
  return sha256Hex(Buffer.concat(parts));
}

export function fileSha256(file: string): string {
  return sha256Hex(readFileSync(file));
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
