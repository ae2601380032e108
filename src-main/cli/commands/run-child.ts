/**
 * `sweeps run-child FILE.json --db FILE.sqlite`: what each task of an emitted Slurm array runs. It records the child's
 * sweep (same uid as in the emitting history) in its own run history and runs that one child there, linked to it;
 * `runs import` later merges the histories. Exits non-zero when the child does not complete, so Slurm marks the task.
 */
import type { Command } from 'commander';
import { planOfStored, type SweepChildPlan } from '../../engine/schema/sweep';
import { RunStore } from '../../engine/store/index';
import type { RunRecord } from '../../engine/store/types';
import { EngineHost } from '../../service/worker/host';
import { CliError } from '../args';
import { globals } from '../context';
import { createProgressReporter } from '../progress';
import { readChildFile, type ChildFile } from '../slurm/child-file';

/** JSON with object keys sorted: the same parameters compare equal whatever order they were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/** The child as the sweep's own plan makes it: a file whose parameters were edited would not be the sweep's child. */
function plannedChild(child: ChildFile, file: string): SweepChildPlan {
  const plan = planOfStored(child.sweep);
  const planned = plan.children[child.index];
  if (!planned) throw new CliError(`${file}: child ${child.index} is outside the sweep's ${plan.runs} runs`);
  if (canonical(planned.params) !== canonical(child.params))
    throw new CliError(`${file}: its params are not those the sweep plans for child ${child.index}; emit the sweep again`);
  return planned;
}

/**
 * The sweep in the child's history: joined by uid (another child ran into the same file), else created. Joined only
 * when it plans the very same runs (task, base parameters, grid, seeds): a child file edited since it was emitted is
 * not that sweep's child. (A first child in a fresh history has nothing to compare with: `runs import` compares it
 * with the emitting history's sweep.)
 */
function recordSweep(store: RunStore, child: ChildFile, file: string): number {
  const { sweep } = child;
  const here = store.getSweepByUid(sweep.uid);
  const planOf = (s: { task: string; base: unknown; grid: unknown; seeds: unknown }) => canonical([s.task, s.base, s.grid, s.seeds]);
  if (here && planOf(here) !== planOf(sweep))
    throw new CliError(
      `${file}: ${store.path} has a sweep ${sweep.uid} with other parameters (task, base, grid or seeds); emit the sweep again`,
    );
  const id = here?.id ?? store.createSweep({ ...sweep, task: sweep.task as RunRecord['task'], status: 'queued' }).id;
  store.setSweepStatus(id, 'running');
  return id;
}

function resultLine(child: ChildFile, run: RunRecord): string {
  const m = run.metrics;
  const scores = m ? `: accuracy ${m.accuracy.toFixed(4)}, NMI ${m.nmi.toFixed(4)}, ARI ${m.ari.toFixed(4)}` : '';
  const values = Object.entries(child.values)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
  return `child ${child.index} (${values}) of sweep ${child.sweep.uid}: run #${run.id} ${run.status}${scores}`;
}

async function runChild(file: string, command: Command): Promise<void> {
  const child = readChildFile(file);
  const planned = plannedChild(child, file);
  const { db, data, wasmThreads } = globals(command);
  const store = RunStore.open(db);
  let sweepId: number;
  try {
    sweepId = recordSweep(store, child, file);
  } finally {
    store.close();
  }
  const host = new EngineHost({ dbPath: db, dataDir: data, wasmThreads });
  const progress = createProgressReporter();
  host.on('progress', (_job, event) => (event.phase === 'warning' ? progress.warn(String(event.message)) : progress.onProgress(event)));
  // Slurm ends a task (time limit, scancel) with SIGTERM: the run is then stored as cancelled, not left running.
  let jobId: string | undefined;
  const cancel = () => jobId !== undefined && host.cancel(jobId);
  process.once('SIGTERM', cancel);
  process.once('SIGINT', cancel);
  try {
    const { job, result } = host.submit(planned.params, { sweep: { sweepId, child: child.index } });
    jobId = job.jobId;
    const run = await result;
    progress.stop();
    process.stdout.write(`${resultLine(child, run)}\n`);
  } finally {
    progress.stop();
    process.off('SIGTERM', cancel);
    process.off('SIGINT', cancel);
    await host.close();
    // The rest of the sweep runs elsewhere: here it is waiting for them (runs import settles it).
    const after = RunStore.open(db);
    try {
      after.setSweepStatus(sweepId, 'queued');
    } finally {
      after.close();
    }
  }
}

/** Adds `run-child` to the `sweeps` command. */
export function registerRunChildCommand(sweeps: Command): void {
  sweeps
    .command('run-child')
    .description('run one child of a sweep emitted with --emit slurm into its own run history (what each array task runs)')
    .argument('<child-file>', 'DIR/children/child-<i>.json, written by sweep … --emit slurm DIR')
    .action((file: string, _opts, command: Command) => runChild(file, command));
}
