import type Database from 'better-sqlite3';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { sweepRunCount } from '../schema/sweep';
import { settledSweepStatus } from '../schema/sweepSummary';
import { defaultDbPath } from '../paths';
import { decodeAssignments, decodeJson, decodeReal, encodeAssignments, encodeJson, encodeReal } from './codec';
import { StoreError } from './errors';
import { relocateLegacyArtifacts, type LegacyRun } from './legacy-artifacts';
import { removeRunFolder } from './run-files';
import { beatEvery, HEARTBEAT_INTERVAL_MS, INTERRUPTED, isStale, type Owner, type OwnerRow } from './liveness';
import { historyAccess, type WritableCheck } from './location';
import { userVersion } from './migrations';
import { openForReading, openForWriting } from './open';
import { runColumns, runStatements, SWEEPS_SCHEMA, toRecord, type LossRow, type RunRow } from './queries';
import { checkSeriesKey, LOSS_KEYS, SERIES_SCHEMA, type SeriesRow } from './series';
import {
  FINAL_SWEEP_STATUSES,
  newUid,
  SWEEP_STATUSES,
  sweepStatements,
  toSweepRecord,
  type SweepClaimRow,
  type SweepRow,
} from './sweep-queries';
import type {
  EpochLoss,
  NewRun,
  NewSweep,
  RunArtifacts,
  RunRecord,
  RunResult,
  RunStatus,
  SweepBeat,
  SweepCancel,
  SweepGrid,
  SweepRecord,
  SweepStatus,
  TaskName,
} from './types';

export { HEARTBEAT_INTERVAL_MS, INTERRUPTED, isProcessAlive, STALE_AFTER_MS } from './liveness';

export const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];
export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'running'];

export interface RunStoreOptions {
  /** How long a statement waits for another connection's write lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Mark runs left active by dead processes as failed on open (default true). */
  recoverStale?: boolean;
  /** Open read-only even when the history could be written (default: read-only only when it cannot). */
  readOnly?: boolean;
  /** Whether a path may be written; decides read-only (default: an access(2) check). */
  canWrite?: WritableCheck;
  /** The clock for heartbeats, in ms since the epoch (default Date.now). */
  now?: () => number;
}

export interface ListRunsFilter {
  task?: TaskName | string;
  status?: RunStatus | string;
  limit?: number;
  offset?: number;
  /** By start time; default 'newest'. */
  order?: 'newest' | 'oldest';
}

function checkId(id: number): number {
  if (!Number.isSafeInteger(id) || id <= 0) throw new StoreError('INVALID', `invalid run id: ${String(id)}`);
  return id;
}

function checkFiniteInt(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new StoreError('INVALID', `${what} must be an integer, got ${String(n)}`);
  return n;
}

function checkStep(n: unknown, what: string): number {
  const step = checkFiniteInt(n, what);
  if (step < 0) throw new StoreError('INVALID', `${what} must be >= 0, got ${step}`);
  return step;
}

function checkString(s: unknown, what: string): string {
  if (typeof s !== 'string' || s.length === 0) throw new StoreError('INVALID', `${what} must be a non-empty string`);
  return s;
}

function checkRecordOfStrings(r: unknown, what: string): Record<string, string> {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new StoreError('INVALID', `${what} must be an object of strings`);
  for (const [k, v] of Object.entries(r)) {
    if (typeof v !== 'string') throw new StoreError('INVALID', `${what}.${k} must be a string`);
  }
  return r as Record<string, string>;
}

/**
 * The run history: one SQLite database (WAL mode) shared by the desktop app and the CLI, possibly at the
 * same time from several processes. Every write is an IMMEDIATE transaction, so concurrent writers wait
 * for each other (up to the busy timeout) instead of failing, and readers are never blocked.
 *
 * State rules: a run is created 'running' (or 'queued'); it ends exactly once, as 'completed',
 * 'failed' or 'cancelled'. completeRun on an ended run throws (RUN_ENDED) so a result is never silently
 * dropped; failRun / cancelRun on an ended run are no-ops returning false (they are called from error and
 * shutdown paths, which must not throw over the original error).
 *
 * Liveness: a running run's owner beats (keepAlive) every few seconds. On open, a run still active whose owner
 * has not beaten for STALE_AFTER_MS, whatever host it is on, or whose owner process on this host is gone, is
 * marked failed with error 'interrupted'; a live run cannot be deleted. A running sweep is claimed the same way by the
 * process that runs it (claimSweep, beatSweep): a live claim cannot be claimed again or deleted, and a stale one is
 * taken over, or on open marked interrupted (cancelled, so it can be resumed).
 *
 * A history whose file or folder cannot be written opens read-only: reads work, nothing is changed on open
 * (no WAL switch, migration or recovery), and every write fails with one line saying so.
 */
export class RunStore {
  readonly path: string;
  /** Ids of the runs this open marked failed/interrupted. */
  readonly recoveredRunIds: readonly number[];
  /** Ids of the running sweeps whose process was gone, which this open marked interrupted (see recoverStaleSweeps). */
  readonly recoveredSweepIds: readonly number[];
  /** Why this store is read-only, or null when it can write. */
  readonly readOnlyReason: string | null;
  /** Things the user should know about this history (old-layout artifact folders left in place…), one line each. */
  readonly notices: readonly string[];
  private readonly db: Database.Database;
  private readonly host = hostname();
  private readonly now: () => number;
  private readonly stmts: ReturnType<typeof runStatements>;
  private readonly sweepSql: ReturnType<typeof sweepStatements>;
  /** The run columns this history has (NULL for the sweep columns of a read-only pre-sweep history). */
  private readonly columns: string;

  private constructor(path: string, db: Database.Database, options: RunStoreOptions, readOnlyReason: string | null) {
    this.path = path;
    this.db = db;
    this.now = options.now ?? Date.now;
    this.readOnlyReason = readOnlyReason;
    this.columns = runColumns(userVersion(db));
    this.stmts = runStatements(() => this.conn, userVersion(db));
    this.sweepSql = sweepStatements(() => this.conn);
    const writable = readOnlyReason === null;
    const recover = writable && (options.recoverStale ?? true);
    this.recoveredRunIds = recover ? this.recoverStaleRuns() : [];
    this.recoveredSweepIds = recover ? this.recoverStaleSweeps() : [];
    this.notices = writable ? this.relocateLegacyArtifacts() : [];
  }

  get readOnly(): boolean {
    return this.readOnlyReason !== null;
  }

  static open(file: string = defaultDbPath(), options: RunStoreOptions = {}): RunStore {
    const path = resolve(file);
    const access = options.readOnly
      ? { readOnly: true as const, reason: 'it was opened read-only' }
      : historyAccess(path, options.canWrite);
    return access.readOnly
      ? openForReading(path, options, access.reason, (db, reason) => new RunStore(path, db, options, reason))
      : openForWriting(path, options, (db) => new RunStore(path, db, options, null));
  }

  private get conn(): Database.Database {
    if (!this.db.open) throw new StoreError('CLOSED', `the run database ${this.path} is closed`);
    return this.db;
  }

  /** Throws the one-line READ_ONLY error when this store cannot write (before long work that would end in a write). */
  assertWritable(): void {
    if (this.readOnlyReason !== null)
      throw new StoreError('READ_ONLY', `the run history ${this.path} is read-only: ${this.readOnlyReason}`);
  }

  /** Runs `fn` in a write-locked (IMMEDIATE) transaction. */
  private write<T>(fn: () => T): T {
    this.assertWritable();
    return this.conn.transaction(fn).immediate();
  }

  /** Runs `fn` in a read transaction: one consistent snapshot. */
  private read<T>(fn: () => T): T {
    return this.conn.transaction(fn).deferred();
  }

  private statusOf(id: number): RunStatus {
    const row = this.stmts.getStatus.get(id) as { status: RunStatus } | undefined;
    if (!row) throw new StoreError('NOT_FOUND', `run ${id} does not exist in ${this.path}`);
    return row.status;
  }

  /** The current schema version (PRAGMA user_version). */
  get schemaVersion(): number {
    return userVersion(this.conn);
  }

  createRun(run: NewRun, options: { status?: 'running' | 'queued' } = {}): RunRecord {
    const status = options.status ?? 'running';
    if (status !== 'running' && status !== 'queued')
      throw new StoreError('INVALID', `a new run must be 'running' or 'queued', not '${String(status)}'`);
    const row = {
      task: checkString(run.task, 'task'),
      params: encodeJson(run.params ?? {}, 'params'),
      seed: checkFiniteInt(run.seed, 'seed'),
      dataset: run.dataset == null ? null : encodeJson(run.dataset, 'dataset'),
      backend: checkString(run.backend, 'backend'),
      status,
      startedAt: new Date().toISOString(),
      pid: process.pid,
      host: this.host,
      heartbeat: this.now(),
      uid: run.uid === undefined ? newUid() : checkString(run.uid, 'uid'),
      sweepId: run.sweep ? checkId(run.sweep.sweepId) : null,
      sweepChild: run.sweep ? checkFiniteInt(run.sweep.child, 'sweep child') : null,
    };
    const id = this.write(() => {
      if (row.sweepId !== null && !this.sweepSql('get').get(row.sweepId))
        throw new StoreError('INVALID', `sweep ${row.sweepId} does not exist in ${this.path}`);
      return Number(this.stmts.insertRun.run(row).lastInsertRowid);
    });
    return this.getRun(id)!;
  }

  /** Moves a queued run to 'running' (its start time becomes now). */
  startRun(id: number): void {
    checkId(id);
    this.write(() => {
      const status = this.statusOf(id);
      if (status === 'running') return;
      if (status !== 'queued') throw new StoreError('RUN_ENDED', `run ${id} is already ${status}; it cannot start`);
      this.conn
        .prepare("UPDATE runs SET status = 'running', started_at = ?, owner_pid = ?, owner_host = ?, heartbeat_at = ? WHERE id = ?")
        .run(new Date().toISOString(), process.pid, this.host, this.now(), id);
    });
  }

  /** Records that the owner of an active run is alive (see STALE_AFTER_MS). */
  heartbeat(id: number): void {
    checkId(id);
    this.write(() => this.stmts.heartbeat.run(this.now(), id));
  }

  /**
   * Beats for run `id` every `intervalMs` on a timer that never keeps the process alive, until stopped; `beat`
   * also beats (at most once per interval), for long loops that report progress without yielding to timers.
   */
  keepAlive(id: number, intervalMs = HEARTBEAT_INTERVAL_MS): { beat: () => void; stop: () => void } {
    return beatEvery(() => this.heartbeat(id), this.now, intervalMs);
  }

  /**
   * Records one epoch's losses (the series trainLoss and valLoss at that step); reporting the same epoch again replaces
   * it, a null valLoss removing an earlier one. Only for active runs.
   */
  appendLoss(id: number, loss: EpochLoss): void {
    checkId(id);
    const epoch = checkStep(loss.epoch, 'epoch');
    if (typeof loss.trainLoss !== 'number') throw new StoreError('INVALID', 'trainLoss must be a number');
    if (loss.valLoss !== null && typeof loss.valLoss !== 'number') throw new StoreError('INVALID', 'valLoss must be a number or null');
    this.writeActive(id, 'losses', () => {
      this.stmts.upsertPoint.run(id, LOSS_KEYS.train, epoch, encodeReal(loss.trainLoss));
      if (loss.valLoss === null) this.stmts.deletePoint.run(id, LOSS_KEYS.val, epoch);
      else this.stmts.upsertPoint.run(id, LOSS_KEYS.val, epoch, encodeReal(loss.valLoss));
    });
  }

  /** Records the value of the per-step series `key` at `step` (e.g. a metric per epoch); the same step again replaces it. Only for active runs. */
  appendSeries(id: number, key: string, step: number, value: number): void {
    checkId(id);
    checkSeriesKey(key);
    checkStep(step, 'step');
    if (typeof value !== 'number') throw new StoreError('INVALID', `the value of series ${key} must be a number`);
    this.writeActive(id, `series ${key}`, () => this.stmts.upsertPoint.run(id, key, step, encodeReal(value)));
  }

  /** The points of a run's series `key`, by step (none for an unknown run or key, or in a history older than series). */
  getSeries(id: number, key: string): { step: number; value: number }[] {
    checkId(id);
    checkSeriesKey(key);
    if (this.schemaVersion < SERIES_SCHEMA) return [];
    const rows = this.read(() => this.stmts.getSeries.all(id, key) as SeriesRow[]);
    return rows.map((r) => ({ step: r.step, value: r.value === null ? Number.NaN : decodeReal(r.value) }));
  }

  /** Runs `fn` in a write transaction on a run that must still be active (queued or running). */
  private writeActive(id: number, what: string, fn: () => void): void {
    this.write(() => {
      const status = this.statusOf(id);
      if (status !== 'running' && status !== 'queued')
        throw new StoreError('RUN_ENDED', `run ${id} is already ${status}; cannot append ${what}`);
      fn();
    });
  }

  setBackend(id: number, backend: string): void {
    checkId(id);
    checkString(backend, 'backend');
    this.write(() => {
      this.statusOf(id);
      this.stmts.setBackend.run(backend, id);
    });
  }

  /** Merges `artifacts` (name → path) into the run's artifacts; allowed on ended runs too (figures made later). */
  setArtifacts(id: number, artifacts: RunArtifacts): void {
    checkId(id);
    checkRecordOfStrings(artifacts, 'artifacts');
    this.write(() => {
      const row = this.stmts.getArtifacts.get(id) as { artifacts: string } | undefined;
      if (!row) throw new StoreError('NOT_FOUND', `run ${id} does not exist in ${this.path}`);
      const merged = { ...decodeJson<Record<string, string>>(row.artifacts), ...artifacts };
      this.stmts.setArtifacts.run(encodeJson(merged, 'artifacts'), id);
    });
  }

  /** Stores the result and marks the run completed, all in one transaction. Throws on unknown or ended runs. */
  completeRun(id: number, result: RunResult): RunRecord {
    checkId(id);
    if (!result || typeof result !== 'object') throw new StoreError('INVALID', 'completeRun needs a result');
    if (!(result.assignments instanceof Int32Array)) throw new StoreError('INVALID', 'result.assignments must be an Int32Array');
    if (result.metrics == null || typeof result.metrics !== 'object') throw new StoreError('INVALID', 'result.metrics must be an object');
    if (result.evaluation == null || typeof result.evaluation !== 'object')
      throw new StoreError('INVALID', 'result.evaluation must be an object');
    if (result.artifacts !== undefined) checkRecordOfStrings(result.artifacts, 'result.artifacts');
    const metrics = encodeJson(result.metrics, 'metrics');
    const evaluation = encodeJson(result.evaluation, 'evaluation');
    const timings = encodeJson(result.timings ?? {}, 'timings');
    const blob = encodeAssignments(result.assignments);
    this.write(() => {
      const status = this.statusOf(id);
      if (status !== 'running' && status !== 'queued') {
        throw new StoreError('RUN_ENDED', `run ${id} is already ${status}; it cannot be completed`);
      }
      const current = this.stmts.getArtifacts.get(id) as { artifacts: string };
      const artifacts = encodeJson({ ...decodeJson<Record<string, string>>(current.artifacts), ...(result.artifacts ?? {}) }, 'artifacts');
      this.stmts.upsertAssignments.run(id, blob);
      this.stmts.complete.run({ id, endedAt: new Date().toISOString(), metrics, evaluation, timings, artifacts });
    });
    return this.getRun(id)!;
  }

  /** Marks an active run failed. Returns false (and changes nothing) if the run is unknown or already ended. */
  failRun(id: number, error: string): boolean {
    return this.endRun(id, 'failed', String(error ?? 'failed'));
  }

  /** Marks an active run cancelled. Returns false (and changes nothing) if the run is unknown or already ended. */
  cancelRun(id: number, reason?: string): boolean {
    return this.endRun(id, 'cancelled', reason ?? null);
  }

  private endRun(id: number, status: 'failed' | 'cancelled', error: string | null): boolean {
    checkId(id);
    return this.write(() => this.stmts.end.run({ id, status, error, endedAt: new Date().toISOString() }).changes > 0);
  }

  getRun(id: number, opts: { withAssignments?: boolean } = {}): RunRecord | undefined {
    checkId(id);
    return this.read(() => {
      const row = this.stmts.getRun.get(id) as RunRow | undefined;
      if (!row) return undefined;
      const rec = this.toRecord(row);
      if (opts.withAssignments) {
        const a = this.stmts.getAssignments.get(id) as { data: Buffer } | undefined;
        rec.assignments = a ? decodeAssignments(a.data) : null;
      }
      return rec;
    });
  }

  /** Runs (with their losses, without assignments), newest first by default. */
  listRuns(filter: ListRunsFilter = {}): RunRecord[] {
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
    let sql = `SELECT ${this.columns} FROM runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at ${dir}, id ${dir}`;
    if (filter.limit !== undefined || filter.offset !== undefined) {
      const limit = filter.limit ?? -1;
      const offset = filter.offset ?? 0;
      if (!Number.isSafeInteger(limit) || limit < -1) throw new StoreError('INVALID', `limit must be a non-negative integer`);
      if (!Number.isSafeInteger(offset) || offset < 0) throw new StoreError('INVALID', `offset must be a non-negative integer`);
      sql += ' LIMIT ? OFFSET ?';
      args.push(limit, offset);
    }
    return this.read(() => (this.conn.prepare(sql).all(...args) as RunRow[]).map((r) => this.toRecord(r)));
  }

  /**
   * Deletes a run with its series, assignments and files (its folder in the history's artifacts folder). Returns false
   * if there was no such run; refuses (RUN_ACTIVE) a run that is still queued or running with a live owner: its job
   * would fail writing to a run that is gone. The row goes first: a folder that cannot be removed is named in one line
   * (FILES_LEFT), and never belongs to another run (ids are not reused).
   */
  deleteRun(id: number): boolean {
    checkId(id);
    const deleted = this.write(() => {
      const run = this.stmts.owner.get(id) as OwnerRow | undefined;
      if (!run) return false;
      if (ACTIVE_STATUSES.includes(run.status) && !this.isStale(run)) {
        throw new StoreError('RUN_ACTIVE', `run ${id} is still ${run.status}: cancel it first`);
      }
      return this.stmts.deleteRun.run(id).changes > 0;
    });
    if (deleted) this.removeRunFolders([id]);
    return deleted;
  }

  /** Removes the folders of deleted runs, each tried; FILES_LEFT names the first that could not go. */
  private removeRunFolders(ids: number[]): void {
    const left = ids.flatMap((id) => {
      try {
        removeRunFolder(this.path, id);
        return [];
      } catch (e) {
        return [{ id, why: (e as Error).message }];
      }
    });
    if (left.length === 0) return;
    const more = left.length > 1 ? ` (and ${left.length - 1} more)` : '';
    throw new StoreError('FILES_LEFT', `run ${left[0].id} was deleted, but ${left[0].why}${more}: remove it by hand`);
  }

  // ---- Sweeps (schema 4): a planned set of runs; its children are ordinary runs linked by sweep_id / sweep_child.

  createSweep(sweep: NewSweep): SweepRecord {
    const status = sweep.status ?? 'queued';
    if (!SWEEP_STATUSES.includes(status)) throw new StoreError('INVALID', `unknown sweep status '${String(status)}'`);
    const row = {
      uid: sweep.uid === undefined ? newUid() : checkString(sweep.uid, 'uid'),
      name: sweep.name ?? null,
      task: checkString(sweep.task, 'task'),
      base: encodeJson(sweep.base, 'base'),
      grid: encodeJson(sweep.grid, 'grid'),
      seeds: encodeJson(sweep.seeds, 'seeds'),
      status,
      createdAt: new Date().toISOString(),
    };
    const id = this.write(() => Number(this.sweepSql('insert').run(row).lastInsertRowid));
    return this.getSweep(id)!;
  }

  getSweep(id: number): SweepRecord | undefined {
    checkId(id);
    if (this.schemaVersion < SWEEPS_SCHEMA) return undefined;
    const row = this.sweepSql('get').get(id) as SweepRow | undefined;
    return row && toSweepRecord(row);
  }

  getSweepByUid(uid: string): SweepRecord | undefined {
    if (this.schemaVersion < SWEEPS_SCHEMA) return undefined;
    const row = this.sweepSql('getByUid').get(uid) as SweepRow | undefined;
    return row && toSweepRecord(row);
  }

  /** Every sweep, newest first (none in a read-only history older than sweeps). */
  listSweeps(): SweepRecord[] {
    if (this.schemaVersion < SWEEPS_SCHEMA) return [];
    return (this.sweepSql('list').all() as SweepRow[]).map(toSweepRecord);
  }

  /**
   * Sets a sweep's state; a final state records its end time, an active one clears it (a resumed sweep). Any state but
   * 'running' also ends its claim.
   */
  setSweepStatus(id: number, status: SweepStatus): void {
    checkId(id);
    if (!SWEEP_STATUSES.includes(status)) throw new StoreError('INVALID', `unknown sweep status '${String(status)}'`);
    this.write(() => {
      if (!this.setSweepState(id, status)) throw new StoreError('NOT_FOUND', `sweep ${id} does not exist in ${this.path}`);
    });
  }

  /** Within a write: sets the state (see setSweepStatus); false when there is no such sweep. */
  private setSweepState(id: number, status: SweepStatus): boolean {
    const endedAt = FINAL_SWEEP_STATUSES.includes(status) ? new Date().toISOString() : null;
    if (this.sweepSql('setStatus').run({ id, status, endedAt }).changes === 0) return false;
    if (status !== 'running') this.sweepSql('release').run(id);
    return true;
  }

  /**
   * Claims a sweep for this process and marks it running, in one write transaction: refused (RUN_ACTIVE, one line)
   * while another live process holds it or one of its runs is live; a claim whose owner is gone (its process on this
   * host, or no beat for STALE_AFTER_MS) is taken over. The claimer then beats (beatSweep) until endSweep.
   */
  claimSweep(id: number): SweepRecord {
    checkId(id);
    this.write(() => {
      const holder = this.liveHolder(this.claimOf(id));
      if (holder) throw new StoreError('RUN_ACTIVE', `sweep ${id} is already running (${holder}): cancel it first or wait for it to end`);
      this.sweepSql('claim').run({ id, pid: process.pid, host: this.host, now: this.now() });
    });
    return this.getSweep(id)!;
  }

  /**
   * The claimer's heartbeat, called often (it says whether to go on): a read, and a write only once a beat is due
   * (HEARTBEAT_INTERVAL_MS), so that frequent checks never wait for another process's write lock.
   */
  beatSweep(id: number): SweepBeat {
    checkId(id);
    const claim = this.read(() => this.sweepSql('claimOf').get(id) as SweepClaimRow | undefined);
    if (!claim) return 'deleted';
    if (!this.ownsClaim(claim)) return 'taken-over';
    const now = this.now();
    if (claim.heartbeat_at === null || now - claim.heartbeat_at >= HEARTBEAT_INTERVAL_MS)
      this.write(() => this.sweepSql('beat').run({ id, now, pid: process.pid, host: this.host }));
    return claim.cancel_requested ? 'cancel-requested' : 'owned';
  }

  /** Records how a sweep this process holds ended, and ends the claim; false (nothing changed) when it holds it no more. */
  endSweep(id: number, status: SweepStatus): boolean {
    checkId(id);
    if (!FINAL_SWEEP_STATUSES.includes(status)) throw new StoreError('INVALID', `a sweep cannot end '${String(status)}'`);
    return this.write(() => {
      const claim = this.sweepSql('claimOf').get(id) as SweepClaimRow | undefined;
      return claim !== undefined && this.ownsClaim(claim) && this.setSweepState(id, status);
    });
  }

  /**
   * Cancels a running (or queued) sweep from any process: a live claim is asked to cancel (its runner stops before its
   * next child and cancels the running one); a sweep whose process is gone is marked cancelled here. Refuses
   * (RUN_ACTIVE) a sweep whose live run belongs to no sweep runner (a Slurm task): only its own process can stop it.
   */
  cancelSweep(id: number): SweepCancel {
    checkId(id);
    return this.write(() => {
      const claim = this.claimOf(id);
      if (claim.status !== 'running' && claim.status !== 'queued') return 'not-running';
      if (claim.owner_pid !== null && !this.isStale(claim)) {
        this.sweepSql('requestCancel').run(id);
        return 'requested';
      }
      const holder = this.liveHolder(claim);
      if (holder) throw new StoreError('RUN_ACTIVE', `sweep ${id} cannot be cancelled from here (${holder}, outside a sweep runner)`);
      this.setSweepState(id, 'cancelled');
      return 'cancelled';
    });
  }

  /** A sweep's claim; NOT_FOUND when there is no such sweep. */
  private claimOf(id: number): SweepClaimRow {
    const claim = this.sweepSql('claimOf').get(id) as SweepClaimRow | undefined;
    if (!claim) throw new StoreError('NOT_FOUND', `sweep ${id} does not exist in ${this.path}`);
    return claim;
  }

  private ownsClaim(claim: Owner): boolean {
    return claim.owner_pid === process.pid && claim.owner_host === this.host;
  }

  /** What keeps a sweep running, in words ("process 12 on host", "run 7 is running"), or null when nothing live does. */
  private liveHolder(claim: SweepClaimRow): string | null {
    if (claim.owner_pid !== null && !this.isStale(claim)) return `process ${claim.owner_pid} on ${claim.owner_host}`;
    const run = (this.sweepSql('activeChildren').all(claim.id) as OwnerRow[]).find((r) => !this.isStale(r));
    return run ? `run ${run.id} is ${run.status}` : null;
  }

  /** A sweep's child runs (with their losses), by child index, older runs of a child first. */
  sweepRuns(id: number): RunRecord[] {
    checkId(id);
    if (this.schemaVersion < SWEEPS_SCHEMA) return [];
    return this.read(() =>
      (this.conn.prepare(`SELECT ${this.columns} FROM runs WHERE sweep_id = ? ORDER BY sweep_child, id`).all(id) as RunRow[]).map((r) =>
        this.toRecord(r),
      ),
    );
  }

  /**
   * Deletes a sweep and (unless `deleteRuns` is false, which keeps them as runs of their own) its child runs. Refuses
   * (RUN_ACTIVE) while a live process holds it or one of its runs is active with a live owner. Returns the ids of the runs
   * deleted, with their files (see deleteRun), or null when there was no such sweep.
   */
  deleteSweep(id: number, options: { deleteRuns?: boolean } = {}): number[] | null {
    checkId(id);
    const deleted = this.write(() => {
      const claim = this.sweepSql('claimOf').get(id) as SweepClaimRow | undefined;
      if (!claim) return null;
      const holder = this.liveHolder(claim);
      if (holder) throw new StoreError('RUN_ACTIVE', `sweep ${id} is still running (${holder}): cancel it first`);
      const runIds = (this.sweepSql('childRunIds').all(id) as { id: number }[]).map((r) => r.id);
      const deleteRuns = options.deleteRuns ?? true;
      if (deleteRuns) for (const runId of runIds) this.stmts.deleteRun.run(runId);
      this.sweepSql('remove').run(id); // kept runs lose their link (ON DELETE SET NULL)
      return deleteRuns ? runIds : [];
    });
    if (deleted) this.removeRunFolders(deleted);
    return deleted;
  }

  /** Whether an active run's owner is gone (see liveness.ts). */
  private isStale(run: Owner): boolean {
    return isStale(run, this.now(), this.host);
  }

  /** Marks failed ('interrupted') every active run whose owner is gone (see isStale). Returns the ids marked. */
  recoverStaleRuns(): number[] {
    return this.write(() => {
      const stale = (this.stmts.active.all() as OwnerRow[]).filter((r) => this.isStale(r));
      const endedAt = new Date().toISOString();
      for (const r of stale) this.stmts.end.run({ id: r.id, status: 'failed', error: INTERRUPTED, endedAt });
      return stale.map((r) => r.id);
    });
  }

  /**
   * Marks interrupted every running sweep whose process is gone (its claim stale, none of its runs live; run after
   * recoverStaleRuns): settled from its children when each has ended, else cancelled, so that it can be resumed.
   */
  recoverStaleSweeps(): number[] {
    return this.write(() => {
      const stale = (this.sweepSql('runningClaims').all() as SweepClaimRow[]).filter((c) => this.liveHolder(c) === null);
      for (const claim of stale) this.setSweepState(claim.id, this.interruptedStatus(claim));
      return stale.map((c) => c.id);
    });
  }

  /** How an interrupted sweep ended: as its children did when each has ended, else cancelled (resumable). */
  private interruptedStatus(claim: SweepClaimRow): SweepStatus {
    const planned = sweepRunCount(decodeJson<SweepGrid>(claim.grid), decodeJson<number[]>(claim.seeds).length);
    const statuses = (this.sweepSql('latestChildStatuses').all(claim.id) as { status: RunStatus }[]).map((r) => r.status);
    return settledSweepStatus(planned, statuses) ?? 'cancelled';
  }

  /** Moves this history's old-layout artifact folders into its own (see legacy-artifacts.ts); returns what it left. */
  private relocateLegacyArtifacts(): string[] {
    const legacyRoot = join(dirname(this.path), 'artifacts', 'run-');
    const rows = this.stmts.legacyRuns.all(JSON.stringify(legacyRoot).slice(1, -1)) as {
      id: number;
      started_at: string;
      ended_at: string | null;
      artifacts: string;
    }[];
    const runs: LegacyRun[] = rows.map((r) => ({
      id: r.id,
      startedAt: r.started_at,
      endedAt: r.ended_at ?? r.started_at,
      artifacts: decodeJson<RunArtifacts>(r.artifacts),
    }));
    return relocateLegacyArtifacts(this.path, runs, (id, artifacts) => this.setArtifacts(id, artifacts));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private toRecord(row: RunRow): RunRecord {
    return toRecord(row, this.stmts.getLosses.all(row.id) as LossRow[]);
  }
}
