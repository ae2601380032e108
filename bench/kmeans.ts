/**
 * `npm run bench -- kmeans [--seeds 0,1,2] [--n-init 10] [--train-limit N] [--test-limit N] [--backend wasm]
 *                          [--no-pruning] [--no-reference]`
 *
 * Fits KMeans(k = 10) on the Fashion-MNIST training images once per seed, times each fit, scores the test images
 * (Hungarian accuracy, NMI, ARI), then — when Debian's /usr/bin/python3 has scikit-learn — runs the reference
 * (bench/reference/sk_kmeans.py, OMP_NUM_THREADS=2) on the same data in the same run and prints the time ratio
 * and the inertia difference per seed.
 */
import { cpus } from 'node:os';
import { initBackend, type BackendName } from '../src-main/engine/backend/index';
import { KMeans } from '../src-main/engine/cluster/kmeans';
import { loadFashionMnist } from '../src-main/engine/data/index';
import { accuracy, ari, nmi } from '../src-main/engine/metrics/index';
import type { ImageSet, Matrix } from '../src-main/engine/types';
import { fmt, int, intList, mean, parseFlags, referenceScript, referenceSkipped, runReference, SKLEARN, table } from './harness';

const REFERENCE = referenceScript('sk_kmeans.py');

interface Options {
  seeds: number[];
  nInit: number;
  trainLimit?: number;
  testLimit?: number;
  backend: BackendName;
  reference: boolean;
  /** undefined: the backend's default. */
  pruning?: boolean;
}

interface OurResult {
  seed: number;
  fitS: number;
  inertia: number;
  iters: number;
  testAcc: number;
  testNmi: number;
  testAri: number;
  trainAcc: number;
  seedingS: number;
  deviceS: number;
  cpuS: number;
  totalIterations: number;
}

interface RefResult {
  fit_s: number;
  inertia: number;
  iters: number;
  test_acc: number;
  test_nmi: number;
  test_ari: number;
  train_acc: number;
}

const USAGE =
  'usage: npm run bench -- kmeans [--seeds 0,1,2] [--n-init 10] [--train-limit N] [--test-limit N] [--backend wasm|cpu|auto|…] [--no-pruning] [--no-reference]\n';

function parseArgs(args: string[]): Options {
  return parseFlags<Options>(
    args,
    { seeds: [0, 1, 2], nInit: 10, backend: 'wasm', reference: true },
    {
      '--seeds': (o, v, f) => (o.seeds = intList(f, v(), 0, '--seeds expects a comma-separated list, e.g. 0,1,2')),
      '--n-init': (o, v, f) => (o.nInit = int(f, v(), 1)),
      '--train-limit': (o, v, f) => (o.trainLimit = int(f, v(), 10)),
      '--test-limit': (o, v, f) => (o.testLimit = int(f, v(), 1)),
      '--backend': (o, v) => (o.backend = (v() ?? 'wasm') as BackendName),
      '--no-reference': (o) => (o.reference = false),
      '--no-pruning': (o) => (o.pruning = false),
      '--pruning': (o) => (o.pruning = true),
    },
    USAGE,
  );
}

const asMatrix = (s: ImageSet): Matrix => ({ data: s.images, rows: s.count, cols: s.height * s.width });

function runSklearn(o: Options): Promise<Record<string, RefResult>> {
  const argv = [String(o.nInit), '--seeds', o.seeds.join(',')];
  if (o.trainLimit !== undefined) argv.push('--train-limit', String(o.trainLimit));
  return runReference(REFERENCE, argv, { OMP_NUM_THREADS: '2' }, (line) => process.stdout.write(`  sklearn seed ${line}\n`));
}

function signedPercent(x: number): string {
  const v = (x * 100).toFixed(4);
  return `${v.startsWith('-') ? '' : '+'}${v === '-0.0000' ? '0.0000' : v}%`;
}

export async function benchKmeans(args: string[]): Promise<void> {
  const o = parseArgs(args);
  const backend = await initBackend(o.backend);
  const t0 = performance.now();
  const ds = await loadFashionMnist({ trainLimit: o.trainLimit, testLimit: o.testLimit });
  const Xtr = asMatrix(ds.train);
  const Xte = asMatrix(ds.test);
  process.stdout.write(
    `k-means bench: backend ${backend}, ${cpus().length} CPU(s), train ${Xtr.rows}×${Xtr.cols}, test ${Xte.rows}, ` +
      `k=10, nInit=${o.nInit}, seeds ${o.seeds.join(',')} (data loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
  );

  // Warm-up: kernel setup / backend compilation should not be billed to the first seed.
  await new KMeans({ k: 10, nInit: 1, maxIter: 2, seed: 0 }).fit({
    data: Xtr.data.subarray(0, 1000 * Xtr.cols),
    rows: Math.min(1000, Xtr.rows),
    cols: Xtr.cols,
  });

  const ours: OurResult[] = [];
  for (const seed of o.seeds) {
    const km = new KMeans({ k: 10, nInit: o.nInit, seed });
    const t = performance.now();
    await km.fit(Xtr, { pruning: o.pruning });
    const fitS = (performance.now() - t) / 1000;
    const pred = await km.predict(Xte);
    const trainLabels = km.labels as Int32Array;
    const st = km.fitStats;
    const r: OurResult = {
      seed,
      fitS,
      inertia: km.inertia,
      iters: km.nIter,
      testAcc: accuracy(pred, ds.test.labels, { k: 10, nClasses: 10 }),
      testNmi: nmi(pred, ds.test.labels),
      testAri: ari(pred, ds.test.labels),
      trainAcc: accuracy(trainLabels, ds.train.labels, { k: 10, nClasses: 10 }),
      seedingS: (st?.seedingMs ?? 0) / 1000,
      deviceS: (st?.deviceMs ?? 0) / 1000,
      cpuS: (st?.cpuMs ?? 0) / 1000,
      totalIterations: st?.totalIterations ?? 0,
    };
    ours.push(r);
    process.stdout.write(
      `  ours seed ${seed}: fit ${fitS.toFixed(2)} s (seeding ${r.seedingS.toFixed(2)}, device ${r.deviceS.toFixed(2)}, cpu ${r.cpuS.toFixed(2)}; ` +
        `${st?.rounds} lockstep rounds, ${r.totalIterations} iterations over ${o.nInit} restarts, ` +
        `${st?.pruning ? `pruning: ${((100 * st.distanceRows) / Math.max(1, r.totalIterations * Xtr.rows)).toFixed(1)}% of point distances computed` : 'no pruning'}), ` +
        `inertia ${r.inertia.toFixed(1)}, ` +
        `n_iter ${r.iters}, test acc ${r.testAcc.toFixed(4)}, NMI ${r.testNmi.toFixed(4)}, ARI ${r.testAri.toFixed(4)}\n`,
    );
  }

  let ref: Record<string, RefResult> | null = null;
  let refNote = referenceSkipped(o.reference, SKLEARN);
  if (!refNote) {
    process.stdout.write(`running scikit-learn reference (${REFERENCE}, OMP_NUM_THREADS=2)…\n`);
    try {
      ref = await runSklearn(o);
    } catch (err) {
      refNote = `reference failed: ${(err as Error).message}`;
    }
  }
  if (refNote) process.stdout.write(`${refNote}\n`);

  const rows = ours.map((r) => {
    const s = ref?.[String(r.seed)];
    return [
      String(r.seed),
      fmt(r.fitS, 2),
      fmt(s?.fit_s, 2),
      s ? fmt(r.fitS / s.fit_s, 2) : '—',
      fmt(r.inertia, 0),
      fmt(s?.inertia, 0),
      s ? signedPercent((r.inertia - s.inertia) / s.inertia) : '—',
      `${r.iters}/${s?.iters ?? '—'}`,
      `${fmt(r.testAcc, 4)}/${fmt(s?.test_acc, 4)}`,
      `${fmt(r.testNmi, 4)}/${fmt(s?.test_nmi, 4)}`,
      `${fmt(r.testAri, 4)}/${fmt(s?.test_ari, 4)}`,
    ];
  });
  if (ours.length > 1) {
    const refs = ours.map((r) => ref?.[String(r.seed)]).filter((x): x is RefResult => !!x);
    const mo = mean(ours.map((r) => r.fitS));
    const ms = refs.length === ours.length ? mean(refs.map((s) => s.fit_s)) : NaN;
    rows.push(['mean', fmt(mo, 2), fmt(ms, 2), Number.isFinite(ms) ? fmt(mo / ms, 2) : '—', '', '', '', '', '', '', '']);
  }
  process.stdout.write(
    `\nk-means on Fashion-MNIST (train ${Xtr.rows}, test ${Xte.rows}, k=10, nInit=${o.nInit}); ours on ${backend}, sklearn ${ref ? 'with OMP_NUM_THREADS=2' : 'not run'}\n` +
      table(
        [
          'seed',
          'ours fit s',
          'sklearn s',
          'ratio',
          'ours inertia',
          'sklearn inertia',
          'Δ inertia',
          'n_iter o/s',
          'test acc o/s',
          'NMI o/s',
          'ARI o/s',
        ],
        rows,
      ) +
      '\n',
  );
}
