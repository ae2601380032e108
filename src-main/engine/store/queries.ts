/**
 * The SQL of the run store and the mapping of its rows to records. Statements are compiled on first use, so that a
 * read-only open of an older schema never compiles writes it could not run.
 */
import type Database from 'better-sqlite3';
import type { EvaluationReport } from '../metrics/types';
import { decodeReal } from './codec';
import { StoreError } from './errors';
import { lossesSql } from './series';
import { decodeStored, type StoredColumn } from './stored-shapes';
import type { DatasetInfo, EpochLoss, RunArtifacts, RunRecord, RunResult, RunStatus, TaskName } from './types';

export interface RunRow {
  id: number;
  task: string;
  params: string;
  seed: number;
  dataset: string | null;
  backend: string;
  status: RunStatus;
  error: string | null;
  started_at: string;
  ended_at: string | null;
  metrics: string | null;
  evaluation: string | null;
  timings: string | null;
  artifacts: string;
  uid: string | null;
  sweep_id: number | null;
  sweep_child: number | null;
}

export interface LossRow {
  epoch: number;
  train_loss: unknown;
  val_loss: unknown;
}

const BASE_COLUMNS =
  'id, task, params, seed, dataset, backend, status, error, started_at, ended_at, metrics, evaluation, timings, artifacts';

export const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];
export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'running'];

export interface ListRunsFilter {
  task?: TaskName | string;
  status?: RunStatus | string;
  limit?: number;
  offset?: number;
  /** By start time; default 'newest'. */
  order?: 'newest' | 'oldest';
}

/** The schema that added runs.uid, sweep_id and sweep_child. */
export const SWEEPS_SCHEMA = 4;

/** The columns of a run record at a schema version: read-only opens of older histories read NULL for the newer ones. */
export function runColumns(schemaVersion: number): string {
  return schemaVersion >= SWEEPS_SCHEMA
    ? `${BASE_COLUMNS}, uid, sweep_id, sweep_child`
    : `${BASE_COLUMNS}, NULL AS uid, NULL AS sweep_id, NULL AS sweep_child`;
}

/** Statements compiled on first use: a read-only open of an older schema never compiles writes it could not run. */
function lazyStatements<K extends string>(conn: () => Database.Database, sql: Record<K, string>): Record<K, Database.Statement> {
  const compiled = new Map<K, Database.Statement>();
  const statements = {} as Record<K, Database.Statement>;
  for (const key of Object.keys(sql) as K[]) {
    Object.defineProperty(statements, key, { get: () => compiled.get(key) ?? compiled.set(key, conn().prepare(sql[key])).get(key)! });
  }
  return statements;
}

/** The store's statements by name (see the top of this file), for a history at `schemaVersion`. */
export function runStatements(conn: () => Database.Database, schemaVersion: number) {
  const columns = runColumns(schemaVersion);
  return lazyStatements(conn, {
    insertRun: `INSERT INTO runs (task, params, seed, dataset, backend, status, started_at, artifacts, owner_pid, owner_host, heartbeat_at,
         uid, sweep_id, sweep_child)
       VALUES (@task, @params, @seed, @dataset, @backend, @status, @startedAt, '{}', @pid, @host, @heartbeat, @uid, @sweepId, @sweepChild)`,
    getRun: `SELECT ${columns} FROM runs WHERE id = ?`,
    getStatus: 'SELECT status FROM runs WHERE id = ?',
    getArtifacts: 'SELECT artifacts FROM runs WHERE id = ?',
    getLosses: lossesSql(schemaVersion),
    getSeries: 'SELECT step, value FROM run_series WHERE run_id = ? AND key = ? ORDER BY step',
    getAssignments: 'SELECT data FROM run_assignments WHERE run_id = ?',
    upsertPoint: `INSERT INTO run_series (run_id, key, step, value) VALUES (?, ?, ?, ?)
       ON CONFLICT (run_id, key, step) DO UPDATE SET value = excluded.value`,
    deletePoint: 'DELETE FROM run_series WHERE run_id = ? AND key = ? AND step = ?',
    upsertAssignments: 'INSERT INTO run_assignments (run_id, data) VALUES (?, ?) ON CONFLICT (run_id) DO UPDATE SET data = excluded.data',
    setBackend: 'UPDATE runs SET backend = ? WHERE id = ?',
    setArtifacts: 'UPDATE runs SET artifacts = ? WHERE id = ?',
    setStatus: 'UPDATE runs SET status = ? WHERE id = ?',
    complete: `UPDATE runs SET status = 'completed', error = NULL, ended_at = @endedAt, metrics = @metrics, evaluation = @evaluation,
         timings = @timings, artifacts = @artifacts WHERE id = @id AND status IN ('queued', 'running')`,
    end: `UPDATE runs SET status = @status, error = @error, ended_at = @endedAt WHERE id = @id AND status IN ('queued', 'running')`,
    active: `SELECT id, status, owner_pid, owner_host, heartbeat_at FROM runs WHERE status IN ('queued', 'running')`,
    owner: 'SELECT id, status, owner_pid, owner_host, heartbeat_at FROM runs WHERE id = ?',
    heartbeat: `UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status IN ('queued', 'running')`,
    deleteRun: 'DELETE FROM runs WHERE id = ?',
    sweepExists: 'SELECT 1 FROM sweeps WHERE id = ?',
    sweepRuns: `SELECT ${columns} FROM runs WHERE sweep_id = ? ORDER BY sweep_child, id`,
    legacyRuns: `SELECT id, started_at, ended_at, artifacts FROM runs WHERE status NOT IN ('queued', 'running') AND instr(artifacts, ?) > 0`,
  });
}

export type RunStatements = ReturnType<typeof runStatements>;

/** The query of a run listing (see RunStore.listRuns), its filter checked: one line for a bad status, order or page. */
export function listRunsQuery(columns: string, filter: ListRunsFilter): { sql: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.task !== undefined) {
    where.push('task = ?');
    args.push(filter.task);
  }
  if (filter.status !== undefined) {
    if (!RUN_STATUSES.includes(filter.status as RunStatus)) throw new StoreError('INVALID', `unknown run status '${filter.status}'`);
    where.push('status = ?');
    args.push(filter.status);
  }
  const order = filter.order ?? 'newest';
  if (order !== 'newest' && order !== 'oldest') throw new StoreError('INVALID', `order must be 'newest' or 'oldest'`);
  const dir = order === 'newest' ? 'DESC' : 'ASC';
  let sql = `SELECT ${columns} FROM runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at ${dir}, id ${dir}`;
  if (filter.limit !== undefined || filter.offset !== undefined) {
    const limit = filter.limit ?? -1;
    const offset = filter.offset ?? 0;
    if (!Number.isSafeInteger(limit) || limit < -1) throw new StoreError('INVALID', `limit must be a non-negative integer`);
    if (!Number.isSafeInteger(offset) || offset < 0) throw new StoreError('INVALID', `offset must be a non-negative integer`);
    sql += ' LIMIT ? OFFSET ?';
    args.push(limit, offset);
  }
  return { sql, args };
}

/**
 * A run row and its loss rows as a RunRecord (without assignments). A JSON column that is not of its shape (a
 * damaged or hand-edited history) reads as none, and a loss that is not a number is left out, each with a note in
 * the run's error: one bad row never makes a listing of the whole history fail.
 */
export function toRecord(row: RunRow, lossRows: LossRow[]): RunRecord {
  const notes: string[] = [];
  const column = <T>(name: StoredColumn, text: string | null, fallback: T): T => {
    const decoded = decodeStored(name, text, fallback === null);
    if ('value' in decoded) return decoded.value as T;
    notes.push(decoded.problem);
    return fallback;
  };
  const losses = lossRows.flatMap<EpochLoss>((l) => {
    try {
      return [
        {
          epoch: l.epoch,
          trainLoss: l.train_loss === null ? Number.NaN : decodeReal(l.train_loss),
          valLoss: l.val_loss === null ? null : decodeReal(l.val_loss),
        },
      ];
    } catch {
      notes.push(`the loss of epoch ${l.epoch} is not a number`);
      return [];
    }
  });
  const record: RunRecord = {
    id: row.id,
    task: row.task as TaskName,
    params: column<Record<string, unknown>>('params', row.params, {}),
    seed: row.seed,
    backend: row.backend,
    dataset: column<DatasetInfo | null>('dataset', row.dataset, null),
    status: row.status,
    error: row.error,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    metrics: column<RunResult['metrics'] | null>('metrics', row.metrics, null),
    evaluation: column<EvaluationReport | null>('evaluation', row.evaluation, null),
    timings: column<Record<string, number> | null>('timings', row.timings, null),
    artifacts: column<RunArtifacts>('artifacts', row.artifacts, {}),
    losses,
    uid: row.uid,
    sweepId: row.sweep_id,
    sweepChild: row.sweep_child,
  };
  if (notes.length) record.error = [row.error, `damaged in the history, read as none: ${notes.join('; ')}`].filter(Boolean).join('; ');
  return record;
}
