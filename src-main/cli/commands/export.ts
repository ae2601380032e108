import type { Command } from 'commander';
import { exportConfusion } from '../../engine/report/index';
import { withStore } from '../context';
import { CliError, idArg } from '../args';

/** The --force flag of every command that writes an --out file. */
export const FORCE_OPTION = ['--force', 'replace the --out file if it exists (never a link or a folder)'] as const;

/**
 * Writes an --out file (through writeFileAtomic, which refuses links, folders and devices and says why in one line);
 * a file already there is kept unless --force, and the refusal says how to replace it.
 */
export async function writeOut(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError(`${(err as Error).message} (add --force to replace it)`);
    throw err;
  }
}

export function registerExportCommands(program: Command): void {
  const exp = program.command('export').description('export figures');
  exp
    .command('confusion')
    .description("a run's confusion matrix as SVG or PNG, titled with task, parameters and accuracy")
    .argument('<id>', 'run id', idArg)
    .requiredOption('--out <file>', 'output file, .svg or .png')
    .option(...FORCE_OPTION)
    .action((id: number, opts: { out: string; force?: boolean }, command: Command) =>
      withStore(command, async (store) => {
        const run = store.getRun(id);
        if (!run) throw new CliError(`No run #${id} in ${store.path}`);
        await writeOut(() => exportConfusion(run, opts.out, { overwrite: opts.force ?? false }));
        process.stdout.write(`Wrote ${opts.out}\n`);
      }),
    );
}
