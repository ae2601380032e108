/**
 * `sweeps cancel ID`: cancels a sweep wherever it runs. The process running it (this history's claim) is asked through
 * the history: it stops before its next child and cancels the running one; this command waits for that, a while. A
 * sweep whose process is gone, or one queued for Slurm, is marked cancelled at once. Either way `sweeps resume` goes on.
 */
import type { Command } from 'commander';
import type { RunStore } from '../../service/history';
import type { SweepDetail } from '../../contract/index';
import { cancelSweepElsewhere, getSweepDetail } from '../../service/sweeps';
import { CliError, idArg } from '../args';
import { withStore } from '../context';

/** How long `sweeps cancel` waits for the process running the sweep to stop (its running child ends first). */
export const CANCEL_WAIT_MS = 60_000;
const POLL_MS = 200;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The sweep once it no longer runs, or as it is when `waitMs` has passed. */
async function untilStopped(store: RunStore, id: number, waitMs: number): Promise<SweepDetail> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const detail = getSweepDetail(store, id);
    if (detail.status !== 'running' || Date.now() >= deadline) return detail;
    await sleep(POLL_MS);
  }
}

function outcomeLine(detail: SweepDetail): string {
  const progress = `${detail.completed}/${detail.runs} runs completed`;
  if (detail.status === 'running')
    return `Asked the process running sweep #${detail.id} to cancel it; it has not stopped yet (${progress}): its running child ends first`;
  if (detail.status !== 'cancelled') return `Sweep #${detail.id} ended ${detail.status} before the cancel reached it (${progress})`;
  return `Cancelled sweep #${detail.id}: ${progress}; continue it with: clusterbench sweeps resume ${detail.id}`;
}

export async function cancelSweep(store: RunStore, id: number, waitMs = CANCEL_WAIT_MS): Promise<string> {
  const before = getSweepDetail(store, id);
  const outcome = cancelSweepElsewhere(store, id);
  if (outcome === 'not-running') throw new CliError(`sweep #${id} is not running (it is ${before.status})`);
  return outcomeLine(outcome === 'requested' ? await untilStopped(store, id, waitMs) : getSweepDetail(store, id));
}

/** Adds `cancel` to the `sweeps` command. */
export function registerSweepsCancelCommand(sweeps: Command): void {
  sweeps
    .command('cancel')
    .description('cancel a running sweep, in this process or another (its running child is cancelled; sweeps resume continues it)')
    .argument('<id>', 'sweep id', idArg)
    .action((id: number, _opts, command: Command) =>
      withStore(command, async (store) => {
        process.stdout.write(`${await cancelSweep(store, id)}\n`);
      }),
    );
}
