import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { downloadFashionMnist, loadFashionMnist, pixelStats } from '../../engine/data/index';
import { defaultDataDir } from '../../engine/paths';
import { globals, printJson } from '../context';

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('the Fashion-MNIST data');

  data
    .command('download')
    .description('download the official Fashion-MNIST files into the app data folder and verify their checksums')
    .option('--dir <dir>', 'download into this folder instead')
    .option('--base-url <url>', 'mirror to download from')
    .action(async (opts: { dir?: string; baseUrl?: string }) => {
      const destDir = opts.dir ?? defaultDataDir();
      const bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: '{file} [{bar}] {percentage}% | {value}/{total} bytes', hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      let current = '';
      try {
        await downloadFashionMnist({
          destDir,
          baseUrl: opts.baseUrl,
          onProgress: (e) => {
            if (!process.stderr.isTTY) return;
            if (e.file !== current) {
              if (current) bar.stop();
              current = e.file;
              bar.start(e.totalBytes ?? 0, e.receivedBytes, { file: e.file });
            } else bar.update(e.receivedBytes);
          },
        });
      } finally {
        if (current) bar.stop();
      }
      process.stdout.write(`Fashion-MNIST is in ${destDir} (checksums verified)\n`);
    });

  data
    .command('info')
    .description('where the data is found, its checksums and pixel statistics')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const loaded = await loadFashionMnist({ dir: globals(command).data });
      const info = { ...loaded.info, train: loaded.train.count, test: loaded.test.count, trainPixels: pixelStats(loaded.train) };
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
