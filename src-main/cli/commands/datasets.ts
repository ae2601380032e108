/**
 * `datasets add | list | show | remove`: the history's data sets, through the same service functions as the UI's
 * datasets.* operations. `add` checks its flags and the name before reading anything, reads the files completely
 * (progress on stderr when it is a terminal; Ctrl-C cancels and stores nothing), and prints what it stored.
 */
import cliProgress from 'cli-progress';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { DatasetDetail, DatasetEntry } from '../../contract/index';
import { DATASET_FORMATS, describeShape, MAX_IMAGE_SIDE, type DatasetRecord } from '../../engine/data/dataset';
import {
  addDataset,
  listDatasets,
  removalNote,
  removeDataset,
  requestProblem,
  showDataset,
  type AddDatasetRequest,
} from '../../service/datasets';
import { CliError, numberArg } from '../args';
import { globals, printJson, withStore } from '../context';
import { table } from '../format';

/** A side in pixels: a whole number from 1 to MAX_IMAGE_SIDE. */
function side(text: string, flag: string, value: string): number {
  const n = /^\d{1,7}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= MAX_IMAGE_SIDE))
    throw new InvalidArgumentError(`${flag} takes sides of 1 to ${MAX_IMAGE_SIDE} pixels, got "${value}"`);
  return n;
}

/** --size HxW (e.g. 32x32). */
export function sizeArg(value: string): { height: number; width: number } {
  const m = /^(\d+)[x×](\d+)$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`--size takes HxW, e.g. 32x32, got "${value}"`);
  return { height: side(m[1], '--size', value), width: side(m[2], '--size', value) };
}

/** --image-shape HxW[xC] (e.g. 28x28, 32x32x3). */
export function imageShapeArg(value: string): { height: number; width: number; channels: 1 | 3 } {
  const m = /^(\d+)[x×](\d+)(?:[x×](\d+))?$/i.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`--image-shape takes HxW or HxWxC, e.g. 28x28 or 32x32x3, got "${value}"`);
  const channels = m[3] === undefined ? 1 : Number(m[3]);
  if (channels !== 1 && channels !== 3) throw new InvalidArgumentError(`--image-shape takes 1 or 3 channels, got "${value}"`);
  return { height: side(m[1], '--image-shape', value), width: side(m[2], '--image-shape', value), channels };
}

/** --test-fraction F, strictly between 0 and 1. */
export function testFractionArg(value: string): number {
  const f = numberArg(value);
  if (!(f > 0 && f < 1)) throw new InvalidArgumentError(`--test-fraction takes a fraction strictly between 0 and 1, got "${value}"`);
  return f;
}

interface AddFlags {
  format?: AddDatasetRequest['format'];
  labels?: string;
  test?: string;
  testLabels?: string;
  testFraction?: number;
  size?: { height: number; width: number };
  grayscale?: boolean;
  rgb?: boolean;
  labelColumn?: 'first' | 'none';
  imageShape?: { height: number; width: number; channels: 1 | 3 };
  imagesOf?: string;
  json?: boolean;
}

/** The request the flags make; contradicting flags are one line, before anything is read. */
function requestOf(name: string, path: string, flags: AddFlags): AddDatasetRequest {
  const request: AddDatasetRequest = {
    name,
    path,
    format: flags.format,
    labels: flags.labels,
    test: flags.test,
    testLabels: flags.testLabels,
    testFraction: flags.testFraction,
    size: flags.size,
    channels: flags.grayscale ? 1 : flags.rgb ? 3 : undefined,
    labelColumn: flags.labelColumn,
    imageShape: flags.imageShape,
    imagesOf: flags.imagesOf,
  };
  const problem = requestProblem(request);
  if (problem) throw new CliError(problem);
  return request;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function rowsLine(counts: DatasetRecord['counts']): string {
  return counts.test === null
    ? `${plural(counts.train, 'row')} (one split: runs fit on and score them all)`
    : `${counts.train} train + ${counts.test} test rows`;
}

function classesLine(names: string[] | null): string {
  if (names === null) return 'unlabelled';
  const shown = names.slice(0, 12).join(', ') + (names.length > 12 ? ', …' : '');
  return `${plural(names.length, 'class', 'classes')}: ${shown}`;
}

/** A data set's description, one fact per line. */
export function datasetReport(entry: DatasetEntry, runs?: number): string {
  const head = `${entry.name}${entry.builtIn ? ' (built-in)' : ''}`;
  const r = entry.record;
  if (!r) return `${head}: ${entry.problem ?? 'cannot be read'}`;
  const lines = [
    `${head}: ${r.shape.kind} ${describeShape(r.shape)}`,
    `  read from  ${r.source.format} ${r.source.path}${r.source.test ? ` (test: ${r.source.test})` : ''}`,
    `  rows       ${rowsLine(r.counts)}${r.source.testFraction !== undefined ? ` (test fraction ${r.source.testFraction})` : ''}`,
    `  labels     ${classesLine(r.classNames)}`,
    `  sha256     ${r.sha256 ? `${r.sha256.slice(0, 16)}…` : 'computed when a run reads it'}`,
  ];
  if (r.source.imagesOf) lines.push(`  images of  ${r.source.imagesOf}`);
  if (r.createdAt) lines.push(`  added      ${r.createdAt.replace('T', ' ').slice(0, 19)}`);
  if (runs !== undefined) lines.push(`  runs       ${runs}`);
  for (const note of r.notes) lines.push(`  note       ${note}`);
  return lines.join('\n');
}

function listTable(entries: DatasetEntry[]): string {
  const rows = entries.map((e) => {
    const r = e.record;
    const name = `${e.name}${e.builtIn ? ' (built-in)' : ''}`;
    if (!r) return [name, '', '', '', e.problem ?? 'cannot be read'];
    const rowsText = r.counts.test === null ? String(r.counts.train) : `${r.counts.train}+${r.counts.test}`;
    const labels = r.classNames === null ? 'unlabelled' : plural(r.classNames.length, 'class', 'classes');
    return [name, `${r.shape.kind} ${describeShape(r.shape)}`, rowsText, labels, `${r.source.format} ${r.source.path}`];
  });
  return table([['name', 'shape', 'rows', 'labels', 'source'], ...rows], ['l', 'l', 'r', 'l', 'l']);
}

/** A bar on stderr while the files are read: only on a terminal. */
function progressBar(): { onProgress: (done: number, total: number) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { onProgress: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'reading [{bar}] {percentage}% | {value}/{total}', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onProgress(done, total) {
      if (!started) bar.start(total, done);
      else {
        bar.setTotal(total);
        bar.update(done);
      }
      started = true;
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

async function add(name: string, path: string, flags: AddFlags, command: Command): Promise<void> {
  const request = requestOf(name, path, flags);
  const controller = new AbortController();
  // Ctrl-C stops the read (nothing is stored); a second Ctrl-C exits at once.
  const onSigint = (): void => {
    process.stderr.write('\nCancelling…\n');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  const bar = progressBar();
  try {
    const entry = await withStore(command, (store) =>
      addDataset(store, request, { dataDir: globals(command).data, signal: controller.signal, onProgress: bar.onProgress }),
    );
    bar.stop();
    if (flags.json) printJson(entry);
    else process.stdout.write(`Added data set ${datasetReport(entry)}\n`);
  } finally {
    bar.stop();
    process.off('SIGINT', onSigint);
  }
}

export function registerDatasetsCommands(program: Command): void {
  const datasets = program.command('datasets').description('the data sets of the run history: add your own, list, show, remove');

  datasets
    .command('add')
    .description('read a data set completely and add it to the history under NAME')
    .argument('<name>', 'its name: 1 to 64 letters, digits, ".", "_" or "-"')
    .argument('<path>', 'an IDX folder or file, a folder of images (one subfolder per class), a .csv[.gz], .npy or .npz file')
    .addOption(new Option('--format <format>', 'the container (default: told from the path)').choices(DATASET_FORMATS))
    .option('--labels <file>', 'labels for PATH in their own file (.npy, IDX)')
    .addOption(new Option('--test <path>', 'the test split in its own file or folder (same format)').conflicts('testFraction'))
    .option('--test-labels <file>', "the test split's labels file")
    .addOption(
      new Option('--test-fraction <f>', 'hold out this fraction of the rows as the test split (0 < F < 1)').argParser(testFractionArg),
    )
    .addOption(
      new Option('--size <HxW>', 'image folders: resize every image to this size (default: the most common size)').argParser(sizeArg),
    )
    .addOption(new Option('--grayscale', 'image folders: read the images as grey').conflicts('rgb'))
    .addOption(new Option('--rgb', 'image folders: read the images in colour'))
    .addOption(
      new Option('--label-column <where>', 'CSV: whether the first column is the label (default: when its header says so)').choices([
        'first',
        'none',
      ]),
    )
    .addOption(new Option('--image-shape <HxW[xC]>', 'CSV and .npy/.npz rows: read them as images of this shape').argParser(imageShapeArg))
    .option('--images-of <name>', 'feature rows computed from the images of this data set (row i is image i)')
    .option('--json', 'print the added data set as JSON')
    .action((name: string, path: string, flags: AddFlags, command: Command) => add(name, path, flags, command));

  datasets
    .command('list')
    .description('the built-in data set, then those added, by name')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const entries = await withStore(command, (store) => listDatasets(store, { dataDir: globals(command).data }));
      if (opts.json) printJson(entries);
      else process.stdout.write(`${listTable(entries)}\n`);
    });

  datasets
    .command('show')
    .description('one data set: shape, rows, labels, where it is read from, how many runs used it')
    .argument('<name>', 'its name')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }, command: Command) => {
      const detail: DatasetDetail = await withStore(command, (store) => showDataset(store, name, { dataDir: globals(command).data }));
      if (opts.json) printJson(detail);
      else process.stdout.write(`${datasetReport(detail, detail.runs)}\n`);
    });

  datasets
    .command('remove')
    .description('remove a data set from the history (its files stay; runs that used it keep what they recorded)')
    .argument('<name>', 'its name')
    .action(async (name: string, _opts: unknown, command: Command) => {
      const { runs } = await withStore(command, (store) => removeDataset(store, name));
      process.stdout.write(`Removed data set '${name}': ${removalNote(runs)}\n`);
    });
}
