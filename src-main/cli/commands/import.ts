/** `runs import FILE.sqlite…`: merges other run histories into this one (service/import-ops.ts); one line per file. */
import type { Command } from 'commander';
import { importHistories, type ImportResult } from '../../service/import-ops';
import { CliError } from '../args';
import { globals } from '../context';

function idRange(ids: number[]): string {
  if (ids.length === 0) return '';
  return ids.length === 1 ? ` (#${ids[0]})` : ` (#${ids[0]}–#${ids[ids.length - 1]})`;
}

/** "results/child-0.sqlite: 1 run imported (#7); sweep 3f2a… #2 (joined): completed". */
export function importLine(result: ImportResult): string {
  const n = result.runIds.length;
  const parts = [`${result.file}: ${n} run${n === 1 ? '' : 's'} imported${idRange(result.runIds)}`];
  for (const s of result.sweeps) {
    parts.push(`sweep #${s.id} ${s.name ? `"${s.name}" ` : ''}(${s.uid.slice(0, 8)}, ${s.joined ? 'joined' : 'new'}): ${s.status}`);
  }
  if (result.droppedReferences > 0)
    parts.push(`${result.droppedReferences} references to runs not in the file (a reused encoder, its files) removed`);
  return parts.join('; ');
}

function importFiles(files: string[], command: Command): void {
  const refused = importHistories(globals(command).db, files, {
    imported: (result) => process.stdout.write(`${importLine(result)}\n`),
    refused: (_file, error) => process.stderr.write(`clusterbench: ${error.message}\n`),
  });
  if (refused > 0) throw new CliError(`${refused} of ${files.length} files not imported (see above)`);
}

/** Adds `import` to the `runs` command. */
export function registerRunsImportCommand(runs: Command): void {
  runs
    .command('import')
    .description('merge other run databases (a cluster array’s results, a colleague’s history) into this one, with their files')
    .argument('<files...>', 'run databases (.sqlite) to import; each is imported whole or not at all')
    .action((files: string[], _opts, command: Command) => importFiles(files, command));
}
