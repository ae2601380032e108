/**
 * Runs sweeps: submits a sweep's children one at a time to the engine host (its queue stays free for other runs),
 * each linked to its sweep and child index; later children whose encoder would be trained exactly like an earlier
 * completed child's reuse that encoder; a failed child is recorded and the sweep goes on; cancel stops it (the running
 * child is cancelled) and resume runs the children that are not completed. Used by the CLI and the contract alike.
 *
 * A sweep run here is claimed in the history (store.claimSweep) and beats while it runs, so that no other process runs
 * it at the same time, deletes it, or takes it for interrupted; another process cancels it through the history
 * (store.cancelSweep), which this runner sees at its next beat.
 */
import type { SweepChild, SweepDetail } from '../contract/index';
import { settledSweepStatus } from '../engine/schema/sweep-summary';
import { DEFAULT_DATASET } from '../engine/data/dataset';
import {
  encoderKey,
  planOfStored,
  planSweep,
  SweepPlanError,
  type SweepChildPlan,
  type SweepPlan,
  type SweepRequest,
} from '../engine/schema/sweep';
import { RunStore } from '../engine/store/index';
import type { RunRecord, RunStatus, SweepBeat, SweepStatus } from '../engine/store/types';
import { cancelSweepElsewhere, getSweepDetail, recordSweep, requireSweep } from './sweeps';
import { latestRuns, sweepDetail } from './sweep-views';
import { QueueFullError, type EngineHost, type Job } from './worker/host';

/** Sweeps running or waiting in one service at most: a client cannot fill the engine's queue with sweeps. */
export const MAX_ACTIVE_SWEEPS = 4;
/** How often a sweep run here beats its claim and looks for a cancel asked by another process. */
export const SWEEP_WATCH_MS = 1000;

export interface SweepRunnerOptions {
  host: EngineHost;
  dbPath?: string;
  /** After every child's start and end and every change of a sweep's state. */
  onUpdate?: (detail: SweepDetail) => void;
  /** When a child has ended (completed, failed or cancelled). */
  onChildEnded?: (child: SweepChild, detail: SweepDetail) => void;
  /** How long to wait before submitting again when the host's queue is full (default 1 s). */
  queueRetryMs?: number;
  /** Sweeps running or waiting here at most (default MAX_ACTIVE_SWEEPS); one more is refused as queue-full. */
  maxActive?: number;
  /** How often a sweep run here beats and looks for a cancel asked elsewhere (default SWEEP_WATCH_MS). */
  watchMs?: number;
}

/** A sweep that stopped because it was deleted, or taken over by another process, while it ran here. */
export class SweepLostError extends Error {
  override name = 'SweepLostError';
}

interface Active {
  cancelled: boolean;
  /** Set when the sweep was deleted or taken over meanwhile: the runner stops and records nothing more. */
  lost?: 'deleted' | 'taken-over';
  jobId?: string;
  /** The connection that holds the claim: beats, and records how the sweep ended. */
  claim: RunStore;
  done: Promise<SweepDetail>;
}

/**
 * Every data set the sweep's runs name must be in the history (or be the built-in one): an unknown name is refused
 * when the sweep is planned, before it is stored, not once per child.
 */
function checkDatasetsExist(store: RunStore, plan: SweepPlan): void {
  const inGrid = plan.grid.some(([param]) => param === 'dataset');
  for (const name of new Set(plan.children.map((child) => child.params.dataset))) {
    if (name !== DEFAULT_DATASET && !store.getDataset(name))
      throw new SweepPlanError(
        `dataset: no data set named '${name}' (see clusterbench datasets list)${inGrid ? ` (grid dataset=${name})` : ''}`,
      );
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SweepRunner {
  private readonly active = new Map<number, Active>();
  /** The children's jobs on the host → their sweep: one 'created' listener serves them all. */
  private readonly childJobs = new Map<Job, number>();

  constructor(private readonly options: SweepRunnerOptions) {}

  /** Opens the history for one step and always closes it. */
  withStore<T>(fn: (store: RunStore) => T, recoverStale = false): T {
    const store = RunStore.open(this.options.dbPath, { recoverStale });
    try {
      return fn(store);
    } finally {
      store.close();
    }
  }

  /** A stored sweep's detail; `recoverStale` first marks sweeps and runs whose process is gone as interrupted. */
  detail(id: number, recoverStale = false): SweepDetail {
    return this.withStore((store) => getSweepDetail(store, id), recoverStale);
  }

  isRunning(id: number): boolean {
    return this.active.has(id);
  }

  /** Validates (a SweepPlanError says what is wrong, nothing is stored), stores the sweep and starts running it. */
  start(request: SweepRequest & { name?: string | null }): { sweepId: number; done: Promise<SweepDetail> } {
    const plan = planSweep(request);
    this.checkCapacity();
    const sweep = this.withStore((store) => {
      checkDatasetsExist(store, plan);
      return recordSweep(store, { plan, name: request.name ?? null });
    });
    return { sweepId: sweep.id, done: this.launch(sweep.id) };
  }

  /**
   * Runs the children of a stored sweep that are pending, failed or cancelled. Returns null when there is nothing to
   * run; refuses (one line) a sweep being run here or by another live process (see store.claimSweep).
   */
  resume(id: number): Promise<SweepDetail> | null {
    if (this.active.has(id)) throw new Error(`sweep #${id} is already running`);
    const detail = this.withStore((store) => {
      const sweep = requireSweep(store, id);
      store.assertWritable();
      return sweepDetail(sweep, store.sweepRuns(id));
    }, true);
    if (detail.children.every((c) => c.state === 'completed')) {
      if (detail.status !== 'completed') this.settleCompleted(id);
      return null;
    }
    this.checkCapacity();
    return this.launch(id);
  }

  /** Records a sweep whose every child has completed as completed (claimed for that write: refused while live elsewhere). */
  private settleCompleted(id: number): void {
    this.withStore((store) => {
      store.claimSweep(id);
      store.endSweep(id, 'completed');
    });
    this.update(id);
  }

  /**
   * Cancels a sweep: one run here has its running child cancelled and ends 'cancelled'; one run by another live process
   * is asked to (through the history); one left running by a process that is gone is marked 'cancelled'. False for a
   * sweep that is not running.
   */
  cancel(id: number): boolean {
    const active = this.active.get(id);
    if (!active) return this.cancelElsewhere(id);
    active.cancelled = true;
    if (active.jobId) this.options.host.cancel(active.jobId);
    return true;
  }

  private cancelElsewhere(id: number): boolean {
    const outcome = this.withStore((store) => cancelSweepElsewhere(store, id));
    if (outcome === 'cancelled') this.update(id);
    return outcome !== 'not-running';
  }

  /** Refuses one more sweep (queue-full) while MAX_ACTIVE_SWEEPS run or wait here. */
  private checkCapacity(): void {
    const max = this.options.maxActive ?? MAX_ACTIVE_SWEEPS;
    if (this.active.size >= max)
      throw new QueueFullError(`${max} sweeps are already running or waiting: wait for one to end, or cancel one`);
  }

  /** Cancels every sweep run here and waits until each has recorded its state. */
  async cancelAll(): Promise<void> {
    const running = [...this.active.entries()];
    for (const [id] of running) this.cancel(id);
    await Promise.all(running.map(([, a]) => a.done.catch(() => undefined)));
  }

  /** Claims the sweep (refused in one line while another live process runs it) and runs it, beating until it ends. */
  private launch(id: number): Promise<SweepDetail> {
    const claim = RunStore.open(this.options.dbPath, { recoverStale: false });
    try {
      claim.claimSweep(id);
    } catch (err) {
      claim.close();
      throw err;
    }
    const active: Active = { cancelled: false, claim, done: Promise.resolve(undefined as never) };
    this.active.set(id, active);
    const watch = setInterval(() => this.checkClaim(id, active), this.options.watchMs ?? SWEEP_WATCH_MS);
    watch.unref?.();
    active.done = this.drive(id, active).finally(() => {
      clearInterval(watch);
      claim.close();
      this.active.delete(id);
    });
    active.done.catch(() => undefined); // callers that only follow the updates must not get unhandled rejections
    return active.done;
  }

  /** Beats the sweep's claim; a cancel asked elsewhere cancels it here; a sweep deleted or taken over stops. */
  private checkClaim(id: number, active: Active): void {
    let beat: SweepBeat;
    try {
      beat = active.claim.beatSweep(id);
    } catch {
      return; // a busy database: the next beat tries again, and a missed one only brings staleness closer
    }
    if (beat === 'cancel-requested' && !active.cancelled) this.cancel(id);
    if ((beat === 'deleted' || beat === 'taken-over') && !active.lost) {
      active.lost = beat;
      if (active.jobId) this.options.host.cancel(active.jobId);
    }
  }

  private lostError(id: number, lost: NonNullable<Active['lost']>): SweepLostError {
    return new SweepLostError(
      lost === 'deleted'
        ? `sweep #${id} was deleted while it ran; its remaining children were not run`
        : `sweep #${id} was taken over by another process; this one stopped`,
    );
  }

  /** Records how the sweep ended, while this process still holds it (else it was lost meanwhile). */
  private end(id: number, active: Active, status: SweepStatus): void {
    if (active.claim.endSweep(id, status)) this.update(id);
    else active.lost ??= active.claim.getSweep(id) ? 'taken-over' : 'deleted';
  }

  private update(id: number): SweepDetail {
    const detail = this.detail(id);
    this.options.onUpdate?.(detail);
    return detail;
  }

  /** Runs the sweep, then records how it ended; a sweep deleted or taken over meanwhile ends in one line. */
  private async drive(id: number, active: Active): Promise<SweepDetail> {
    try {
      await this.runChildren(id, active);
      if (!active.lost) this.end(id, active, active.cancelled ? 'cancelled' : this.endStatus(id));
    } catch (err) {
      this.checkClaim(id, active); // the error may come from the sweep having gone
      if (!active.lost) this.end(id, active, 'failed');
      if (!active.lost) throw err;
    }
    if (active.lost) throw this.lostError(id, active.lost);
    return this.detail(id);
  }

  /** Runs the sweep's unfinished children in plan order, until the end, a cancel, or the sweep is lost. */
  private async runChildren(id: number, active: Active): Promise<void> {
    const { sweep, runs } = this.withStore((store) => ({ sweep: store.getSweep(id)!, runs: store.sweepRuns(id) }));
    const plan = planOfStored(sweep);
    const latest = latestRuns(runs);
    /** Encoder key → the run whose trained encoder later children with that key reuse. */
    const encoders = new Map<string, number>();
    this.update(id);
    for (const child of plan.children) {
      this.checkClaim(id, active); // a cancel asked elsewhere, or a deletion, since the last child
      if (active.cancelled || active.lost) return;
      const key = encoderKey(child.params);
      const earlier = latest.get(child.index);
      if (earlier?.status === 'completed') {
        if (key && !encoders.has(key) && earlier.artifacts.autoencoder) encoders.set(key, earlier.id);
        continue;
      }
      const reuse = key ? encoders.get(key) : undefined;
      const run = await this.runChild(id, child, reuse === undefined ? child.params : { ...child.params, reuseEncoder: reuse }, active);
      if (key && run?.status === 'completed' && !encoders.has(key) && run.artifacts.autoencoder) encoders.set(key, run.id);
      // A reused encoder that failed the child is not offered again: the next child with this key trains its own.
      if (key && reuse !== undefined && run?.status !== 'completed') encoders.delete(key);
    }
  }

  private endStatus(id: number): SweepStatus {
    const { children, runs } = this.detail(id);
    // Every child has had its turn: one still pending (no run could be made) counts as failed.
    return (
      settledSweepStatus(
        runs,
        children.map((c) => (c.state === 'pending' ? 'failed' : c.state)),
      ) ?? 'failed'
    );
  }

  /** Runs one child to its end; returns its run (null when the sweep was cancelled before the child had a run). */
  private async runChild(id: number, child: SweepChildPlan, params: object, active: Active): Promise<RunRecord | null> {
    const link = { sweepId: id, child: child.index };
    const { host } = this.options;
    let submitted: ReturnType<EngineHost['submit']> | undefined;
    while (!submitted) {
      if (active.cancelled) return null;
      try {
        submitted = host.submit(params, { sweep: link });
      } catch (err) {
        if ((err as Error).name !== 'QueueFullError') throw err;
        await sleep(this.options.queueRetryMs ?? 1000);
      }
    }
    const { job, result } = submitted;
    active.jobId = job.jobId;
    this.trackJob(job, id);
    let run: RunRecord | null;
    try {
      run = await result;
    } catch (err) {
      const cancelled = active.cancelled || (err as Error).name === 'CancelledError';
      // A child refused before its run existed (e.g. its reused encoder failed the checks) is recorded all the same.
      run =
        job.runId !== undefined
          ? this.withStore((store) => store.getRun(job.runId!) ?? null)
          : active.cancelled
            ? null
            : this.recordUnstarted(child, params, link, cancelled ? 'cancelled' : 'failed', (err as Error).message);
    } finally {
      this.untrackJob(job);
      active.jobId = undefined;
    }
    const detail = this.update(id);
    if (run) this.options.onChildEnded?.(detail.children[child.index], detail);
    return run;
  }

  /** Follows a child's job: its sweep is updated when its run is created. */
  private trackJob(job: Job, sweepId: number): void {
    if (this.childJobs.size === 0) this.options.host.on('created', this.onJobCreated);
    this.childJobs.set(job, sweepId);
  }

  private untrackJob(job: Job): void {
    this.childJobs.delete(job);
    if (this.childJobs.size === 0) this.options.host.off('created', this.onJobCreated);
  }

  private readonly onJobCreated = (job: Job): void => {
    const sweepId = this.childJobs.get(job);
    if (sweepId === undefined) return;
    try {
      this.update(sweepId);
    } catch {
      // only a progress update: the child runs on, and the next update says where it stands
    }
  };

  /** Stores a child that ended before its run could start as a failed (or cancelled) run with the reason. */
  private recordUnstarted(
    child: SweepChildPlan,
    params: object,
    link: { sweepId: number; child: number },
    status: Extract<RunStatus, 'failed' | 'cancelled'>,
    reason: string,
  ): RunRecord {
    return this.withStore((store) => {
      const run = store.createRun({
        task: child.params.task,
        params: { ...params },
        seed: child.params.seed,
        backend: child.params.backend,
        sweep: link,
      });
      if (status === 'failed') store.failRun(run.id, reason);
      else store.cancelRun(run.id, reason);
      return store.getRun(run.id)!;
    });
  }
}
