import type { Command } from 'commander';
import { exportConfusion } from '../../engine/report/index';
import { withStore } from '../context';
import { CliError, idArg } from '../args';

export function registerExportCommands(program: Command): void {
  const exp = program.command('export').description('export figures');
  exp
    .command('confusion')
    .description("a run's confusion matrix as SVG or PNG, titled with task, parameters and accuracy")
    .argument('<id>', 'run id', idArg)
    .requiredOption('--out <file>', 'output file, .svg or .png')
    .action((id: number, opts: { out: string }, command: Command) =>
      withStore(command, async (store) => {
        const run = store.getRun(id);
        if (!run) throw new CliError(`No run #${id} in ${store.path}`);
        await exportConfusion(run, opts.out);
        process.stdout.write(`Wrote ${opts.out}\n`);
      }),
    );
}
