/**
 * Whether the owner of an active run is still alive. A running run's owner beats (updates its heartbeat) every few
 * seconds; a run whose owner stopped beating, or whose owner process on this host is gone, is taken for dead (its
 * run is recovered as failed, and may be deleted).
 */
import { checkId } from './checks';
import type { HistoryDb } from './history-db';
import type { RunStatements } from './queries';
import type { RunStatus } from './types';

/** The error recorded on runs whose owner process died without ending them. */
export const INTERRUPTED = 'interrupted';
/** How often a running run's owner updates its heartbeat. */
export const HEARTBEAT_INTERVAL_MS = 5_000;
/** A run whose heartbeat is older than this is taken for dead, whatever host wrote it. */
export const STALE_AFTER_MS = 120_000;

/** Who holds an active run or sweep: its process (pid on host) and when it last beat. */
export interface Owner {
  owner_pid: number | null;
  owner_host: string | null;
  heartbeat_at: number | null;
}

/** What a run's liveness is decided from. */
export interface OwnerRow extends Owner {
  id: number;
  status: RunStatus;
}

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

/**
 * An active run (or a sweep's claim) is stale (its owner is gone) when no owner is recorded (schema 1), its owner has
 * not beaten for STALE_AFTER_MS on whatever host, or its owner was another process on this host that no longer exists.
 */
export function isStale(run: Owner, now: number, host: string): boolean {
  if (run.owner_pid === null) return true;
  if (run.heartbeat_at === null || now - run.heartbeat_at > STALE_AFTER_MS) return true;
  return run.owner_host === host && run.owner_pid !== process.pid && !isProcessAlive(run.owner_pid);
}

/**
 * Calls `heartbeat` every `intervalMs` on a timer that never keeps the process alive, until stopped; `beat` also
 * beats (at most once per interval), for long loops that report progress without yielding to timers. A failed beat
 * (a busy or closed database) is skipped: the next one tries again, and a missed one only brings recovery closer.
 */
export function beatEvery(heartbeat: () => void, now: () => number, intervalMs: number): { beat: () => void; stop: () => void } {
  let last = now();
  const beatNow = (): void => {
    last = now();
    try {
      heartbeat();
    } catch {
      // see above: the next beat tries again
    }
  };
  const beat = (): void => {
    if (now() - last >= intervalMs) beatNow();
  };
  const timer = setInterval(beatNow, intervalMs);
  timer.unref?.();
  return { beat, stop: () => clearInterval(timer) };
}

/** The liveness of a history's runs: their owners' beats, and the recovery of the runs whose owner is gone. */
export class RunLiveness {
  constructor(
    private readonly history: HistoryDb,
    private readonly stmts: RunStatements,
  ) {}

  /** Whether an active run's (or a sweep claim's) owner is gone, now (see isStale). */
  isStale(owner: Owner): boolean {
    return isStale(owner, this.history.now(), this.history.host);
  }

  /** Records that the owner of an active run is alive (see STALE_AFTER_MS). */
  heartbeat(id: number): void {
    checkId(id);
    this.history.write(() => this.stmts.heartbeat.run(this.history.now(), id));
  }

  /** Beats for run `id` every `intervalMs` until stopped (see beatEvery). */
  keepAlive(id: number, intervalMs: number): { beat: () => void; stop: () => void } {
    return beatEvery(() => this.heartbeat(id), this.history.now, intervalMs);
  }

  /** Marks failed ('interrupted') every active run whose owner is gone. Returns the ids marked. */
  recoverStaleRuns(): number[] {
    return this.history.write(() => {
      const stale = (this.stmts.active.all() as OwnerRow[]).filter((r) => this.isStale(r));
      const endedAt = new Date().toISOString();
      for (const r of stale) this.stmts.end.run({ id: r.id, status: 'failed', error: INTERRUPTED, endedAt });
      return stale.map((r) => r.id);
    });
  }
}
