/**
 * `runs import`: merges another run database (a cluster node's, a colleague's) into this history, in one transaction
 * per file. Its runs get new ids here, with their losses, assignments and files; the run ids and paths recorded with
 * them are rewritten; sweeps are joined by uid (or created), and their status follows from their children. A file is
 * refused as a whole, changing nothing, when any of its runs is already here (same uid), when a run is still active
 * there, or when it is not a Clusterbench database of this or an older schema (see import-source.ts).
 */
import type Database from 'better-sqlite3';
import { resolve } from 'node:path';
import { decodeJson, encodeJson } from './codec';
import { StoreError } from './errors';
import { ArtifactStaging, remapArtifacts, remapParams, sourceRunFolder, type IdMap } from './import-artifacts';
import { ImportRefused, loadSource } from './import-source';
import { historyAccess } from './location';
import { openForWriting } from './open';
import type { RunArtifacts } from './types';
import { sweepRunCount } from '../experiments/sweep';
import { settledSweepStatus } from '../experiments/sweepSummary';

export { ImportRefused };

export interface ImportedSweep {
  id: number;
  uid: string;
  name: string | null;
  /** true: the sweep was already in this history (e.g. recorded when its Slurm array was emitted). */
  joined: boolean;
  /** Its status after the import. */
  status: string;
  /** Runs of this file that belong to it. */
  runs: number;
}

export interface ImportResult {
  file: string;
  /** The new ids of the imported runs, in the file's order. */
  runIds: number[];
  sweeps: ImportedSweep[];
  /** Run ids recorded with the runs (a reused encoder) that pointed at runs the file does not have: removed. */
  droppedReferences: number;
}

interface SourceRun {
  id: number;
  uid: string;
  params: string;
  artifacts: string;
  sweep_id: number | null;
}

interface SourceSweep {
  id: number;
  uid: string;
  name: string | null;
  grid: string;
  seeds: string;
}

const RUN_COPY_COLUMNS = [
  'task',
  'params',
  'seed',
  'dataset',
  'backend',
  'status',
  'error',
  'started_at',
  'ended_at',
  'metrics',
  'evaluation',
  'timings',
  'artifacts',
  'owner_pid',
  'owner_host',
  'heartbeat_at',
  'uid',
  'sweep_child',
] as const;

const SWEEP_COPY_COLUMNS = ['uid', 'name', 'task', 'base', 'grid', 'seeds', 'status', 'created_at', 'ended_at'] as const;

/** Opens the history to import into, for writing (created or migrated like any); a read-only one is refused in one line. */
export function openImportTarget(destPath: string): Database.Database {
  const path = resolve(destPath);
  const access = historyAccess(path);
  if (access.readOnly) throw new StoreError('READ_ONLY', `the run history ${path} is read-only: ${access.reason}`);
  return openForWriting(path, {}, (db) => db);
}

/** Imports one file into the history open on `dest` (at `destPath`); throws ImportRefused (one line) and changes nothing when it cannot. */
export function importRunDatabase(dest: Database.Database, destPath: string, file: string): ImportResult {
  const source = resolve(file);
  if (source === resolve(destPath)) throw new ImportRefused('INVALID', `${file}: this is the history being imported into`);
  const src = loadSource(source);
  try {
    const runs = src.prepare('SELECT id, uid, params, artifacts, sweep_id FROM runs ORDER BY id').all() as SourceRun[];
    refuseDuplicates(dest, runs, file);
    const staging = new ArtifactStaging(destPath);
    let result: ReturnType<typeof mergeInto>;
    try {
      for (const run of runs) {
        const folder = sourceRunFolder(source, run.id, decodeJson<RunArtifacts>(run.artifacts));
        if (folder) staging.stage(folder, run.id);
      }
      const merge = dest.transaction(() => {
        refuseDuplicates(dest, runs, file); // again under the write lock: another import may have come first
        return mergeInto(dest, destPath, src, runs, staging, file);
      });
      result = merge.immediate();
    } catch (e) {
      staging.discard();
      throw e;
    }
    // Committed: the placed folders belong to the new runs now; a staging folder that cannot be removed is left.
    try {
      staging.finish();
    } catch {
      /* leftover staging folder only */
    }
    return result;
  } finally {
    src.close();
  }
}

function refuseDuplicates(dest: Database.Database, runs: SourceRun[], file: string): void {
  const find = dest.prepare('SELECT id FROM runs WHERE uid = ?');
  for (const run of runs) {
    const here = find.get(run.uid) as { id: number } | undefined;
    if (here) {
      throw new ImportRefused(
        'INVALID',
        `${file}: its run ${run.id} (uid ${run.uid}) is already in this history as run ${here.id}; nothing was imported from this file`,
      );
    }
  }
}

/** The inserts, inside the import's transaction. */
function mergeInto(
  dest: Database.Database,
  destPath: string,
  src: Database.Database,
  runs: SourceRun[],
  staging: ArtifactStaging,
  file: string,
): ImportResult {
  const sweeps = mergeSweeps(dest, src, file);
  const ids = insertRuns(dest, src, runs, sweeps);
  let droppedReferences = 0;
  const update = dest.prepare('UPDATE runs SET params = ?, artifacts = ? WHERE id = ?');
  for (const run of runs) {
    const newId = ids.get(run.id)!;
    staging.place(run.id, newId);
    const params = remapParams(decodeJson<Record<string, unknown>>(run.params), ids);
    const artifacts = remapArtifacts(decodeJson<RunArtifacts>(run.artifacts), ids, destPath);
    droppedReferences += params.dropped + artifacts.dropped;
    update.run(encodeJson(params.value, 'params'), encodeJson(artifacts.value, 'artifacts'), newId);
  }
  const imported: ImportedSweep[] = [];
  for (const [srcId, sweep] of sweeps) {
    const count = runs.filter((r) => r.sweep_id === srcId).length;
    imported.push({ ...sweep, status: refreshSweepStatus(dest, sweep.id), runs: count });
  }
  return { file, runIds: runs.map((r) => ids.get(r.id)!), sweeps: imported, droppedReferences };
}

/** Each sweep of the file, joined to this history's sweep of the same uid, or created; keyed by its id there. */
function mergeSweeps(dest: Database.Database, src: Database.Database, file: string): Map<number, Omit<ImportedSweep, 'status' | 'runs'>> {
  const out = new Map<number, Omit<ImportedSweep, 'status' | 'runs'>>();
  const find = dest.prepare('SELECT id, grid, seeds FROM sweeps WHERE uid = ?');
  const cols = SWEEP_COPY_COLUMNS.join(', ');
  const insert = dest.prepare(`INSERT INTO sweeps (${cols}) VALUES (${SWEEP_COPY_COLUMNS.map((c) => `@${c}`).join(', ')})`);
  for (const sweep of src.prepare(`SELECT id, ${cols} FROM sweeps ORDER BY id`).all() as (SourceSweep & Record<string, unknown>)[]) {
    const here = find.get(sweep.uid) as { id: number; grid: string; seeds: string } | undefined;
    if (here && !samePlan(here, sweep)) {
      throw new ImportRefused(
        'INVALID',
        `${file}: its sweep ${sweep.uid} has other parameters than the sweep ${here.id} of the same uid here`,
      );
    }
    // A new sweep starts queued: its status follows from its children here (refreshSweepStatus), not from the file.
    const id = here ? here.id : Number(insert.run({ ...sweep, status: 'queued', ended_at: null }).lastInsertRowid);
    out.set(sweep.id, { id, uid: sweep.uid, name: sweep.name, joined: here !== undefined });
  }
  return out;
}

/** Children are identified by their index in the plan: both sides must plan the same grid and seeds. */
function samePlan(a: { grid: string; seeds: string }, b: { grid: string; seeds: string }): boolean {
  const same = (x: string, y: string) => JSON.stringify(decodeJson(x)) === JSON.stringify(decodeJson(y));
  return same(a.grid, b.grid) && same(a.seeds, b.seeds);
}

/** Inserts the runs (references still the file's; see mergeInto) with their losses and assignments; returns old → new ids. */
function insertRuns(
  dest: Database.Database,
  src: Database.Database,
  runs: SourceRun[],
  sweeps: Map<number, { id: number }>,
): Map<number, number> {
  const cols = RUN_COPY_COLUMNS.join(', ');
  const read = src.prepare(`SELECT ${cols}, sweep_id FROM runs WHERE id = ?`);
  const insert = dest.prepare(
    `INSERT INTO runs (${cols}, sweep_id) VALUES (${RUN_COPY_COLUMNS.map((c) => `@${c}`).join(', ')}, @sweep_id)`,
  );
  const losses = src.prepare('SELECT epoch, train_loss, val_loss FROM run_losses WHERE run_id = ?');
  const insertLoss = dest.prepare('INSERT INTO run_losses (run_id, epoch, train_loss, val_loss) VALUES (?, ?, ?, ?)');
  const assignments = src.prepare('SELECT data FROM run_assignments WHERE run_id = ?');
  const insertAssignments = dest.prepare('INSERT INTO run_assignments (run_id, data) VALUES (?, ?)');
  const ids = new Map<number, number>();
  for (const run of runs) {
    const row = read.get(run.id) as Record<string, unknown> & { sweep_id: number | null };
    const sweepId = row.sweep_id === null ? null : (sweeps.get(row.sweep_id)?.id ?? null);
    const newId = Number(insert.run({ ...row, sweep_id: sweepId }).lastInsertRowid);
    ids.set(run.id, newId);
    for (const l of losses.all(run.id) as { epoch: number; train_loss: unknown; val_loss: unknown }[]) {
      insertLoss.run(newId, l.epoch, l.train_loss, l.val_loss);
    }
    const a = assignments.get(run.id) as { data: Buffer } | undefined;
    if (a) insertAssignments.run(newId, a.data);
  }
  return ids satisfies IdMap;
}

/**
 * A sweep whose every planned child has ended (its latest run) is completed, failed, cancelled or partial; one with
 * children still to run keeps its status. Returns the status after the import.
 */
function refreshSweepStatus(dest: Database.Database, sweepId: number): string {
  const sweep = dest.prepare('SELECT status, grid, seeds FROM sweeps WHERE id = ?').get(sweepId) as {
    status: string;
    grid: string;
    seeds: string;
  };
  const latest = dest
    .prepare(
      `SELECT status, ended_at FROM runs r WHERE sweep_id = ? AND sweep_child IS NOT NULL
         AND id = (SELECT max(id) FROM runs WHERE sweep_id = r.sweep_id AND sweep_child = r.sweep_child)`,
    )
    .all(sweepId) as { status: string; ended_at: string | null }[];
  const planned = sweepRunCount(decodeJson<[string, unknown[]][]>(sweep.grid), decodeJson<unknown[]>(sweep.seeds).length);
  const status = settledSweepStatus(
    planned,
    latest.map((r) => r.status),
  );
  if (status === null) return sweep.status;
  const endedAt =
    latest
      .map((r) => r.ended_at ?? '')
      .sort()
      .at(-1) || new Date().toISOString();
  dest.prepare('UPDATE sweeps SET status = ?, ended_at = ? WHERE id = ?').run(status, endedAt, sweepId);
  return status;
}
