import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { datasetSummary, downloadDataset } from '../../service/queries';
import { CliError } from '../args';
import { globals, printJson } from '../context';

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('the Fashion-MNIST data');

  data
    .command('download')
    .description('download the official Fashion-MNIST files into the app data folder and verify their checksums')
    .option('--dir <dir>', 'download into this folder instead')
    .option('--base-url <url>', 'mirror to download from')
    .action(async (opts: { dir?: string; baseUrl?: string }) => {
      const bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: '{file} [{bar}] {percentage}% | {value}/{total} bytes', hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      let current = '';
      let dir: string;
      try {
        ({ dir } = await downloadDataset({
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
      process.stdout.write(`Fashion-MNIST is in ${dir} (checksums verified)\n`);
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
