import type { Command } from 'commander';
import { extname } from 'node:path';
import { RUN_ARRAY_ITEMS, type ExportedFile } from '../../contract/index';
import { writeExportedFile } from '../../service/exports';
import { query } from '../context';
import { CliError, idArg } from '../args';
import { exportRunArrays, runArrayItemsArg, type ArraysOptions } from './export-arrays';
import { registerExportTableCommand } from './export-table';

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

interface OutOptions {
  out: string;
  force?: boolean;
}

/** Writes a file one of the UI's export operations made to --out, and says so. */
export async function writeExport(file: ExportedFile, opts: OutOptions): Promise<void> {
  await writeOut(() => writeExportedFile(file, opts.out, { overwrite: opts.force ?? false }));
  process.stdout.write(`Wrote ${opts.out}\n`);
}

/** The figure format --out names by its extension: .svg or .png, anything else refused before the run is read. */
function figureFormat(out: string): 'svg' | 'png' {
  const ext = extname(out).toLowerCase();
  if (ext === '.svg') return 'svg';
  if (ext === '.png') return 'png';
  throw new CliError(`Cannot export a confusion matrix to "${out}": unsupported extension "${ext || '(none)'}" — use .svg or .png`);
}

export function registerExportCommands(program: Command): void {
  const exp = program.command('export').description('export figures and data (the files the app exports)');
  exp
    .command('confusion')
    .description("a run's confusion matrix as SVG or PNG, titled with task, parameters and accuracy")
    .argument('<id>', 'run id', idArg)
    .requiredOption('--out <file>', 'output file, .svg or .png')
    .option('--normalize', 'each row as fractions of its true label')
    .option(...FORCE_OPTION)
    .action(async (id: number, opts: OutOptions & { normalize?: boolean }, command: Command) => {
      const format = figureFormat(opts.out);
      await writeExport(await query(command, 'export.confusion', { id, format, normalize: opts.normalize ?? false }), opts);
    });
  exp
    .command('run')
    .description(
      "a run's whole record as JSON: parameters, metrics, evaluation, losses and its cluster assignments; " +
        'with --what, its arrays as .npy files (numpy.load) in the --out folder with export.json describing them',
    )
    .argument('<id>', 'run id', idArg)
    .requiredOption('--out <file>', 'output file (.json); with --what: a folder (made if missing, else empty), or a .npz file')
    .option(
      '--what <items>',
      `arrays to export, comma-separated: ${RUN_ARRAY_ITEMS.join(', ')}; or all (what the run has)`,
      runArrayItemsArg,
    )
    .option('--csv', 'with --what: a .csv beside each .npy')
    .option(...FORCE_OPTION)
    .action(async (id: number, opts: OutOptions & Partial<ArraysOptions>, command: Command) => {
      if (opts.what) return exportRunArrays(command, id, { ...opts, what: opts.what });
      if (opts.csv) throw new CliError('--csv needs --what (the arrays to write as CSV)');
      await writeExport(await query(command, 'export.runJson', { id }), opts);
    });
  exp
    .command('history')
    .description('every run of the history as CSV, oldest first: metrics, times and parameters')
    .requiredOption('--out <file>', 'output file (.csv)')
    .option(...FORCE_OPTION)
    .action(async (opts: OutOptions, command: Command) => writeExport(await query(command, 'export.historyCsv', {}), opts));
  registerExportTableCommand(exp);
}
