import type Database from 'better-sqlite3';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { defaultDbPath } from '../paths';
import type { EvaluationReport } from '../metrics/types';
import {
  decodeAssignments,
  decodeJson,
  decodeJsonOrNull,
  decodeReal,
  encodeAssignments,
  encodeJson,
  encodeReal,
} from './codec';
import { openSqlite } from './driver';
import { StoreError } from './errors';
import { relocateLegacyArtifacts, type LegacyRun } from './legacy-artifacts';
import { checkDatabaseFolder, historyAccess, makeDatabaseFolder, type WritableCheck } from './location';
import { APPLICATION_ID, SCHEMA_VERSION, migrate, userVersion } from './migrations';
import type { DatasetInfo, EpochLoss, NewRun, RunRecord, RunResult, RunStatus, TaskName } from './types';

export const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];
export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'running'];
/** The error recorded on runs whose owner process died without ending them. */
export const INTERRUPTED = 'interrupted';
/** How often a running run's owner updates its heartbeat. */
export const HEARTBEAT_INTERVAL_MS = 5_000;
/** A run whose heartbeat is older than this is taken for dead, whatever host wrote it. */
export const STALE_AFTER_MS = 120_000;

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

interface RunRow {
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
}

/** What liveness is decided from. */
interface OwnerRow {
  id: number;
  status: RunStatus;
  owner_pid: number | null;
  owner_host: string | null;
  heartbeat_at: number | null;
}

interface LossRow {
  epoch: number;
  train_loss: unknown;
  val_loss: unknown;
}

/** The columns of a run record; all exist since schema 1, so read-only opens of older histories can read them. */
const RUN_COLUMNS = 'id, task, params, seed, dataset, backend, status, error, started_at, ended_at, metrics, evaluation, timings, artifacts';

/** True unless the process certainly does not exist (ESRCH). EPERM means it exists but is someone else's. */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function sqliteCode(e: unknown): string | undefined {
  return e && typeof e === 'object' && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function checkId(id: number): number {
  if (!Number.isSafeInteger(id) || id <= 0) throw new StoreError('INVALID', `invalid run id: ${String(id)}`);
  return id;
}

function checkFiniteInt(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new StoreError('INVALID', `${what} must be an integer, got ${String(n)}`);
  return n;
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

/** Opens an existing history read-only; SQLite cannot read a WAL database in place when it cannot create its -shm file. */
function openReadOnly(path: string, timeout: number): { db: Database.Database; snapshotNote?: string } {
  if (!existsSync(path)) throw new StoreError('CANNOT_OPEN', `there is no run history at ${path}`);
  const db = openSqlite(path, { readonly: true, fileMustExist: true, timeout });
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return { db };
  } catch (e) {
    db.close();
    if (!/^SQLITE_(CANTOPEN|READONLY)/.test(sqliteCode(e) ?? '')) throw e;
  }
  return { db: openSnapshot(path), snapshotNote: snapshotNote(path) };
}

/** An in-memory copy of the database file, switched to rollback-journal mode (an in-memory database cannot use WAL). */
function openSnapshot(path: string): Database.Database {
  const bytes = readFileSync(path);
  if (bytes.length >= 20) bytes[18] = bytes[19] = 1;
  return openSqlite(bytes, { readonly: true });
}

function snapshotNote(path: string): string | undefined {
  const wal = `${path}-wal`;
  return existsSync(wal) && statSync(wal).size > 0 ? `changes still in ${wal} are not shown` : undefined;
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
 * marked failed with error 'interrupted'; a live run cannot be deleted.
 *
 * A history whose file or folder cannot be written opens read-only: reads work, nothing is changed on open
 * (no WAL switch, migration or recovery), and every write fails with one line saying so.
 */
export class RunStore {
  readonly path: string;
  /** Ids of the runs this open marked failed/interrupted. */
  readonly recoveredRunIds: readonly number[];
  /** Why this store is read-only, or null when it can write. */
  readonly readOnlyReason: string | null;
  /** Things the user should know about this history (old-layout artifact folders left in place…), one line each. */
  readonly notices: readonly string[];
  private readonly db: Database.Database;
  private readonly host = hostname();
  private readonly now: () => number;
  private readonly stmts: ReturnType<RunStore['prepare']>;

  private constructor(path: string, db: Database.Database, options: RunStoreOptions, readOnlyReason: string | null) {
    this.path = path;
    this.db = db;
    this.now = options.now ?? Date.now;
    this.readOnlyReason = readOnlyReason;
    this.stmts = this.prepare();
    const writable = readOnlyReason === null;
    this.recoveredRunIds = writable && (options.recoverStale ?? true) ? this.recoverStaleRuns() : [];
    this.notices = writable ? this.relocateLegacyArtifacts() : [];
  }

  get readOnly(): boolean {
    return this.readOnlyReason !== null;
  }

  static open(file: string = defaultDbPath(), options: RunStoreOptions = {}): RunStore {
    const path = resolve(file);
    const access = options.readOnly ? { readOnly: true as const, reason: 'it was opened read-only' } : historyAccess(path, options.canWrite);
    return access.readOnly ? RunStore.openForReading(path, options, access.reason) : RunStore.openForWriting(path, options);
  }

  private static openForWriting(path: string, options: RunStoreOptions): RunStore {
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    if (!existsSync(path)) {
      checkDatabaseFolder(path, options.canWrite);
      try {
        makeDatabaseFolder(path);
      } catch (e) {
        throw new StoreError('CANNOT_OPEN', `cannot create the folder for the run database ${path}: ${(e as Error).message}`, { cause: e });
      }
    }
    let db: Database.Database;
    try {
      db = openSqlite(path, { timeout: busyTimeoutMs });
    } catch (e) {
      throw new StoreError('CANNOT_OPEN', `cannot open the run database ${path}: ${(e as Error).message}`, { cause: e });
    }
    return RunStore.checked(path, db, () => {
      RunStore.checkBeforeWriting(db, path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
      migrate(db);
      // Another process may have run a newer Clusterbench's migrations in between.
      const v = userVersion(db);
      if (v !== SCHEMA_VERSION) throw RunStore.futureVersion(path, v);
      return new RunStore(path, db, options, null);
    });
  }

  private static openForReading(path: string, options: RunStoreOptions, reason: string): RunStore {
    let opened: ReturnType<typeof openReadOnly>;
    try {
      opened = openReadOnly(path, options.busyTimeoutMs ?? 5000);
    } catch (e) {
      if (e instanceof StoreError) throw e;
      throw new StoreError('CANNOT_OPEN', `cannot open the run database ${path}: ${(e as Error).message}`, { cause: e });
    }
    const { db, snapshotNote } = opened;
    return RunStore.checked(path, db, () => {
      RunStore.checkBeforeWriting(db, path);
      if (userVersion(db) === 0) throw new StoreError('NOT_A_DATABASE', `${path} is empty: it holds no run history yet`);
      return new RunStore(path, db, options, snapshotNote ? `${reason} (${snapshotNote})` : reason);
    });
  }

  /** Runs the checks of a fresh connection; any failure closes it and becomes a StoreError naming the file. */
  private static checked(path: string, db: Database.Database, fn: () => RunStore): RunStore {
    try {
      return fn();
    } catch (e) {
      db.close();
      if (e instanceof StoreError) throw e;
      const code = sqliteCode(e);
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
        throw new StoreError('NOT_A_DATABASE', `${path} is not a valid SQLite run database (${(e as Error).message})`, { cause: e });
      }
      throw new StoreError('CANNOT_OPEN', `cannot open the run database ${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Read-only checks, done before anything (WAL switch, migrations) could modify the file. */
  private static checkBeforeWriting(db: Database.Database, path: string): void {
    const version = userVersion(db);
    if (version > SCHEMA_VERSION) throw RunStore.futureVersion(path, version);
    const appId = db.pragma('application_id', { simple: true }) as number;
    // Reading sqlite_master also detects damaged files whose header alone still looks valid.
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").get() as { n: number };
    if ((appId !== 0 && appId !== APPLICATION_ID) || (version === 0 && tables.n > 0)) {
      throw new StoreError('FOREIGN_DATABASE', `${path} is an SQLite database that does not belong to Clusterbench; refusing to modify it`);
    }
  }

  private static futureVersion(path: string, version: number): StoreError {
    return new StoreError(
      'FUTURE_VERSION',
      `${path} has schema version ${version}, newer than this Clusterbench understands (${SCHEMA_VERSION}); ` +
        'it was written by a newer version: upgrade Clusterbench or use another database file. The file was not modified.',
    );
  }

  private prepare() {
    return lazyStatements(() => this.conn, {
      insertRun: `INSERT INTO runs (task, params, seed, dataset, backend, status, started_at, artifacts, owner_pid, owner_host, heartbeat_at)
         VALUES (@task, @params, @seed, @dataset, @backend, @status, @startedAt, '{}', @pid, @host, @heartbeat)`,
      getRun: `SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`,
      getStatus: 'SELECT status FROM runs WHERE id = ?',
      getArtifacts: 'SELECT artifacts FROM runs WHERE id = ?',
      getLosses: 'SELECT epoch, train_loss, val_loss FROM run_losses WHERE run_id = ? ORDER BY epoch',
      getAssignments: 'SELECT data FROM run_assignments WHERE run_id = ?',
      upsertLoss: `INSERT INTO run_losses (run_id, epoch, train_loss, val_loss) VALUES (?, ?, ?, ?)
         ON CONFLICT (run_id, epoch) DO UPDATE SET train_loss = excluded.train_loss, val_loss = excluded.val_loss`,
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
      legacyRuns: `SELECT id, started_at, ended_at, artifacts FROM runs WHERE status NOT IN ('queued', 'running') AND instr(artifacts, ?) > 0`,
    });
  }

  private get conn(): Database.Database {
    if (!this.db.open) throw new StoreError('CLOSED', `the run database ${this.path} is closed`);
    return this.db;
  }

  /** Throws the one-line READ_ONLY error when this store cannot write (before long work that would end in a write). */
  assertWritable(): void {
    if (this.readOnlyReason !== null) throw new StoreError('READ_ONLY', `the run history ${this.path} is read-only: ${this.readOnlyReason}`);
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
    if (status !== 'running' && status !== 'queued') throw new StoreError('INVALID', `a new run must be 'running' or 'queued', not '${String(status)}'`);
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
    };
    const id = this.write(() => Number(this.stmts.insertRun.run(row).lastInsertRowid));
    return this.getRun(id)!;
  }

  /** Moves a queued run to 'running' (its start time becomes now). */
  startRun(id: number): void {
    checkId(id);
    this.write(() => {
      const status = this.statusOf(id);
      if (status === 'running') return;
      if (status !== 'queued') throw new StoreError('RUN_ENDED', `run ${id} is already ${status}; it cannot start`);
      this.conn.prepare("UPDATE runs SET status = 'running', started_at = ?, owner_pid = ?, owner_host = ?, heartbeat_at = ? WHERE id = ?").run(
        new Date().toISOString(),
        process.pid,
        this.host,
        this.now(),
        id,
      );
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
    let last = this.now();
    const beatNow = (): void => {
      last = this.now();
      try {
        this.heartbeat(id);
      } catch {
        // A busy or closed database: the next beat tries again; a missed one only brings recovery closer.
      }
    };
    const beat = (): void => {
      if (this.now() - last >= intervalMs) beatNow();
    };
    const timer = setInterval(beatNow, intervalMs);
    timer.unref?.();
    return { beat, stop: () => clearInterval(timer) };
  }

  /** Records one epoch's losses; reporting the same epoch again replaces it. Only for active runs. */
  appendLoss(id: number, loss: EpochLoss): void {
    checkId(id);
    const epoch = checkFiniteInt(loss.epoch, 'epoch');
    if (epoch < 0) throw new StoreError('INVALID', `epoch must be >= 0, got ${epoch}`);
    if (typeof loss.trainLoss !== 'number') throw new StoreError('INVALID', 'trainLoss must be a number');
    if (loss.valLoss !== null && typeof loss.valLoss !== 'number') throw new StoreError('INVALID', 'valLoss must be a number or null');
    this.write(() => {
      const status = this.statusOf(id);
      if (status !== 'running' && status !== 'queued') throw new StoreError('RUN_ENDED', `run ${id} is already ${status}; cannot append losses`);
      this.stmts.upsertLoss.run(id, epoch, encodeReal(loss.trainLoss), loss.valLoss === null ? null : encodeReal(loss.valLoss));
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
  setArtifacts(id: number, artifacts: Record<string, string>): void {
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
    if (result.evaluation == null || typeof result.evaluation !== 'object') throw new StoreError('INVALID', 'result.evaluation must be an object');
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
    let sql = `SELECT ${RUN_COLUMNS} FROM runs${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at ${dir}, id ${dir}`;
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
   * Deletes a run with its losses and assignments. Returns false if there was no such run; refuses (RUN_ACTIVE)
   * a run that is still queued or running with a live owner: its job would fail writing to a run that is gone.
   */
  deleteRun(id: number): boolean {
    checkId(id);
    return this.write(() => {
      const run = this.stmts.owner.get(id) as OwnerRow | undefined;
      if (!run) return false;
      if (ACTIVE_STATUSES.includes(run.status) && !this.isStale(run)) {
        throw new StoreError('RUN_ACTIVE', `run ${id} is still ${run.status}: cancel it first`);
      }
      return this.stmts.deleteRun.run(id).changes > 0;
    });
  }

  /**
   * An active run is stale (its owner is gone) when no owner is recorded (schema 1), its owner has not beaten for
   * STALE_AFTER_MS on whatever host, or its owner was another process on this host that no longer exists.
   */
  private isStale(run: OwnerRow): boolean {
    if (run.owner_pid === null) return true;
    if (run.heartbeat_at === null || this.now() - run.heartbeat_at > STALE_AFTER_MS) return true;
    return run.owner_host === this.host && run.owner_pid !== process.pid && !isProcessAlive(run.owner_pid);
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

  /** Moves this history's old-layout artifact folders into its own (see legacy-artifacts.ts); returns what it left. */
  private relocateLegacyArtifacts(): string[] {
    const legacyRoot = join(dirname(this.path), 'artifacts', 'run-');
    const rows = this.stmts.legacyRuns.all(JSON.stringify(legacyRoot).slice(1, -1)) as { id: number; started_at: string; ended_at: string | null; artifacts: string }[];
    const runs: LegacyRun[] = rows.map((r) => ({
      id: r.id, startedAt: r.started_at, endedAt: r.ended_at ?? r.started_at, artifacts: decodeJson<Record<string, string>>(r.artifacts),
    }));
    return relocateLegacyArtifacts(this.path, runs, (id, artifacts) => this.setArtifacts(id, artifacts));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private toRecord(row: RunRow): RunRecord {
    const losses = (this.stmts.getLosses.all(row.id) as LossRow[]).map<EpochLoss>((l) => ({
      epoch: l.epoch,
      trainLoss: l.train_loss === null ? Number.NaN : decodeReal(l.train_loss),
      valLoss: l.val_loss === null ? null : decodeReal(l.val_loss),
    }));
    return {
      id: row.id,
      task: row.task as TaskName,
      params: decodeJson<Record<string, unknown>>(row.params),
      seed: row.seed,
      backend: row.backend,
      dataset: decodeJsonOrNull<DatasetInfo>(row.dataset),
      status: row.status,
      error: row.error,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      metrics: decodeJsonOrNull<RunResult['metrics']>(row.metrics),
      evaluation: decodeJsonOrNull<EvaluationReport>(row.evaluation),
      timings: decodeJsonOrNull<Record<string, number>>(row.timings),
      artifacts: decodeJson<Record<string, string>>(row.artifacts),
      losses,
    };
  }
}
