/**
 * The E-step of a Gaussian mixture: weighted log-probabilities log πₖ + log N(xᵢ | μₖ, Σₖ) and the responsibilities.
 *
 * For 'full' the squared Mahalanobis distances ‖(x − μₖ)·Pₖ‖² (n·d² per component, Pₖ the upper triangular
 * "precision Cholesky") are computed on the active tfjs backend as X·P − μ·P (as sklearn): one fused matMul (+ bias
 * −μ·P) per column block against a column prefix of X, which skips the zero lower triangle of Pₖ. 'diag' and
 * 'spherical' (O(n·k·d)) and the log-sum-exp run in JavaScript in float64.
 */
import { tf } from '../backend';
import type { Matrix } from '../types';
import type { Model } from './gmm-model';

const LOG_2PI = Math.log(2 * Math.PI);

/** Column prefixes of X on the backend (see {@link blockBounds}), reused by every 'full' E-step of one fit. */
export interface BackendData {
  blocks: tf.Tensor2D[];
  bounds: number[];
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
export function uploadBlocks(X: Matrix): BackendData {
  const bounds = blockBounds(X.cols);
  const blocks = tf.tidy(() => {
    const full = tf.tensor2d(X.data, [X.rows, X.cols], 'float32');
    return bounds.slice(1).map((end) => tf.keep(end === X.cols ? full : tf.slice(full, [0, 0], [X.rows, end])));
  });
  return { blocks, bounds };
}

export function disposeBlocks(data: BackendData | null): void {
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
  const out = new Float64Array(X.rows * m.k);
  if (X.rows === 0) return out;
  if (m.type !== 'full') return diagonalMahalanobis(X, m, out);
  const own = data ?? uploadBlocks(X);
  try {
    const perComponent: tf.Tensor1D[] = [];
    // One tidy per component keeps the n × block intermediates of a single component alive at a time.
    for (let c = 0; c < m.k; c++) perComponent.push(tf.tidy(() => fullMahalanobis(own, m, c)));
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

/** ‖(xᵢ − μ_c)·P_c‖² of every row for component c of a 'full' model, on the backend (call inside a tidy). */
function fullMahalanobis({ blocks, bounds }: BackendData, m: Model, c: number): tf.Tensor1D {
  const d = m.d;
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
  for (let J = 0; J < blocks.length; J++) {
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
}

/** 'diag' / 'spherical' distances into `out` (n × k): O(n·k·d) in float64. */
function diagonalMahalanobis(X: Matrix, m: Model, out: Float64Array): Float64Array {
  const { k, d } = m;
  const n = X.rows;
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
export async function weightedLogProb(X: Matrix, m: Model, data: BackendData | null): Promise<Float64Array> {
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
export function normalizeLogResp(wlp: Float64Array, n: number, k: number): Float64Array {
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

/** Mean of the values. */
export function mean(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}

/** E-step: mean log-likelihood and the responsibilities (n × k, float64). */
export async function eStep(X: Matrix, m: Model, data: BackendData | null): Promise<{ lowerBound: number; resp: Float64Array }> {
  const wlp = await weightedLogProb(X, m, data);
  const norm = normalizeLogResp(wlp, X.rows, m.k);
  for (let i = 0; i < wlp.length; i++) wlp[i] = Math.exp(wlp[i]);
  return { lowerBound: mean(norm), resp: wlp };
}
