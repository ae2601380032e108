/**
 * Moving imported runs' files: each run's folder is copied from the other history into this one's artifacts folder
 * under its new id, and the paths and run ids recorded with the runs are rewritten to match.
 */
import { randomBytes } from 'node:crypto';
import { constants, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { artifactsRoot, fileKind, legacyRunArtifactsDir, runArtifactsDir, shown } from './artifact-files';
import { ImportRefused } from './import-source';
import type { RunArtifacts } from './types';

/** A run folder inside a history's artifacts folder (`<db>.artifacts/run-N`, or the old `<folder>/artifacts/run-N`). */
const RUN_FOLDER = /^(.*[\\/](?:[^\\/]*\.artifacts|artifacts))[\\/]run-(\d+)((?:[\\/].*)?)$/;

/** Source run id → this history's new run id. */
export type IdMap = ReadonlyMap<number, number>;

/** A recorded path as a run id and the names below that run's folder; null when it is not a path into a run folder. */
function runFolderPath(path: string): { runId: number; names: string[] } | null {
  const m = RUN_FOLDER.exec(path);
  if (!m) return null;
  const names = m[3].split(/[\\/]/).filter((name) => name !== '' && name !== '.');
  return names.includes('..') ? null : { runId: Number(m[2]), names };
}

/**
 * A recorded path into a run folder of the other history, pointed at the new run's folder here; undefined when it
 * does not point into the folder of a run the file has. Paths are matched by their shape, not by the other database's
 * location: it may have been written on another machine (a cluster node). Nothing can lead out of the new folder.
 */
export function rewritePath(path: string, ids: IdMap, destDb: string): string | undefined {
  const inRun = runFolderPath(path);
  const newId = inRun ? ids.get(inRun.runId) : undefined;
  return newId === undefined ? undefined : join(runArtifactsDir(destDb, newId), ...inRun!.names);
}

/** Run ids recorded as references (text in artifacts); those the file cannot resolve are dropped and counted. */
const ID_ARTIFACTS = ['reusedEncoderFrom', 'reusedCodesFrom'] as const;

/** Artifacts that are values, not paths (types.ts): copied as they are. Every other name is a path. */
const VALUE_ARTIFACTS: readonly string[] = [
  ...ID_ARTIFACTS,
  'reusedEncoderUid',
  'architecture',
  'codeSize',
  'autoencoderSha256',
  'encoderFitOn',
  'codesFitSha256',
  'codesEvalSha256',
  'protocol',
  'embeddingDims',
  'map2dMethod',
];

/** Why a recorded artifact cannot be imported (a path that is not into a run folder, or leads out of one), or null. */
export function recordedPathProblem(key: string, value: string): string | null {
  if (VALUE_ARTIFACTS.includes(key) || runFolderPath(value)) return null;
  return `records ${shown(key)} at ${shown(value)}, which is not in one of its run folders`;
}

export interface Remapped<T> {
  value: T;
  /** References to runs that are not in the imported file (they meant nothing here). */
  dropped: number;
}

export function remapArtifacts(artifacts: RunArtifacts, ids: IdMap, destDb: string): Remapped<RunArtifacts> {
  const out: RunArtifacts = {};
  let dropped = 0;
  for (const [key, value] of Object.entries(artifacts)) {
    if (value === undefined) continue;
    if ((ID_ARTIFACTS as readonly string[]).includes(key)) {
      const newId = ids.get(Number(value));
      if (newId === undefined) dropped++;
      else out[key] = String(newId);
    } else if (VALUE_ARTIFACTS.includes(key)) out[key] = value;
    else {
      const path = rewritePath(value, ids, destDb); // undefined: a run's folder the file does not have (deleted there)
      if (path === undefined) dropped++;
      else out[key] = path;
    }
  }
  return { value: out, dropped };
}

/** `params.reuseEncoder` is a run id of the other history. */
export function remapParams(params: Record<string, unknown>, ids: IdMap): Remapped<Record<string, unknown>> {
  const ref = params.reuseEncoder;
  if (typeof ref !== 'number') return { value: params, dropped: 0 };
  const newId = ids.get(ref);
  const { reuseEncoder: _dropped, ...rest } = params;
  return newId === undefined ? { value: rest, dropped: 1 } : { value: { ...params, reuseEncoder: newId }, dropped: 0 };
}

/** The folder holding a source run's files, if it has one: its own layout, else the layout before schema 3. */
export function sourceRunFolder(sourceDb: string, runId: number, artifacts: RunArtifacts): string | undefined {
  const own = runArtifactsDir(sourceDb, runId);
  if (existsSync(own)) return own;
  const legacy = legacyRunArtifactsDir(sourceDb, runId);
  const pointsThere = Object.values(artifacts).some((p) => p?.startsWith(legacy + sep));
  return pointsThere && existsSync(legacy) ? legacy : undefined;
}

/**
 * Copies run folders into a staging folder inside this history's artifacts folder (same filesystem, so `place` is a
 * rename), then places each under its new id. `discard` removes whatever was staged or placed (a refused import).
 */
export class ArtifactStaging {
  private readonly staging: string;
  private readonly placed: string[] = [];

  constructor(private readonly destDb: string) {
    this.staging = join(artifactsRoot(destDb), `.import-${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  /**
   * Copies a source run's folder (before the write transaction: copying can take a while) as plain files and folders;
   * anything else in it (a link, a FIFO, a device) refuses the file: it could lead out of the history or never end.
   */
  stage(sourceFolder: string, sourceId: number, file: string): void {
    copyPlainTree(sourceFolder, join(this.staging, `run-${sourceId}`), '', (entry, kind) => {
      const what = entry === '' ? 'is' : `holds ${shown(entry)},`;
      return new ImportRefused(
        'INVALID',
        `${file}: its run ${sourceId}'s folder ${what} ${kind}: only plain files and folders are imported; nothing was imported from this file`,
      );
    });
  }

  /** Moves a staged folder to the new run's place; false when nothing was staged for it. */
  place(sourceId: number, newId: number): boolean {
    const from = join(this.staging, `run-${sourceId}`);
    if (!existsSync(from)) return false;
    const to = runArtifactsDir(this.destDb, newId);
    if (existsSync(to)) throw new Error(`${to} already exists; it belongs to no run of this history: move it away and import again`);
    mkdirSync(dirname(to), { recursive: true });
    renameSync(from, to);
    this.placed.push(to);
    return true;
  }

  /** Removes the staging folder (after success or failure). */
  finish(): void {
    rmSync(this.staging, { recursive: true, force: true });
  }

  /** Removes the folders already placed, for an import that was rolled back. */
  discard(): void {
    for (const folder of this.placed) rmSync(folder, { recursive: true, force: true });
    this.finish();
  }
}

/** Copies `from` to `to`, folders and plain files only (never following a link); throws `refusal(entry, kind)` otherwise. */
function copyPlainTree(from: string, to: string, entry: string, refusal: (entry: string, kind: string) => Error): void {
  const st = lstatSync(from);
  if (st.isFile()) return copyFileSync(from, to, constants.COPYFILE_EXCL);
  if (!st.isDirectory()) throw refusal(entry, fileKind(st));
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from).sort()) copyPlainTree(join(from, name), join(to, name), entry ? `${entry}/${name}` : name, refusal);
}
