/**
 * `npm run bench -- gmm [--dims 128] [--k 10] [--seed 0] [--backend wasm] [--train-limit N] [--variants own,same]
 *                       [--max-iter 100] [--tol 1e-3] [--no-reference] [--features DIR]
 *                       [--save-features DIR]`
 *
 * Full-covariance GaussianMixture (k = 10) on the 60k Fashion-MNIST training images projected on their first
 * 128 principal components, timed against scikit-learn's GaussianMixture in the same run:
 *  1. the reference (bench/reference/sk_gmm.py, Debian's /usr/bin/python3, OMP_NUM_THREADS = CPU count) computes
 *     the PCA features, dumps them (float32) with the labels and sklearn's own initial k-means labels, then fits
 *     and times sklearn's GMM;
 *  2. we fit the identical matrix twice: `own` = our full pipeline (our KMeans initialisation, seed), `same` = from
 *     sklearn's initial k-means labels (the apples-to-apples comparison: same starting point, so the same EM path
 *     and iteration count are expected).
 * Prints fit time, iterations, time per iteration, lower bound, test accuracy (Hungarian mapping) and the ratio.
 * Without scikit-learn (or with --no-reference) the PCA is computed here (tfjs covariance + Jacobi eigen-solver).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf, type BackendName } from '../src-main/engine/backend/index';
import { GaussianMixture } from '../src-main/engine/cluster/gmm';
import { symmetricEigen } from '../src-main/engine/math/linalg';
import { loadFashionMnist } from '../src-main/engine/data/index';
import { accuracy } from '../src-main/engine/metrics/index';
import type { Matrix } from '../src-main/engine/types';
import { fmt, int, list, number, parseFlags, referenceScript, referenceSkipped, runReference, SKLEARN, table } from './harness';

const REFERENCE = referenceScript('sk_gmm.py');

type Variant = 'own' | 'same';

interface Options {
  dims: number;
  k: number;
  seed: number;
  backend: BackendName;
  trainLimit?: number;
  variants: Variant[];
  maxIter: number;
  tol: number;
  reference: boolean;
  features?: string;
  saveFeatures?: string;
}

interface RefResult {
  D: number;
  n_train: number;
  n_test: number;
  pca_s: number;
  init_kmeans_s?: number;
  fit_s?: number;
  iters?: number;
  converged?: boolean;
  test_acc?: number;
  lower_bound?: number;
  test_score?: number;
}

interface Features {
  Ztr: Matrix;
  Zte: Matrix;
  ytr: Uint8Array;
  yte: Uint8Array;
  initLabels: Int32Array | null;
  source: string;
}

interface OurResult {
  variant: Variant;
  fitS: number;
  initS: number;
  iters: number;
  converged: boolean;
  lowerBound: number;
  testAcc: number;
  testScore: number;
}

const USAGE =
  'usage: npm run bench -- gmm [--dims 128] [--k 10] [--seed 0] [--backend wasm|cpu|auto|…] [--train-limit N]\n' +
  '                            [--variants own,same] [--max-iter 100] [--tol 1e-3] [--no-reference] [--features DIR]\n' +
  '                            [--save-features DIR]   (keep the reference dump for later --features runs)\n';

function parseArgs(args: string[]): Options {
  return parseFlags<Options>(
    args,
    { dims: 128, k: 10, seed: 0, backend: 'wasm', variants: ['own', 'same'], maxIter: 100, tol: 1e-3, reference: true },
    {
      '--dims': (o, v, f) => (o.dims = int(f, v(), 1)),
      '--k': (o, v, f) => (o.k = int(f, v(), 1)),
      '--seed': (o, v, f) => (o.seed = int(f, v(), 0)),
      '--backend': (o, v) => (o.backend = (v() ?? 'wasm') as BackendName),
      '--train-limit': (o, v, f) => (o.trainLimit = int(f, v(), 10)),
      '--max-iter': (o, v, f) => (o.maxIter = int(f, v(), 1)),
      '--tol': (o, v, f) => (o.tol = number(f, v(), 0)),
      '--variants': (o, v) => {
        const vs = list(v());
        if (vs.length === 0 || vs.some((x) => x !== 'own' && x !== 'same')) throw new Error('--variants expects own, same or own,same');
        o.variants = vs as Variant[];
      },
      '--no-reference': (o) => (o.reference = false),
      '--features': (o, v) => (o.features = v()),
      '--save-features': (o, v) => (o.saveFeatures = v()),
    },
    USAGE,
  );
}

function runSklearn(o: Options, dumpDir: string, fit: boolean): Promise<RefResult> {
  const argv = [String(o.dims), '--k', String(o.k), '--seed', String(o.seed), '--dump', dumpDir];
  if (o.trainLimit !== undefined) argv.push('--train-limit', String(o.trainLimit));
  if (!fit) argv.push('--no-fit');
  return runReference(REFERENCE, argv, { OMP_NUM_THREADS: String(cpus().length), PYTHONWARNINGS: 'ignore' });
}

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function readDump(dir: string, dims: number): Features {
  const ytr = new Uint8Array(readFileSync(join(dir, 'ytr.u8')));
  const yte = new Uint8Array(readFileSync(join(dir, 'yte.u8')));
  const tr = readF32(join(dir, 'ztr.f32'));
  const te = readF32(join(dir, 'zte.f32'));
  if (tr.length !== ytr.length * dims || te.length !== yte.length * dims) throw new Error(`${dir}: feature files do not hold ${dims} dims`);
  const initPath = join(dir, 'init_labels.i32');
  let initLabels: Int32Array | null = null;
  if (existsSync(initPath)) {
    const b = readFileSync(initPath);
    initLabels = new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  }
  return {
    Ztr: { data: tr, rows: ytr.length, cols: dims },
    Zte: { data: te, rows: yte.length, cols: dims },
    ytr,
    yte,
    initLabels,
    source: `scikit-learn PCA (${dir})`,
  };
}

/** PCA of the raw pixels computed here: covariance on the backend (pre-transposed operand), Jacobi eigenvectors. */
async function ownPca(o: Options): Promise<Features> {
  const ds = await loadFashionMnist({ trainLimit: o.trainLimit });
  const d = ds.train.height * ds.train.width;
  const n = ds.train.count;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += ds.train.images[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const mean32 = Float32Array.from(mean);
  const cov = tf.tidy(() => {
    const Xc = tf.sub(tf.tensor2d(ds.train.images, [n, d]), tf.tensor1d(mean32));
    return tf.div(tf.matMul(tf.transpose(Xc), Xc), n - 1);
  });
  const C = Float64Array.from(await cov.data());
  cov.dispose();
  const { vectors } = symmetricEigen(C, d, { maxSweeps: 30, tol: 1e-12 });
  const V = new Float32Array(d * o.dims);
  for (let j = 0; j < d; j++) for (let c = 0; c < o.dims; c++) V[j * o.dims + c] = vectors[j * d + c];
  const project = async (images: Float32Array, rows: number): Promise<Matrix> => {
    const Z = tf.tidy(() => tf.matMul(tf.sub(tf.tensor2d(images, [rows, d]), tf.tensor1d(mean32)), tf.tensor2d(V, [d, o.dims])));
    const data = (await Z.data()) as Float32Array;
    Z.dispose();
    return { data, rows, cols: o.dims };
  };
  return {
    Ztr: await project(ds.train.images, n),
    Zte: await project(ds.test.images, ds.test.count),
    ytr: ds.train.labels,
    yte: ds.test.labels,
    initLabels: null,
    source: 'own PCA (tfjs covariance + Jacobi)',
  };
}

async function fitOurs(o: Options, f: Features, variant: Variant): Promise<OurResult> {
  const g = new GaussianMixture({ k: o.k, covarianceType: 'full', seed: o.seed, maxIter: o.maxIter, tol: o.tol });
  let resp: Float32Array | undefined;
  if (variant === 'same') {
    if (!f.initLabels) throw new Error('no sklearn initial labels');
    resp = new Float32Array(f.Ztr.rows * o.k);
    for (let i = 0; i < f.Ztr.rows; i++) resp[i * o.k + f.initLabels[i]] = 1;
  }
  const t0 = performance.now();
  let firstIterAt = 0;
  let lastLog = t0;
  await g.fit(f.Ztr, {
    init: resp ? { resp } : undefined,
    onProgress: (e) => {
      const now = performance.now();
      if (e.iter === 1) firstIterAt = now;
      if (now - lastLog > 10_000) {
        process.stdout.write(`    [${variant}] iter ${e.iter}, lower bound ${e.lowerBound.toFixed(4)}\n`);
        lastLog = now;
      }
    },
  });
  const fitS = (performance.now() - t0) / 1000;
  const pred = await g.predict(f.Zte);
  return {
    variant,
    fitS,
    // Time before the first EM iteration ends ≈ initialisation (k-means) + one EM iteration.
    initS: (firstIterAt - t0) / 1000,
    iters: g.nIter,
    converged: g.converged,
    lowerBound: g.lowerBound,
    testAcc: accuracy(pred, f.yte, { k: o.k, nClasses: 10 }),
    testScore: await g.score(f.Zte),
  };
}

export async function benchGmm(args: string[]): Promise<void> {
  const o = parseArgs(args);
  const backend = await initBackend(o.backend);
  let ref: RefResult | null = null;
  let refNote: string;
  let features: Features;
  let dumpDir: string | null = null;
  const t0 = performance.now();
  if (o.features) {
    features = readDump(o.features, o.dims);
    refNote = `reference not run (--features ${o.features})`;
  } else if ((refNote = referenceSkipped(o.reference, SKLEARN))) {
    process.stdout.write(`${refNote}; computing the PCA here…\n`);
    features = await ownPca(o);
  } else {
    dumpDir = o.saveFeatures ?? mkdtempSync(join(tmpdir(), 'cb-gmm-bench-'));
    process.stdout.write(
      `running scikit-learn reference (${REFERENCE}: PCA, dump, GaussianMixture fit; OMP_NUM_THREADS=${cpus().length})…\n`,
    );
    try {
      ref = await runSklearn(o, dumpDir, true);
      features = readDump(dumpDir, o.dims);
    } catch (err) {
      refNote = `reference failed: ${(err as Error).message}`;
      process.stdout.write(`${refNote}; computing the PCA here…\n`);
      features = await ownPca(o);
    }
  }
  const { Ztr, Zte } = features;
  process.stdout.write(
    `GMM bench: backend ${backend}, ${cpus().length} CPU(s), train ${Ztr.rows}×${Ztr.cols}, test ${Zte.rows}, k=${o.k}, full covariance, ` +
      `seed ${o.seed}, features: ${features.source} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
  );
  if (ref) {
    process.stdout.write(
      `  sklearn: fit ${ref.fit_s} s, ${ref.iters} iterations (converged ${ref.converged}), lower bound ${ref.lower_bound?.toFixed(4)}, ` +
        `test acc ${ref.test_acc}, PCA ${ref.pca_s} s\n`,
    );
  }

  // Warm-up (kernel setup) on a small slice, not billed to the timed fits.
  await new GaussianMixture({ k: 2, maxIter: 2, initParams: 'random' }).fit({
    data: Ztr.data.subarray(0, 2000 * Ztr.cols),
    rows: 2000,
    cols: Ztr.cols,
  });

  const ours: OurResult[] = [];
  for (const variant of o.variants) {
    if (variant === 'same' && !features.initLabels) {
      process.stdout.write("  ours [same]: skipped (needs the reference dump of sklearn's initial labels)\n");
      continue;
    }
    process.stdout.write(`  ours [${variant}]: fitting…\n`);
    const r = await fitOurs(o, features, variant);
    ours.push(r);
    process.stdout.write(
      `  ours [${variant}]: fit ${r.fitS.toFixed(2)} s (${r.iters} iterations, ${(((r.fitS - r.initS) / Math.max(1, r.iters - 1)) * 1000).toFixed(0)} ms/iter, ` +
        `first iteration incl. init ${r.initS.toFixed(2)} s), converged ${r.converged}, lower bound ${r.lowerBound.toFixed(4)}, test acc ${r.testAcc.toFixed(4)}\n`,
    );
  }
  if (dumpDir && !o.saveFeatures) rmSync(dumpDir, { recursive: true, force: true });

  const refPerIter = ref?.fit_s !== undefined && ref.iters ? ref.fit_s / ref.iters : undefined;
  const rows: string[][] = [];
  if (ref)
    rows.push([
      'sklearn',
      fmt(ref.fit_s, 2),
      '—',
      String(ref.iters),
      fmt(refPerIter !== undefined ? refPerIter * 1000 : undefined, 0),
      fmt(ref.lower_bound, 4),
      fmt(ref.test_acc, 4),
    ]);
  for (const r of ours) {
    rows.push([
      `ours [${r.variant}]`,
      fmt(r.fitS, 2),
      ref?.fit_s ? fmt(r.fitS / ref.fit_s, 2) : '—',
      String(r.iters),
      fmt((r.fitS / r.iters) * 1000, 0),
      fmt(r.lowerBound, 4),
      fmt(r.testAcc, 4),
    ]);
  }
  process.stdout.write(
    `\nGaussianMixture(k=${o.k}, full) on ${Ztr.rows}×${Ztr.cols} PCA features; ours on ${backend}, sklearn ${ref ? `with OMP_NUM_THREADS=${cpus().length}` : 'not run'}\n` +
      table(['fit', 'time s', 'ratio', 'iters', 'ms/iter', 'lower bound', 'test acc'], rows) +
      '\n' +
      (refNote ? `${refNote}\n` : '') +
      `own = our k-means initialisation (seed ${o.seed}); same = sklearn's initial k-means labels (identical starting point).\n`,
  );
}
