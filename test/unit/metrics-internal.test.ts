import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFashionMnist } from '../../src-main/engine/data/index';
import { Rng } from '../../src-main/engine/math/rng';
import {
  calinskiHarabaszScore,
  clusterScores,
  daviesBouldinScore,
  defaultSilhouetteMaxExact,
  silhouetteOfRows,
  silhouetteSampleIndices,
  silhouetteScore,
} from '../../src-main/engine/metrics/index';
import { encodeLabels } from '../../src-main/engine/metrics/cluster-labels';
import { gatherRows, silhouetteSamples } from '../../src-main/engine/metrics/silhouette-kernel';
import type { Matrix } from '../../src-main/engine/types';
import { skipUnless, SYSTEM_PYTHON } from '../helpers/prereqs';

// ---------------------------------------------------------------------------------------------------------
// Inputs

function uniformMatrix(rows: number, cols: number, seed: number): Matrix {
  const rng = new Rng(seed);
  return { data: Float32Array.from({ length: rows * cols }, () => rng.random()), rows, cols };
}

function randomLabels(n: number, k: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => rng.int(k));
}

/** A few Lloyd iterations from the first k rows (plain float64): the labels of a quick k-means. */
function lloydLabels(x: Matrix, k: number, iterations: number): Int32Array {
  const { rows: n, cols: d, data } = x;
  const centres = Float64Array.from(data.subarray(0, k * d));
  const labels = new Int32Array(n);
  for (let it = 0; it <= iterations; it++) {
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let f = 0; f < d; f++) s += (data[i * d + f] - centres[c * d + f]) ** 2;
        if (s < bestD) [best, bestD] = [c, s];
      }
      labels[i] = best;
    }
    if (it === iterations) break;
    const counts = new Float64Array(k);
    centres.fill(0);
    for (let i = 0; i < n; i++) {
      counts[labels[i]]++;
      for (let f = 0; f < d; f++) centres[labels[i] * d + f] += data[i * d + f];
    }
    for (let c = 0; c < k; c++) for (let f = 0; f < d; f++) centres[c * d + f] /= Math.max(counts[c], 1);
  }
  return labels;
}

/** x · R with R a seeded cols × d normal matrix: a d-dimensional stand-in for autoencoder codes. */
function project(x: Matrix, d: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const r = Float64Array.from({ length: x.cols * d }, () => rng.normal());
  const out = new Float32Array(x.rows * d);
  for (let i = 0; i < x.rows; i++) {
    for (let c = 0; c < d; c++) {
      let s = 0;
      for (let f = 0; f < x.cols; f++) s += x.data[i * x.cols + f] * r[f * d + c];
      out[i * d + c] = s / Math.sqrt(d);
    }
  }
  return { data: out, rows: x.rows, cols: d };
}

/** The textbook silhouette, pair by pair with direct differences: an independent check of the kernel. */
function naiveSilhouette(x: Matrix, labels: Int32Array): number {
  const { codes, sizes, k } = encodeLabels(labels);
  const { rows: n, cols: d, data } = x;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const sums = new Float64Array(k);
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let f = 0; f < d; f++) s += (data[i * d + f] - data[j * d + f]) ** 2;
      sums[codes[j]] += Math.sqrt(s);
    }
    const own = codes[i];
    if (sizes[own] === 1) continue;
    const a = sums[own] / (sizes[own] - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own) b = Math.min(b, sums[c] / sizes[c]);
    if (Math.max(a, b) > 0) total += (b - a) / Math.max(a, b);
  }
  return total / n;
}

const relative = (ours: number, ref: number): number => Math.abs(ours - ref) / Math.abs(ref);

// ---------------------------------------------------------------------------------------------------------
// scikit-learn on the same matrix and labels (Debian's /usr/bin/python3)

const SKLEARN_SCRIPT = String.raw`
import json, sys
import numpy as np
from sklearn.metrics import silhouette_score, calinski_harabasz_score, davies_bouldin_score
results = []
for case in json.loads(sys.argv[1]):
    X32 = np.fromfile(case["x"], dtype="<f4").reshape(case["n"], case["d"])
    X = X32.astype(np.float64)  # the same values; sklearn then computes in float64 as we do
    y = np.fromfile(case["labels"], dtype="<i4")
    out = {"silhouette": float(silhouette_score(X, y)), "silhouette32": float(silhouette_score(X32, y)),
           "ch": float(calinski_harabasz_score(X, y)), "db": float(davies_bouldin_score(X, y))}
    if "rows" in case:
        idx = np.fromfile(case["rows"], dtype="<i4")
        out["sampled"] = float(silhouette_score(X[idx], y[idx]))
    results.append(out)
print(json.dumps(results))
`;

interface SklearnScores {
  silhouette: number;
  /** sklearn given the float32 matrix itself (its distances rounded to float32). */
  silhouette32: number;
  ch: number;
  db: number;
  /** The silhouette of the listed rows only. */
  sampled?: number;
}

interface SklearnCase {
  x: Matrix;
  labels: Int32Array;
  rows?: Int32Array;
}

const bytes = (a: Float32Array | Int32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** scikit-learn's scores of every case, in one Python process (its start and imports cost seconds). */
function sklearnScores(cases: SklearnCase[]): SklearnScores[] {
  const dir = mkdtempSync(join(tmpdir(), 'clusterbench-metrics-internal-'));
  try {
    const spec = cases.map(({ x, labels, rows }, i) => {
      const files = { x: join(dir, `x${i}.f32`), labels: join(dir, `y${i}.i32`), rows: rows ? join(dir, `rows${i}.i32`) : undefined };
      writeFileSync(files.x, bytes(x.data));
      writeFileSync(files.labels, bytes(labels));
      if (rows) writeFileSync(files.rows!, bytes(rows));
      return { ...files, n: x.rows, d: x.cols };
    });
    const res = spawnSync(SYSTEM_PYTHON, ['-c', SKLEARN_SCRIPT, JSON.stringify(spec)], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '2' },
    });
    if (res.status !== 0) throw new Error(`python failed: ${res.stderr}`);
    return JSON.parse(res.stdout) as SklearnScores[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 40 × 6 rows with singletons, label values with gaps and negative values, and identical rows in different clusters. */
function awkwardCase(): { x: Matrix; labels: Int32Array } {
  const x = uniformMatrix(40, 6, 8);
  x.data.copyWithin(6 * 6, 0, 6); // row 6 = row 0
  x.data.copyWithin(7 * 6, 0, 6); // row 7 = row 0
  const labels = randomLabels(40, 4, 9).map((c) => [-7, 3, 50, 1_000_000][c]);
  labels[0] = 77; // a cluster of one row: 0
  labels[5] = -100; // another
  labels[6] = labels[7] = 12; // two identical rows alone in their cluster: a = 0
  return { x, labels };
}

const SAMPLE = { maxExact: 1000, sampleSize: 700, seed: 5 };

describe.skipIf(skipUnless('fashionMnist', 'sklearn'))('Fashion-MNIST test images against scikit-learn', () => {
  let pixels: Matrix;
  let pixelLabels: Int32Array;
  let codes: Matrix;
  let codeLabels: Int32Array;
  const awkward = awkwardCase();
  let ref: { pixels: SklearnScores; codes: SklearnScores; awkward: SklearnScores };

  beforeAll(async () => {
    const ds = await loadFashionMnist({ trainLimit: 1, testLimit: 2000 });
    pixels = { data: ds.test.images, rows: ds.test.count, cols: 784 };
    pixelLabels = lloydLabels(pixels, 10, 3);
    codes = project(pixels, 10, 21);
    codeLabels = lloydLabels(codes, 10, 5);
    const sample = silhouetteSampleIndices(codes.rows, SAMPLE.sampleSize, SAMPLE.seed);
    const [p, c, a] = sklearnScores([{ x: pixels, labels: pixelLabels }, { x: codes, labels: codeLabels, rows: sample }, awkward]);
    ref = { pixels: p, codes: c, awkward: a };
  });

  it('2000 × 784 pixels, k = 10 from k-means: exact silhouette, Calinski–Harabasz and Davies–Bouldin within 1e-9 of sklearn (float64)', async (ctx) => {
    const ours = await clusterScores(pixels, pixelLabels);
    const sk = ref.pixels;
    ctx.annotate(
      `silhouette ${ours.silhouette} vs ${sk.silhouette} (float32 sklearn ${sk.silhouette32}), CH ${ours.calinskiHarabasz} vs ${sk.ch}, DB ${ours.daviesBouldin} vs ${sk.db}`,
    );
    expect(ours.silhouetteSample).toBeNull(); // 2000 rows are within the default exact limit
    // Against sklearn in float64 we agree to ~1e-14; its float32 path rounds every distance to float32 (~1e-7).
    expect(relative(ours.silhouette, sk.silhouette)).toBeLessThan(1e-9);
    expect(relative(ours.silhouette, sk.silhouette32)).toBeLessThan(1e-6);
    expect(relative(ours.calinskiHarabasz, sk.ch)).toBeLessThan(1e-9);
    expect(relative(ours.daviesBouldin, sk.db)).toBeLessThan(1e-9);
  });

  it('2000 × 10 codes-like rows (a random projection), k = 10: all three within 1e-9', async () => {
    const ours = await clusterScores(codes, codeLabels);
    expect(relative(ours.silhouette, ref.codes.silhouette)).toBeLessThan(1e-9);
    expect(relative(ours.silhouette, ref.codes.silhouette32)).toBeLessThan(1e-6);
    expect(relative(ours.calinskiHarabasz, ref.codes.ch)).toBeLessThan(1e-9);
    expect(relative(ours.daviesBouldin, ref.codes.db)).toBeLessThan(1e-9);
  });

  it('a sampled silhouette is sklearn’s silhouette_score of the same sample rows', async () => {
    const result = await silhouetteScore(codes, codeLabels, SAMPLE);
    expect(result.sampled).toBe(SAMPLE.sampleSize);
    expect(relative(result.score, ref.codes.sampled!)).toBeLessThan(1e-9);
    expect(relative(result.score, ref.codes.silhouette)).toBeGreaterThan(1e-6); // a sample, not the whole set
    const scores = await clusterScores(codes, codeLabels, SAMPLE);
    expect(scores.silhouette).toBe(result.score);
    expect(scores.silhouetteSample).toBe(SAMPLE.sampleSize);
  });

  it('singletons, label values with gaps and negative values, identical rows in different clusters: as sklearn', async () => {
    const ours = await clusterScores(awkward.x, awkward.labels);
    expect(relative(ours.silhouette, ref.awkward.silhouette)).toBeLessThan(1e-9);
    expect(relative(ours.calinskiHarabasz, ref.awkward.ch)).toBeLessThan(1e-9);
    expect(relative(ours.daviesBouldin, ref.awkward.db)).toBeLessThan(1e-9);
  });
});

describe('silhouette kernel', () => {
  it('equals the textbook pair-by-pair silhouette (row counts that are not multiples of the tile)', async () => {
    for (const [n, d, k] of [
      [3, 2, 2],
      [7, 5, 3],
      [131, 17, 6],
      [301, 64, 12],
    ]) {
      const x = uniformMatrix(n, d, n);
      const labels = randomLabels(n, k, d);
      labels[0] = 0;
      labels[1] = 1; // at least two clusters
      const ours = await silhouetteOfRows(x, labels, null);
      expect(ours).toBeCloseTo(naiveSilhouette(x, labels), 12);
    }
  });

  it('computes the same coefficients panel by panel (the path for huge cluster counts) as with the whole table', async () => {
    const n = 203;
    const x = uniformMatrix(n, 9, 3);
    const enc = encodeLabels(randomLabels(n, 50, 4));
    const input = { data: gatherRows(x.data, 9, null, n), m: n, d: 9, ...enc };
    const whole = await silhouetteSamples(input, { panels: false });
    const panels = await silhouetteSamples(input, { panels: true });
    for (let i = 0; i < n; i++) expect(panels[i]).toBeCloseTo(whole[i], 13);
  });

  it('scores listed rows as the silhouette of that sub-matrix', async () => {
    const x = uniformMatrix(120, 5, 11);
    const labels = randomLabels(120, 3, 12);
    const rows = silhouetteSampleIndices(120, 50, 1);
    const sub: Matrix = { data: new Float32Array(50 * 5), rows: 50, cols: 5 };
    rows.forEach((r, i) => sub.data.set(x.data.subarray(r * 5, r * 5 + 5), i * 5));
    const subLabels = Int32Array.from(rows, (r) => labels[r]);
    expect(await silhouetteOfRows(x, labels, rows)).toBeCloseTo(naiveSilhouette(sub, subLabels), 12);
  });

  it('lets the event loop run while it works, and stops when the signal aborts', async () => {
    const x = uniformMatrix(1200, 784, 2);
    const labels = randomLabels(1200, 10, 3);
    let ticks = 0;
    let running = true;
    const tick = (): void => {
      ticks++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const score = await silhouetteOfRows(x, labels, null);
    running = false;
    expect(Number.isFinite(score)).toBe(true);
    expect(ticks).toBeGreaterThan(1);

    const controller = new AbortController();
    setImmediate(() => controller.abort());
    await expect(silhouetteScore(x, labels, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(silhouetteScore(x, labels, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('label-free scores', () => {
  const x = uniformMatrix(30, 4, 1);

  it('refuse fewer than 2 or more than n − 1 clusters, as sklearn', async () => {
    const one = new Int32Array(30).fill(4);
    const distinct = Int32Array.from({ length: 30 }, (_, i) => i * 3);
    for (const labels of [one, distinct]) {
      expect(() => calinskiHarabaszScore(x, labels)).toThrow(/needs 2 to n − 1 = 29 clusters/);
      expect(() => daviesBouldinScore(x, labels)).toThrow(RangeError);
      await expect(silhouetteScore(x, labels)).rejects.toThrow(/distinct labels? among 30 rows/);
    }
    // n − 1 clusters is allowed: one pair and 28 singletons
    const pairAndSingletons = Int32Array.from({ length: 30 }, (_, i) => Math.max(i, 1));
    expect(Number.isFinite((await silhouetteScore(x, pairAndSingletons)).score)).toBe(true);
  });

  it('refuse a sample with a single cluster, naming the sample', async () => {
    const sample = new Set(silhouetteSampleIndices(30, 5, 0));
    const labels = Int32Array.from({ length: 30 }, (_, i) => (sample.has(i) ? 0 : i % 2)); // one label in the sample
    await expect(silhouetteScore(x, labels, { maxExact: 10, sampleSize: 5, seed: 0 })).rejects.toThrow(/a sample of the 30/);
  });

  it('refuse inconsistent shapes, non-finite values and bad options, each in one line', async () => {
    const labels = randomLabels(30, 3, 2);
    expect(() => calinskiHarabaszScore(x, labels.subarray(0, 29))).toThrow(/29 labels for 30 rows/);
    expect(() => daviesBouldinScore({ ...x, rows: 31 }, randomLabels(31, 3, 2))).toThrow(/rows × cols/);
    const bad = { ...x, data: x.data.slice() };
    bad.data[4 * 7 + 2] = NaN;
    expect(() => calinskiHarabaszScore(bad, labels)).toThrow(/row 7 holds NaN/);
    await expect(silhouetteScore(x, labels, { maxExact: 0 })).rejects.toThrow(/maxExact must be an integer ≥ 1/);
    await expect(silhouetteScore(x, labels, { sampleSize: 2.5 })).rejects.toThrow(/sampleSize must be an integer/);
    await expect(silhouetteOfRows(x, labels, Int32Array.of(0, 30))).rejects.toThrow(/row 30 is outside 0..29/);
  });

  it('depend on which rows share a label, not on the label values', async () => {
    const compact = randomLabels(30, 4, 6);
    const spread = compact.map((c) => [-3, 9, 100, 2_000_000][c]);
    expect(calinskiHarabaszScore(x, spread)).toBe(calinskiHarabaszScore(x, compact));
    expect(daviesBouldinScore(x, spread)).toBe(daviesBouldinScore(x, compact));
    expect((await silhouetteScore(x, spread)).score).toBe((await silhouetteScore(x, compact)).score);
  });

  it('follow sklearn’s special cases: CH = 1 with no within-cluster spread, DB = 0 with coinciding points', () => {
    const twoPoints: Matrix = { data: Float32Array.of(0, 0, 0, 0, 3, 4, 3, 4), rows: 4, cols: 2 };
    const labels = Int32Array.of(0, 0, 1, 1);
    expect(calinskiHarabaszScore(twoPoints, labels)).toBe(1);
    expect(daviesBouldinScore(twoPoints, labels)).toBe(0);
    // two clusters, scatter 0.5 each, centroids 5 apart: (0.5 + 0.5) / 5
    const spread: Matrix = { data: Float32Array.of(0, 0.5, 0, -0.5, 3, 4.5, 3, 3.5), rows: 4, cols: 2 };
    expect(daviesBouldinScore(spread, labels)).toBeCloseTo(0.2, 12);
  });

  it('sample rows uniformly without replacement, in ascending order, reproducibly by seed', () => {
    const a = silhouetteSampleIndices(1000, 300, 42);
    expect(a).toEqual(silhouetteSampleIndices(1000, 300, 42));
    expect(a).not.toEqual(silhouetteSampleIndices(1000, 300, 43));
    expect(new Set(a).size).toBe(300);
    for (let i = 1; i < a.length; i++) expect(a[i]).toBeGreaterThan(a[i - 1]);
    expect(a[0]).toBeGreaterThanOrEqual(0);
    expect(a[299]).toBeLessThan(1000);
    expect(() => silhouetteSampleIndices(10, 11)).toThrow(/exceeds the 10 rows/);
  });

  it('score exactly up to the default limit, which shrinks as rows get wider', () => {
    expect(defaultSilhouetteMaxExact(784)).toBeLessThan(defaultSilhouetteMaxExact(128));
    expect(defaultSilhouetteMaxExact(128)).toBeLessThan(defaultSilhouetteMaxExact(10));
    expect(defaultSilhouetteMaxExact(784)).toBeGreaterThanOrEqual(2000);
  });
});
