/**
 * `runs import`: merges another run database (a cluster node's, a colleague's) into this history, in one transaction
 * per file. Its runs get new ids here, with their series (losses…), assignments and files; the run ids and paths recorded with
 * them are rewritten; sweeps are joined by uid when they plan the very same runs (or created), and their status
 * follows from their children. A file is refused as a whole, changing nothing, when any of its runs is already here
 * (same uid), when a run is still active there, when it is not a Clusterbench database of this or an older schema
 * (see import-source.ts), or when any row is not one the app could have written (see import-checks.ts): the file is
 * outside input.
 */
import type Database from 'better-sqlite3';
import { resolve } from 'node:path';
import { decodeJson, encodeJson } from './codec';
import { StoreError } from './errors';
import { ArtifactStaging, remapArtifacts, remapParams, sourceRunFolder, type IdMap } from './import-artifacts';
import { readSourceRuns, readSourceSweeps, type SourceRun, type SourceSweep } from './import-checks';
import { ImportRefused, loadSource } from './import-source';
import { historyAccess } from './location';
import { openForWriting } from './open';
import { sweepRunCount } from '../schema/sweep';
import { settledSweepStatus } from '../schema/sweep-summary';

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
  /** Run ids and file paths recorded with the runs (a reused encoder, its codes) that pointed at runs neither the file nor this history (by uid) has: removed. */
  droppedReferences: number;
}

/** The columns of a run copied as they are (params and artifacts are rewritten after the insert, see mergeInto). */
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

/**
 * Imports one file into the history open on `dest` (at `destPath`); throws ImportRefused (one line) and changes nothing
 * when it cannot. Everything is read and checked first, the run folders copied next, and only then is the history
 * written, in one short transaction: other writers wait for it only as long as the inserts take.
 */
export function importRunDatabase(dest: Database.Database, destPath: string, file: string): ImportResult {
  const source = resolve(file);
  if (source === resolve(destPath)) throw new ImportRefused('INVALID', `${file}: this is the history being imported into`);
  const src = loadSource(source);
  let sweeps: Map<number, SourceSweep>;
  let runs: SourceRun[];
  try {
    sweeps = readSourceSweeps(src, file);
    runs = readSourceRuns(src, file, sweeps);
  } finally {
    src.close();
  }
  refuseDuplicates(dest, runs, file);
  refuseOtherPlans(dest, [...sweeps.values()], file);
  const staging = new ArtifactStaging(destPath);
  let result: ImportResult;
  try {
    for (const run of runs) {
      const folder = sourceRunFolder(source, run.id, run.artifacts);
      if (folder) staging.stage(folder, run.id, file);
    }
    const merge = dest.transaction(() => {
      // again under the write lock: another import may have come first
      refuseDuplicates(dest, runs, file);
      refuseOtherPlans(dest, [...sweeps.values()], file);
      return mergeInto(dest, destPath, runs, sweeps, staging, file);
    });
    result = merge.immediate();
  } catch (e) {
    staging.discard();
    throw e instanceof ImportRefused
      ? e
      : new ImportRefused('INVALID', `${file}: ${oneLine(e)}; nothing was imported from this file`, { cause: e });
  }
  // Committed: the placed folders belong to the new runs now; a staging folder that cannot be removed is left.
  try {
    staging.finish();
  } catch {
    /* leftover staging folder only */
  }
  return result;
}

/** An error's message on one line (SQLite's and the file system's are; a thrown value may not be). */
const oneLine = (e: unknown): string => String(e instanceof Error ? e.message : e).replace(/\s+/g, ' ');

function refuseDuplicates(dest: Database.Database, runs: SourceRun[], file: string): void {
  const find = dest.prepare('SELECT id FROM runs WHERE uid = ?');
  const seen = new Map<string, number>();
  for (const run of runs) {
    const twice = seen.get(run.uid);
    if (twice !== undefined)
      throw new ImportRefused(
        'INVALID',
        `${file}: its runs ${twice} and ${run.id} have the same uid ${run.uid}; nothing was imported from this file`,
      );
    seen.set(run.uid, run.id);
    const here = find.get(run.uid) as { id: number } | undefined;
    if (here) {
      throw new ImportRefused(
        'INVALID',
        `${file}: its run ${run.id} (uid ${run.uid}) is already in this history as run ${here.id}; nothing was imported from this file`,
      );
    }
  }
}

/** JSON with object keys sorted: the same plan compares equal whatever order its keys were written in. */
function canonical(text: string): string {
  return JSON.stringify(decodeJson(text), (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/**
 * Children are identified by their index in the plan: a sweep of the same uid here must plan the very same runs —
 * task, base parameters, grid and seeds (a child file edited on the cluster is not the sweep's child).
 */
function refuseOtherPlans(dest: Database.Database, sweeps: SourceSweep[], file: string): void {
  const find = dest.prepare('SELECT id, task, base, grid, seeds FROM sweeps WHERE uid = ?');
  for (const sweep of sweeps) {
    const here = find.get(sweep.uid) as { id: number; task: string; base: string; grid: string; seeds: string } | undefined;
    const same = (k: 'base' | 'grid' | 'seeds') => canonical(here![k]) === canonical(sweep[k]);
    if (here && !(here.task === sweep.task && same('base') && same('grid') && same('seeds'))) {
      throw new ImportRefused(
        'INVALID',
        `${file}: its sweep ${sweep.uid} has other parameters than the sweep ${here.id} of the same uid here; nothing was imported from this file`,
      );
    }
  }
}

/** The inserts, inside the import's transaction. */
function mergeInto(
  dest: Database.Database,
  destPath: string,
  runs: SourceRun[],
  sourceSweeps: Map<number, SourceSweep>,
  staging: ArtifactStaging,
  file: string,
): ImportResult {
  const sweeps = mergeSweeps(dest, sourceSweeps);
  const ids = insertRuns(dest, runs, sweeps, file);
  let droppedReferences = 0;
  const update = dest.prepare('UPDATE runs SET params = ?, artifacts = ? WHERE id = ?');
  const findRun = dest.prepare('SELECT id FROM runs WHERE uid = ?');
  for (const run of runs) {
    const newId = ids.get(run.id)!;
    staging.place(run.id, newId);
    const refs = withReusedRunHere(run, ids, findRun);
    const params = remapParams(run.params, refs);
    const artifacts = remapArtifacts(run.artifacts, refs, destPath);
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

/**
 * The file's id map, plus the run whose encoder `run` reused when the file lacks it but this history has it (found by
 * the uid recorded with the reuse; e.g. imported earlier, or the run a Slurm array's children reused): its references
 * then point at that run here instead of being dropped. Older runs recorded no uid: theirs are dropped as before.
 */
function withReusedRunHere(run: SourceRun, ids: IdMap, findRun: Database.Statement): IdMap {
  const from = Number(run.artifacts.reusedEncoderFrom);
  const uid = run.artifacts.reusedEncoderUid;
  if (!uid || !Number.isSafeInteger(from) || ids.has(from)) return ids;
  const here = findRun.get(uid) as { id: number } | undefined;
  return here ? new Map([...ids, [from, here.id]]) : ids;
}

/** Each sweep of the file, joined to this history's sweep of the same uid (same plan, checked), or created; keyed by its id there. */
function mergeSweeps(dest: Database.Database, sweeps: Map<number, SourceSweep>): Map<number, Omit<ImportedSweep, 'status' | 'runs'>> {
  const out = new Map<number, Omit<ImportedSweep, 'status' | 'runs'>>();
  const find = dest.prepare('SELECT id FROM sweeps WHERE uid = ?');
  const cols = SWEEP_COPY_COLUMNS.join(', ');
  const insert = dest.prepare(`INSERT INTO sweeps (${cols}) VALUES (${SWEEP_COPY_COLUMNS.map((c) => `@${c}`).join(', ')})`);
  for (const sweep of sweeps.values()) {
    const here = find.get(sweep.uid) as { id: number } | undefined;
    const row = Object.fromEntries(SWEEP_COPY_COLUMNS.map((c) => [c, sweep.row[c]]));
    // A new sweep starts queued: its status follows from its children here (refreshSweepStatus), not from the file.
    const id = here ? here.id : Number(insert.run({ ...row, status: 'queued', ended_at: null }).lastInsertRowid);
    out.set(sweep.id, { id, uid: sweep.uid, name: sweep.name, joined: here !== undefined });
  }
  return out;
}

/** Inserts the runs (references still the file's; see mergeInto) with their series and assignments; returns old → new ids. */
function insertRuns(dest: Database.Database, runs: SourceRun[], sweeps: Map<number, { id: number }>, file: string): Map<number, number> {
  const cols = RUN_COPY_COLUMNS.join(', ');
  const insert = dest.prepare(
    `INSERT INTO runs (${cols}, sweep_id) VALUES (${RUN_COPY_COLUMNS.map((c) => `@${c}`).join(', ')}, @sweep_id)`,
  );
  const insertPoint = dest.prepare('INSERT INTO run_series (run_id, key, step, value) VALUES (?, ?, ?, ?)');
  const insertAssignments = dest.prepare('INSERT INTO run_assignments (run_id, data) VALUES (?, ?)');
  const ids = new Map<number, number>();
  for (const run of runs) {
    const row = Object.fromEntries(RUN_COPY_COLUMNS.map((c) => [c, run.row[c]]));
    const sweepId = run.sweep_id === null ? null : (sweeps.get(run.sweep_id)?.id ?? null);
    try {
      const newId = Number(insert.run({ ...row, sweep_id: sweepId }).lastInsertRowid);
      ids.set(run.id, newId);
      for (const p of run.series) insertPoint.run(newId, p.key, p.step, p.value);
      if (run.assignments) insertAssignments.run(newId, run.assignments);
    } catch (e) {
      throw new ImportRefused(
        'INVALID',
        `${file}: its run ${run.id} cannot be stored here (${oneLine(e)}); nothing was imported from this file`,
        {
          cause: e,
        },
      );
    }
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
