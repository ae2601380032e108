import type { Command } from 'commander';
import { extname } from 'node:path';
import { RUN_ARRAY_ITEMS, type ExportedFile } from '../../contract/index';
import type { FigureFormat } from '../../contract/figure-export';
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

/** The figure format --out names by its extension: .svg, .png or .pdf, anything else refused before the run is read. */
function figureFormat(out: string): FigureFormat {
  const ext = extname(out).toLowerCase();
  if (ext === '.svg' || ext === '.png' || ext === '.pdf') return ext.slice(1) as FigureFormat;
  throw new CliError(`Cannot export a confusion matrix to "${out}": unsupported extension "${ext || '(none)'}" — use .svg, .png or .pdf`);
}

/** --size: "<width>x<height><unit>", e.g. 3.5x3.2in or 8.9x8cm. */
function figureSizeArg(text: string): { width: number; height: number; unit: 'in' | 'cm' } {
  const m = /^\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*(in|cm)\s*$/i.exec(text);
  if (!m) throw new CliError(`--size "${text}": write <width>x<height>in or …cm, e.g. 3.5x3.2in (one column) or 8.9x8cm`);
  return { width: Number(m[1]), height: Number(m[2]), unit: m[3].toLowerCase() as 'in' | 'cm' };
}

function numberArg(flag: string) {
  return (text: string): number => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) throw new CliError(`${flag} "${text}": must be a number`);
    return value;
  };
}

interface ConfusionFlags extends OutOptions {
  normalize?: boolean;
  title: boolean;
  classNames: boolean;
  size?: { width: number; height: number; unit: 'in' | 'cm' };
  dpi?: number;
  fontSize?: number;
}

export function registerExportCommands(program: Command): void {
  const exp = program.command('export').description('export figures and data (the files the app exports)');
  exp
    .command('confusion')
    .description("a run's confusion matrix as SVG, PNG or PDF (vector), titled with task, parameters and accuracy")
    .argument('<id>', 'run id', idArg)
    .requiredOption('--out <file>', 'output file, .svg, .png or .pdf')
    .option('--normalize', 'row %: each row as fractions of its true label (default: counts)')
    .option('--no-title', 'no title and subtitle (the caption says it)')
    .option('--no-class-names', 'number the classes 0 … C−1 on the axes instead of naming them')
    .option('--size <WxH unit>', 'physical size, e.g. 3.5x3.2in (one column) or 8.9x8cm', figureSizeArg)
    .option('--dpi <n>', 'PNG pixels per inch with --size (72–1200, default 300)', numberArg('--dpi'))
    .option('--font-size <pt>', 'base text size: pt with --size, else px (4–48; default 8 pt one column wide)', numberArg('--font-size'))
    .option(...FORCE_OPTION)
    .action(async (id: number, opts: ConfusionFlags, command: Command) => {
      const format = figureFormat(opts.out);
      if (opts.dpi !== undefined && !opts.size) throw new CliError('--dpi needs --size (the figure in inches or cm)');
      const request = {
        id,
        format,
        normalize: opts.normalize ?? false,
        title: opts.title,
        classNames: opts.classNames,
        ...(opts.size ? { size: { ...opts.size, dpi: opts.dpi ?? 300 } } : {}),
        ...(opts.fontSize !== undefined ? { fontSize: opts.fontSize } : {}),
      };
      await writeExport(await query(command, 'export.confusion', request), opts);
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
