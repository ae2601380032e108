import { Option, type Command } from 'commander';
import { parseExperimentParams, TASKS } from '../../engine/schema/params';
import { EngineHost } from '../../service/worker/host';
import type { RunRecord } from '../../contract/index';
import { globals, printJson } from '../context';
import { lossTable, runReport } from '../format';
import { addParamOptions } from '../param-options';
import { createProgressReporter } from '../progress';
import { seedsArg } from '../sweep-driver';
import { runSeedsSweep } from './sweep';

/** The one JSON object `run --json` prints. */
export function runSummaryJson(run: RunRecord) {
  const ev = run.evaluation;
  return {
    id: run.id,
    task: run.task,
    params: run.params,
    backend: run.backend,
    status: run.status,
    dataset: run.dataset,
    metrics: run.metrics,
    mapping: ev?.mapping ?? null,
    confusion: ev?.confusion ?? null,
    report: ev
      ? { classNames: ev.classNames, perClass: ev.perClass, macroAvg: ev.macroAvg, weightedAvg: ev.weightedAvg, accuracy: ev.accuracy }
      : null,
    losses: run.losses,
    timings: run.timings,
  };
}

export function registerRunCommand(program: Command): void {
  const runCommand = program
    .command('run')
    .description('run an experiment: fit on the training images, evaluate on the test images, store the run')
    .addOption(new Option('--task <task>', 'experiment').choices([...TASKS]).makeOptionMandatory());
  const readParams = addParamOptions(runCommand);
  runCommand.option('--seeds <list>', 'run once per seed, e.g. 0,1,2 (a sweep): prints each run and the mean ± sd', seedsArg);
  runCommand.option('--json', 'print exactly one JSON object on stdout').action(async (opts, command: Command) => {
    const { json, task } = opts as Record<string, unknown>;
    const params = { task, ...readParams(opts) };
    if (opts.seeds) return runSeedsSweep(command, params, opts);
    parseExperimentParams(params); // reject bad parameters before starting anything
    const { db, data, wasmThreads } = globals(command);
    const progress = createProgressReporter();
    const host = new EngineHost({ dbPath: db, dataDir: data, wasmThreads });
    host.on('progress', (_job, event) => (event.phase === 'warning' ? progress.warn(String(event.message)) : progress.onProgress(event)));
    const { job, result } = host.submit(params);
    // Ctrl-C cancels the run cleanly (it is stored as cancelled); a second Ctrl-C exits at once.
    const onSigint = () => {
      process.stderr.write('\nCancelling…\n');
      host.cancel(job.jobId);
      process.once('SIGINT', () => process.exit(130));
    };
    process.once('SIGINT', onSigint);
    try {
      const run = await result;
      progress.stop();
      if (json) printJson(runSummaryJson(run));
      else if (run.losses.length > 0) process.stdout.write(`${lossTable(run)}\n\n${runReport(run)}\n`);
      else process.stdout.write(`${runReport(run)}\n`);
    } finally {
      progress.stop();
      process.off('SIGINT', onSigint);
      await host.close();
    }
  });
}
