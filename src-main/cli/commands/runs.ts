import type { Command } from 'commander';
import type { RunRecord, RunStore } from '../../engine/store/index';
import { printJson, withStore } from '../context';
import { compareTable, runReport, runsTable } from '../format';
import { CliError, idArg, numberArg } from '../args';
import { registerRunsImportCommand } from './import';

/** The result as JSON (--json), else as the text `format` makes of it. */
function print<T>(json: boolean | undefined, value: T, format: (value: T) => string): void {
  if (json) printJson(value);
  else process.stdout.write(`${format(value)}\n`);
}

function getRun(store: RunStore, id: number): RunRecord {
  const run = store.getRun(id);
  if (!run) throw new CliError(`No run #${id} in ${store.path}`);
  return run;
}

export function registerRunsCommands(program: Command): void {
  const runs = program.command('runs').description('the run history');

  runs
    .command('list')
    .description('list runs, newest first')
    .option('--task <task>', 'only this task')
    .option('--status <status>', 'only runs with this status')
    .option('--limit <n>', 'at most N runs', numberArg)
    .option('--json', 'print JSON')
    .action((opts, command: Command) =>
      withStore(command, (store) => {
        const list = store.listRuns({ task: opts.task, status: opts.status, limit: opts.limit });
        print(opts.json, list, runsTable);
      }),
    );

  runs
    .command('show')
    .description('show one run: parameters, mapping, classification report, confusion matrix')
    .argument('<id>', 'run id', idArg)
    .option('--json', 'print JSON')
    .action((id: number, opts, command: Command) =>
      withStore(command, (store) => {
        print(opts.json, getRun(store, id), runReport);
      }),
    );

  runs
    .command('compare')
    .description('parameters and metrics of several runs side by side, differences marked')
    .argument('<ids...>', 'two or more run ids')
    .option('--json', 'print JSON')
    .action((ids: string[], opts, command: Command) =>
      withStore(command, (store) => {
        const parsed = ids.map(idArg);
        if (parsed.length < 2) throw new CliError('compare needs at least two run ids');
        print(
          opts.json,
          parsed.map((id) => getRun(store, id)),
          compareTable,
        );
      }),
    );

  runs
    .command('delete')
    .description('delete a run and everything stored with it')
    .argument('<id>', 'run id', idArg)
    .action((id: number, _opts, command: Command) =>
      withStore(command, async (store) => {
        if (!store.deleteRun(id)) throw new CliError(`No run #${id} in ${store.path}`);
        process.stdout.write(`Deleted run #${id}\n`);
      }),
    );

  registerRunsImportCommand(runs);
}
