// Runs a sweep from the CLI: the children through the engine worker, one line each as it ends, then the summary rows
// (or one JSON object); Ctrl-C cancels the sweep (`sweeps resume ID` continues it).
import { InvalidArgumentError, type Command } from 'commander';
import type { SweepDetail } from '../contract/index';
import type { SweepRequest } from '../engine/schema/sweep';
import { SweepRunner } from '../service/sweep-runner';
import { EngineHost } from '../service/worker/host';
import { CliError, decimalNumber } from './args';
import { globals, printJson } from './context';
import { createProgressReporter } from './progress';
import { childLine, sweepHeader, sweepRowsTable } from './sweep-format';

export type SweepStart = { request: SweepRequest & { name?: string | null } } | { resume: number };

/** "0,1,2" → [0, 1, 2], decimal only ("0x1" is not 1); each is checked by the seed's own schema when the sweep is planned. */
export function seedsArg(value: string): number[] {
  return value.split(',').map((part) => {
    const seed = decimalNumber(part.trim());
    if (seed === undefined) throw new InvalidArgumentError(`expected comma-separated seeds such as 0,1,2, got "${part.trim()}"`);
    return seed;
  });
}

/** Starts (or resumes) a sweep and follows it to its end; a sweep that did not complete ends the command non-zero. */
export async function driveSweep(command: Command, start: SweepStart, json: boolean | undefined): Promise<void> {
  const { db, data, wasmThreads } = globals(command);
  const progress = createProgressReporter();
  const host = new EngineHost({ dbPath: db, dataDir: data, wasmThreads });
  host.on('progress', (_job, event) => (event.phase === 'warning' ? progress.warn(String(event.message)) : progress.onProgress(event)));
  const runner = new SweepRunner({
    host,
    dbPath: db,
    onChildEnded: (child, detail) => {
      progress.stop();
      if (!json) process.stdout.write(`${childLine(child, detail.runs)}\n`);
    },
  });
  let sweepId: number | undefined;
  const onSigint = () => {
    process.stderr.write('\nCancelling the sweep…\n');
    if (sweepId !== undefined) runner.cancel(sweepId);
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  try {
    let done: Promise<SweepDetail> | null;
    if ('resume' in start) {
      sweepId = start.resume;
      done = runner.resume(sweepId);
      if (!done) return void process.stdout.write(`Sweep #${sweepId}: every child has completed; nothing to resume\n`);
    } else {
      ({ sweepId, done } = runner.start(start.request));
      if (!json) process.stdout.write(`Sweep #${sweepId}: ${runner.detail(sweepId).runs} runs\n`);
    }
    const detail = await done;
    progress.stop();
    if (json) printJson({ sweep: detail });
    else process.stdout.write(`\n${sweepHeader(detail)}\n${sweepRowsTable(detail)}\n`);
    if (detail.status === 'cancelled')
      throw Object.assign(new Error(`sweep #${detail.id} cancelled; continue it with: clusterbench sweeps resume ${detail.id}`), {
        name: 'CancelledError',
      });
    if (detail.status !== 'completed')
      throw new CliError(
        `sweep #${detail.id} ended ${detail.status}: ${detail.failed} of ${detail.runs} runs did not complete (see sweeps show ${detail.id})`,
      );
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
    await host.close();
  }
}
