/**
 * `npm run bench -- image-folder [--dir PATH] [--runs 3]`
 *
 * Writes the 70,000 Fashion-MNIST images (train and test, from the IDX files) once as PNG files in class folders
 * (`<dir>/train/<label>-<class>/<index>.png`, the same under `test/`; reused when a previous run completed it), then
 * times readImageFolder on that folder against loadFashionMnist on the IDX files. Each read runs in a fresh child
 * process, so that its peak RSS (resourceUsage().maxRSS) is its own; a child that only loads the modules gives the
 * baseline. Prints seconds and peak RSS per run, their means and the folder/IDX ratios, and checks once that the
 * folder reads back to exactly the IDX pixels and labels (class by class, in file order).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { DEBIAN_DATA_DIR, FASHION_MNIST_CLASSES, loadFashionMnist } from '../src-main/engine/data/index';
import { readImageFolder } from '../src-main/engine/data/formats/image-folder';
import type { ImageSet } from '../src-main/engine/types';
import { fmt, int, mean, parseFlags, runTagged, sd, table } from './harness';

interface Options {
  dir: string;
  runs: number;
  /** Internal: the child process's job. */
  child?: 'folder' | 'idx' | 'baseline';
}

interface ChildResult {
  seconds: number;
  /** Seconds until every header was read (the folder's first pass). */
  headerSeconds?: number;
  maxRssMiB: number;
  rows: number;
}

const USAGE = 'usage: npm run bench -- image-folder [--dir PATH] [--runs 3]\n';
const COMPLETE_MARKER = '.complete';
const classFolder = (label: number): string => `${label}-${FASHION_MNIST_CLASSES[label].replace('/', '-')}`;

function parseArgs(args: string[]): Options {
  return parseFlags<Options>(
    args,
    { dir: join(tmpdir(), 'clusterbench-fashion-mnist-png'), runs: 3 },
    {
      '--dir': (o, v) => (o.dir = v() ?? o.dir),
      '--runs': (o, v, f) => (o.runs = int(f, v(), 1)),
      '--child': (o, v) => (o.child = v() as Options['child']),
    },
    USAGE,
  );
}

/** Writes every image once; a folder whose marker says a previous run finished it is reused. */
async function writeFolder(dir: string): Promise<void> {
  if (existsSync(join(dir, COMPLETE_MARKER))) {
    process.stdout.write(`reusing ${dir}\n`);
    return;
  }
  await rm(dir, { recursive: true, force: true });
  const data = await loadFashionMnist({ dir: DEBIAN_DATA_DIR });
  const started = performance.now();
  for (const [split, set] of [
    ['train', data.train],
    ['test', data.test],
  ] as const) {
    for (let label = 0; label < FASHION_MNIST_CLASSES.length; label++)
      await mkdir(join(dir, split, classFolder(label)), { recursive: true });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < set.count) {
        const i = next++;
        const pixels = Buffer.from(Array.from(set.images.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255)));
        const path = join(dir, split, classFolder(set.labels[i]), `${String(i).padStart(5, '0')}.png`);
        await sharp(pixels, { raw: { height: 28, width: 28, channels: 1 } })
          .toColourspace('b-w')
          .png()
          .toFile(path);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }
  await writeFile(join(dir, COMPLETE_MARKER), new Date().toISOString());
  process.stdout.write(`wrote 70000 PNG files to ${dir} in ${fmt((performance.now() - started) / 1000, 1)} s\n`);
}

/** The child's job: one read, then its figures on a RESULT line. */
async function child(o: Options): Promise<void> {
  const started = performance.now();
  let rows = 0;
  let headerSeconds: number | undefined;
  if (o.child === 'folder') {
    const data = await readImageFolder(
      { format: 'folder', path: o.dir },
      { onProgress: (done, total) => (done === total / 2 ? (headerSeconds = (performance.now() - started) / 1000) : undefined) },
    );
    rows = data.train.count + (data.test?.count ?? 0);
  } else if (o.child === 'idx') {
    const data = await loadFashionMnist({ dir: DEBIAN_DATA_DIR });
    rows = data.train.count + data.test.count;
  }
  const result: ChildResult = {
    seconds: (performance.now() - started) / 1000,
    ...(headerSeconds === undefined ? {} : { headerSeconds }),
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    rows,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

async function runChild(job: NonNullable<Options['child']>, dir: string): Promise<ChildResult> {
  // The same Node and loader (tsx) as this process, through the bench entry point.
  const entry = new URL('./index.ts', import.meta.url).pathname;
  const r = await runTagged<ChildResult>(process.execPath, [...process.execArgv, entry, 'image-folder', '--child', job, '--dir', dir]);
  if (r.code !== 0 || !r.result)
    throw new Error(`the ${job} child exited with ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  return r.result;
}

/** The folder's rows are grouped by class, each class in IDX order: compares them with the IDX sets exactly. */
async function verify(dir: string): Promise<string> {
  const [folder, idx] = [await readImageFolder({ format: 'folder', path: dir }), await loadFashionMnist({ dir: DEBIAN_DATA_DIR })];
  const check = (set: ImageSet, values: Float32Array, labels: Uint8Array | undefined): boolean => {
    const order = Array.from({ length: set.count }, (_, i) => i).sort((a, b) => set.labels[a] - set.labels[b] || a - b);
    return order.every((i, row) => {
      if (labels?.[row] !== set.labels[i]) return false;
      for (let k = 0; k < 784; k++) if (values[row * 784 + k] !== set.images[i * 784 + k]) return false;
      return true;
    });
  };
  const same =
    check(idx.train, folder.train.values, folder.train.labels) && !!folder.test && check(idx.test, folder.test.values, folder.test.labels);
  return same ? 'the folder reads back to exactly the IDX pixels and labels' : 'MISMATCH: the folder does not read back to the IDX pixels';
}

export async function benchImageFolder(args: string[]): Promise<void> {
  const o = parseArgs(args);
  if (o.child) return child(o);

  await writeFolder(o.dir);
  const threads = process.env.UV_THREADPOOL_SIZE ?? '4 (default)';
  process.stdout.write(
    `${availableParallelism()} CPUs, libuv threads ${threads}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), ` +
      `sharp.concurrency ${sharp.concurrency()}, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}\n`,
  );
  const results: Record<'baseline' | 'idx' | 'folder', ChildResult[]> = { baseline: [], idx: [], folder: [] };
  for (let run = 0; run < o.runs; run++) {
    for (const job of ['baseline', 'idx', 'folder'] as const) {
      const r = await runChild(job, o.dir);
      results[job].push(r);
      const split = r.headerSeconds === undefined ? '' : ` (headers ${fmt(r.headerSeconds, 2)} s)`;
      process.stdout.write(`run ${run + 1} ${job}: ${fmt(r.seconds, 2)} s${split}, peak RSS ${fmt(r.maxRssMiB, 0)} MiB, ${r.rows} rows\n`);
    }
  }

  const row = (name: string, rs: ChildResult[]): string[] => [
    name,
    `${fmt(mean(rs.map((r) => r.seconds)), 2)} ± ${fmt(sd(rs.map((r) => r.seconds)), 2)}`,
    `${fmt(mean(rs.map((r) => r.maxRssMiB)), 0)}`,
    String(rs[0].rows),
  ];
  process.stdout.write(
    `\n${table(
      ['read (fresh process each)', 'seconds', 'peak RSS MiB', 'rows'],
      [
        row('modules only', results.baseline),
        row('IDX (loadFashionMnist)', results.idx),
        row('PNG folder (readImageFolder)', results.folder),
      ],
    )}\n`,
  );
  const base = mean(results.baseline.map((r) => r.maxRssMiB));
  const [idxS, folderS] = [mean(results.idx.map((r) => r.seconds)), mean(results.folder.map((r) => r.seconds))];
  const [idxRss, folderRss] = [mean(results.idx.map((r) => r.maxRssMiB)), mean(results.folder.map((r) => r.maxRssMiB))];
  process.stdout.write(
    `folder / IDX: time ×${fmt(folderS / idxS, 1)}, peak RSS ×${fmt(folderRss / idxRss, 2)} ` +
      `(above the modules' own ${fmt(base, 0)} MiB: ${fmt(idxRss - base, 0)} vs ${fmt(folderRss - base, 0)} MiB)\n`,
  );
  process.stdout.write(
    `load average at the end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  );
  const spawned = spawnSync('du', ['-sh', '--apparent-size', o.dir], { encoding: 'utf8' }).stdout.split('\t')[0];
  process.stdout.write(`folder size ${spawned || '?'}; ${await verify(o.dir)}\n`);
}
