// `export run ID --what …`: a run's arrays as .npy files (and CSV) in a folder with export.json, or as one .npz.
import { InvalidArgumentError, type Command } from 'commander';
import { lstatSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { RUN_ARRAY_ITEMS, type RunArrayItem } from '../../contract/index';
import { writeFileAtomic } from '../../engine/files';
import { csvOf, npyOf, runArrays } from '../../service/run-arrays';
import { CliError } from '../args';
import { query, withStore } from '../context';
import { writeExport, writeOut } from './export';

/** "codes,assignments" → ['codes', 'assignments']; "all" → undefined (everything the run has). */
export function runArrayItemsArg(value: string): RunArrayItem[] | 'all' {
  if (value.trim() === 'all') return 'all';
  return value.split(',').map((part) => {
    const item = part.trim();
    if (!(RUN_ARRAY_ITEMS as readonly string[]).includes(item))
      throw new InvalidArgumentError(`expected ${RUN_ARRAY_ITEMS.join(', ')} or all (comma-separated), got "${item}"`);
    return item as RunArrayItem;
  });
}

export interface ArraysOptions {
  out: string;
  what: RunArrayItem[] | 'all';
  csv?: boolean;
  force?: boolean;
}

/**
 * The folder the files go into: made when missing; an existing one must be a folder (not a link) and empty, unless
 * --force, which lets files of the names written here be replaced (anything else in it is left alone).
 */
function checkOutFolder(dir: string, force: boolean): void {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st) return;
  if (st.isSymbolicLink()) throw new CliError(`Cannot write into ${dir}: it is a symbolic link`);
  if (!st.isDirectory())
    throw new CliError(`Cannot write into ${dir}: it is not a folder (a run's arrays go into a folder, or a .npz file)`);
  if (!force && readdirSync(dir).length > 0)
    throw new CliError(`Cannot write into ${dir}: it is not empty (add --force to replace the files of the same names)`);
}

export async function exportRunArrays(command: Command, id: number, opts: ArraysOptions): Promise<void> {
  const what = opts.what === 'all' ? undefined : opts.what;
  if (extname(opts.out).toLowerCase() === '.npz') {
    if (opts.csv) throw new CliError('--csv writes CSV files into a folder: give --out a folder, not a .npz file');
    return writeExport(await query(command, 'export.runArrays', { id, what }), opts);
  }
  checkOutFolder(opts.out, opts.force ?? false);
  // every array is read and checked before the first file is written: a run missing one writes nothing
  const { written } = await withStore(command, async (store) => {
    const { arrays, manifest } = runArrays(store, id, what, opts.csv ?? false);
    const files: [string, Uint8Array][] = [];
    for (const array of arrays) {
      files.push([`${array.name}.npy`, npyOf(array)]);
      if (opts.csv) files.push([`${array.name}.csv`, csvOf(array)]);
    }
    files.push(['export.json', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)]);
    for (const [name, bytes] of files)
      await writeOut(() => writeFileAtomic(join(opts.out, name), bytes, { overwrite: opts.force ?? false }));
    return { written: files.map(([name]) => name) };
  });
  process.stdout.write(`Wrote ${written.join(', ')} in ${opts.out}\n`);
}
