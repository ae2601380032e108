/**
 * Runs sweeps: submits a sweep's children one at a time to the engine host (its queue stays free for other runs),
 * each linked to its sweep and child index; later children whose encoder would be trained exactly like an earlier
 * completed child's reuse that encoder; a failed child is recorded and the sweep goes on; cancel stops it (the running
 * child is cancelled) and resume runs the children that are not completed. Used by the CLI and the contract alike.
 */
import type { SweepChild, SweepDetail } from '../contract/index';
import { settledSweepStatus } from '../engine/experiments/sweepSummary';
import { encoderKey, planOfStored, planSweep, type SweepChildPlan, type SweepRequest } from '../engine/experiments/sweep';
import { RunStore } from '../engine/store/index';
import type { RunRecord, RunStatus, SweepStatus } from '../engine/store/types';
import { latestRuns, sweepDetail } from './sweepViews';
import type { EngineHost } from './worker/host';

export interface SweepRunnerOptions {
  host: EngineHost;
  dbPath?: string;
  /** After every child's start and end and every change of a sweep's state. */
  onUpdate?: (detail: SweepDetail) => void;
  /** When a child has ended (completed, failed or cancelled). */
  onChildEnded?: (child: SweepChild, detail: SweepDetail) => void;
  /** How long to wait before submitting again when the host's queue is full (default 1 s). */
  queueRetryMs?: number;
}

/** An error for a sweep that does not exist, mapped to the contract's 'not-found'. */
export class SweepNotFoundError extends Error {
  override name = 'NotFoundError';
}

interface Active {
  cancelled: boolean;
  jobId?: string;
  done: Promise<SweepDetail>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SweepRunner {
  private readonly active = new Map<number, Active>();

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

  detail(id: number): SweepDetail {
    return this.withStore((store) => {
      const sweep = store.getSweep(id);
      if (!sweep) throw new SweepNotFoundError(`No sweep #${id} in ${store.path}`);
      return sweepDetail(sweep, store.sweepRuns(id));
    });
  }

  isRunning(id: number): boolean {
    return this.active.has(id);
  }

  /** Validates (a SweepPlanError says what is wrong, nothing is stored), stores the sweep and starts running it. */
  start(request: SweepRequest & { name?: string | null }): { sweepId: number; done: Promise<SweepDetail> } {
    const plan = planSweep(request);
    const sweep = this.withStore((store) => {
      store.assertWritable();
      return store.createSweep({ name: request.name ?? null, task: plan.task, base: plan.base, grid: plan.grid, seeds: plan.seeds });
    });
    return { sweepId: sweep.id, done: this.launch(sweep.id) };
  }

  /**
   * Runs the children of a stored sweep that are pending, failed or cancelled. Returns null when there is nothing to
   * run; refuses a sweep being run here or (one of its runs active) by another process.
   */
  resume(id: number): Promise<SweepDetail> | null {
    if (this.active.has(id)) throw new Error(`sweep #${id} is already running`);
    const detail = this.withStore((store) => {
      const sweep = store.getSweep(id);
      if (!sweep) throw new SweepNotFoundError(`No sweep #${id} in ${store.path}`);
      store.assertWritable();
      return sweepDetail(sweep, store.sweepRuns(id));
    }, true);
    const live = detail.children.find((c) => c.state === 'running' || c.state === 'queued');
    if (live) throw new Error(`sweep #${id} is still running in another process (run #${live.run?.id} is ${live.state})`);
    if (detail.children.every((c) => c.state === 'completed')) {
      if (detail.status !== 'completed') this.setStatus(id, 'completed');
      return null;
    }
    return this.launch(id);
  }

  /**
   * Cancels a sweep: one run here has its running child cancelled and ends 'cancelled'; one left 'running' by a
   * process that is gone (none of its runs active) is marked 'cancelled'. False for a sweep that is not running.
   */
  cancel(id: number): boolean {
    const active = this.active.get(id);
    if (!active) return this.cancelOrphan(id);
    active.cancelled = true;
    if (active.jobId) this.options.host.cancel(active.jobId);
    return true;
  }

  private cancelOrphan(id: number): boolean {
    const orphan = this.withStore((store) => {
      const sweep = store.getSweep(id);
      if (!sweep) throw new SweepNotFoundError(`No sweep #${id} in ${store.path}`);
      if (sweep.status !== 'running' && sweep.status !== 'queued') return false;
      return !store.sweepRuns(id).some((run) => run.status === 'running' || run.status === 'queued');
    }, true);
    if (orphan) this.setStatus(id, 'cancelled');
    return orphan;
  }

  /** Cancels every sweep run here and waits until each has recorded its state. */
  async cancelAll(): Promise<void> {
    const running = [...this.active.entries()];
    for (const [id] of running) this.cancel(id);
    await Promise.all(running.map(([, a]) => a.done.catch(() => undefined)));
  }

  private launch(id: number): Promise<SweepDetail> {
    const active: Active = { cancelled: false, done: Promise.resolve(undefined as never) };
    this.active.set(id, active);
    active.done = this.drive(id, active).finally(() => this.active.delete(id));
    active.done.catch(() => undefined); // callers that only follow the updates must not get unhandled rejections
    return active.done;
  }

  private setStatus(id: number, status: SweepStatus): void {
    this.withStore((store) => store.setSweepStatus(id, status));
    this.update(id);
  }

  private update(id: number): SweepDetail {
    const detail = this.detail(id);
    this.options.onUpdate?.(detail);
    return detail;
  }

  /** Runs the sweep's unfinished children in plan order, then records how it ended. */
  private async drive(id: number, active: Active): Promise<SweepDetail> {
    const { sweep, runs } = this.withStore((store) => ({ sweep: store.getSweep(id)!, runs: store.sweepRuns(id) }));
    const plan = planOfStored(sweep);
    const latest = latestRuns(runs);
    /** Encoder key → the run whose trained encoder later children with that key reuse. */
    const encoders = new Map<string, number>();
    this.setStatus(id, 'running');
    try {
      for (const child of plan.children) {
        if (active.cancelled) break;
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
    } catch (err) {
      this.setStatus(id, 'failed');
      throw err;
    }
    this.setStatus(id, active.cancelled ? 'cancelled' : this.endStatus(id));
    return this.detail(id);
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
    const onCreated = (created: typeof job) => {
      if (created !== job) return;
      try {
        this.update(id);
      } catch {
        // only a progress update: the child runs on, and the next update says where it stands
      }
    };
    host.on('created', onCreated);
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
      host.off('created', onCreated);
      active.jobId = undefined;
    }
    const detail = this.update(id);
    if (run) this.options.onChildEnded?.(detail.children[child.index], detail);
    return run;
  }

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
