import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src-main/engine/backend';
import { GaussianMixture, IllDefinedCovarianceError, type CovarianceType } from '../../src-main/engine/cluster/gmm';
import { cholesky } from '../../src-main/engine/math/linalg';
import { Rng } from '../../src-main/engine/math/rng';
import type { Matrix } from '../../src-main/engine/types';
import { PREREQS, skipUnless } from '../helpers/prereqs';

const PYTHON = '/usr/bin/python3';
const FMNIST_DIR = process.env.FMNIST_DIR ?? '/usr/share/datasets/fashion-mnist';

const HAS_FMNIST = PREREQS.fashionMnist.present();

/** First `count` training images (pixels / 255) and labels, straight from the IDX files. */
function readFashionMnist(count: number): { images: Float32Array; labels: Uint8Array } {
  const img = gunzipSync(readFileSync(join(FMNIST_DIR, 'train-images-idx3-ubyte.gz')));
  const lab = gunzipSync(readFileSync(join(FMNIST_DIR, 'train-labels-idx1-ubyte.gz')));
  const images = new Float32Array(count * 784);
  for (let i = 0; i < images.length; i++) images[i] = img[16 + i] / 255;
  return { images, labels: lab.subarray(8, 8 + count).slice() };
}

/** Fixed Gaussian random projection of 784-pixel images to `dims` dimensions. */
function project(images: Float32Array, count: number, dims: number, seed: number): Matrix {
  const R = new Rng(seed).fillNormal(new Float64Array(784 * dims), 0, 1 / Math.sqrt(784));
  const out = new Float32Array(count * dims);
  for (let i = 0; i < count; i++) {
    for (let p = 0; p < 784; p++) {
      const v = images[i * 784 + p];
      if (v === 0) continue;
      for (let j = 0; j < dims; j++) out[i * dims + j] += v * R[p * dims + j];
    }
  }
  return { data: out, rows: count, cols: dims };
}

function oneHot(labels: ArrayLike<number>, k: number): Float32Array {
  const r = new Float32Array(labels.length * k);
  for (let i = 0; i < labels.length; i++) r[i * k + (labels[i] % k)] = 1;
  return r;
}

/** Samples from a Gaussian mixture with the given weights, means (k × d) and full covariances (k × d × d). */
function sampleMixture(
  n: number,
  weights: number[],
  means: number[][],
  covs: number[][][],
  seed: number,
): { X: Matrix; labels: Int32Array } {
  const rng = new Rng(seed);
  const k = weights.length;
  const d = means[0].length;
  const chols = covs.map((c) => cholesky(c.flat(), d));
  const data = new Float32Array(n * d);
  const labels = new Int32Array(n);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    let u = rng.random();
    let c = 0;
    while (c < k - 1 && u >= weights[c]) u -= weights[c++];
    labels[i] = c;
    rng.fillNormal(z);
    for (let a = 0; a < d; a++) {
      let s = means[c][a];
      for (let b = 0; b <= a; b++) s += chols[c][a * d + b] * z[b];
      data[i * d + a] = s;
    }
  }
  return { X: { data, rows: n, cols: d }, labels };
}

interface SkResult {
  lower_bound: number;
  n_iter: number;
  converged: boolean;
  weights: number[];
  means: number[][];
  labels: number[];
  score: number;
  bic: number;
  aic: number;
}

const SK_SCRIPT = String.raw`
import sys, json, numpy as np
from sklearn.mixture import GaussianMixture
xpath, rpath, n, d, k, cov, tol, max_iter, reg = sys.argv[1:10]
n, d, k, max_iter = int(n), int(d), int(k), int(max_iter)
tol, reg = float(tol), float(reg)
X = np.fromfile(xpath, dtype='<f4').reshape(n, d).astype(np.float64)
resp = np.fromfile(rpath, dtype='<f4').reshape(n, k).astype(np.float64)
# Same initial parameters as GaussianMixture._initialize(X, resp) would compute.
nk = resp.sum(0) + 10 * np.finfo(resp.dtype).eps
means = resp.T @ X / nk[:, None]
if cov == 'full':
    prec = np.empty((k, d, d))
    for c in range(k):
        diff = X - means[c]
        C = (resp[:, c] * diff.T) @ diff / nk[c]
        C.flat[::d + 1] += reg
        P = np.linalg.inv(C)
        prec[c] = (P + P.T) / 2
else:
    var = (resp.T @ (X * X)) / nk[:, None] - 2 * means * (resp.T @ X) / nk[:, None] + means ** 2 + reg
    prec = 1 / var if cov == 'diag' else 1 / var.mean(1)
g = GaussianMixture(k, covariance_type=cov, tol=tol, max_iter=max_iter, reg_covar=reg, weights_init=nk / n,
                    means_init=means, precisions_init=prec, init_params='random', random_state=0).fit(X)
print(json.dumps({'lower_bound': float(g.lower_bound_), 'n_iter': int(g.n_iter_), 'converged': bool(g.converged_),
                  'weights': g.weights_.tolist(), 'means': g.means_.tolist(), 'labels': g.predict(X).tolist(),
                  'score': float(g.score(X)), 'bic': float(g.bic(X)), 'aic': float(g.aic(X))}))
`;

let tmp = '';
function sklearnFit(X: Matrix, resp: Float32Array, k: number, cov: CovarianceType, tol: number, maxIter: number, reg: number): SkResult {
  const xPath = join(tmp, `x-${cov}-${X.cols}.f32`);
  const rPath = join(tmp, `r-${cov}-${X.cols}.f32`);
  writeFileSync(xPath, new Uint8Array(X.data.buffer, X.data.byteOffset, X.data.byteLength));
  writeFileSync(rPath, new Uint8Array(resp.buffer, resp.byteOffset, resp.byteLength));
  const args = [xPath, rPath, X.rows, X.cols, k, cov, tol, maxIter, reg].map(String);
  const r = spawnSync(PYTHON, ['-c', SK_SCRIPT, ...args], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', PYTHONWARNINGS: 'ignore' },
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`sklearn reference failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as SkResult;
}

function agreement(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

beforeAll(async () => {
  await initBackend('wasm');
  tmp = mkdtempSync(join(tmpdir(), 'cb-gmm-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('GaussianMixture: recovering known parameters', () => {
  const weights = [0.5, 0.3, 0.2];
  const means = [
    [0, 0, 0],
    [6, 0, 1],
    [0, 7, 5],
  ];
  const covsByType: Record<CovarianceType, number[][][]> = {
    full: [
      [
        [1, 0.5, 0.2],
        [0.5, 1.5, -0.3],
        [0.2, -0.3, 0.8],
      ],
      [
        [0.6, -0.2, 0],
        [-0.2, 0.9, 0.3],
        [0, 0.3, 1.2],
      ],
      [
        [2, 0.8, 0],
        [0.8, 1, 0],
        [0, 0, 0.5],
      ],
    ],
    diag: [
      [
        [1, 0, 0],
        [0, 2, 0],
        [0, 0, 0.5],
      ],
      [
        [0.4, 0, 0],
        [0, 1, 0],
        [0, 0, 1.5],
      ],
      [
        [1.5, 0, 0],
        [0, 0.7, 0],
        [0, 0, 1],
      ],
    ],
    spherical: [
      [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
      [
        [0.5, 0, 0],
        [0, 0.5, 0],
        [0, 0, 0.5],
      ],
      [
        [2, 0, 0],
        [0, 2, 0],
        [0, 0, 2],
      ],
    ],
  };

  for (const type of ['full', 'diag', 'spherical'] as const) {
    it(`recovers weights, means and ${type} covariances (k-means init)`, async () => {
      const { X } = sampleMixture(6000, weights, means, covsByType[type], 11);
      const g = await new GaussianMixture({ k: 3, covarianceType: type, seed: 0 }).fit(X);
      expect(g.converged).toBe(true);
      expect(Number.isFinite(g.lowerBound)).toBe(true);
      const d = 3;
      // Match fitted components to the true ones by nearest mean.
      for (let t = 0; t < 3; t++) {
        let best = -1;
        let bestDist = Infinity;
        for (let c = 0; c < 3; c++) {
          let s = 0;
          for (let j = 0; j < d; j++) s += (g.means![c * d + j] - means[t][j]) ** 2;
          if (s < bestDist) [best, bestDist] = [c, s];
        }
        expect(Math.sqrt(bestDist)).toBeLessThan(0.1);
        expect(g.weights![best]).toBeCloseTo(weights[t], 1);
        expect(Math.abs(g.weights![best] - weights[t])).toBeLessThan(0.02);
        const trueCov = covsByType[type][t];
        for (let a = 0; a < d; a++) {
          for (let b = 0; b < d; b++) {
            let fitted: number;
            if (type === 'full') fitted = g.covariances![best * d * d + a * d + b];
            else if (a !== b) continue;
            else fitted = type === 'diag' ? g.covariances![best * d + a] : g.covariances![best];
            expect(Math.abs(fitted - trueCov[a][b])).toBeLessThan(0.1 + 0.08 * Math.abs(trueCov[a][b]));
          }
        }
      }
      // Layout of the fitted arrays per covariance type.
      expect(g.covariances!.length).toBe(type === 'full' ? 27 : type === 'diag' ? 9 : 3);
      expect(g.precisionsCholesky!.length).toBe(g.covariances!.length);
      expect(g.weights!.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    });
  }

  it('is deterministic for a seed, and random init with restarts finds the same mixture', async () => {
    const { X, labels } = sampleMixture(3000, weights, means, covsByType.full, 12);
    const a = await new GaussianMixture({ k: 3, seed: 3 }).fit(X);
    const b = await new GaussianMixture({ k: 3, seed: 3 }).fit(X);
    expect(Array.from(a.means!)).toEqual(Array.from(b.means!));
    expect(a.lowerBound).toBe(b.lowerBound);

    const lbs: number[] = [];
    let lastInit = -1;
    const r = await new GaussianMixture({ k: 3, initParams: 'random', nInit: 3, seed: 1, tol: 1e-6, maxIter: 300 }).fit(X, {
      onProgress: (e) => {
        expect(e.phase).toBe('gmm');
        expect(e.fraction).toBeGreaterThan(0);
        expect(e.fraction).toBeLessThanOrEqual(1);
        if (e.init !== lastInit) lbs.push(-Infinity);
        lastInit = e.init;
        lbs[lbs.length - 1] = e.lowerBound;
      },
    });
    expect(lbs.length).toBe(3);
    expect(r.lowerBound).toBe(Math.max(...lbs));
    expect(r.lowerBound).toBeCloseTo(a.lowerBound, 3);
    const pred = await r.predict(X);
    // Same partition as the truth up to a relabelling (clusters are well separated).
    const map = new Map<number, number>();
    let agree = 0;
    for (let i = 0; i < pred.length; i++) {
      if (!map.has(pred[i])) map.set(pred[i], labels[i]);
      if (map.get(pred[i]) === labels[i]) agree++;
    }
    expect(agree / pred.length).toBeGreaterThan(0.98);
  });
});

describe('GaussianMixture: inference API', () => {
  let g: GaussianMixture;
  let X: Matrix;
  beforeAll(async () => {
    X = sampleMixture(
      2000,
      [0.6, 0.4],
      [
        [0, 0],
        [3, 1],
      ],
      [
        [
          [1, 0.3],
          [0.3, 0.5],
        ],
        [
          [0.5, 0],
          [0, 0.8],
        ],
      ],
      21,
    ).X;
    g = await new GaussianMixture({ k: 2, seed: 0 }).fit(X);
  });

  it('predictProba rows sum to 1 and agree with predict', async () => {
    const proba = await g.predictProba(X);
    const pred = await g.predict(X);
    expect(proba.length).toBe(X.rows * 2);
    for (let i = 0; i < X.rows; i++) {
      const s = proba[2 * i] + proba[2 * i + 1];
      expect(Math.abs(s - 1)).toBeLessThan(1e-6);
      expect(pred[i]).toBe(proba[2 * i + 1] > proba[2 * i] ? 1 : 0);
    }
  });

  it('score is the mean of scoreSamples, and the final lower bound is close to it', async () => {
    const ss = await g.scoreSamples(X);
    const mean = ss.reduce((s, v) => s + v, 0) / ss.length;
    expect(await g.score(X)).toBeCloseTo(mean, 12);
    // lowerBound is the E-step value before the last M-step: within tol of the final score.
    expect(Math.abs((await g.score(X)) - g.lowerBound)).toBeLessThan(1e-2);
  });

  it('bic and aic follow their definitions (full: k·d(d+1)/2 + k·d + k − 1 parameters)', async () => {
    const s = await g.score(X);
    const p = 2 * 3 + 2 * 2 + 1;
    expect(g.nParameters()).toBe(p);
    expect(await g.bic(X)).toBeCloseTo(-2 * s * X.rows + p * Math.log(X.rows), 6);
    expect(await g.aic(X)).toBeCloseTo(-2 * s * X.rows + 2 * p, 6);
  });

  it('handles a single component and an empty query', async () => {
    const one = await new GaussianMixture({ k: 1 }).fit(X);
    expect(one.weights![0]).toBeCloseTo(1, 12);
    expect(Array.from(await one.predict(X)).every((v) => v === 0)).toBe(true);
    expect((await one.predict({ data: new Float32Array(0), rows: 0, cols: 2 })).length).toBe(0);
  });
});

describe('GaussianMixture: numerical stability in 128 dimensions', () => {
  it('fits nearly singular 128-dim data without NaN thanks to regCovar', async () => {
    // 128 pixels from the top rows of the images (mostly constant zeros), or a rank-8 embedding if the data is missing.
    const n = 1500;
    const d = 128;
    let X: Matrix;
    if (HAS_FMNIST) {
      const { images } = readFashionMnist(n);
      const data = new Float32Array(n * d);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = images[i * 784 + j];
      X = { data, rows: n, cols: d };
    } else {
      const rng = new Rng(5);
      const A = rng.fillNormal(new Float64Array(8 * d));
      const data = new Float32Array(n * d);
      for (let i = 0; i < n; i++) {
        const z = rng.fillNormal(new Float64Array(8));
        for (let j = 0; j < d; j++) for (let t = 0; t < 8; t++) data[i * d + j] += z[t] * A[t * d + j];
      }
      X = { data, rows: n, cols: d };
    }
    for (const type of ['full', 'diag', 'spherical'] as const) {
      const g = await new GaussianMixture({ k: 4, covarianceType: type, seed: 0, maxIter: 30 }).fit(X);
      expect(Number.isFinite(g.lowerBound)).toBe(true);
      expect(g.covariances!.every(Number.isFinite)).toBe(true);
      expect(g.precisionsCholesky!.every(Number.isFinite)).toBe(true);
      const proba = await g.predictProba(X);
      expect(proba.every(Number.isFinite)).toBe(true);
      const ss = await g.scoreSamples(X);
      expect(ss.every(Number.isFinite)).toBe(true);
    }
  });

  it('reports an ill-defined covariance clearly when regCovar = 0 and a dimension is constant', async () => {
    const { X: X2 } = sampleMixture(
      500,
      [0.5, 0.5],
      [
        [0, 0],
        [4, 4],
      ],
      [
        [
          [1, 0],
          [0, 1],
        ],
        [
          [1, 0],
          [0, 1],
        ],
      ],
      8,
    );
    // Append a constant zero column.
    const data = new Float32Array(500 * 3);
    for (let i = 0; i < 500; i++) data.set(X2.data.subarray(2 * i, 2 * i + 2), 3 * i);
    const X = { data, rows: 500, cols: 3 };
    for (const type of ['full', 'diag'] as const) {
      const fit = new GaussianMixture({ k: 2, covarianceType: type, regCovar: 0, initParams: 'random' }).fit(X);
      await expect(fit).rejects.toThrow(IllDefinedCovarianceError);
      await expect(new GaussianMixture({ k: 2, covarianceType: type, regCovar: 0, initParams: 'random' }).fit(X)).rejects.toThrow(
        /increase regCovar/,
      );
      // The default regularisation makes it well defined.
      const ok = await new GaussianMixture({ k: 2, covarianceType: type, initParams: 'random' }).fit(X);
      expect(Number.isFinite(ok.lowerBound)).toBe(true);
    }
  });
});

describe('GaussianMixture: validation, abort', () => {
  const X = sampleMixture(
    50,
    [0.5, 0.5],
    [
      [0, 0],
      [4, 4],
    ],
    [
      [
        [1, 0],
        [0, 1],
      ],
      [
        [1, 0],
        [0, 1],
      ],
    ],
    9,
  ).X;

  it('rejects invalid parameters before any work', () => {
    expect(() => new GaussianMixture({ k: 0 })).toThrow(/^GaussianMixture k must be ≥ 1, got 0$/);
    expect(() => new GaussianMixture({ k: 2.5 })).toThrow(/k must be an integer/);
    expect(() => new GaussianMixture({ covarianceType: 'tied' as CovarianceType })).toThrow(
      /^GaussianMixture covarianceType must be one of full, diag, spherical, got 'tied'$/,
    );
    expect(() => new GaussianMixture({ regCovar: -1 })).toThrow(/regCovar must be ≥ 0, got -1/);
    expect(() => new GaussianMixture({ regCovar: NaN })).toThrow(/regCovar/);
    expect(() => new GaussianMixture({ maxIter: 0 })).toThrow(/maxIter/);
    expect(() => new GaussianMixture({ tol: -1e-3 })).toThrow(/tol/);
    expect(() => new GaussianMixture({ nInit: 0 })).toThrow(/nInit/);
    expect(() => new GaussianMixture({ seed: 0.5 })).toThrow(/seed/);
    expect(() => new GaussianMixture({ initParams: 'kmeans++' as 'kmeans' })).toThrow(/initParams/);
    expect(() => new GaussianMixture({ nComponents: 3 } as never)).toThrow(/Unknown GaussianMixture parameter "nComponents"/);
    const g = new GaussianMixture({ k: 3 });
    expect(g.params).toMatchObject({
      k: 3,
      covarianceType: 'full',
      regCovar: 1e-6,
      maxIter: 100,
      tol: 1e-3,
      nInit: 1,
      seed: 0,
      initParams: 'kmeans',
    });
  });

  it('rejects bad data and bad calls with clear errors', async () => {
    await expect(new GaussianMixture({ k: 51 }).fit(X)).rejects.toThrow(/n_samples ≥ k.*k = 51 and 50 samples/);
    const bad = { data: X.data.slice(), rows: 50, cols: 2 };
    bad.data[7] = NaN;
    await expect(new GaussianMixture({ k: 2 }).fit(bad)).rejects.toThrow(/non-finite value.*row 3, column 1/);
    await expect(new GaussianMixture({ k: 2 }).fit({ data: X.data, rows: 49, cols: 2 })).rejects.toThrow(/expected rows × cols/);
    await expect(new GaussianMixture({ k: 1 }).fit({ data: new Float32Array(2), rows: 1, cols: 2 })).rejects.toThrow(/at least 2 samples/);
    await expect(new GaussianMixture({ k: 2 }).fit(X, { init: { resp: new Float32Array(7) } })).rejects.toThrow(/init.resp must hold/);
    const g = new GaussianMixture({ k: 2 });
    await expect(g.predict(X)).rejects.toThrow(/not fitted/);
    await g.fit(X);
    await expect(g.predict({ data: new Float32Array(3), rows: 1, cols: 3 })).rejects.toThrow(/3 features.*fitted on 2/);
  });

  it('honours an AbortSignal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(new GaussianMixture({ k: 2 }).fit(X, { signal: controller.signal })).rejects.toThrow();
    const later = new AbortController();
    const fit = new GaussianMixture({ k: 2, initParams: 'random', tol: 0, maxIter: 1000 }).fit(X, {
      signal: later.signal,
      onProgress: (e) => {
        if (e.iter === 3) later.abort(new DOMException('stop', 'AbortError'));
      },
    });
    await expect(fit).rejects.toThrow(/stop/);
  });
});

describe.skipIf(skipUnless('sklearn', 'fashionMnist'))('GaussianMixture vs scikit-learn on Fashion-MNIST projections', () => {
  let X20: Matrix;
  let resp20: Float32Array;
  beforeAll(() => {
    const n = 2000;
    const { images, labels } = readFashionMnist(n);
    X20 = project(images, n, 20, 42);
    resp20 = oneHot(labels, 10);
  });

  for (const type of ['full', 'diag', 'spherical'] as const) {
    it(`${type}: same lower bound, means, predictions and BIC from the same initial responsibilities`, async () => {
      const k = 10;
      const tol = 1e-4;
      const maxIter = 300;
      const sk = sklearnFit(X20, resp20, k, type, tol, maxIter, 1e-6);
      const g = await new GaussianMixture({ k, covarianceType: type, tol, maxIter }).fit(X20, { init: { resp: resp20 } });
      const rel = Math.abs(g.lowerBound - sk.lower_bound) / Math.abs(sk.lower_bound);
      // Measured: ~2e-8 (full, float32 products) and ~1e-15 (diag / spherical, float64), same iteration counts.
      expect(rel).toBeLessThan(1e-5);
      expect(Math.abs(g.nIter - sk.n_iter)).toBeLessThanOrEqual(2);
      const pred = await g.predict(X20);
      expect(agreement(pred, sk.labels)).toBeGreaterThanOrEqual(0.995);
      let maxMeanDiff = 0;
      for (let c = 0; c < k; c++)
        for (let j = 0; j < 20; j++) maxMeanDiff = Math.max(maxMeanDiff, Math.abs(g.means![c * 20 + j] - sk.means[c][j]));
      expect(maxMeanDiff).toBeLessThan(1e-3);
      for (let c = 0; c < k; c++) expect(Math.abs(g.weights![c] - sk.weights[c])).toBeLessThan(1e-4);
      const bic = await g.bic(X20);
      expect(Math.abs(bic - sk.bic) / Math.abs(sk.bic)).toBeLessThan(1e-5);
      const aic = await g.aic(X20);
      expect(Math.abs(aic - sk.aic) / Math.abs(sk.aic)).toBeLessThan(1e-5);
      expect(Math.abs((await g.score(X20)) - sk.score) / Math.abs(sk.score)).toBeLessThan(1e-5);
    });
  }

  it('full, 128 dims: agrees with scikit-learn', async () => {
    const n = 3000;
    const k = 10;
    const { images, labels } = readFashionMnist(n);
    const X = project(images, n, 128, 7);
    const resp = oneHot(labels, k);
    const sk = sklearnFit(X, resp, k, 'full', 1e-3, 100, 1e-6);
    const g = await new GaussianMixture({ k, covarianceType: 'full', tol: 1e-3, maxIter: 100 }).fit(X, { init: { resp } });
    expect(Math.abs(g.lowerBound - sk.lower_bound) / Math.abs(sk.lower_bound)).toBeLessThan(1e-5);
    expect(Math.abs(g.nIter - sk.n_iter)).toBeLessThanOrEqual(1);
    expect(agreement(await g.predict(X), sk.labels)).toBeGreaterThanOrEqual(0.995);
    expect(Math.abs((await g.bic(X)) - sk.bic) / Math.abs(sk.bic)).toBeLessThan(1e-5);
  });
});
