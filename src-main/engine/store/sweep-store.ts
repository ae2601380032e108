/**
 * The sweeps of a history (schema 4): a planned set of runs, whose children are ordinary runs linked by sweep_id /
 * sweep_child. A running sweep is claimed by the process that runs it (schema 5), as a run is owned: a live claim
 * cannot be claimed again or deleted, a stale one is taken over, or on open marked interrupted.
 */
import { sweepRunCount } from '../schema/sweep';
import { settledSweepStatus } from '../schema/sweep-summary';
import { checkId, checkString } from './checks';
import { decodeJson, encodeJson } from './codec';
import { StoreError } from './errors';
import type { HistoryDb } from './history-db';
import { HEARTBEAT_INTERVAL_MS, type OwnerRow, type RunLiveness } from './liveness';
import { SWEEPS_SCHEMA, type RunStatements } from './queries';
import { removeRunFolders } from './run-files';
import {
  FINAL_SWEEP_STATUSES,
  newUid,
  SWEEP_STATUSES,
  sweepStatements,
  toSweepRecord,
  type SweepClaimRow,
  type SweepRow,
} from './sweep-queries';
import type { NewSweep, RunStatus, SweepBeat, SweepCancel, SweepGrid, SweepRecord, SweepStatus } from './types';

export class Sweeps {
  private readonly sql: ReturnType<typeof sweepStatements>;

  constructor(
    private readonly history: HistoryDb,
    private readonly runSql: RunStatements,
    private readonly liveness: RunLiveness,
  ) {
    this.sql = sweepStatements(() => history.conn);
  }

  /** Whether this history has sweeps (a read-only history older than schema 4 has none). */
  private get present(): boolean {
    return this.history.schemaVersion >= SWEEPS_SCHEMA;
  }

  create(sweep: NewSweep): SweepRecord {
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
    const id = this.history.write(() => Number(this.sql('insert').run(row).lastInsertRowid));
    return this.get(id)!;
  }

  get(id: number): SweepRecord | undefined {
    checkId(id);
    if (!this.present) return undefined;
    const row = this.sql('get').get(id) as SweepRow | undefined;
    return row && toSweepRecord(row);
  }

  getByUid(uid: string): SweepRecord | undefined {
    if (!this.present) return undefined;
    const row = this.sql('getByUid').get(uid) as SweepRow | undefined;
    return row && toSweepRecord(row);
  }

  list(): SweepRecord[] {
    if (!this.present) return [];
    return (this.sql('list').all() as SweepRow[]).map(toSweepRecord);
  }

  setStatus(id: number, status: SweepStatus): void {
    checkId(id);
    if (!SWEEP_STATUSES.includes(status)) throw new StoreError('INVALID', `unknown sweep status '${String(status)}'`);
    this.history.write(() => {
      if (!this.setState(id, status)) throw new StoreError('NOT_FOUND', `sweep ${id} does not exist in ${this.history.path}`);
    });
  }

  /** Within a write: sets the state (a final one records its end, any but 'running' ends the claim); false when there is no such sweep. */
  private setState(id: number, status: SweepStatus): boolean {
    const endedAt = FINAL_SWEEP_STATUSES.includes(status) ? new Date().toISOString() : null;
    if (this.sql('setStatus').run({ id, status, endedAt }).changes === 0) return false;
    if (status !== 'running') this.sql('release').run(id);
    return true;
  }

  claim(id: number): SweepRecord {
    checkId(id);
    this.history.write(() => {
      const holder = this.liveHolder(this.claimOf(id));
      if (holder) throw new StoreError('RUN_ACTIVE', `sweep ${id} is already running (${holder}): cancel it first or wait for it to end`);
      this.sql('claim').run({ id, pid: process.pid, host: this.history.host, now: this.history.now() });
    });
    return this.get(id)!;
  }

  /** A read, and a write only once a beat is due, so that frequent checks never wait for another process's write lock. */
  beat(id: number): SweepBeat {
    checkId(id);
    const claim = this.history.read(() => this.sql('claimOf').get(id) as SweepClaimRow | undefined);
    if (!claim) return 'deleted';
    if (!this.history.isThisProcess(claim)) return 'taken-over';
    const now = this.history.now();
    if (claim.heartbeat_at === null || now - claim.heartbeat_at >= HEARTBEAT_INTERVAL_MS)
      this.history.write(() => this.sql('beat').run({ id, now, pid: process.pid, host: this.history.host }));
    return claim.cancel_requested ? 'cancel-requested' : 'owned';
  }

  end(id: number, status: SweepStatus): boolean {
    checkId(id);
    if (!FINAL_SWEEP_STATUSES.includes(status)) throw new StoreError('INVALID', `a sweep cannot end '${String(status)}'`);
    return this.history.write(() => {
      const claim = this.sql('claimOf').get(id) as SweepClaimRow | undefined;
      return claim !== undefined && this.history.isThisProcess(claim) && this.setState(id, status);
    });
  }

  cancel(id: number): SweepCancel {
    checkId(id);
    return this.history.write(() => {
      const claim = this.claimOf(id);
      if (claim.status !== 'running' && claim.status !== 'queued') return 'not-running';
      if (claim.owner_pid !== null && !this.liveness.isStale(claim)) {
        this.sql('requestCancel').run(id);
        return 'requested';
      }
      const holder = this.liveHolder(claim);
      if (holder) throw new StoreError('RUN_ACTIVE', `sweep ${id} cannot be cancelled from here (${holder}, outside a sweep runner)`);
      this.setState(id, 'cancelled');
      return 'cancelled';
    });
  }

  /** A sweep's claim; NOT_FOUND when there is no such sweep. */
  private claimOf(id: number): SweepClaimRow {
    const claim = this.sql('claimOf').get(id) as SweepClaimRow | undefined;
    if (!claim) throw new StoreError('NOT_FOUND', `sweep ${id} does not exist in ${this.history.path}`);
    return claim;
  }

  /** What keeps a sweep running, in words ("process 12 on host", "run 7 is running"), or null when nothing live does. */
  private liveHolder(claim: SweepClaimRow): string | null {
    if (claim.owner_pid !== null && !this.liveness.isStale(claim)) return `process ${claim.owner_pid} on ${claim.owner_host}`;
    const run = (this.sql('activeChildren').all(claim.id) as OwnerRow[]).find((r) => !this.liveness.isStale(r));
    return run ? `run ${run.id} is ${run.status}` : null;
  }

  /** Deletes a sweep and (unless deleteRuns is false) its child runs with their files; the ids deleted, or null. */
  delete(id: number, options: { deleteRuns?: boolean }): number[] | null {
    checkId(id);
    const deleted = this.history.write(() => {
      const claim = this.sql('claimOf').get(id) as SweepClaimRow | undefined;
      if (!claim) return null;
      const holder = this.liveHolder(claim);
      if (holder) throw new StoreError('RUN_ACTIVE', `sweep ${id} is still running (${holder}): cancel it first`);
      const runIds = (this.sql('childRunIds').all(id) as { id: number }[]).map((r) => r.id);
      const deleteRuns = options.deleteRuns ?? true;
      if (deleteRuns) for (const runId of runIds) this.runSql.deleteRun.run(runId);
      this.sql('remove').run(id); // kept runs lose their link (ON DELETE SET NULL)
      return deleteRuns ? runIds : [];
    });
    if (deleted) removeRunFolders(this.history.path, deleted);
    return deleted;
  }

  /**
   * Marks interrupted every running sweep whose process is gone (its claim stale, none of its runs live; run after the
   * runs' recovery): settled from its children when each has ended, else cancelled, so that it can be resumed.
   */
  recoverStale(): number[] {
    return this.history.write(() => {
      const stale = (this.sql('runningClaims').all() as SweepClaimRow[]).filter((c) => this.liveHolder(c) === null);
      for (const claim of stale) this.setState(claim.id, this.interruptedStatus(claim));
      return stale.map((c) => c.id);
    });
  }

  /** How an interrupted sweep ended: as its children did when each has ended, else cancelled (resumable). */
  private interruptedStatus(claim: SweepClaimRow): SweepStatus {
    const planned = sweepRunCount(decodeJson<SweepGrid>(claim.grid), decodeJson<number[]>(claim.seeds).length);
    const statuses = (this.sql('latestChildStatuses').all(claim.id) as { status: RunStatus }[]).map((r) => r.status);
    return settledSweepStatus(planned, statuses) ?? 'cancelled';
  }
}
