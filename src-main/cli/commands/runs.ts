import type { Command } from 'commander';
import { historyPath } from '../../service/history';
import { compareRuns, listRuns } from '../../service/runs';
import { globals, printJson, query, withStore } from '../context';
import { compareTable, runReport, runsTable } from '../format';
import { CliError, idArg, numberArg } from '../args';
import { registerRunsImportCommand } from './import';

/** The result as JSON (--json), else as the text `format` makes of it. */
function print<T>(json: boolean | undefined, value: T, format: (value: T) => string): void {
  if (json) printJson(value);
  else process.stdout.write(`${format(value)}\n`);
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
    .action((opts, command: Command) => withStore(command, (store) => print(opts.json, listRuns(store, opts), runsTable)));

  runs
    .command('show')
    .description('show one run: parameters, mapping, classification report, confusion matrix')
    .argument('<id>', 'run id', idArg)
    .option('--json', 'print JSON')
    .action(async (id: number, opts, command: Command) => print(opts.json, await query(command, 'runs.get', { id }), runReport));

  runs
    .command('compare')
    .description('parameters and metrics of several runs side by side, differences marked')
    .argument('<ids...>', 'two or more run ids')
    .option('--json', 'print JSON')
    .action((ids: string[], opts, command: Command) => {
      const parsed = ids.map(idArg);
      if (parsed.length < 2) throw new CliError('compare needs at least two run ids');
      // runs.compare takes at most four (a page's width); the CLI compares as many as asked, in the same way
      return withStore(command, (store) => print(opts.json, compareRuns(store, parsed), compareTable));
    });

  runs
    .command('delete')
    .description('delete a run and everything stored with it')
    .argument('<id>', 'run id', idArg)
    .action(async (id: number, _opts, command: Command) => {
      const { deleted } = await query(command, 'runs.delete', { id }); // the UI's delete: the run's row and its files
      if (!deleted) throw new CliError(`No run #${id} in ${historyPath(globals(command).db)}`);
      process.stdout.write(`Deleted run #${id}\n`);
    });

  registerRunsImportCommand(runs);
}
