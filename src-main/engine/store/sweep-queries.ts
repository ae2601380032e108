/**
 * The SQL of the sweeps table (schema 4) and the mapping of its rows to records. A sweep's children are ordinary
 * runs linked by runs.sweep_id / sweep_child; the sweep row holds what was planned, its state and (schema 5) its
 * claim: the process running it (pid, host, heartbeat, as runs have) and whether another process asked it to cancel.
 */
import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { decodeJson } from './codec';
import type { Owner } from './liveness';
import type { SweepGrid, SweepRecord, SweepStatus, TaskName } from './types';

export const SWEEP_STATUSES: readonly SweepStatus[] = ['queued', 'running', 'completed', 'partial', 'failed', 'cancelled'];
/** The states after which a sweep does nothing more until it is resumed. */
export const FINAL_SWEEP_STATUSES: readonly SweepStatus[] = ['completed', 'partial', 'failed', 'cancelled'];

/** A random 128-bit id in hex: identifies a run or a sweep across histories. */
export const newUid = (): string => randomBytes(16).toString('hex');

export interface SweepRow {
  id: number;
  uid: string;
  name: string | null;
  task: string;
  base: string;
  grid: string;
  seeds: string;
  status: SweepStatus;
  created_at: string;
  ended_at: string | null;
}

/** A sweep's claim (schema 5): who runs it, and whether it was asked to cancel. */
export interface SweepClaimRow extends Owner {
  id: number;
  status: SweepStatus;
  cancel_requested: 0 | 1;
  grid: string;
  seeds: string;
}

const SWEEP_COLUMNS = 'id, uid, name, task, base, grid, seeds, status, created_at, ended_at';
const CLAIM_COLUMNS = 'id, status, owner_pid, owner_host, heartbeat_at, cancel_requested, grid, seeds';
const OWNER_COLUMNS = 'id, status, owner_pid, owner_host, heartbeat_at';

export function sweepStatements(conn: () => Database.Database) {
  const sql = {
    insert: `INSERT INTO sweeps (uid, name, task, base, grid, seeds, status, created_at)
       VALUES (@uid, @name, @task, @base, @grid, @seeds, @status, @createdAt)`,
    get: `SELECT ${SWEEP_COLUMNS} FROM sweeps WHERE id = ?`,
    getByUid: `SELECT ${SWEEP_COLUMNS} FROM sweeps WHERE uid = ?`,
    list: `SELECT ${SWEEP_COLUMNS} FROM sweeps ORDER BY created_at DESC, id DESC`,
    setStatus: 'UPDATE sweeps SET status = @status, ended_at = @endedAt WHERE id = @id',
    remove: 'DELETE FROM sweeps WHERE id = ?',
    childRunIds: 'SELECT id FROM runs WHERE sweep_id = ? ORDER BY sweep_child, id',
    claimOf: `SELECT ${CLAIM_COLUMNS} FROM sweeps WHERE id = ?`,
    runningClaims: `SELECT ${CLAIM_COLUMNS} FROM sweeps WHERE status = 'running'`,
    claim: `UPDATE sweeps SET status = 'running', ended_at = NULL, owner_pid = @pid, owner_host = @host, heartbeat_at = @now,
         cancel_requested = 0 WHERE id = @id`,
    beat: 'UPDATE sweeps SET heartbeat_at = @now WHERE id = @id AND owner_pid = @pid AND owner_host = @host',
    requestCancel: 'UPDATE sweeps SET cancel_requested = 1 WHERE id = ?',
    release: 'UPDATE sweeps SET owner_pid = NULL, owner_host = NULL, heartbeat_at = NULL, cancel_requested = 0 WHERE id = ?',
    activeChildren: `SELECT ${OWNER_COLUMNS} FROM runs WHERE sweep_id = ? AND status IN ('queued', 'running') ORDER BY id`,
    latestChildStatuses: `SELECT status FROM runs r WHERE sweep_id = ? AND sweep_child IS NOT NULL
         AND id = (SELECT max(id) FROM runs WHERE sweep_id = r.sweep_id AND sweep_child = r.sweep_child)`,
  };
  const compiled = new Map<keyof typeof sql, Database.Statement>();
  return (key: keyof typeof sql): Database.Statement => compiled.get(key) ?? compiled.set(key, conn().prepare(sql[key])).get(key)!;
}

export function toSweepRecord(row: SweepRow): SweepRecord {
  return {
    id: row.id,
    uid: row.uid,
    name: row.name,
    task: row.task as TaskName,
    base: decodeJson<Record<string, unknown>>(row.base),
    grid: decodeJson<SweepGrid>(row.grid),
    seeds: decodeJson<number[]>(row.seeds),
    status: row.status,
    createdAt: row.created_at,
    endedAt: row.ended_at,
  };
}
