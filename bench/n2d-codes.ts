/**
 * `npm run bench -- n2d-codes FILE... [--dims 10] [--gmm-seeds 5] [--umap-neighbors 20] [--umap-epochs N]
 *                                     [--umap-seed N] [--save-embedding DIR] [--data DIR]`
 *
 * The clustering half of N2D on autoencoder codes made elsewhere (bench/reference/torch_n2d_ae.py writes them):
 * each FILE holds the codes of all 70,000 Fashion-MNIST images, training images first, as raw float16 (`.f16`) or
 * float32 (`.f32`) rows of `--dims` values. Per file: our UMAP (N2D's settings: min_dist 0, 10 components,
 * spectral init) on all rows, then a full-covariance GMM from each of `--gmm-seeds` initialisation seeds and a
 * k-means (n_init 10); prints test accuracy / NMI per GMM seed, their mean and range, and which seed the lower bound
 * would pick. This separates what the autoencoder contributes from what the clustering's initialisation does.
 * The UMAP seed is `--umap-seed`, else the `-sN-` in the file name (the autoencoder's seed), else 0.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { initBackend } from '../src-main/engine/backend/index';
import { GaussianMixture } from '../src-main/engine/cluster/gmm';
import { KMeans } from '../src-main/engine/cluster/kmeans';
import { FASHION_MNIST_CLASSES, loadFashionMnist } from '../src-main/engine/data/index';
import { Umap } from '../src-main/engine/manifold/umap';
import { evaluate } from '../src-main/engine/metrics/index';
import type { Matrix } from '../src-main/engine/types';
import { fmt, int, mean, parseFlags, table } from './harness';

interface Options {
  files: string[];
  dims: number;
  gmmSeeds: number;
  umapNeighbors: number;
  umapEpochs: number | null;
  umapSeed: number | null;
  saveEmbedding?: string;
  dataDir?: string;
}

const USAGE =
  'usage: npm run bench -- n2d-codes FILE... [--dims 10] [--gmm-seeds 5] [--umap-neighbors 20] [--umap-epochs N]\n' +
  '                                          [--umap-seed N] [--save-embedding DIR] [--data DIR]\n';

function parseArgs(args: string[]): Options {
  // Every flag takes a value, so anything else that does not start with '-' is a code file.
  const files: string[] = [];
  const flagArgs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-')) files.push(a);
    else {
      flagArgs.push(a);
      if (!a.includes('=') && a !== '--help' && a !== '-h' && i + 1 < args.length) flagArgs.push(args[++i]);
    }
  }
  const o = parseFlags<Options>(
    flagArgs,
    { files, dims: 10, gmmSeeds: 5, umapNeighbors: 20, umapEpochs: null, umapSeed: null },
    {
      '--dims': (o, v, f) => {
        o.dims = int(f, v(), 1);
      },
      '--gmm-seeds': (o, v, f) => {
        o.gmmSeeds = int(f, v(), 1);
      },
      '--umap-neighbors': (o, v, f) => {
        o.umapNeighbors = int(f, v(), 2);
      },
      '--umap-epochs': (o, v, f) => {
        o.umapEpochs = int(f, v(), 1);
      },
      '--umap-seed': (o, v, f) => {
        o.umapSeed = int(f, v(), 0);
      },
      '--save-embedding': (o, v) => {
        o.saveEmbedding = v();
      },
      '--data': (o, v) => {
        o.dataDir = v();
      },
    },
    USAGE,
  );
  if (o.files.length === 0) throw new Error(`no code files given\n${USAGE}`);
  return o;
}

/** IEEE half floats, as numpy's float16 writes them (Node 20 has no Float16Array). */
export function halfToFloat(bytes: Buffer): Float32Array {
  const half = new Uint16Array(aligned(bytes));
  const out = new Float32Array(half.length);
  for (let i = 0; i < half.length; i++) {
    const h = half[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    out[i] = exp === 0 ? sign * frac * 2 ** -24 : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** The bytes as their own ArrayBuffer (a Buffer may start at any offset of a shared one, typed views need alignment). */
const aligned = (bytes: Buffer): ArrayBuffer => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;

export function readCodes(file: string, dims: number, rows: number): Matrix {
  if (!file.endsWith('.f16') && !file.endsWith('.f32')) throw new Error(`${file}: expected a .f16 or .f32 file`);
  const bytes = readFileSync(file);
  if (bytes.length % (file.endsWith('.f16') ? 2 : 4) !== 0)
    throw new Error(`${file}: ${bytes.length} bytes is not a whole number of values`);
  const data = file.endsWith('.f16') ? halfToFloat(bytes) : new Float32Array(aligned(bytes));
  if (data.length !== rows * dims)
    throw new Error(`${file}: ${data.length} values, expected ${rows} rows × ${dims} (--dims) = ${rows * dims}`);
  if (!data.every(Number.isFinite)) throw new Error(`${file}: holds non-finite values`);
  return { data, rows, cols: dims };
}

export async function benchN2dCodes(args: string[]): Promise<void> {
  const o = parseArgs(args);
  const data = await loadFashionMnist({ dir: o.dataDir });
  const nTrain = data.train.count;
  const truth = data.test.labels;
  const classNames = [...FASHION_MNIST_CLASSES];
  const codes = o.files.map((file) => ({ file, matrix: readCodes(file, o.dims, nTrain + data.test.count) }));
  await initBackend('wasm');
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const rows: string[][] = [];
  for (const { file, matrix } of codes) {
    const seed = o.umapSeed ?? Number(/-s(\d+)-/.exec(basename(file))?.[1] ?? 0);
    const started = performance.now();
    const umap = new Umap({ nNeighbors: o.umapNeighbors, minDist: 0, nComponents: 10, nEpochs: o.umapEpochs, init: 'spectral', seed });
    const embedding = await umap.fitTransform(matrix);
    const umapSeconds = (performance.now() - started) / 1000;
    if (o.saveEmbedding) {
      mkdirSync(o.saveEmbedding, { recursive: true });
      writeFileSync(join(o.saveEmbedding, `${basename(file)}.emb.f32`), embedding);
    }
    const fit: Matrix = { data: embedding, rows: matrix.rows, cols: 10 };
    const test: Matrix = { data: embedding.subarray(nTrain * 10), rows: data.test.count, cols: 10 };
    const gmm: { accuracy: number; nmi: number; lowerBound: number }[] = [];
    for (let gmmSeed = 0; gmmSeed < o.gmmSeeds; gmmSeed++) {
      const model = await new GaussianMixture({ k: 10, covarianceType: 'full', seed: gmmSeed }).fit(fit);
      const ev = evaluate(await model.predict(test), truth, { k: 10, classNames });
      gmm.push({ accuracy: ev.accuracy, nmi: ev.nmi, lowerBound: model.lowerBound });
      log(`${basename(file)}: GMM seed ${gmmSeed} accuracy ${fmt(ev.accuracy)} NMI ${fmt(ev.nmi)} lower bound ${fmt(model.lowerBound, 4)}`);
    }
    const kmeans = await new KMeans({ k: 10, nInit: 10, seed }).fit(fit);
    const km = evaluate(await kmeans.predict(test), truth, { k: 10, classNames });
    const accuracies = gmm.map((g) => g.accuracy);
    const byLowerBound = gmm.reduce((a, b) => (b.lowerBound > a.lowerBound ? b : a));
    rows.push([
      basename(file),
      fmt(mean(accuracies)),
      `${fmt(Math.min(...accuracies))}–${fmt(Math.max(...accuracies))}`,
      fmt(mean(gmm.map((g) => g.nmi))),
      fmt(byLowerBound.accuracy),
      fmt(km.accuracy),
      fmt(umapSeconds, 0),
    ]);
  }
  process.stdout.write(
    `N2D clustering on given codes: UMAP (${o.umapNeighbors} neighbours, min_dist 0, 10-d, ${o.umapEpochs ?? 'default'} epochs) → GMM full, ${o.gmmSeeds} init seeds; test accuracy\n\n`,
  );
  process.stdout.write(`${table(['codes', 'GMM mean', 'GMM range', 'GMM NMI', 'best lower bound', 'k-means', 'UMAP s'], rows)}\n`);
}
