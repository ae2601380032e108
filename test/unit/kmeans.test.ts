import { describe, it, expect, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { initBackend } from '../../src-main/engine/backend/index';
import {
  KMeans,
  validateKMeansParams,
  KMEANS_DEFAULTS,
  MAX_LOCKSTEP_RESTARTS,
  type KMeansProgress,
} from '../../src-main/engine/cluster/kmeans';
import { Rng } from '../../src-main/engine/math/rng';
import type { Matrix } from '../../src-main/engine/types';
import { skipUnless } from '../helpers/prereqs';

const execFileAsync = promisify(execFile);
const FMNIST_DIR = process.env.FMNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
const SYS_PYTHON = '/usr/bin/python3';

// ---------- helpers ----------

/** `perCluster` points around each of `means` (rows of a k × d array), isotropic noise `std`; also returns truth. */
function blobs(means: number[][], perCluster: number, std: number, seed: number): { X: Matrix; truth: Int32Array } {
  const rng = new Rng(seed);
  const k = means.length;
  const d = means[0].length;
  const n = k * perCluster;
  const data = new Float32Array(n * d);
  const truth = new Int32Array(n);
  const order = rng.permutation(n);
  for (let t = 0; t < n; t++) {
    const i = order[t];
    const c = t % k;
    truth[i] = c;
    for (let f = 0; f < d; f++) data[i * d + f] = means[c][f] + std * rng.normal();
  }
  return { X: { data, rows: n, cols: d }, truth };
}

function uniformData(n: number, d: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(n * d);
  for (let i = 0; i < data.length; i++) data[i] = rng.random();
  return { data, rows: n, cols: d };
}

/** Brute force, float64: squared distance of every row to every center. */
function sqDistances(X: Matrix, centers: ArrayLike<number>, k: number): Float64Array {
  const { rows: n, cols: d, data } = X;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let f = 0; f < d; f++) {
        const diff = data[i * d + f] - centers[j * d + f];
        s += diff * diff;
      }
      out[i * k + j] = s;
    }
  }
  return out;
}

function bruteForce(X: Matrix, centers: ArrayLike<number>, k: number): { labels: Int32Array; inertia: number; dist: Float64Array } {
  const dist = sqDistances(X, centers, k);
  const labels = new Int32Array(X.rows);
  let inertia = 0;
  for (let i = 0; i < X.rows; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (dist[i * k + j] < dist[i * k + best]) best = j;
    labels[i] = best;
    inertia += dist[i * k + best];
  }
  return { labels, inertia, dist };
}

function inertiaOf(X: Matrix, centers: ArrayLike<number>, labels: Int32Array): number {
  const { cols: d, data } = X;
  let total = 0;
  for (let i = 0; i < X.rows; i++) {
    for (let f = 0; f < d; f++) {
      const diff = data[i * d + f] - centers[labels[i] * d + f];
      total += diff * diff;
    }
  }
  return total;
}

/** Same partition up to a renaming of the clusters. */
function samePartition(a: Int32Array, b: Int32Array): boolean {
  const ab = new Map<number, number>();
  const ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    if ((ab.get(a[i]) ?? b[i]) !== b[i] || (ba.get(b[i]) ?? a[i]) !== a[i]) return false;
    ab.set(a[i], b[i]);
    ba.set(b[i], a[i]);
  }
  return true;
}

/**
 * Labels agree with the brute-force nearest center, except possibly where the two closest centers are
 * within float32 rounding of each other.
 */
function expectNearestCenter(X: Matrix, centers: ArrayLike<number>, k: number, labels: Int32Array): void {
  const { labels: bf, dist } = bruteForce(X, centers, k);
  let mismatches = 0;
  for (let i = 0; i < X.rows; i++) {
    if (labels[i] === bf[i]) continue;
    const gap = dist[i * k + labels[i]] - dist[i * k + bf[i]];
    const scale = Math.max(1e-12, dist[i * k + bf[i]]);
    if (gap / scale > 1e-4) mismatches++;
  }
  expect(mismatches).toBe(0);
}

beforeAll(async () => {
  expect(await initBackend('wasm')).toBe('wasm');
});

// ---------- RNG ----------

describe('Rng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 8 }, () => a.nextUint32());
    const sb = Array.from({ length: 8 }, () => b.nextUint32());
    const sc = Array.from({ length: 8 }, () => c.nextUint32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    expect(new Rng(0).nextUint32()).not.toBe(new Rng(2 ** 40).nextUint32());
  });

  it('produces sane uniform, integer and normal variates', () => {
    const rng = new Rng(7);
    let sum = 0;
    let sumSq = 0;
    const counts = new Array(6).fill(0);
    const N = 60000;
    for (let i = 0; i < N; i++) {
      const u = rng.random();
      expect(u >= 0 && u < 1).toBe(true);
      counts[rng.int(6)]++;
      const z = rng.normal();
      sum += z;
      sumSq += z * z;
    }
    for (const c of counts) expect(Math.abs(c / N - 1 / 6)).toBeLessThan(0.01);
    expect(Math.abs(sum / N)).toBeLessThan(0.02);
    expect(Math.abs(sumSq / N - 1)).toBeLessThan(0.03);
    const perm = rng.permutation(50);
    expect(Array.from(perm).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const picked = rng.sampleWithoutReplacement(1000, 20);
    expect(new Set(picked).size).toBe(20);
    expect(() => rng.int(0)).toThrow(RangeError);
    expect(() => new Rng(Number.NaN)).toThrow(RangeError);
  });

  it('round-trips its state', () => {
    const rng = new Rng(5);
    rng.random();
    const state = rng.getState();
    const x = [rng.nextUint32(), rng.nextUint32()];
    rng.setState(state);
    expect([rng.nextUint32(), rng.nextUint32()]).toEqual(x);
  });
});

// ---------- parameters ----------

describe('KMeans parameters', () => {
  it('has scikit-learn defaults', () => {
    expect(new KMeans().params).toEqual({ k: 10, nInit: 10, maxIter: 300, tol: 1e-4, seed: 0 });
    expect(KMEANS_DEFAULTS).toEqual({ k: 10, nInit: 10, maxIter: 300, tol: 1e-4, seed: 0 });
    expect(new KMeans({ k: 3 }).params).toEqual({ ...KMEANS_DEFAULTS, k: 3 });
  });

  it('rejects invalid parameters with clear errors', () => {
    // The messages come from the estimator's schema (cluster/kmeans-params.ts), one line naming parameter and value.
    expect(() => new KMeans({ k: 1 })).toThrow(/^KMeans k must be ≥ 2, got 1$/);
    expect(() => new KMeans({ k: 2.5 })).toThrow(/^KMeans k must be an integer, got 2.5$/);
    expect(() => new KMeans({ k: Number.NaN })).toThrow(/KMeans k must be a number, got NaN/);
    expect(() => new KMeans({ nInit: 0 })).toThrow(/KMeans nInit must be ≥ 1, got 0/);
    expect(() => new KMeans({ nInit: 5000 })).toThrow(/KMeans nInit must be ≤ 1000, got 5000/);
    expect(() => new KMeans({ maxIter: 0 })).toThrow(/maxIter must be ≥ 1/);
    expect(() => new KMeans({ tol: -1e-3 })).toThrow(/tol must be ≥ 0, got -0.001/);
    expect(() => new KMeans({ tol: Infinity })).toThrow(/tol must be a (finite )?number, got Infinity/);
    expect(() => new KMeans({ seed: 0.5 })).toThrow(/seed must be an integer/);
    expect(() => new KMeans({ k: '3' as unknown as number })).toThrow(/k must be a number, got '3'/);
    expect(() => new KMeans({ k: 1 })).toThrow(RangeError);
    expect(() => validateKMeansParams({ clusters: 3 } as never)).toThrow(/Unknown KMeans parameter "clusters"/);
  });

  it('rejects bad input before doing any work', async () => {
    const X = uniformData(5, 3, 1);
    await expect(new KMeans({ k: 6 }).fit(X)).rejects.toThrow(/k \(6\) must be ≤ the number of samples \(5\)/);
    await expect(new KMeans({ k: 2 }).fit({ data: new Float32Array(7), rows: 2, cols: 3 })).rejects.toThrow(/expected rows × cols/);
    const bad = uniformData(10, 2, 1);
    bad.data[3] = Number.NaN;
    await expect(new KMeans({ k: 2 }).fit(bad)).rejects.toThrow(/NaN or infinite/);
    await expect(new KMeans({ k: 2 }).predict(X)).rejects.toThrow(/not fitted/);
    const km = await new KMeans({ k: 2, nInit: 1 }).fit(X);
    await expect(km.predict(uniformData(3, 4, 2))).rejects.toThrow(/4 features, the model was fitted on 3/);
    await expect(new KMeans({ k: 2 }).fit(X, { initCenters: new Float32Array(5) })).rejects.toThrow(/initCenters has 5 values/);
  });
});

// ---------- behaviour ----------

describe('KMeans', () => {
  const means = [
    [0, 0, 0, 0],
    [10, 0, 0, 0],
    [0, 10, 0, 0],
    [0, 0, 10, 10],
    [-10, -10, 5, 0],
  ];

  it('recovers well-separated blobs exactly', async () => {
    const { X, truth } = blobs(means, 60, 0.5, 3);
    const km = await new KMeans({ k: 5, nInit: 3, seed: 1 }).fit(X);
    expect(samePartition(km.labels as Int32Array, truth)).toBe(true);
    // every fitted center is within 0.3 of one true mean, one to one
    const used = new Set<number>();
    for (let j = 0; j < 5; j++) {
      const c = Array.from((km.centers as Float32Array).subarray(j * 4, j * 4 + 4));
      const m = means.findIndex((mu) => Math.hypot(...mu.map((v, f) => v - c[f])) < 0.3);
      expect(m).toBeGreaterThanOrEqual(0);
      used.add(m);
    }
    expect(used.size).toBe(5);
    expect(km.nIter).toBeGreaterThanOrEqual(1);
    expect(km.initResults).toHaveLength(3);
  });

  it('reports the brute-force inertia, and labels = nearest final center', async () => {
    const X = uniformData(700, 6, 11);
    const km = await new KMeans({ k: 7, nInit: 2, seed: 3 }).fit(X);
    const centers = km.centers as Float32Array;
    const labels = km.labels as Int32Array;
    expectNearestCenter(X, centers, 7, labels);
    const bf = inertiaOf(X, centers, labels);
    expect(Math.abs(km.inertia - bf) / bf).toBeLessThan(1e-6);
    expect(Math.abs(km.inertia - bruteForce(X, centers, 7).inertia) / bf).toBeLessThan(1e-6);
    // each center is the mean of its points (converged Lloyd fixed point up to tol)
    const d = 6;
    for (let j = 0; j < 7; j++) {
      const mean = new Float64Array(d);
      let cnt = 0;
      for (let i = 0; i < X.rows; i++) {
        if (labels[i] !== j) continue;
        cnt++;
        for (let f = 0; f < d; f++) mean[f] += X.data[i * d + f];
      }
      expect(cnt).toBeGreaterThan(0);
      for (let f = 0; f < d; f++) expect(Math.abs(mean[f] / cnt - centers[j * d + f])).toBeLessThan(0.05);
    }
  });

  it('gives identical results for the same seed, and different seeds can differ', async () => {
    const X = uniformData(500, 5, 21);
    const a = await new KMeans({ k: 8, nInit: 2, seed: 5 }).fit(X);
    const b = await new KMeans({ k: 8, nInit: 2, seed: 5 }).fit(X);
    expect(b.inertia).toBe(a.inertia);
    expect(b.nIter).toBe(a.nIter);
    expect(Array.from(b.centers as Float32Array)).toEqual(Array.from(a.centers as Float32Array));
    expect(Array.from(b.labels as Int32Array)).toEqual(Array.from(a.labels as Int32Array));
    const inertias = new Set<number>();
    for (const seed of [0, 1, 2, 3, 4]) inertias.add((await new KMeans({ k: 8, nInit: 1, seed }).fit(X)).inertia);
    expect(inertias.size).toBeGreaterThan(1);
  });

  it('keeps the restart with the lowest inertia', async () => {
    const X = uniformData(600, 4, 8);
    const multi = await new KMeans({ k: 9, nInit: 6, seed: 2 }).fit(X);
    const perInit = multi.initResults.map((r) => r.inertia);
    expect(multi.inertia).toBeCloseTo(Math.min(...perInit), 6);
    expect(perInit[multi.bestInit]).toBeCloseTo(multi.inertia, 6);
    expect(new Set(perInit.map((v) => v.toFixed(6))).size).toBeGreaterThan(1); // the restarts did differ
    // restart 0 of a multi-init fit is the single-init fit with the same seed (batched restarts don't interact)
    const single = await new KMeans({ k: 9, nInit: 1, seed: 2 }).fit(X);
    expect(Math.abs(perInit[0] - single.inertia) / single.inertia).toBeLessThan(1e-7);
    expect(multi.initResults[0].nIter).toBe(single.nIter);
    expect(multi.inertia).toBeLessThanOrEqual(single.inertia * (1 + 1e-12));
  });

  it('handles duplicate points and k = number of distinct points', async () => {
    // 3 distinct points, each repeated 5 times; k = 4 > distinct points: one cluster must be relocated/empty-safe
    const pts = [
      [0, 0],
      [5, 5],
      [9, 1],
    ];
    const data = new Float32Array(15 * 2);
    for (let i = 0; i < 15; i++) data.set(pts[i % 3], i * 2);
    const X = { data, rows: 15, cols: 2 };
    const km = await new KMeans({ k: 4, nInit: 3, seed: 0 }).fit(X);
    expect(km.inertia).toBe(0);
    expect(Array.from(km.centers as Float32Array).every(Number.isFinite)).toBe(true);
    const labels = km.labels as Int32Array;
    expect(labels.every((l) => l >= 0 && l < 4)).toBe(true);
    for (let i = 0; i < 15; i++) expect(labels[i]).toBe(labels[i % 3]); // duplicates share a cluster
    // k = n: every point its own cluster, zero inertia
    const Y = uniformData(12, 3, 4);
    const all = await new KMeans({ k: 12, nInit: 2, seed: 0 }).fit(Y);
    expect(all.inertia).toBeLessThan(1e-9);
    expect(new Set(all.labels as Int32Array).size).toBe(12);
  });

  it('relocates an empty cluster to the point farthest from its center', async () => {
    // two tight groups and one far outlier; the initial third center is nowhere near any point, so its cluster
    // is empty after the first assignment and must move to the farthest point (the outlier).
    const rows: number[][] = [];
    for (let i = 0; i < 20; i++) rows.push([0 + 0.01 * i, 0]);
    for (let i = 0; i < 20; i++) rows.push([10 + 0.01 * i, 0]);
    rows.push([5, 30]);
    const X = { data: Float32Array.from(rows.flat()), rows: rows.length, cols: 2 };
    const init = Float32Array.from([0, 0, 10, 0, 1000, -1000]);
    const km = await new KMeans({ k: 3, nInit: 5, seed: 0 }).fit(X, { initCenters: init });
    expect(km.initResults).toHaveLength(1); // explicit init: one run, like sklearn
    const labels = km.labels as Int32Array;
    const outlier = labels[40];
    expect(new Set(labels.subarray(0, 20)).size).toBe(1);
    expect(new Set(labels.subarray(20, 40)).size).toBe(1);
    expect(new Set([labels[0], labels[20], outlier]).size).toBe(3);
    const c = km.centers as Float32Array;
    expect(c[outlier * 2]).toBeCloseTo(5, 5);
    expect(c[outlier * 2 + 1]).toBeCloseTo(30, 5);
    expect(km.inertia).toBeCloseTo(inertiaOf(X, c, labels), 6);
  });

  it('predicts the nearest center on new data; transform and score agree', async () => {
    const { X } = blobs(means, 40, 2.5, 9); // overlapping enough to make predict non-trivial
    const km = await new KMeans({ k: 5, nInit: 2, seed: 4 }).fit(X);
    const { X: Xnew } = blobs(means, 30, 4, 10);
    const pred = await km.predict(Xnew);
    expect(pred).toBeInstanceOf(Int32Array);
    expect(pred.length).toBe(Xnew.rows);
    const centers = km.centers as Float32Array;
    expectNearestCenter(Xnew, centers, 5, pred);
    const bf = bruteForce(Xnew, centers, 5);
    const dist = await km.transform(Xnew);
    for (let t = 0; t < dist.length; t += 37) expect(dist[t]).toBeCloseTo(Math.sqrt(bf.dist[t]), 3);
    expect(Math.abs(-(await km.score(Xnew)) - bf.inertia) / bf.inertia).toBeLessThan(1e-6);
    // predict on the fit set reproduces the fit labels
    const again = await km.predict(X);
    expect(Array.from(again)).toEqual(Array.from(km.labels as Int32Array));
  });

  it('reports progress, yields to the event loop and honours an abort signal', async () => {
    const X = uniformData(2000, 8, 2);
    const events: KMeansProgress[] = [];
    await new KMeans({ k: 6, nInit: 3, seed: 0 }).fit(X, { onProgress: (e) => events.push(e) });
    expect(events.length).toBeGreaterThan(3);
    expect(events.every((e) => e.phase === 'kmeans' && e.nInit === 3 && e.fraction >= 0 && e.fraction <= 1)).toBe(true);
    expect(events[events.length - 1].fraction).toBe(1);
    for (let t = 1; t < events.length; t++) expect(events[t].fraction).toBeGreaterThanOrEqual(events[t - 1].fraction - 1e-12);

    const already = new AbortController();
    already.abort();
    await expect(new KMeans({ k: 3 }).fit(X, { signal: already.signal })).rejects.toMatchObject({ name: 'AbortError' });

    // abort from a timer while the fit runs: only possible if fit yields to the event loop
    const ctrl = new AbortController();
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
      if (ticks === 2) ctrl.abort();
    }, 0);
    const big = uniformData(4000, 16, 3);
    await expect(new KMeans({ k: 20, nInit: 10, maxIter: 300, tol: 0, seed: 1 }).fit(big, { signal: ctrl.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    clearInterval(timer);
  });

  it('gives the same clustering with and without Elkan pruning', async () => {
    const { X } = blobs(means, 600, 4, 13); // 3000 overlapping points: long tail of small changes
    const pruned = await new KMeans({ k: 8, nInit: 3, seed: 6 }).fit(X, { pruning: true });
    const plain = await new KMeans({ k: 8, nInit: 3, seed: 6 }).fit(X, { pruning: false });
    const ps = pruned.fitStats!;
    expect(ps.pruning).toBe(true);
    expect(plain.fitStats!.pruning).toBe(false);
    // pruning did skip work (the sparse path ran) …
    expect(ps.distanceRows).toBeLessThan(0.8 * X.rows * ps.totalIterations);
    // … without changing the result
    expect(pruned.initResults.map((r) => r.nIter)).toEqual(plain.initResults.map((r) => r.nIter));
    expect(Math.abs(pruned.inertia - plain.inertia) / plain.inertia).toBeLessThan(1e-9);
    expect(Array.from(pruned.labels as Int32Array)).toEqual(Array.from(plain.labels as Int32Array));
  });

  it('runs restarts in lockstep batches of bounded size, with the same result as one batch', async () => {
    const { X } = blobs(means, 300, 4, 21); // overlapping blobs: the restarts differ
    const oneBatch = await new KMeans({ k: 6, nInit: 10, seed: 8 }).fit(X);
    const events: KMeansProgress[] = [];
    const batched = await new KMeans({ k: 6, nInit: 10, seed: 8 }).fit(X, { maxLockstepRestarts: 3, onProgress: (e) => events.push(e) });
    expect(oneBatch.fitStats).toMatchObject({ lockstepRestarts: 10, batches: 1 });
    expect(batched.fitStats).toMatchObject({ lockstepRestarts: 3, batches: 4 });
    expect(new Set(oneBatch.initResults.map((r) => r.inertia)).size).toBeGreaterThan(1);
    expect(batched.initResults).toEqual(oneBatch.initResults);
    expect(batched.bestInit).toBe(oneBatch.bestInit);
    expect(batched.inertia).toBe(oneBatch.inertia);
    expect(Array.from(batched.centers as Float32Array)).toEqual(Array.from(oneBatch.centers as Float32Array));
    expect(Array.from(batched.labels as Int32Array)).toEqual(Array.from(oneBatch.labels as Int32Array));
    // progress runs over all batches: monotone, every restart reported, ends at 1
    for (let t = 1; t < events.length; t++) expect(events[t].fraction).toBeGreaterThanOrEqual(events[t - 1].fraction - 1e-12);
    expect(new Set(events.map((e) => e.init)).size).toBe(10);
    expect(events.at(-1)!.fraction).toBe(1);
  });

  it('holds at most MAX_LOCKSTEP_RESTARTS restarts at once, whatever nInit', async () => {
    const X = uniformData(300, 4, 9);
    const km = await new KMeans({ k: 3, nInit: 1000, seed: 0 }).fit(X);
    expect(MAX_LOCKSTEP_RESTARTS).toBe(32);
    expect(km.fitStats).toMatchObject({ lockstepRestarts: MAX_LOCKSTEP_RESTARTS, batches: Math.ceil(1000 / MAX_LOCKSTEP_RESTARTS) });
    expect(km.initResults).toHaveLength(1000);
    expect(km.inertia).toBe(Math.min(...km.initResults.map((r) => r.inertia)));
  });

  it('agrees between the cpu and wasm backends', async () => {
    const { X } = blobs(means, 80, 3, 12);
    try {
      expect(await initBackend('cpu')).toBe('cpu');
      const onCpu = await new KMeans({ k: 5, nInit: 3, seed: 7 }).fit(X);
      expect(onCpu.backend).toBe('cpu');
      expect(await initBackend('wasm')).toBe('wasm');
      const onWasm = await new KMeans({ k: 5, nInit: 3, seed: 7 }).fit(X);
      expect(onWasm.backend).toBe('wasm');
      expect(Math.abs(onCpu.inertia - onWasm.inertia) / onWasm.inertia).toBeLessThan(1e-6);
      let same = 0;
      const a = onCpu.labels as Int32Array;
      const b = onWasm.labels as Int32Array;
      for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
      expect(same / a.length).toBeGreaterThan(0.995);
      const ca = onCpu.centers as Float32Array;
      const cb = onWasm.centers as Float32Array;
      for (let t = 0; t < ca.length; t++) expect(Math.abs(ca[t] - cb[t])).toBeLessThan(1e-3);
    } finally {
      await initBackend('wasm');
    }
  });
});

// ---------- real data vs scikit-learn ----------

describe('KMeans on Fashion-MNIST (5000 training images, k = 10)', () => {
  const LIMIT = 5000;
  const N_INIT = 4;

  it(`reaches scikit-learn's inertia within 1% (n_init = ${N_INIT})`, async (ctx) => {
    const missing = skipUnless('fashionMnist', 'sklearn');
    if (missing) ctx.skip(missing);
    const script = [
      'import gzip, sys, numpy as np',
      'from sklearn.cluster import KMeans',
      `X = np.frombuffer(gzip.open('${FMNIST_DIR}/train-images-idx3-ubyte.gz').read(), np.uint8, offset=16).reshape(-1, 784)[:${LIMIT}]`,
      'X = X.astype(np.float32) / 255.0',
      `km = KMeans(10, n_init=${N_INIT}, random_state=0).fit(X)`,
      'print(float(km.inertia_))',
    ].join('\n');
    const skPromise = execFileAsync(SYS_PYTHON, ['-c', script], { env: { ...process.env, OMP_NUM_THREADS: '2' }, timeout: 110_000 });

    const { loadFashionMnist } = await import('../../src-main/engine/data/index');
    const ds = await loadFashionMnist({ dir: FMNIST_DIR, trainLimit: LIMIT, testLimit: 1 });
    const X: Matrix = { data: ds.train.images, rows: ds.train.count, cols: ds.train.height * ds.train.width };
    const km = await new KMeans({ k: 10, nInit: N_INIT, seed: 0 }).fit(X);
    const skInertia = Number((await skPromise).stdout.trim());
    expect(Number.isFinite(skInertia)).toBe(true);
    const rel = (km.inertia - skInertia) / skInertia;
    ctx.annotate(`ours ${km.inertia.toFixed(1)} vs sklearn ${skInertia.toFixed(1)} (${(rel * 100).toFixed(3)}%)`);
    expect(Math.abs(rel)).toBeLessThan(0.01);
    expect(Math.abs(km.inertia - inertiaOf(X, km.centers as Float32Array, km.labels as Int32Array)) / km.inertia).toBeLessThan(1e-6);
  });
});
