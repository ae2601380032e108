import type Database from 'better-sqlite3';
import { resolve } from 'node:path';
import type { DatasetRecord } from '../data/dataset';
import { defaultDbPath } from '../paths';
import { Datasets, type NewDataset, type UnreadableDataset } from './datasets';
import { HistoryDb } from './history-db';
import { HEARTBEAT_INTERVAL_MS, RunLiveness } from './liveness';
import { historyAccess, type WritableCheck } from './location';
import { userVersion } from './migrations';
import { openForReading, openForWriting } from './open';
import { runStatements, type ListRunsFilter } from './queries';
import { Runs } from './runs';
import { Sweeps } from './sweep-store';
import type {
  EpochLoss,
  NewRun,
  NewSweep,
  RunArtifacts,
  RunRecord,
  RunResult,
  SweepBeat,
  SweepCancel,
  SweepRecord,
  SweepStatus,
} from './types';

export { HEARTBEAT_INTERVAL_MS, INTERRUPTED, isProcessAlive, STALE_AFTER_MS } from './liveness';
export { ACTIVE_STATUSES, RUN_STATUSES, type ListRunsFilter } from './queries';

export interface RunStoreOptions {
  /** How long a statement waits for another connection's write lock (default DEFAULT_BUSY_TIMEOUT_MS, 30 s). */
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

/**
 * The run history: one SQLite database (WAL mode) shared by the desktop app and the CLI, possibly at the
 * same time from several processes. Every write is an IMMEDIATE transaction, so concurrent writers wait
 * for each other (up to the busy timeout) instead of failing, and readers are never blocked. This class is the
 * history's one API; its parts are the runs (runs.ts), the sweeps (sweep-store.ts) and the liveness of the runs'
 * owners (liveness.ts), on one connection (history-db.ts).
 *
 * State rules: a run is created 'running' (or 'queued'); it ends exactly once, as 'completed',
 * 'failed' or 'cancelled'. completeRun on an ended run throws (RUN_ENDED) so a result is never silently
 * dropped; failRun / cancelRun on an ended run are no-ops returning false (they are called from error and
 * shutdown paths, which must not throw over the original error). A run's files are the store's: deleting a run
 * removes its folder in the history's artifacts folder.
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
  private readonly history: HistoryDb;
  private readonly runs: Runs;
  private readonly sweeps: Sweeps;
  private readonly liveness: RunLiveness;
  private readonly datasets: Datasets;

  private constructor(path: string, db: Database.Database, options: RunStoreOptions, readOnlyReason: string | null) {
    this.path = path;
    this.readOnlyReason = readOnlyReason;
    this.history = new HistoryDb(path, db, options.now ?? Date.now, readOnlyReason);
    const schemaVersion = userVersion(db);
    const stmts = runStatements(() => this.history.conn, schemaVersion);
    this.liveness = new RunLiveness(this.history, stmts);
    this.runs = new Runs(this.history, stmts, this.liveness, schemaVersion);
    this.sweeps = new Sweeps(this.history, stmts, this.liveness);
    this.datasets = new Datasets(this.history);
    const writable = readOnlyReason === null;
    const recover = writable && (options.recoverStale ?? true);
    this.recoveredRunIds = recover ? this.recoverStaleRuns() : [];
    this.recoveredSweepIds = recover ? this.recoverStaleSweeps() : [];
    this.notices = writable ? this.runs.relocateLegacyArtifacts() : [];
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

  /** Throws the one-line READ_ONLY error when this store cannot write (before long work that would end in a write). */
  assertWritable(): void {
    this.history.assertWritable();
  }

  /** The current schema version (PRAGMA user_version). */
  get schemaVersion(): number {
    return this.history.schemaVersion;
  }

  close(): void {
    this.history.close();
  }

  // ---- Runs (runs.ts)

  createRun(run: NewRun, options: { status?: 'running' | 'queued' } = {}): RunRecord {
    return this.runs.create(run, options);
  }

  /** Moves a queued run to 'running' (its start time becomes now). */
  startRun(id: number): void {
    this.runs.start(id);
  }

  /** Records one epoch's losses; reporting the same epoch again replaces it (a null valLoss removing one). Only for active runs. */
  appendLoss(id: number, loss: EpochLoss): void {
    this.runs.appendLoss(id, loss);
  }

  /** Records the value of the per-step series `key` at `step` (a metric per epoch…); the same step again replaces it. Only for active runs. */
  appendSeries(id: number, key: string, step: number, value: number): void {
    this.runs.appendSeries(id, key, step, value);
  }

  /** The points of a run's series `key`, by step (none for an unknown run or key, or in a history older than series). */
  getSeries(id: number, key: string): { step: number; value: number }[] {
    return this.runs.series(id, key);
  }

  setBackend(id: number, backend: string): void {
    this.runs.setBackend(id, backend);
  }

  /** Merges `artifacts` (name → path) into the run's artifacts; allowed on ended runs too (figures made later). */
  setArtifacts(id: number, artifacts: RunArtifacts): void {
    this.runs.setArtifacts(id, artifacts);
  }

  /** Stores the result and marks the run completed, all in one transaction. Throws on unknown or ended runs. */
  completeRun(id: number, result: RunResult): RunRecord {
    return this.runs.complete(id, result);
  }

  /** Marks an active run failed. Returns false (and changes nothing) if the run is unknown or already ended. */
  failRun(id: number, error: string): boolean {
    return this.runs.end(id, 'failed', String(error ?? 'failed'));
  }

  /** Marks an active run cancelled. Returns false (and changes nothing) if the run is unknown or already ended. */
  cancelRun(id: number, reason?: string): boolean {
    return this.runs.end(id, 'cancelled', reason ?? null);
  }

  getRun(id: number, opts: { withAssignments?: boolean } = {}): RunRecord | undefined {
    return this.runs.get(id, opts);
  }

  /** Runs (with their losses, without assignments), newest first by default. */
  listRuns(filter: ListRunsFilter = {}): RunRecord[] {
    return this.runs.list(filter);
  }

  /**
   * Deletes a run with its series, assignments and files (its folder in the history's artifacts folder). Returns false
   * if there was no such run; refuses (RUN_ACTIVE) a run still queued or running with a live owner. A folder that
   * cannot be removed is named in one line (FILES_LEFT), the row already gone.
   */
  deleteRun(id: number): boolean {
    return this.runs.delete(id);
  }

  // ---- Liveness of the runs' owners (liveness.ts)

  /** Records that the owner of an active run is alive (see STALE_AFTER_MS). */
  heartbeat(id: number): void {
    this.liveness.heartbeat(id);
  }

  /**
   * Beats for run `id` every `intervalMs` on a timer that never keeps the process alive, until stopped; `beat`
   * also beats (at most once per interval), for long loops that report progress without yielding to timers.
   */
  keepAlive(id: number, intervalMs = HEARTBEAT_INTERVAL_MS): { beat: () => void; stop: () => void } {
    return this.liveness.keepAlive(id, intervalMs);
  }

  /** Marks failed ('interrupted') every active run whose owner is gone. Returns the ids marked. */
  recoverStaleRuns(): number[] {
    return this.liveness.recoverStaleRuns();
  }

  // ---- Sweeps (sweep-store.ts)

  createSweep(sweep: NewSweep): SweepRecord {
    return this.sweeps.create(sweep);
  }

  getSweep(id: number): SweepRecord | undefined {
    return this.sweeps.get(id);
  }

  getSweepByUid(uid: string): SweepRecord | undefined {
    return this.sweeps.getByUid(uid);
  }

  /** Every sweep, newest first (none in a read-only history older than sweeps). */
  listSweeps(): SweepRecord[] {
    return this.sweeps.list();
  }

  /** A sweep's child runs (with their losses), by child index, older runs of a child first. */
  sweepRuns(id: number): RunRecord[] {
    return this.runs.ofSweep(id);
  }

  /** Sets a sweep's state; a final state records its end time, an active one clears it (a resumed sweep). Any state but 'running' also ends its claim. */
  setSweepStatus(id: number, status: SweepStatus): void {
    this.sweeps.setStatus(id, status);
  }

  /**
   * Claims a sweep for this process and marks it running, in one write transaction: refused (RUN_ACTIVE, one line)
   * while another live process holds it or one of its runs is live; a claim whose owner is gone (its process on this
   * host, or no beat for STALE_AFTER_MS) is taken over. The claimer then beats (beatSweep) until endSweep.
   */
  claimSweep(id: number): SweepRecord {
    return this.sweeps.claim(id);
  }

  /** The claimer's heartbeat, called often (it says whether to go on); it writes only once a beat is due (HEARTBEAT_INTERVAL_MS). */
  beatSweep(id: number): SweepBeat {
    return this.sweeps.beat(id);
  }

  /** Records how a sweep this process holds ended, and ends the claim; false (nothing changed) when it holds it no more. */
  endSweep(id: number, status: SweepStatus): boolean {
    return this.sweeps.end(id, status);
  }

  /**
   * Cancels a running (or queued) sweep from any process: a live claim is asked to cancel (its runner stops before its
   * next child and cancels the running one); a sweep whose process is gone is marked cancelled here. Refuses
   * (RUN_ACTIVE) a sweep whose live run belongs to no sweep runner (a Slurm task): only its own process can stop it.
   */
  cancelSweep(id: number): SweepCancel {
    return this.sweeps.cancel(id);
  }

  /**
   * Deletes a sweep and (unless `deleteRuns` is false, which keeps them as runs of their own) its child runs with their
   * files. Refuses (RUN_ACTIVE) while a live process holds it or one of its runs is active with a live owner. Returns
   * the ids of the runs deleted, or null when there was no such sweep.
   */
  deleteSweep(id: number, options: { deleteRuns?: boolean } = {}): number[] | null {
    return this.sweeps.delete(id, options);
  }

  /** Marks interrupted every running sweep whose process is gone (after recoverStaleRuns); see sweep-store.ts. */
  recoverStaleSweeps(): number[] {
    return this.sweeps.recoverStale();
  }

  // ---- Data sets (datasets.ts)

  /**
   * Adds a data set's record (a fresh uid unless given; added now). Refuses (INVALID, one line) a name that is not a
   * data set name, the built-in one's, or one already taken, and a record the store would not read back the same.
   */
  addDataset(dataset: NewDataset): DatasetRecord {
    return this.datasets.add(dataset);
  }

  /** The data set of that name (case-sensitive); undefined when there is none (or the history is older than data sets). */
  getDataset(name: string): DatasetRecord | undefined {
    return this.datasets.get(name);
  }

  /** Every data set added to this history, by name (the built-in one is none of them); damaged rows apart, with why. */
  listDatasets(): { records: DatasetRecord[]; unreadable: UnreadableDataset[] } {
    return this.datasets.list();
  }

  /**
   * Removes a data set's record; the runs that used it keep what they recorded. Returns how many runs recorded it, or
   * null when there is no such data set; the built-in one is refused (INVALID).
   */
  removeDataset(name: string): { runs: number } | null {
    return this.datasets.remove(name);
  }

  /** How many runs recorded the data set `name` (with this content hash, when given; runs that recorded none count). */
  datasetRunCount(name: string, sha256?: string): number {
    return this.datasets.runCount(name, sha256);
  }
}
