/**
 * The SQL of the sweeps table (schema 4) and the mapping of its rows to records. A sweep's children are ordinary
 * runs linked by runs.sweep_id / sweep_child; the sweep row holds only what was planned and its state.
 */
import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { decodeJson } from './codec';
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

const SWEEP_COLUMNS = 'id, uid, name, task, base, grid, seeds, status, created_at, ended_at';

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
