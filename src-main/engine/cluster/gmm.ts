/**
 * Gaussian mixture model fitted by expectation–maximisation, mirroring scikit-learn's `GaussianMixture`
 * (covariance types 'full', 'diag' and 'spherical'; k-means or random initial responsibilities; `regCovar` added
 * to the covariance diagonals; convergence on the change of the lower bound; `nInit` restarts keeping the best
 * lower bound).
 *
 * Where the time goes, and how it is spent:
 *  - 'full' E-step: ‖(x − μₖ)·Pₖ‖² for all points and components (n·d² per component), with Pₖ the upper
 *    triangular "precision Cholesky" (as sklearn: X·P − μ·P). Done on the active tfjs backend, one fused matMul
 *    (+ bias −μ·P) per column block against a column prefix of X, which skips the zero lower triangle of Pₖ
 *    (⅝ of the dense product for d = 128);
 *  - 'full' M-step: Σᵢ rᵢₖ (xᵢ − μₖ)(xᵢ − μₖ)ᵀ on the backend, restricted to the points whose responsibility is not
 *    negligible (see {@link PRUNE_RELATIVE}), computed in the whitened basis of the previous covariance (see
 *    whitenedScatter: float32 accumulation of the raw scatter drifts visibly from sklearn in 128 dimensions);
 *    transposed operands are passed pre-transposed, never through matMul's transpose flags (several times slower
 *    on the wasm backend);
 *  - everything k × d × d (Cholesky, triangular inverses, log-determinants, basis changes), the log-sum-exp and
 *    the 'diag' / 'spherical' models (O(n·k·d)) run in JavaScript in float64.
 * Awaits `data()` (never dataSync), yields to the event loop between iterations and checks the AbortSignal.
 */
import { tf } from '../backend';
import type { Matrix } from '../types';
import { KMeans } from './kmeans';
import { NotPositiveDefiniteError, cholesky, invertLowerTriangular, transpose } from './linalg';
import { taskDefaults } from '../experiments/params';
import { Rng } from './rng';

export type CovarianceType = 'full' | 'diag' | 'spherical';

export interface GaussianMixtureParams {
  /** Number of mixture components (≥ 1, ≤ number of samples). */
  k: number;
  covarianceType: CovarianceType;
  /** Non-negative regularisation added to the diagonal of every covariance (sklearn's reg_covar, 1e-6). */
  regCovar: number;
  /** Maximum EM iterations per initialisation (≥ 1; default 100). */
  maxIter: number;
  /** Convergence threshold on the change of the lower bound (mean log-likelihood per sample; ≥ 0; 1e-3). */
  tol: number;
  /** Number of initialisations; the one with the best lower bound is kept (≥ 1; default 1). */
  nInit: number;
  /** Seed for the k-means / random initialisation. */
  seed: number;
  /** Initial responsibilities: one-hot from k-means labels (KMeans with nInit = 1), or random rows summing to 1. */
  initParams: 'kmeans' | 'random';
}

/** The GMM settings of the parameter schema (scikit-learn's defaults); k = 1 as in scikit-learn. */
const GM = taskDefaults('ae-gmm');
export const DEFAULT_GMM_PARAMS: Readonly<GaussianMixtureParams> = Object.freeze({
  k: 1,
  covarianceType: GM.covariance,
  regCovar: GM.regCovar,
  maxIter: GM.gmmMaxIter,
  tol: GM.gmmTol,
  nInit: GM.gmmNInit,
  seed: GM.seed,
  initParams: 'kmeans',
});

export interface GmmProgressEvent {
  phase: 'gmm';
  /** EM iteration within the current initialisation (1-based). */
  iter: number;
  /** Lower bound (mean log-likelihood per sample) after this iteration's E-step. */
  lowerBound: number;
  /** 0..1 over all initialisations and iterations (convergence jumps to the end of the initialisation; 1 at the end). */
  fraction: number;
  /** 0-based index of the current initialisation. */
  init: number;
  /** |lower bound − previous lower bound|. */
  change: number;
}

export interface GmmFitOptions {
  onProgress?: (e: GmmProgressEvent) => void;
  signal?: AbortSignal;
  /**
   * Explicit initial responsibilities, n × k row-major (non-negative; rows need not be normalised). When given,
   * `initParams` is not used and a single initialisation is run (every restart would be identical).
   */
  init?: { resp?: Float32Array | Float64Array };
}

/** Thrown when a component's covariance is not positive definite (collapsed or singleton components). */
export class IllDefinedCovarianceError extends Error {
  readonly component: number;
  constructor(component: number, regCovar: number, detail: string) {
    super(
      `Fitting the Gaussian mixture failed because component ${component} has an ill-defined empirical covariance ` +
        `(${detail}; for instance caused by singleton or collapsed samples). Try to decrease the number of ` +
        `components, or increase regCovar (currently ${regCovar}).`,
    );
    this.name = 'IllDefinedCovarianceError';
    this.component = component;
  }
}

/**
 * Responsibilities below PRUNE_RELATIVE · nₖ / n are skipped in the M-step sums of component k. The skipped mass
 * is then at most PRUNE_RELATIVE · nₖ (a relative change ≤ 1e-12 of the weights and means, far below float32
 * rounding), while in high dimensions, where responsibilities are nearly one-hot, the covariance products shrink
 * from n to about n/k rows per component.
 */
export const PRUNE_RELATIVE = 1e-12;

const LOG_2PI = Math.log(2 * Math.PI);
/** np.finfo(np.float64).eps, as in sklearn's `nk = resp.sum(0) + 10 * eps`. */
const EPS64 = 2.220446049250313e-16;

interface Model {
  k: number;
  d: number;
  type: CovarianceType;
  weights: Float64Array;
  /** k × d */
  means: Float64Array;
  /** full: k × d × d; diag: k × d; spherical: k */
  covariances: Float64Array;
  /** full: k × d × d upper triangular; diag: k × d; spherical: k */
  precisionsCholesky: Float64Array;
  /** full only: lower Cholesky factors L of the covariances (Σ = L·Lᵀ, P = L⁻ᵀ), the next M-step's basis. */
  covCholesky?: Float64Array;
}

/** Column prefixes of X on the backend (see {@link blockBounds}), reused by every 'full' E-step of one fit. */
interface BackendData {
  blocks: tf.Tensor2D[];
  bounds: number[];
}

function validateParams(p: GaussianMixtureParams): void {
  const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
  if (!isInt(p.k) || p.k < 1) throw new RangeError(`GaussianMixture: k must be an integer ≥ 1, got ${p.k}`);
  if (!['full', 'diag', 'spherical'].includes(p.covarianceType))
    throw new RangeError(`GaussianMixture: covarianceType must be 'full', 'diag' or 'spherical', got '${p.covarianceType}'`);
  if (typeof p.regCovar !== 'number' || !Number.isFinite(p.regCovar) || p.regCovar < 0)
    throw new RangeError(`GaussianMixture: regCovar must be a finite number ≥ 0, got ${p.regCovar}`);
  if (!isInt(p.maxIter) || p.maxIter < 1) throw new RangeError(`GaussianMixture: maxIter must be an integer ≥ 1, got ${p.maxIter}`);
  if (typeof p.tol !== 'number' || Number.isNaN(p.tol) || p.tol < 0)
    throw new RangeError(`GaussianMixture: tol must be a number ≥ 0, got ${p.tol}`);
  if (!isInt(p.nInit) || p.nInit < 1) throw new RangeError(`GaussianMixture: nInit must be an integer ≥ 1, got ${p.nInit}`);
  if (typeof p.seed !== 'number' || !Number.isSafeInteger(p.seed)) throw new RangeError(`GaussianMixture: seed must be an integer, got ${p.seed}`);
  if (p.initParams !== 'kmeans' && p.initParams !== 'random')
    throw new RangeError(`GaussianMixture: initParams must be 'kmeans' or 'random', got '${p.initParams}'`);
}

function validateMatrix(X: Matrix, what: string, minRows: number): void {
  if (!X || !(X.data instanceof Float32Array)) throw new TypeError(`GaussianMixture.${what}: X.data must be a Float32Array`);
  if (!Number.isInteger(X.rows) || !Number.isInteger(X.cols) || X.rows < 0 || X.cols < 1)
    throw new RangeError(`GaussianMixture.${what}: X must have an integer rows ≥ 0 and cols ≥ 1, got ${X.rows} × ${X.cols}`);
  if (X.data.length !== X.rows * X.cols)
    throw new RangeError(`GaussianMixture.${what}: X.data has ${X.data.length} values, expected rows × cols = ${X.rows * X.cols}`);
  if (X.rows < minRows) throw new RangeError(`GaussianMixture.${what}: need at least ${minRows} samples, got ${X.rows}`);
  const data = X.data;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new RangeError(`GaussianMixture.${what}: X contains a non-finite value (${data[i]}) at row ${Math.floor(i / X.cols)}, column ${i % X.cols}`);
    }
  }
}

function nextTick(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

function checkAbort(signal?: AbortSignal): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  if (reason instanceof Error) throw reason;
  const err = new Error(typeof reason === 'string' ? reason : 'GaussianMixture.fit was aborted');
  err.name = 'AbortError';
  throw err;
}

/**
 * Column block boundaries for the 'full' E-step. Since P is upper triangular, output block J of X·P only needs
 * the first bounds[J + 1] columns of X: one product per block against a column prefix of X skips the zero lower
 * triangle ((B + 1) / 2B of the dense flops; blocks of ~32 columns, at most 4, measured best on wasm for d = 128).
 */
function blockBounds(d: number): number[] {
  const count = Math.max(1, Math.min(4, Math.round(d / 32)));
  const bounds = [0];
  for (let b = 1; b <= count; b++) bounds.push(Math.round((b * d) / count));
  return bounds;
}

/** Column prefixes X[:, 0:bounds[J + 1]] on the backend (the last one is X itself). */
function uploadBlocks(X: Matrix): BackendData {
  const bounds = blockBounds(X.cols);
  const blocks = tf.tidy(() => {
    const full = tf.tensor2d(X.data, [X.rows, X.cols], 'float32');
    return bounds.slice(1).map((end) => tf.keep(end === X.cols ? full : tf.slice(full, [0, 0], [X.rows, end])));
  });
  return { blocks, bounds };
}

function disposeBlocks(data: BackendData | null): void {
  data?.blocks.forEach((t) => t.dispose());
}

/** Σ over the diagonal of log(precision Cholesky): log det(P), i.e. −½ log det(Σ). */
function logDets(m: Model): Float64Array {
  const { k, d } = m;
  const out = new Float64Array(k);
  const pc = m.precisionsCholesky;
  for (let c = 0; c < k; c++) {
    let s = 0;
    if (m.type === 'full') for (let j = 0; j < d; j++) s += Math.log(pc[c * d * d + j * d + j]);
    else if (m.type === 'diag') for (let j = 0; j < d; j++) s += Math.log(pc[c * d + j]);
    else s = d * Math.log(pc[c]);
    out[c] = s;
  }
  return out;
}

/** n × k squared Mahalanobis distances ‖(xᵢ − μₖ)·Pₖ‖² (float64 out, computed on the backend for 'full'). */
async function mahalanobis(X: Matrix, m: Model, data: BackendData | null): Promise<Float64Array> {
  const { k, d } = m;
  const n = X.rows;
  const out = new Float64Array(n * k);
  if (n === 0) return out;
  if (m.type === 'full') {
    const own = data ?? uploadBlocks(X);
    try {
      const { blocks, bounds } = own;
      const nb = blocks.length;
      const perComponent: tf.Tensor1D[] = [];
      for (let c = 0; c < k; c++) {
        // One tidy per component keeps the n × block intermediates of a single component alive at a time.
        const dist = tf.tidy(() => {
          const P = m.precisionsCholesky.subarray(c * d * d, (c + 1) * d * d);
          const mu = m.means.subarray(c * d, (c + 1) * d);
          // offset = μ·P, subtracted from X·P (as sklearn: X·P − μ·P).
          const offset = new Float32Array(d);
          for (let j = 0; j < d; j++) {
            let s = 0;
            for (let t = 0; t <= j; t++) s += mu[t] * P[t * d + j];
            offset[j] = -s;
          }
          let total: tf.Tensor | null = null;
          for (let J = 0; J < nb; J++) {
            const j0 = bounds[J];
            const jw = bounds[J + 1] - j0;
            const rows = bounds[J + 1];
            // P[0:rows, j0:j0+jw] (rows below are zero).
            const sub = new Float32Array(rows * jw);
            for (let a = 0; a < rows; a++) for (let b = 0; b < jw; b++) sub[a * jw + b] = P[a * d + j0 + b];
            const Y = tf.fused.matMul({ a: blocks[J], b: tf.tensor2d(sub, [rows, jw]), bias: tf.tensor1d(offset.subarray(j0, j0 + jw)) });
            const s = tf.sum(tf.square(Y), 1);
            total = total ? tf.add(total, s) : s;
          }
          return total as tf.Tensor1D;
        });
        perComponent.push(dist);
      }
      const dists = tf.stack(perComponent, 1);
      perComponent.forEach((t) => t.dispose());
      const values = await dists.data();
      dists.dispose();
      for (let i = 0; i < values.length; i++) out[i] = values[i];
    } finally {
      if (!data) disposeBlocks(own);
    }
    return out;
  }
  // diag / spherical: O(n·k·d) in float64.
  const x = X.data;
  const prec = new Float64Array(k * d); // Pₖ² per dimension
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < d; j++) {
      const p = m.type === 'diag' ? m.precisionsCholesky[c * d + j] : m.precisionsCholesky[c];
      prec[c * d + j] = p * p;
    }
  }
  const means = m.means;
  for (let i = 0; i < n; i++) {
    const ri = i * d;
    for (let c = 0; c < k; c++) {
      const rc = c * d;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const diff = x[ri + j] - means[rc + j];
        s += diff * diff * prec[rc + j];
      }
      out[i * k + c] = s;
    }
  }
  return out;
}

/** n × k weighted log-probabilities log πₖ + log N(xᵢ | μₖ, Σₖ). */
async function weightedLogProb(X: Matrix, m: Model, data: BackendData | null): Promise<Float64Array> {
  const { k, d } = m;
  const maha = await mahalanobis(X, m, data);
  const base = new Float64Array(k);
  const ld = logDets(m);
  for (let c = 0; c < k; c++) base[c] = -0.5 * d * LOG_2PI + ld[c] + Math.log(m.weights[c]);
  for (let i = 0; i < maha.length; i++) maha[i] = base[i % k] - 0.5 * maha[i];
  return maha;
}

/**
 * Row-wise log-sum-exp; turns `wlp` into log-responsibilities in place and returns the per-sample log-likelihood.
 */
function normalizeLogResp(wlp: Float64Array, n: number, k: number): Float64Array {
  const norm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = i * k;
    let max = -Infinity;
    for (let c = 0; c < k; c++) if (wlp[r + c] > max) max = wlp[r + c];
    let lse: number;
    if (max === -Infinity || !Number.isFinite(max)) lse = max;
    else {
      let s = 0;
      for (let c = 0; c < k; c++) s += Math.exp(wlp[r + c] - max);
      lse = max + Math.log(s);
    }
    norm[i] = lse;
    for (let c = 0; c < k; c++) wlp[r + c] -= lse;
  }
  return norm;
}

function mean(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

/** E-step: mean log-likelihood and the responsibilities (n × k, float64). */
async function eStep(X: Matrix, m: Model, data: BackendData | null): Promise<{ lowerBound: number; resp: Float64Array }> {
  const wlp = await weightedLogProb(X, m, data);
  const norm = normalizeLogResp(wlp, X.rows, m.k);
  for (let i = 0; i < wlp.length; i++) wlp[i] = Math.exp(wlp[i]);
  return { lowerBound: mean(norm), resp: wlp };
}

/** Σᵢ wᵢ·wᵢᵀ / nk for the rows of W (m × d), one float32 product on the backend (Wᵀ passed pre-transposed). */
async function directScatter(W: Float32Array, m: number, d: number, nk: number): Promise<Float64Array> {
  const prod = tf.tidy(() => {
    const w = tf.tensor2d(W, [m, d]);
    return tf.matMul(tf.transpose(w), w);
  });
  const v = await prod.data();
  prod.dispose();
  const out = new Float64Array(d * d);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      const s = (0.5 * (v[a * d + b] + v[b * d + a])) / nk;
      out[a * d + b] = s;
      out[b * d + a] = s;
    }
  }
  return out;
}

/**
 * Σᵢ wᵢ·wᵢᵀ / nk computed in a whitened basis: with a previous covariance Σ₀ = L·Lᵀ and P = L⁻ᵀ, the backend forms
 * C' = (W·P)ᵀ(W·P) / nk (≈ identity, well conditioned, so float32 accumulation loses little) and the result is
 * L·C'·Lᵀ in float64. Accumulating the raw scatter in float32 instead costs relative errors of ~1e-6 of the largest
 * entries, which the ill-conditioned covariances of high-dimensional data turn into visible log-likelihood drift.
 */
async function whitenedScatter(
  W: Float32Array,
  m: number,
  d: number,
  nk: number,
  P: Float64Array,
  L: Float64Array,
): Promise<{ S: Float64Array; deviation: number }> {
  const prod = tf.tidy(() => {
    const wp = tf.matMul(tf.tensor2d(W, [m, d]), tf.tensor2d(Float32Array.from(P), [d, d]));
    return tf.matMul(tf.transpose(wp), wp);
  });
  const v = await prod.data();
  prod.dispose();
  const C = new Float64Array(d * d);
  let deviation = 0;
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      const s = (0.5 * (v[a * d + b] + v[b * d + a])) / nk;
      C[a * d + b] = s;
      C[b * d + a] = s;
      deviation = Math.max(deviation, Math.abs(s - (a === b ? 1 : 0)));
    }
  }
  // T = L·C (L lower triangular), then S = T·Lᵀ (symmetric: lower half, mirrored).
  const T = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const ti = i * d;
    for (let t = 0; t <= i; t++) {
      const l = L[i * d + t];
      if (l === 0) continue;
      const ct = t * d;
      for (let j = 0; j < d; j++) T[ti + j] += l * C[ct + j];
    }
  }
  const S = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      const ti = i * d;
      const lj = j * d;
      for (let t = 0; t <= j; t++) s += T[ti + t] * L[lj + t];
      S[i * d + j] = s;
      S[j * d + i] = s;
    }
  }
  return { S, deviation };
}

/** Largest |C' − I| entry below which a whitening basis is accepted (C' = whitened scatter). */
const WHITEN_TOLERANCE = 0.25;

function tryCholesky(S: Float64Array, d: number, reg: number): Float64Array | null {
  const A = new Float64Array(S);
  for (let a = 0; a < d; a++) A[a * d + a] += reg;
  try {
    return cholesky(A, d);
  } catch (err) {
    if (err instanceof NotPositiveDefiniteError) return null;
    throw err;
  }
}

/**
 * Σᵢ wᵢ·wᵢᵀ / nk, accurate to about float32 rounding in the metric of the covariance itself: whitened with the
 * previous model's factors when they are close (the usual EM case), else re-whitened with the factors of a first
 * estimate (initialisation, or large moves in the first iterations). Falls back to the direct product when no
 * positive definite basis exists (then the caller's Cholesky reports the ill-defined covariance).
 */
async function accurateScatter(
  W: Float32Array,
  m: number,
  d: number,
  nk: number,
  reg: number,
  prev: { P: Float64Array; L: Float64Array } | null,
): Promise<Float64Array> {
  let S: Float64Array;
  let deviation = Infinity;
  let direct = false;
  if (prev) ({ S, deviation } = await whitenedScatter(W, m, d, nk, prev.P, prev.L));
  else {
    S = await directScatter(W, m, d, nk);
    direct = true;
  }
  for (let pass = 0; pass < 2 && deviation > WHITEN_TOLERANCE; pass++) {
    let L = tryCholesky(S, d, reg);
    if (!L && !direct) {
      S = await directScatter(W, m, d, nk);
      direct = true;
      L = tryCholesky(S, d, reg);
    }
    if (!L) break;
    ({ S, deviation } = await whitenedScatter(W, m, d, nk, transpose(invertLowerTriangular(L, d), d, d), L));
  }
  return S;
}

/**
 * M-step (sklearn's `_estimate_gaussian_parameters` + `_compute_precision_cholesky`): weights, means and
 * covariances (with `reg` on the diagonal) from responsibilities. `normalizeWeights`: divide the weights by their
 * sum (EM iterations) instead of by n (initialisation), as sklearn does.
 */
async function mStep(
  X: Matrix,
  resp: Float64Array,
  k: number,
  type: CovarianceType,
  reg: number,
  normalizeWeights: boolean,
  prev: Model | null,
): Promise<Model> {
  const n = X.rows;
  const d = X.cols;
  const x = X.data;
  const nk = new Float64Array(k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) nk[c] += resp[i * k + c];
  for (let c = 0; c < k; c++) nk[c] += 10 * EPS64;

  // Active points per component (responsibility not negligible), as index lists.
  const counts = new Int32Array(k);
  const thresholds = new Float64Array(k);
  for (let c = 0; c < k; c++) thresholds[c] = (PRUNE_RELATIVE * nk[c]) / n;
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) if (resp[i * k + c] > thresholds[c]) counts[c]++;
  const active = Array.from({ length: k }, (_, c) => new Int32Array(counts[c]));
  counts.fill(0);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) if (resp[i * k + c] > thresholds[c]) active[c][counts[c]++] = i;

  const means = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    const mu = means.subarray(c * d, (c + 1) * d);
    for (const i of active[c]) {
      const r = resp[i * k + c];
      const ri = i * d;
      for (let j = 0; j < d; j++) mu[j] += r * x[ri + j];
    }
    for (let j = 0; j < d; j++) mu[j] /= nk[c];
  }

  let covariances: Float64Array;
  let precisionsCholesky: Float64Array;
  let covCholesky: Float64Array | undefined;
  if (type === 'full') {
    covariances = new Float64Array(k * d * d);
    precisionsCholesky = new Float64Array(k * d * d);
    covCholesky = new Float64Array(k * d * d);
    for (let c = 0; c < k; c++) {
      const idx = active[c];
      const mRows = idx.length;
      const cov = covariances.subarray(c * d * d, (c + 1) * d * d);
      if (mRows > 0) {
        const mu = means.subarray(c * d, (c + 1) * d);
        const W = new Float32Array(mRows * d);
        for (let a = 0; a < mRows; a++) {
          const i = idx[a];
          const s = Math.sqrt(resp[i * k + c]);
          const ri = i * d;
          const ra = a * d;
          for (let j = 0; j < d; j++) W[ra + j] = (x[ri + j] - mu[j]) * s;
        }
        const prevP = prev?.precisionsCholesky.subarray(c * d * d, (c + 1) * d * d);
        const prevL = prev?.covCholesky?.subarray(c * d * d, (c + 1) * d * d);
        const scatter = await accurateScatter(W, mRows, d, nk[c], reg, prevP && prevL ? { P: prevP, L: prevL } : null);
        cov.set(scatter);
        for (let a = 0; a < d; a++) cov[a * d + a] += reg;
      } else {
        for (let a = 0; a < d; a++) cov[a * d + a] = reg;
      }
      let L: Float64Array;
      try {
        L = cholesky(cov, d);
      } catch (err) {
        if (err instanceof NotPositiveDefiniteError) {
          throw new IllDefinedCovarianceError(c, reg, `covariance not positive definite at pivot ${err.pivot}`);
        }
        throw err;
      }
      covCholesky.set(L, c * d * d);
      const Li = invertLowerTriangular(L, d);
      const P = precisionsCholesky.subarray(c * d * d, (c + 1) * d * d);
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) P[a * d + b] = Li[b * d + a];
    }
  } else {
    const diag = new Float64Array(k * d);
    for (let c = 0; c < k; c++) {
      const mu = means.subarray(c * d, (c + 1) * d);
      const v = diag.subarray(c * d, (c + 1) * d);
      for (const i of active[c]) {
        const r = resp[i * k + c];
        const ri = i * d;
        for (let j = 0; j < d; j++) {
          const diff = x[ri + j] - mu[j];
          v[j] += r * diff * diff;
        }
      }
      for (let j = 0; j < d; j++) v[j] = v[j] / nk[c] + reg;
    }
    if (type === 'diag') covariances = diag;
    else {
      covariances = new Float64Array(k);
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += diag[c * d + j];
        covariances[c] = s / d;
      }
    }
    precisionsCholesky = new Float64Array(covariances.length);
    const per = type === 'diag' ? d : 1;
    for (let t = 0; t < covariances.length; t++) {
      const v = covariances[t];
      if (!(v > 0) || !Number.isFinite(v)) {
        throw new IllDefinedCovarianceError(Math.floor(t / per), reg, `variance ${v} ≤ 0`);
      }
      precisionsCholesky[t] = 1 / Math.sqrt(v);
    }
  }

  const weights = new Float64Array(k);
  let total = 0;
  for (let c = 0; c < k; c++) total += nk[c];
  for (let c = 0; c < k; c++) weights[c] = nk[c] / (normalizeWeights ? total : n);
  return { k, d, type, weights, means, covariances, precisionsCholesky, covCholesky };
}

export class GaussianMixture {
  readonly params: Readonly<GaussianMixtureParams>;
  /** Mixture weights (k). */
  weights: Float64Array | null = null;
  /** Component means, k × d row-major. */
  means: Float64Array | null = null;
  /** full: k × d × d; diag: k × d; spherical: k (variances). */
  covariances: Float64Array | null = null;
  /** Like sklearn's precisions_cholesky_: full: k × d × d upper triangular with P·Pᵀ = Σ⁻¹; diag: k × d; spherical: k. */
  precisionsCholesky: Float64Array | null = null;
  /** Whether the kept initialisation converged (|Δ lower bound| < tol) within maxIter. */
  converged = false;
  /** EM iterations run by the kept initialisation. */
  nIter = 0;
  /** Lower bound (mean log-likelihood per sample, as sklearn's lower_bound_) of the kept initialisation. */
  lowerBound = -Infinity;
  /** Number of features seen in fit. */
  nFeatures = 0;

  constructor(params: Partial<GaussianMixtureParams> = {}) {
    if (params === null || typeof params !== 'object') throw new TypeError('GaussianMixture params must be an object');
    const known = Object.keys(DEFAULT_GMM_PARAMS);
    for (const key of Object.keys(params)) {
      if (!known.includes(key)) throw new TypeError(`Unknown GaussianMixture parameter "${key}" (expected one of ${known.join(', ')})`);
    }
    const merged: GaussianMixtureParams = { ...DEFAULT_GMM_PARAMS };
    for (const [key, value] of Object.entries(params) as [keyof GaussianMixtureParams, unknown][]) {
      if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
    }
    validateParams(merged);
    this.params = Object.freeze(merged);
  }

  async fit(X: Matrix, opts: GmmFitOptions = {}): Promise<this> {
    const p = this.params;
    validateParams(p);
    validateMatrix(X, 'fit', 2);
    if (X.rows < p.k) {
      throw new RangeError(`GaussianMixture.fit: expected n_samples ≥ k, got k = ${p.k} and ${X.rows} samples`);
    }
    const n = X.rows;
    const k = p.k;
    const givenResp = opts.init?.resp;
    if (givenResp !== undefined) {
      if (givenResp.length !== n * k)
        throw new RangeError(`GaussianMixture.fit: init.resp must hold n × k = ${n * k} values, got ${givenResp.length}`);
      for (let i = 0; i < givenResp.length; i++) {
        if (!(givenResp[i] >= 0) || !Number.isFinite(givenResp[i]))
          throw new RangeError(`GaussianMixture.fit: init.resp[${i}] = ${givenResp[i]} is not a finite non-negative number`);
      }
    }
    const { signal, onProgress } = opts;
    checkAbort(signal);

    const inits = givenResp ? 1 : p.nInit;
    const seeds = new Rng(p.seed);
    let best: { model: Model; lowerBound: number; nIter: number; converged: boolean } | null = null;
    const data = p.covarianceType === 'full' ? uploadBlocks(X) : null;
    try {
      for (let init = 0; init < inits; init++) {
        const seed = init === 0 ? p.seed : seeds.nextSeed();
        const resp0 = givenResp ? Float64Array.from(givenResp) : await this.initialResponsibilities(X, seed, signal);
        checkAbort(signal);
        let model = await mStep(X, resp0, k, p.covarianceType, p.regCovar, false, null);
        let lowerBound = -Infinity;
        let converged = false;
        let nIter = 0;
        for (let iter = 1; iter <= p.maxIter; iter++) {
          checkAbort(signal);
          const prev = lowerBound;
          const e = await eStep(X, model, data);
          if (!Number.isFinite(e.lowerBound)) {
            throw new Error(
              `GaussianMixture.fit: the lower bound became ${e.lowerBound} at iteration ${iter}; the data may be ` +
                `degenerate — try increasing regCovar (currently ${p.regCovar}) or decreasing k`,
            );
          }
          model = await mStep(X, e.resp, k, p.covarianceType, p.regCovar, true, model);
          lowerBound = e.lowerBound;
          nIter = iter;
          const change = Math.abs(lowerBound - prev);
          converged = change < p.tol;
          onProgress?.({
            phase: 'gmm',
            iter,
            lowerBound,
            fraction: (init + (converged ? 1 : iter / p.maxIter)) / inits,
            init,
            change,
          });
          if (converged) break;
          await nextTick();
        }
        if (!best || lowerBound > best.lowerBound) best = { model, lowerBound, nIter, converged };
      }
    } finally {
      disposeBlocks(data);
    }
    const b = best as NonNullable<typeof best>;
    this.weights = b.model.weights;
    this.means = b.model.means;
    this.covariances = b.model.covariances;
    this.precisionsCholesky = b.model.precisionsCholesky;
    this.lowerBound = b.lowerBound;
    this.nIter = b.nIter;
    this.converged = b.converged;
    this.nFeatures = X.cols;
    return this;
  }

  private async initialResponsibilities(X: Matrix, seed: number, signal?: AbortSignal): Promise<Float64Array> {
    const n = X.rows;
    const k = this.params.k;
    const resp = new Float64Array(n * k);
    if (this.params.initParams === 'random') {
      const rng = new Rng(seed);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let c = 0; c < k; c++) s += resp[i * k + c] = rng.random();
        for (let c = 0; c < k; c++) resp[i * k + c] /= s;
      }
      return resp;
    }
    if (k === 1) return resp.fill(1);
    checkAbort(signal);
    const km = await new KMeans({ k, nInit: 1, seed }).fit(X, { signal });
    const labels = km.labels;
    if (!labels || labels.length !== n) throw new Error('GaussianMixture: k-means initialisation returned no labels');
    for (let i = 0; i < n; i++) resp[i * k + labels[i]] = 1;
    return resp;
  }

  private model(X: Matrix, what: string): Model {
    if (!this.weights || !this.means || !this.covariances || !this.precisionsCholesky)
      throw new Error(`GaussianMixture.${what}: the model is not fitted yet; call fit() first`);
    validateMatrix(X, what, 0);
    if (X.cols !== this.nFeatures)
      throw new RangeError(`GaussianMixture.${what}: X has ${X.cols} features, but the model was fitted on ${this.nFeatures}`);
    return {
      k: this.params.k,
      d: this.nFeatures,
      type: this.params.covarianceType,
      weights: this.weights,
      means: this.means,
      covariances: this.covariances,
      precisionsCholesky: this.precisionsCholesky,
    };
  }

  /** Weighted log-probabilities log πₖ + log N(x | μₖ, Σₖ), n × k. */
  async weightedLogProb(X: Matrix): Promise<Float64Array> {
    return weightedLogProb(X, this.model(X, 'weightedLogProb'), null);
  }

  /** Most probable component per sample. */
  async predict(X: Matrix): Promise<Int32Array> {
    const k = this.params.k;
    const wlp = await weightedLogProb(X, this.model(X, 'predict'), null);
    const out = new Int32Array(X.rows);
    for (let i = 0; i < X.rows; i++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (wlp[i * k + c] > wlp[i * k + best]) best = c;
      out[i] = best;
    }
    return out;
  }

  /** Posterior probability of each component, n × k row-major (rows sum to 1). */
  async predictProba(X: Matrix): Promise<Float32Array> {
    const k = this.params.k;
    const wlp = await weightedLogProb(X, this.model(X, 'predictProba'), null);
    normalizeLogResp(wlp, X.rows, k);
    return Float32Array.from(wlp, Math.exp);
  }

  /** Per-sample log-likelihood log p(x). */
  async scoreSamples(X: Matrix): Promise<Float64Array> {
    const wlp = await weightedLogProb(X, this.model(X, 'scoreSamples'), null);
    return normalizeLogResp(wlp, X.rows, this.params.k);
  }

  /** Mean per-sample log-likelihood. */
  async score(X: Matrix): Promise<number> {
    return mean(await this.scoreSamples(X));
  }

  /** Number of free parameters (sklearn's `_n_parameters`). */
  nParameters(d: number = this.nFeatures): number {
    const k = this.params.k;
    const cov =
      this.params.covarianceType === 'full' ? (k * d * (d + 1)) / 2 : this.params.covarianceType === 'diag' ? k * d : k;
    return cov + k * d + k - 1;
  }

  /** Bayesian information criterion: −2·n·score(X) + nParameters·log n (lower is better). */
  async bic(X: Matrix): Promise<number> {
    const s = await this.score(X);
    return -2 * s * X.rows + this.nParameters() * Math.log(X.rows);
  }

  /** Akaike information criterion: −2·n·score(X) + 2·nParameters (lower is better). */
  async aic(X: Matrix): Promise<number> {
    const s = await this.score(X);
    return -2 * s * X.rows + 2 * this.nParameters();
  }
}
