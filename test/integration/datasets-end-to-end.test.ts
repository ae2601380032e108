/**
 * Issue 21's "done when", through the CLI as a user runs it: the same images in four containers give the same run;
 * an encoder's codes exported and added back as a features data set give the same mixture; an unlabelled folder runs
 * end to end with label-free scores and no label-only output.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFashionMnist, type FashionMnist } from '../../src-main/engine/data/index';
import { encodeNpy, parseNpy } from '../../src-main/engine/data/formats/npy-codec';
import { runCli, tempHome } from '../helpers/cli';

const ROWS = 600;
const SIDE = 28;
const PIXELS = SIDE * SIDE;

interface RunJson {
  id: number;
  metrics: Record<string, number>;
  mapping: number[] | null;
  confusion: number[][] | null;
  dataset: { name: string; sha256: string; labelled: boolean; singleSplit: boolean; fitSize: number; evalSize: number; shape: unknown };
}

/** Runs the CLI and fails the test with its stderr when it does not exit 0. */
async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const out = await runCli(args, env);
  if (out.code !== 0) throw new Error(`clusterbench ${args.join(' ')} exited ${out.code}: ${out.stderr}`);
  return out.stdout;
}

async function runJson(args: string[], env: NodeJS.ProcessEnv): Promise<RunJson> {
  return JSON.parse(await cli(['run', ...args, '--json'], env)) as RunJson;
}

/** A run's assignments, as `export run` writes them for numpy. */
async function assignments(id: number, env: NodeJS.ProcessEnv, dir: string): Promise<number[]> {
  const out = join(dir, `arrays-${id}`);
  await cli(['export', 'run', String(id), '--what', 'assignments', '--out', out], env);
  return [...(parseNpy(readFileSync(join(out, 'assignments.npy')), 'assignments.npy').data as Int32Array)];
}

/** A grey PNG (sharp writes sRGB unless told otherwise). */
const greyPng = (pixels: Uint8Array, side = SIDE): Promise<Buffer> =>
  sharp(Buffer.from(pixels), { raw: { width: side, height: side, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();

describe('the same images in every container give the same run', () => {
  const home = tempHome();
  const env = { CLUSTERBENCH_HOME: home };
  const runs: Record<string, RunJson> = {};
  const assigned: Record<string, number[]> = {};

  beforeAll(async () => {
    const data = await loadFashionMnist({ trainLimit: 1, testLimit: ROWS });
    // Class-major order (stable), the order a class folder is read in, so that every container holds the same rows in
    // the same order.
    const order = [...Array(ROWS).keys()].sort((a, b) => data.test.labels[a] - data.test.labels[b] || a - b);
    const pixels = new Uint8Array(ROWS * PIXELS);
    const labels = new Uint8Array(ROWS);
    order.forEach((row, i) => {
      for (let p = 0; p < PIXELS; p++) pixels[i * PIXELS + p] = Math.round(data.test.images[row * PIXELS + p] * 255);
      labels[i] = data.test.labels[row];
    });

    const idx = join(home, 'idx');
    mkdirSync(idx);
    const header = (magic: number, dims: number[]) => {
      const b = Buffer.alloc(4 + 4 * dims.length);
      b.writeUInt32BE(magic, 0);
      dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
      return b;
    };
    writeFileSync(join(idx, 'images-idx3-ubyte'), Buffer.concat([header(2051, [ROWS, SIDE, SIDE]), pixels]));
    writeFileSync(join(idx, 'labels-idx1-ubyte'), Buffer.concat([header(2049, [ROWS]), labels]));

    const folder = join(home, 'png');
    for (let i = 0; i < ROWS; i++) {
      const dir = join(folder, `c${labels[i]}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${String(i).padStart(5, '0')}.png`), await greyPng(pixels.subarray(i * PIXELS, (i + 1) * PIXELS)));
    }

    const csv = ['label,' + Array.from({ length: PIXELS }, (_, p) => `pixel${p + 1}`).join(',')];
    for (let i = 0; i < ROWS; i++) csv.push(`${labels[i]},${pixels.subarray(i * PIXELS, (i + 1) * PIXELS).join(',')}`);
    writeFileSync(join(home, 'images.csv'), csv.join('\n') + '\n');

    writeFileSync(join(home, 'x.npy'), encodeNpy(pixels, [ROWS, SIDE, SIDE]));
    writeFileSync(join(home, 'y.npy'), encodeNpy(labels, [ROWS]));

    const adds: Record<string, string[]> = {
      idx: [join(idx, 'images-idx3-ubyte'), '--format', 'idx', '--labels', join(idx, 'labels-idx1-ubyte')],
      png: [folder, '--format', 'folder'],
      csv: [join(home, 'images.csv'), '--format', 'csv', '--image-shape', '28x28'],
      npy: [join(home, 'x.npy'), '--labels', join(home, 'y.npy')],
    };
    for (const [name, args] of Object.entries(adds)) {
      await cli(['datasets', 'add', `fm-${name}`, ...args], env);
      runs[name] = await runJson(['--task', 'kmeans', '--dataset', `fm-${name}`, '--n-init', '2', '--seed', '3'], env);
      assigned[name] = await assignments(runs[name].id, env, home);
    }
  }, 600_000);

  it('gives the same assignments and accuracy from IDX, a PNG class folder, CSV and .npy', () => {
    expect(assigned.idx).toHaveLength(ROWS);
    for (const name of ['png', 'csv', 'npy']) {
      expect(assigned[name], name).toEqual(assigned.idx);
      expect(runs[name].metrics.accuracy, name).toBe(runs.idx.metrics.accuracy);
    }
    expect(runs.idx.metrics.accuracy).toBeGreaterThan(0.4);
  });

  it('records each data set by name and content hash, one split, labelled', () => {
    for (const [name, run] of Object.entries(runs)) {
      expect(run.dataset).toMatchObject({ name: `fm-${name}`, labelled: true, singleSplit: true, fitSize: ROWS, evalSize: ROWS });
      expect(run.dataset.shape, name).toEqual({ kind: 'images', height: SIDE, width: SIDE, channels: 1 });
      expect(run.dataset.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('gives labelled runs the label-free scores too', () => {
    expect(runs.idx.metrics.silhouette).toBeGreaterThan(0);
    expect(runs.idx.metrics.calinskiHarabasz).toBeGreaterThan(0);
    expect(runs.idx.metrics.daviesBouldin).toBeGreaterThan(0);
  });

  it('refuses to run on a data set whose files changed since it was added, and stores no run', async () => {
    const before = JSON.parse(await cli(['runs', 'list', '--json'], env)).length;
    const y = join(home, 'y.npy');
    const changed = new Uint8Array(ROWS);
    changed[0] = 1;
    writeFileSync(y, encodeNpy(changed, [ROWS]));
    const out = await runCli(['run', '--task', 'kmeans', '--dataset', 'fm-npy'], env);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/data set 'fm-npy' changed on disk since it was added/);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(await cli(['runs', 'list', '--json'], env))).toHaveLength(before);
  });
});

describe("an encoder's codes, exported and added back as features, give the same mixture", () => {
  const home = tempHome();
  const env = { CLUSTERBENCH_HOME: home };
  let data: FashionMnist;

  beforeAll(async () => {
    data = await loadFashionMnist({ trainLimit: 1000, testLimit: 400 });
  });

  it('fits the GMM on the codes of the fit images and scores the codes of the test images identically', async () => {
    const common = ['--cluster', 'gmm', '--no-umap', '--protocol', 'inductive', '--map2d', 'none', '--seed', '5'];
    const trained = await runJson(
      ['--task', 'pipeline', '--encoder', 'dense', '--epochs', '1', '--train-limit', '1000', '--test-limit', '400', ...common],
      env,
    );
    const out = join(home, 'codes');
    await cli(['export', 'run', String(trained.id), '--what', 'codes', '--out', out], env);
    const described = JSON.parse(readFileSync(join(out, 'export.json'), 'utf8')) as { files: { file: string }[] };
    const files = described.files.map((f) => f.file);
    const fit = files.find((f) => /fit/.test(f))!;
    const evalFile = files.find((f) => /eval/.test(f))!;
    writeFileSync(join(home, 'test-labels.npy'), encodeNpy(data.test.labels, [data.test.count]));
    // the fit rows' labels are never read by the fit: any labels of the right length do
    writeFileSync(join(home, 'fit-labels.npy'), encodeNpy(data.train.labels, [data.train.count]));
    await cli(
      [
        'datasets',
        'add',
        'codes',
        join(out, fit),
        '--labels',
        join(home, 'fit-labels.npy'),
        '--test',
        join(out, evalFile),
        '--test-labels',
        join(home, 'test-labels.npy'),
      ],
      env,
    );
    const again = await runJson(['--task', 'pipeline', '--dataset', 'codes', '--encoder', 'none', ...common], env);
    expect(again.dataset).toMatchObject({ name: 'codes', fitSize: 1000, evalSize: 400, singleSplit: false });
    expect(again.metrics.accuracy).toBe(trained.metrics.accuracy);
    expect(again.metrics.bic).toBeCloseTo(trained.metrics.bic, 6);
  }, 600_000);
});

describe('an unlabelled folder runs end to end', () => {
  const home = tempHome();
  const env = { CLUSTERBENCH_HOME: home };
  const COUNT = 300;

  beforeAll(async () => {
    const data = await loadFashionMnist({ trainLimit: 1, testLimit: COUNT });
    const folder = join(home, 'unlabelled');
    mkdirSync(folder);
    for (let i = 0; i < COUNT; i++) {
      const bytes = Uint8Array.from(data.test.images.subarray(i * PIXELS, (i + 1) * PIXELS), (v) => Math.round(v * 255));
      writeFileSync(join(folder, `img-${String(i).padStart(4, '0')}.png`), await greyPng(bytes));
    }
    writeFileSync(join(folder, 'README.txt'), 'not an image');
    const added = await cli(['datasets', 'add', 'plain', folder, '--json'], env);
    expect(JSON.parse(added)).toMatchObject({ name: 'plain', record: { classNames: null, counts: { train: COUNT, test: null } } });
  }, 300_000);

  for (const task of [
    ['--task', 'kmeans'],
    ['--task', 'ae-gmm', '--epochs', '1'],
  ]) {
    it(`runs ${task[1]} with label-free scores and no label-only output`, async () => {
      const run = await runJson([...task, '--dataset', 'plain', '--seed', '1'], env);
      expect(run.dataset).toMatchObject({ name: 'plain', labelled: false, singleSplit: true, evalSize: COUNT });
      expect(run.metrics.accuracy).toBeUndefined();
      expect(run.metrics.silhouette).toBeGreaterThan(-1);
      expect(run.metrics.silhouette).toBeLessThanOrEqual(1);
      expect(run.metrics.calinskiHarabasz).toBeGreaterThan(0);
      expect(run.metrics.daviesBouldin).toBeGreaterThan(0);
      expect(run.mapping).toBeNull();
      expect(run.confusion).toBeNull();
      const report = await cli(['runs', 'show', String(run.id)], env);
      expect(report).toMatch(/Silhouette/);
      expect(report).not.toMatch(/Confusion matrix|Classification report/);
      const refused = await runCli(['export', 'confusion', String(run.id), '--out', join(home, `c${run.id}.svg`)], env);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    }, 300_000);
  }
});
