/**
 * The M-step of a Gaussian mixture (sklearn's `_estimate_gaussian_parameters` + `_compute_precision_cholesky`):
 * weights, means and covariances (with `reg` on the diagonal) from responsibilities, and the precision Cholesky
 * factors the E-step uses. 'full' covariances go through the backend (see gmm-scatter.ts); everything k × d × d
 * (Cholesky, triangular inverses) and the 'diag' / 'spherical' models run in JavaScript in float64.
 */
import type { Matrix } from '../types';
import type { CovarianceType } from './gmm-params';
import { IllDefinedCovarianceError, type Model } from './gmm-model';
import { accurateScatter, type ScatterRows } from './gmm-scatter';
import { NotPositiveDefiniteError, cholesky, invertLowerTriangular } from '../math/linalg';

/**
 * Responsibilities below PRUNE_RELATIVE · nₖ / n are skipped in the M-step sums of component k. The skipped mass
 * is then at most PRUNE_RELATIVE · nₖ (a relative change ≤ 1e-12 of the weights and means, far below float32
 * rounding), while in high dimensions, where responsibilities are nearly one-hot, the covariance products shrink
 * from n to about n/k rows per component.
 */
export const PRUNE_RELATIVE = 1e-12;

/** np.finfo(np.float64).eps, as in sklearn's `nk = resp.sum(0) + 10 * eps`. */
const EPS64 = 2.220446049250313e-16;

/** The mixture being fitted: components, covariance type, regularisation added to the covariance diagonals. */
export interface MixtureSpec {
  k: number;
  type: CovarianceType;
  reg: number;
}

/** What the M-step knows before the covariances: the data, responsibilities, and per component nₖ, its points, its mean. */
interface Moments {
  X: Matrix;
  resp: Float64Array;
  k: number;
  nk: Float64Array;
  /** Per component: the points whose responsibility is not negligible (see PRUNE_RELATIVE). */
  active: Int32Array[];
  /** k × d */
  means: Float64Array;
}

type Covariances = Pick<Model, 'covariances' | 'precisionsCholesky' | 'covCholesky'>;

/**
 * M-step from responsibilities `resp` (n × k). `prev`: the model of the previous EM iteration, null for the initial
 * M-step. Its covariance factors are the whitening basis of the new 'full' scatter; and, as sklearn does, the
 * initial weights are divided by n, those of EM iterations by their sum.
 */
export async function mStep(X: Matrix, resp: Float64Array, spec: MixtureSpec, prev: Model | null): Promise<Model> {
  const { k, type, reg } = spec;
  const n = X.rows;
  const d = X.cols;
  const nk = new Float64Array(k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) nk[c] += resp[i * k + c];
  for (let c = 0; c < k; c++) nk[c] += 10 * EPS64;
  const active = activePoints(resp, nk, n, k);
  const mo: Moments = { X, resp, k, nk, active, means: weightedMeans(X, resp, nk, active) };
  const cov = type === 'full' ? await fullCovariances(mo, reg, prev) : diagonalCovariances(mo, type, reg);
  const weights = new Float64Array(k);
  let total = 0;
  for (let c = 0; c < k; c++) total += nk[c];
  for (let c = 0; c < k; c++) weights[c] = nk[c] / (prev !== null ? total : n);
  return { k, d, type, weights, means: mo.means, ...cov };
}

/** Per component, the indices of the points whose responsibility is above PRUNE_RELATIVE · nₖ / n. */
function activePoints(resp: Float64Array, nk: Float64Array, n: number, k: number): Int32Array[] {
  const counts = new Int32Array(k);
  const thresholds = new Float64Array(k);
  for (let c = 0; c < k; c++) thresholds[c] = (PRUNE_RELATIVE * nk[c]) / n;
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) if (resp[i * k + c] > thresholds[c]) counts[c]++;
  const active = Array.from({ length: k }, (_, c) => new Int32Array(counts[c]));
  counts.fill(0);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) if (resp[i * k + c] > thresholds[c]) active[c][counts[c]++] = i;
  return active;
}

/** μₖ = Σᵢ rᵢₖ xᵢ / nₖ over the active points, float64 (k × d). */
function weightedMeans(X: Matrix, resp: Float64Array, nk: Float64Array, active: Int32Array[]): Float64Array {
  const { cols: d, data: x } = X;
  const k = nk.length;
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
  return means;
}

/** 'full': per component Σ = scatter + reg·I, its lower Cholesky factor L, and P = L⁻ᵀ. */
async function fullCovariances(mo: Moments, reg: number, prev: Model | null): Promise<Covariances> {
  const { k } = mo;
  const d = mo.X.cols;
  const covariances = new Float64Array(k * d * d);
  const precisionsCholesky = new Float64Array(k * d * d);
  const covCholesky = new Float64Array(k * d * d);
  for (let c = 0; c < k; c++) {
    const cov = covariances.subarray(c * d * d, (c + 1) * d * d);
    if (mo.active[c].length > 0) {
      const prevP = prev?.precisionsCholesky.subarray(c * d * d, (c + 1) * d * d);
      const prevL = prev?.covCholesky?.subarray(c * d * d, (c + 1) * d * d);
      cov.set(await accurateScatter(weightedRows(mo, c), reg, prevP && prevL ? { P: prevP, L: prevL } : null));
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
  return { covariances, precisionsCholesky, covCholesky };
}

/** The active points of component c as rows √rᵢ (xᵢ − μ) (float32, for the backend's scatter product). */
function weightedRows(mo: Moments, c: number): ScatterRows {
  const { X, resp, k } = mo;
  const { cols: d, data: x } = X;
  const idx = mo.active[c];
  const mRows = idx.length;
  const mu = mo.means.subarray(c * d, (c + 1) * d);
  const W = new Float32Array(mRows * d);
  for (let a = 0; a < mRows; a++) {
    const i = idx[a];
    const s = Math.sqrt(resp[i * k + c]);
    const ri = i * d;
    const ra = a * d;
    for (let j = 0; j < d; j++) W[ra + j] = (x[ri + j] - mu[j]) * s;
  }
  return { W, m: mRows, d, nk: mo.nk[c] };
}

/** 'diag': per component and dimension the weighted variance + reg; 'spherical': their mean per component. */
function diagonalCovariances(mo: Moments, type: 'diag' | 'spherical', reg: number): Covariances {
  const { X, resp, k, nk } = mo;
  const { cols: d, data: x } = X;
  const diag = new Float64Array(k * d);
  for (let c = 0; c < k; c++) {
    const mu = mo.means.subarray(c * d, (c + 1) * d);
    const v = diag.subarray(c * d, (c + 1) * d);
    for (const i of mo.active[c]) {
      const r = resp[i * k + c];
      const ri = i * d;
      for (let j = 0; j < d; j++) {
        const diff = x[ri + j] - mu[j];
        v[j] += r * diff * diff;
      }
    }
    for (let j = 0; j < d; j++) v[j] = v[j] / nk[c] + reg;
  }
  let covariances: Float64Array;
  if (type === 'diag') covariances = diag;
  else {
    covariances = new Float64Array(k);
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += diag[c * d + j];
      covariances[c] = s / d;
    }
  }
  const precisionsCholesky = new Float64Array(covariances.length);
  const per = type === 'diag' ? d : 1;
  for (let t = 0; t < covariances.length; t++) {
    const v = covariances[t];
    if (!(v > 0) || !Number.isFinite(v)) {
      throw new IllDefinedCovarianceError(Math.floor(t / per), reg, `variance ${v} ≤ 0`);
    }
    precisionsCholesky[t] = 1 / Math.sqrt(v);
  }
  return { covariances, precisionsCholesky, covCholesky: undefined };
}
