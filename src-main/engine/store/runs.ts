/**
 * The runs of a history (see RunStore for the rules): created 'running' or 'queued', each ends exactly once, as
 * 'completed', 'failed' or 'cancelled'; their per-step series, results and files, and their deletion.
 */
import { dirname, join } from 'node:path';
import { decodeAssignments, decodeJson, decodeReal, encodeAssignments, encodeJson, encodeReal } from './codec';
import { checkFiniteInt, checkId, checkRecordOfStrings, checkStep, checkString } from './checks';
import { StoreError } from './errors';
import type { HistoryDb } from './history-db';
import { relocateLegacyArtifacts, type LegacyRun } from './legacy-artifacts';
import type { OwnerRow, RunLiveness } from './liveness';
import {
  ACTIVE_STATUSES,
  listRunsQuery,
  runColumns,
  SWEEPS_SCHEMA,
  toRecord,
  type ListRunsFilter,
  type LossRow,
  type RunRow,
  type RunStatements,
} from './queries';
import { removeRunFolders } from './run-files';
import { checkSeriesKey, LOSS_KEYS, SERIES_SCHEMA, type SeriesRow } from './series';
import { newUid } from './sweep-queries';
import type { EpochLoss, NewRun, RunArtifacts, RunRecord, RunResult, RunStatus } from './types';

/** A start time given by the caller: an ISO 8601 time (what Date.toISOString writes), else one clear error. */
function isoTime(value: unknown): string {
  if (typeof value !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value) || Number.isNaN(Date.parse(value)))
    throw new StoreError('INVALID', `startedAt must be an ISO 8601 UTC time, not ${JSON.stringify(value)}`);
  return value;
}

export class Runs {
  /** The run columns this history has (NULL for the sweep columns of a read-only pre-sweep history). */
  private readonly columns: string;

  constructor(
    private readonly history: HistoryDb,
    private readonly stmts: RunStatements,
    private readonly liveness: RunLiveness,
    schemaVersion: number,
  ) {
    this.columns = runColumns(schemaVersion);
  }

  private statusOf(id: number): RunStatus {
    const row = this.stmts.getStatus.get(id) as { status: RunStatus } | undefined;
    if (!row) throw new StoreError('NOT_FOUND', `run ${id} does not exist in ${this.history.path}`);
    return row.status;
  }

  create(run: NewRun, options: { status?: 'running' | 'queued' }): RunRecord {
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
      startedAt: run.startedAt === undefined ? new Date().toISOString() : isoTime(run.startedAt),
      pid: process.pid,
      host: this.history.host,
      heartbeat: this.history.now(),
      uid: run.uid === undefined ? newUid() : checkString(run.uid, 'uid'),
      sweepId: run.sweep ? checkId(run.sweep.sweepId) : null,
      sweepChild: run.sweep ? checkFiniteInt(run.sweep.child, 'sweep child') : null,
    };
    const id = this.history.write(() => {
      if (row.sweepId !== null && !this.stmts.sweepExists.get(row.sweepId))
        throw new StoreError('INVALID', `sweep ${row.sweepId} does not exist in ${this.history.path}`);
      return Number(this.stmts.insertRun.run(row).lastInsertRowid);
    });
    return this.get(id)!;
  }

  /** Moves a queued run to 'running' (its start time becomes now). */
  start(id: number): void {
    checkId(id);
    this.history.write(() => {
      const status = this.statusOf(id);
      if (status === 'running') return;
      if (status !== 'queued') throw new StoreError('RUN_ENDED', `run ${id} is already ${status}; it cannot start`);
      this.history.conn
        .prepare("UPDATE runs SET status = 'running', started_at = ?, owner_pid = ?, owner_host = ?, heartbeat_at = ? WHERE id = ?")
        .run(new Date().toISOString(), process.pid, this.history.host, this.history.now(), id);
    });
  }

  /** One epoch's losses: the series trainLoss and valLoss at that step, a null valLoss removing an earlier one. */
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

  appendSeries(id: number, key: string, step: number, value: number): void {
    checkId(id);
    checkSeriesKey(key);
    checkStep(step, 'step');
    if (typeof value !== 'number') throw new StoreError('INVALID', `the value of series ${key} must be a number`);
    this.writeActive(id, `series ${key}`, () => this.stmts.upsertPoint.run(id, key, step, encodeReal(value)));
  }

  series(id: number, key: string): { step: number; value: number }[] {
    checkId(id);
    checkSeriesKey(key);
    if (this.history.schemaVersion < SERIES_SCHEMA) return [];
    const rows = this.history.read(() => this.stmts.getSeries.all(id, key) as SeriesRow[]);
    return rows.map((r) => ({ step: r.step, value: r.value === null ? Number.NaN : decodeReal(r.value) }));
  }

  /** Runs `fn` in a write transaction on a run that must still be active (queued or running). */
  private writeActive(id: number, what: string, fn: () => void): void {
    this.history.write(() => {
      const status = this.statusOf(id);
      if (status !== 'running' && status !== 'queued')
        throw new StoreError('RUN_ENDED', `run ${id} is already ${status}; cannot append ${what}`);
      fn();
    });
  }

  setBackend(id: number, backend: string): void {
    checkId(id);
    checkString(backend, 'backend');
    this.history.write(() => {
      this.statusOf(id);
      this.stmts.setBackend.run(backend, id);
    });
  }

  setArtifacts(id: number, artifacts: RunArtifacts): void {
    checkId(id);
    checkRecordOfStrings(artifacts, 'artifacts');
    this.history.write(() => {
      const row = this.stmts.getArtifacts.get(id) as { artifacts: string } | undefined;
      if (!row) throw new StoreError('NOT_FOUND', `run ${id} does not exist in ${this.history.path}`);
      const merged = { ...decodeJson<Record<string, string>>(row.artifacts), ...artifacts };
      this.stmts.setArtifacts.run(encodeJson(merged, 'artifacts'), id);
    });
  }

  complete(id: number, result: RunResult): RunRecord {
    checkId(id);
    if (!result || typeof result !== 'object') throw new StoreError('INVALID', 'completeRun needs a result');
    if (!(result.assignments instanceof Int32Array)) throw new StoreError('INVALID', 'result.assignments must be an Int32Array');
    if (result.metrics == null || typeof result.metrics !== 'object') throw new StoreError('INVALID', 'result.metrics must be an object');
    if (result.evaluation === undefined || typeof result.evaluation !== 'object')
      throw new StoreError('INVALID', 'result.evaluation must be an object, or null for unlabelled data');
    if (result.artifacts !== undefined) checkRecordOfStrings(result.artifacts, 'result.artifacts');
    const metrics = encodeJson(result.metrics, 'metrics');
    const evaluation = result.evaluation === null ? null : encodeJson(result.evaluation, 'evaluation');
    const timings = encodeJson(result.timings ?? {}, 'timings');
    const blob = encodeAssignments(result.assignments);
    this.history.write(() => {
      const status = this.statusOf(id);
      if (status !== 'running' && status !== 'queued') {
        throw new StoreError('RUN_ENDED', `run ${id} is already ${status}; it cannot be completed`);
      }
      const current = this.stmts.getArtifacts.get(id) as { artifacts: string };
      const artifacts = encodeJson({ ...decodeJson<Record<string, string>>(current.artifacts), ...(result.artifacts ?? {}) }, 'artifacts');
      this.stmts.upsertAssignments.run(id, blob);
      this.stmts.complete.run({ id, endedAt: new Date().toISOString(), metrics, evaluation, timings, artifacts });
    });
    return this.get(id)!;
  }

  /** Ends an active run failed or cancelled; false (nothing changed) when it is unknown or already ended. */
  end(id: number, status: 'failed' | 'cancelled', error: string | null): boolean {
    checkId(id);
    return this.history.write(() => this.stmts.end.run({ id, status, error, endedAt: new Date().toISOString() }).changes > 0);
  }

  get(id: number, opts: { withAssignments?: boolean } = {}): RunRecord | undefined {
    checkId(id);
    return this.history.read(() => {
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

  list(filter: ListRunsFilter): RunRecord[] {
    const { sql, args } = listRunsQuery(this.columns, filter);
    return this.history.read(() => (this.history.conn.prepare(sql).all(...args) as RunRow[]).map((r) => this.toRecord(r)));
  }

  /** A sweep's child runs, by child index, older runs of a child first. */
  ofSweep(sweepId: number): RunRecord[] {
    checkId(sweepId);
    if (this.history.schemaVersion < SWEEPS_SCHEMA) return [];
    return this.history.read(() => (this.stmts.sweepRuns.all(sweepId) as RunRow[]).map((r) => this.toRecord(r)));
  }

  /**
   * Deletes a run with its series, assignments and files; false when there is no such run. A run still active with a
   * live owner is refused (RUN_ACTIVE): its job would fail writing to a run that is gone. The row goes first: a
   * folder that cannot be removed is named in one line (FILES_LEFT), and never belongs to another run (ids are not reused).
   */
  delete(id: number): boolean {
    checkId(id);
    const deleted = this.history.write(() => {
      const run = this.stmts.owner.get(id) as OwnerRow | undefined;
      if (!run) return false;
      if (ACTIVE_STATUSES.includes(run.status) && !this.liveness.isStale(run)) {
        throw new StoreError('RUN_ACTIVE', `run ${id} is still ${run.status}: cancel it first`);
      }
      return this.stmts.deleteRun.run(id).changes > 0;
    });
    if (deleted) removeRunFolders(this.history.path, [id]);
    return deleted;
  }

  /** Moves this history's old-layout artifact folders into its own (see legacy-artifacts.ts); returns what it left. */
  relocateLegacyArtifacts(): string[] {
    const { path } = this.history;
    const legacyRoot = join(dirname(path), 'artifacts', 'run-');
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
    return relocateLegacyArtifacts(path, runs, (id, artifacts) => this.setArtifacts(id, artifacts));
  }

  private toRecord(row: RunRow): RunRecord {
    return toRecord(row, this.stmts.getLosses.all(row.id) as LossRow[]);
  }
}
