/**
 * `npm run bench -- silhouette [--sizes 1000,2000,5000,10000] [--dims 784,128,10] [--seed 0] [--no-reference]`
 *
 * Times the exact silhouette (src-main/engine/metrics/silhouette.ts) on the first n Fashion-MNIST training images,
 * labelled by their classes (k = 10), as pixels (784-d) and as seeded Gaussian random projections of the pixels
 * (other d: the size of autoencoder codes), then — when Debian's /usr/bin/python3 has scikit-learn — times
 * sklearn.metrics.silhouette_score on the same float32 matrices and labels in the same run
 * (bench/reference/sk_silhouette.py, OMP_NUM_THREADS = CPU count) and prints the ratio and the scores' difference.
 * Last, our wall time per pair fitted on the largest n of each d, a + b·d ns, and the default exact limit per d. The
 * CPU-time columns (ours: this process; sklearn: all its threads) show how much a busy machine took from the wall time.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFashionMnist } from '../src-main/engine/data/index';
import { Rng } from '../src-main/engine/math/rng';
import { defaultSilhouetteMaxExact, silhouetteOfRows } from '../src-main/engine/metrics/internal';
import type { Matrix } from '../src-main/engine/types';
import { fmt, int, intList, parseFlags, referenceScript, referenceSkipped, runReference, SKLEARN, table } from './harness';

const REFERENCE = referenceScript('sk_silhouette.py');

interface Options {
  sizes: number[];
  dims: number[];
  seed: number;
  reference: boolean;
}

interface Timing {
  n: number;
  d: number;
  ms: number;
  /** CPU time of the process (all threads) during the run: how much of the wall time the load of the machine took away. */
  cpu_ms: number;
  score: number;
}

const USAGE = 'usage: npm run bench -- silhouette [--sizes 1000,2000,5000,10000] [--dims 784,128,10] [--seed 0] [--no-reference]\n';

function parseArgs(args: string[]): Options {
  return parseFlags<Options>(
    args,
    { sizes: [1000, 2000, 5000, 10000], dims: [784, 128, 10], seed: 0, reference: true },
    {
      '--sizes': (o, v, f) => (o.sizes = intList(f, v(), 3, '--sizes expects a comma-separated list, e.g. 1000,2000')),
      '--dims': (o, v, f) => (o.dims = intList(f, v(), 1, '--dims expects a comma-separated list, e.g. 784,10')),
      '--seed': (o, v, f) => (o.seed = int(f, v(), 0)),
      '--no-reference': (o) => (o.reference = false),
    },
    USAGE,
  );
}

/** x · R / √d with R a seeded d₀ × d standard normal matrix (the pixels themselves when d = d₀). */
function project(x: Matrix, d: number, seed: number): Matrix {
  if (d === x.cols) return x;
  const r = new Rng(seed).fillNormal(new Float64Array(x.cols * d), 0, 1 / Math.sqrt(d));
  const out = new Float32Array(x.rows * d);
  const acc = new Float64Array(d);
  for (let i = 0; i < x.rows; i++) {
    acc.fill(0);
    for (let f = 0; f < x.cols; f++) {
      const v = x.data[i * x.cols + f];
      if (v === 0) continue;
      for (let c = 0, at = f * d; c < d; c++) acc[c] += v * r[at + c];
    }
    out.set(acc, i * d);
  }
  return { data: out, rows: x.rows, cols: d };
}

const firstRows = (x: Matrix, n: number): Matrix => ({ data: x.data.subarray(0, n * x.cols), rows: n, cols: x.cols });

/** Least squares fit of ns per pair = a + b·d over the largest n of each d (null with fewer than two d). */
function fitPairCost(all: Timing[], time: (r: Timing) => number): { fixed: number; perFeature: number } | null {
  const runs = all.filter((r) => !all.some((o) => o.d === r.d && o.n > r.n));
  if (runs.length < 2) return null;
  const pts = runs.map((r) => ({ d: r.d, ns: (time(r) * 1e6) / ((r.n * (r.n - 1)) / 2) }));
  const md = pts.reduce((s, p) => s + p.d, 0) / pts.length;
  const mn = pts.reduce((s, p) => s + p.ns, 0) / pts.length;
  const sxx = pts.reduce((s, p) => s + (p.d - md) ** 2, 0);
  const perFeature = sxx > 0 ? pts.reduce((s, p) => s + (p.d - md) * (p.ns - mn), 0) / sxx : 0;
  return { fixed: mn - perFeature * md, perFeature };
}

export async function benchSilhouette(args: string[]): Promise<void> {
  const o = parseArgs(args);
  const maxN = Math.max(...o.sizes);
  const ds = await loadFashionMnist({ trainLimit: maxN, testLimit: 1 });
  if (ds.train.count < maxN) throw new Error(`--sizes: only ${ds.train.count} training images`);
  const pixels: Matrix = { data: ds.train.images, rows: ds.train.count, cols: 784 };
  const labels = Int32Array.from(ds.train.labels);
  process.stdout.write(
    `silhouette bench: ${cpus().length} CPU(s) (${cpus()[0]?.model.trim()}), Fashion-MNIST training images labelled by class (k = 10), ` +
      `n = ${o.sizes.join(', ')}, d = ${o.dims.join(', ')}\n`,
  );

  const dir = mkdtempSync(join(tmpdir(), 'clusterbench-bench-silhouette-'));
  try {
    const matrices = o.dims.map((d) => ({ d, x: project(pixels, d, o.seed) }));
    // Warm-up: the kernel's first calls run in V8's interpreter, not to be billed to the first size.
    await silhouetteOfRows(firstRows(matrices[0].x, 400), labels.subarray(0, 400), null);
    const ours: Timing[] = [];
    for (const { d, x } of matrices) {
      for (const n of o.sizes) {
        const t = performance.now();
        const cpu = process.cpuUsage();
        const score = await silhouetteOfRows(firstRows(x, n), labels.subarray(0, n), null);
        const ms = performance.now() - t;
        const used = process.cpuUsage(cpu);
        ours.push({ n, d, ms, cpu_ms: (used.user + used.system) / 1000, score });
        process.stdout.write(`  ours    n=${n} d=${d}: ${ms.toFixed(0)} ms, silhouette ${score.toFixed(6)}\n`);
      }
    }

    let ref: Timing[] = [];
    const skipped = referenceSkipped(o.reference, SKLEARN);
    if (skipped) process.stdout.write(`${skipped}\n`);
    else {
      const cases = matrices.map(({ d, x }) => {
        const file = join(dir, `x${d}.f32`);
        writeFileSync(file, new Uint8Array(x.data.buffer, x.data.byteOffset, x.rows * d * 4));
        return { x: file, labels: join(dir, 'labels.i32'), rows: x.rows, d, sizes: o.sizes };
      });
      writeFileSync(join(dir, 'labels.i32'), new Uint8Array(labels.buffer, 0, labels.byteLength));
      writeFileSync(join(dir, 'cases.json'), JSON.stringify({ cases }));
      const threads = String(cpus().length);
      const result = await runReference<{ cases: Timing[] }>(REFERENCE, [join(dir, 'cases.json')], { OMP_NUM_THREADS: threads }, (line) =>
        process.stdout.write(`  sklearn ${line}\n`),
      );
      ref = result.cases;
    }

    const rows = ours.map((r) => {
      const s = ref.find((x) => x.n === r.n && x.d === r.d);
      const pairs = (r.n * (r.n - 1)) / 2;
      return [
        String(r.n),
        String(r.d),
        r.ms.toFixed(0),
        r.cpu_ms.toFixed(0),
        s ? s.ms.toFixed(0) : '—',
        s ? s.cpu_ms.toFixed(0) : '—',
        s ? fmt(r.ms / s.ms, 2) : '—',
        ((r.ms * 1e6) / pairs).toFixed(2),
        fmt(r.score, 6),
        s ? Math.abs((r.score - s.score) / s.score).toExponential(1) : '—',
      ];
    });
    process.stdout.write(
      `\n${table(['n', 'd', 'ours ms', 'cpu ms', 'sklearn ms', 'cpu ms', 'ratio', 'ns/pair', 'silhouette', '|Δ| rel'], rows)}\n\n`,
    );

    for (const [what, time] of [
      ['wall', (r: Timing) => r.ms],
      ['CPU', (r: Timing) => r.cpu_ms],
    ] as const) {
      const fit = fitPairCost(ours, time);
      if (fit)
        process.stdout.write(`ours, ${what} time per pair (fitted): ${fit.fixed.toFixed(2)} ns + ${fit.perFeature.toFixed(3)} ns × d\n`);
    }
    process.stdout.write(
      `default maxExact (defaultSilhouetteMaxExact): ${o.dims.map((d) => `d=${d} → ${defaultSilhouetteMaxExact(d)}`).join(', ')}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
