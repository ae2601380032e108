// `export table`: the methods × data sets table of a sweep's runs or of chosen runs, to --out or stdout.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { extname } from 'node:path';
import {
  MAX_TABLE_RUNS,
  METHOD_TABLE_FORMATS,
  METHOD_TABLE_METRICS,
  type MethodTableFormat,
  type MethodTableMetric,
} from '../../engine/schema/method-table';
import { CliError, idArg } from '../args';
import { query } from '../context';
import { FORCE_OPTION, writeExport } from './export';

/** "--runs 3,5,8" → [3, 5, 8]. */
export function runIdsArg(value: string): number[] {
  const ids = value.split(',').map((part) => idArg(part.trim()));
  if (ids.length > MAX_TABLE_RUNS) throw new InvalidArgumentError(`at most ${MAX_TABLE_RUNS} runs, got ${ids.length}`);
  return ids;
}

const EXTENSIONS: Record<string, MethodTableFormat> = { '.csv': 'csv', '.md': 'md', '.markdown': 'md', '.tex': 'tex' };

/** --format, else what --out's extension names, else LaTeX. */
function tableFormat(format: MethodTableFormat | undefined, out: string | undefined): MethodTableFormat {
  if (format) return format;
  if (out === undefined) return 'tex';
  const ext = extname(out).toLowerCase();
  const named = EXTENSIONS[ext];
  if (!named) throw new CliError(`Cannot tell the format of "${out}" from "${ext || '(no extension)'}": add --format csv, md or tex`);
  return named;
}

interface TableOptions {
  sweep?: number;
  runs?: number[];
  metric: MethodTableMetric;
  format?: MethodTableFormat;
  out?: string;
  force?: boolean;
}

export function registerExportTableCommand(exp: Command): void {
  exp
    .command('table')
    .description(
      'the methods × data sets table (mean ± sample sd and n of a metric) of a sweep or of runs, as CSV, Markdown or LaTeX (booktabs)',
    )
    .option('--sweep <id>', "a sweep's runs (each child's latest)", idArg)
    .option('--runs <ids>', 'these runs, e.g. 3,5,8', runIdsArg)
    .addOption(new Option('--metric <name>', 'what the cells show').choices([...METHOD_TABLE_METRICS]).default('accuracy'))
    .addOption(new Option('--format <format>', "csv, md or tex (default: --out's extension, else tex)").choices([...METHOD_TABLE_FORMATS]))
    .option('--out <file>', 'output file (default: stdout)')
    .option(...FORCE_OPTION)
    .action(async (opts: TableOptions, command: Command) => {
      if ((opts.sweep === undefined) === (opts.runs === undefined))
        throw new CliError('export table needs either --sweep ID or --runs ID,ID,…');
      const format = tableFormat(opts.format, opts.out);
      const file = await query(command, 'export.methodTable', { sweep: opts.sweep, runs: opts.runs, metric: opts.metric, format });
      for (const note of file.notes) process.stderr.write(`clusterbench: note: ${note}\n`);
      if (opts.out === undefined) process.stdout.write(file.data);
      else await writeExport(file, { out: opts.out, force: opts.force });
    });
}
