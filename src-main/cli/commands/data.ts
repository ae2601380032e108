import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { catalogEntry, DATASET_CATALOG, downloadedDatasetDir, downloadSize } from '../../engine/data/catalog';
import { DEFAULT_DATASET, describeShape } from '../../engine/data/dataset';
import { addDownloadedDataset, type DownloadedAdd } from '../../service/datasets';
import { datasetSummary, downloadDataset } from '../../service/queries';
import { CliError } from '../args';
import { globals, printJson, withStore } from '../context';
import { datasetReport } from './datasets';

/** The catalog as `data catalog` and `data download --list` print it: three lines a set. */
function catalogText(): string {
  return DATASET_CATALOG.map((e) => {
    const size = downloadSize(e);
    const mb = size === undefined ? '' : `; about ${(size / 1e6).toFixed(1)} MB to download`;
    const shape = describeShape({ kind: 'images', ...e.shape });
    return [
      `${e.name.padEnd(14)} ${e.title}: ${e.description}`,
      `${''.padEnd(14)} ${shape}, ${e.classNames.length} classes, ${e.counts.train} train + ${e.counts.test} test images${mb}`,
      `${''.padEnd(14)} licence: ${e.licence}; cite: ${e.citation}`,
    ].join('\n');
  }).join('\n');
}

/** `dir` as one word a POSIX shell reads back unchanged (single-quoted when it has anything but plain characters). */
function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

/** What `data download` did with the history (added the set, or left the data set of its name as it was), and what next. */
function addedText(outcome: DownloadedAdd, dir: string): string {
  const name = 'added' in outcome ? outcome.added.name : outcome.existing.name;
  const runIt = `To run on it: clusterbench run --dataset ${name} …`;
  if ('added' in outcome) return `Added data set ${datasetReport(outcome.added)}\n${runIt}`;
  const { source } = outcome.existing;
  if (source.path === resolve(dir)) return `Data set '${name}' is already in the history, read from this folder\n${runIt}`;
  return (
    `A data set named '${name}' is already in the history (read from ${source.format} ${source.path}): left as it is; ` +
    `to use the download instead: clusterbench datasets remove ${name} && clusterbench datasets add ${name} ${shellWord(dir)} --format idx`
  );
}

function catalogJson(): unknown {
  return DATASET_CATALOG.map((e) => ({ ...e, downloadBytes: downloadSize(e) ?? null, dir: downloadedDatasetDir(e.name) }));
}

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('data sets: download the known ones, list them, look at Fashion-MNIST');

  data
    .command('download')
    .description('download a known data set (see `data catalog`) into the app data folder, verify its checksums and add it to the history')
    .argument('[name]', 'which data set', DEFAULT_DATASET)
    .option('--list', 'list the data sets that can be downloaded (download nothing)')
    .option('--dir <dir>', 'download into this folder instead')
    .option('--base-url <url>', 'mirror to download from')
    .action(async (name: string, opts: { list?: boolean; dir?: string; baseUrl?: string }, command: Command) => {
      if (opts.list) {
        process.stdout.write(`${catalogText()}\n`);
        return;
      }
      const entry = catalogEntry(name); // an unknown name fails here, in one line, before any progress bar
      const bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: '{file} [{bar}] {percentage}% | {value}/{total} bytes', hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      let current = '';
      let dir: string;
      try {
        ({ dir } = await downloadDataset({
          name: entry.name,
          destDir: opts.dir,
          baseUrl: opts.baseUrl,
          onProgress: (e) => {
            if (!process.stderr.isTTY) return;
            if (e.file !== current) {
              if (current) bar.stop();
              current = e.file;
              bar.start(e.totalBytes ?? 0, e.receivedBytes, { file: e.file });
            } else bar.update(e.receivedBytes);
          },
        }));
      } finally {
        if (current) bar.stop();
      }
      process.stdout.write(`${entry.title} is in ${dir} (checksums verified)\n`);
      if (entry.name !== DEFAULT_DATASET) {
        // the built-in set needs no record; any other is added as `datasets add NAME DIR --format idx` adds it
        const outcome = await withStore(command, (store) => addDownloadedDataset(store, entry.name, dir));
        process.stdout.write(`${addedText(outcome, dir)}\n`);
        process.stdout.write(`Licence: ${entry.licence}. Please cite: ${entry.citation}\n`);
      }
    });

  data
    .command('catalog')
    .description('the data sets `data download NAME` can fetch: shape, classes, size, licence and citation')
    .option('--json', "print JSON (with each file's checksum and where it would be downloaded to)")
    .action((opts: { json?: boolean }) => {
      if (opts.json) printJson(catalogJson());
      else process.stdout.write(`${catalogText()}\n`);
    });

  data
    .command('info')
    .description('where the data is found, its checksums and pixel statistics')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      // the Data page's summary (dataset.info), printed as this command always has
      const summary = await datasetSummary(globals(command).data);
      if (!summary.available) throw new CliError(summary.problem ?? 'Fashion-MNIST is not available');
      const info = { ...summary.info!, train: summary.trainCount!, test: summary.testCount!, trainPixels: summary.pixelStats! };
      if (opts.json) printJson(info);
      else {
        process.stdout.write(`Fashion-MNIST (${info.format}) from ${info.dir}\n`);
        process.stdout.write(`train ${info.train} images, test ${info.test} images\n`);
        process.stdout.write(
          `train pixels after /255: min ${info.trainPixels.min} max ${info.trainPixels.max} mean ${info.trainPixels.mean.toFixed(4)}\n`,
        );
        for (const [file, sum] of Object.entries(info.checksums)) process.stdout.write(`${file}  sha256 ${sum}\n`);
      }
    });
}
