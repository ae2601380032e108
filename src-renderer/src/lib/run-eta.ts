// How long a running run has left, as a whole: from the stored wall time of the latest completed run with the same
// settings (all but the seed). A phase's own ETA is not the run's; with no such run, or past its time, none is shown.
import type { RunSummary } from '@contract';
import { runDurationMs } from './format';

export interface RunEta {
  ms: number;
  /** The completed run the estimate comes from. */
  fromRun: number;
}

/** The settings that decide how long a run takes: every parameter but the seed, in a stable order. */
function settingsKey(task: string, params: Record<string, unknown>): string {
  const entries = Object.entries(params)
    .filter(([name, value]) => name !== 'seed' && value !== undefined)
    .sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([task, entries]);
}

/** The run's remaining time, or undefined when nothing tells it (no similar completed run, or already past its time). */
export function runEta(job: { runId?: number; startedAt?: number }, now: number, history: readonly RunSummary[]): RunEta | undefined {
  // the run's own row has its parameters in full (the job's are as submitted, defaults left out)
  const self = history.find((run) => run.id === job.runId);
  if (job.startedAt === undefined || !self) return undefined;
  const key = settingsKey(self.task, self.params);
  let basis: RunSummary | undefined;
  for (const run of history)
    if (run.status === 'completed' && run.id !== self.id && (!basis || run.id > basis.id) && settingsKey(run.task, run.params) === key)
      basis = run;
  const wall = basis ? runDurationMs(basis) : null;
  if (!basis || wall === null) return undefined;
  const left = wall - (now - job.startedAt);
  return left > 0 ? { ms: left, fromRun: basis.id } : undefined;
}
