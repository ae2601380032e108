/**
 * `sweeps run-child FILE.json --db FILE.sqlite`: what each task of an emitted Slurm array runs. It records the child's
 * sweep (same uid as in the emitting history) in its own run history and runs that one child there, linked to it;
 * `runs import` later merges the histories. Exits non-zero when the child does not complete, so Slurm marks the task.
 */
import type { Command } from 'commander';
import type { RunRecord } from '../../contract/index';
import { joinChildSweep, leaveChildSweep } from '../../service/slurm-child';
import { EngineHost } from '../../service/worker/host';
import { globals } from '../context';
import { createProgressReporter } from '../progress';
import { readChildFile, type ChildFile } from '../slurm/child-file';

function resultLine(child: ChildFile, run: RunRecord): string {
  const m = run.metrics;
  const scores = !m
    ? ''
    : m.accuracy !== undefined
      ? `: accuracy ${m.accuracy.toFixed(4)}, NMI ${m.nmi!.toFixed(4)}, ARI ${m.ari!.toFixed(4)}`
      : m.silhouette !== undefined
        ? `: silhouette ${m.silhouette.toFixed(4)} (unlabelled)`
        : '';
  const values = Object.entries(child.values)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
  return `child ${child.index} (${values}) of sweep ${child.sweep.uid}: run #${run.id} ${run.status}${scores}`;
}

async function runChild(file: string, command: Command): Promise<void> {
  const child = readChildFile(file);
  const { db, data, wasmThreads } = globals(command);
  const { sweepId, planned } = await joinChildSweep(db, child, file);
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
    await leaveChildSweep(db, sweepId);
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
