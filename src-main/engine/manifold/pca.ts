/**
 * Principal component analysis of a row-major matrix: the covariance in float64 (on the active tfjs backend for
 * wide rows), then Jacobi (symmetricEigen) for narrow matrices or orthogonal (subspace) iteration for the leading
 * components of wide ones. Used for the 2-D map of older runs, for UMAP's 'pca' initialisation and to rotate
 * codes onto their principal axes before the k-d tree.
 */
import { tf } from '../backend/index';
import { symmetricEigen } from '../math/linalg';
import { Rng } from '../math/rng';
import type { Matrix } from '../types';

export interface PcaResult {
  /** rows × nComponents projection of the centred rows. */
  projection: Float32Array;
  /** cols × nComponents, unit columns, row-major. */
  components: Float64Array;
  mean: Float64Array;
  /** Variance along each component (descending). */
  variances: Float64Array;
  nComponents: number;
}

export interface PcaOptions {
  /** Compute a wide covariance on the active tfjs backend (default true); false keeps everything in JavaScript. */
  device?: boolean;
}

/** Upper triangle of Σ (x − mean)(x − mean)ᵀ, in JavaScript (synchronous: V8 optimises it as a whole). */
function scatterJs(X: Matrix, mean: Float64Array, cov: Float64Array): void {
  const { rows: n, cols: d, data } = X;
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < d; f++) row[f] = data[i * d + f] - mean[f];
    for (let a = 0; a < d; a++) {
      const va = row[a];
      const o = a * d;
      for (let b = a; b < d; b++) cov[o + b] += va * row[b];
    }
  }
}

/** Covariance (cols × cols, float64) of the rows about `mean`. */
async function covariance(X: Matrix, mean: Float64Array, device: boolean): Promise<Float64Array> {
  const { rows: n, cols: d, data } = X;
  const cov = new Float64Array(d * d);
  if (d <= 64 || !device) {
    scatterJs(X, mean, cov);
  } else {
    // Xcᵀ·Xc on the backend in row chunks, the transposed chunk laid out on the CPU (no transpose flags)
    const chunk = Math.max(1, Math.floor(4_000_000 / d));
    let acc: tf.Tensor2D = tf.zeros([d, d]);
    for (let s = 0; s < n; s += chunk) {
      const e = Math.min(n, s + chunk);
      const m = e - s;
      const xt = new Float32Array(d * m);
      const xc = new Float32Array(m * d);
      for (let i = 0; i < m; i++) {
        for (let f = 0; f < d; f++) {
          const v = data[(s + i) * d + f] - mean[f];
          xc[i * d + f] = v;
          xt[f * m + i] = v;
        }
      }
      const next = tf.tidy(() => tf.add(acc, tf.matMul(tf.tensor2d(xt, [d, m]), tf.tensor2d(xc, [m, d]))) as tf.Tensor2D);
      acc.dispose();
      acc = next;
    }
    const values = await acc.data();
    acc.dispose();
    for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[a * d + b] = values[a * d + b];
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b] / Math.max(1, n - 1);
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  return cov;
}

/** (rows − mean) · components: rows × m. */
export function projectRows(X: Matrix, mean: Float64Array, components: Float64Array, m: number): Float32Array {
  const { rows: n, cols: d, data } = X;
  const out = new Float32Array(n * m);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let f = 0; f < d; f++) row[f] = data[i * d + f] - mean[f];
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let r = 0; r < d; r++) s += row[r] * components[r * m + j];
      out[i * m + j] = s;
    }
  }
  return out;
}

/** Leading `m` eigenpairs of a symmetric PSD matrix by orthogonal iteration (for wide covariances). */
function leadingEigen(C: Float64Array, d: number, m: number, seed: number): { values: Float64Array; vectors: Float64Array } {
  const p = Math.min(d, m + 4);
  const rng = new Rng(seed);
  let V = new Float64Array(d * p);
  rng.fillNormal(V);
  const orthonormalise = (A: Float64Array) => {
    // modified Gram–Schmidt on the columns
    for (let j = 0; j < p; j++) {
      for (let i = 0; i < j; i++) {
        let dot = 0;
        for (let r = 0; r < d; r++) dot += A[r * p + i] * A[r * p + j];
        for (let r = 0; r < d; r++) A[r * p + j] -= dot * A[r * p + i];
      }
      let norm = 0;
      for (let r = 0; r < d; r++) norm += A[r * p + j] ** 2;
      norm = Math.sqrt(norm) || 1;
      for (let r = 0; r < d; r++) A[r * p + j] /= norm;
    }
  };
  orthonormalise(V);
  const W = new Float64Array(d * p);
  for (let it = 0; it < 200; it++) {
    W.fill(0);
    for (let r = 0; r < d; r++) {
      for (let k = 0; k < d; k++) {
        const c = C[r * d + k];
        if (c === 0) continue;
        for (let j = 0; j < p; j++) W[r * p + j] += c * V[k * p + j];
      }
    }
    orthonormalise(W);
    let change = 0;
    for (let j = 0; j < m; j++) {
      let dot = 0;
      for (let r = 0; r < d; r++) dot += W[r * p + j] * V[r * p + j];
      change = Math.max(change, 1 - Math.abs(dot));
    }
    V = Float64Array.from(W);
    if (change < 1e-12) break;
  }
  // Rayleigh–Ritz in the subspace to order and refine
  const H = new Float64Array(p * p);
  const CV = new Float64Array(d * p);
  for (let r = 0; r < d; r++) for (let k = 0; k < d; k++) for (let j = 0; j < p; j++) CV[r * p + j] += C[r * d + k] * V[k * p + j];
  for (let a = 0; a < p; a++)
    for (let b = 0; b < p; b++) {
      let s = 0;
      for (let r = 0; r < d; r++) s += V[r * p + a] * CV[r * p + b];
      H[a * p + b] = s;
    }
  const small = symmetricEigen(H, p);
  const values = small.values.slice(0, m);
  const vectors = new Float64Array(d * m);
  for (let r = 0; r < d; r++)
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let a = 0; a < p; a++) s += V[r * p + a] * small.vectors[a * p + j];
      vectors[r * m + j] = s;
    }
  return { values, vectors };
}

/**
 * The first `nComponents` principal components of the rows of X and the projection of every row onto them.
 * Component signs are fixed (largest-magnitude loading positive) so that results are reproducible.
 */
export async function pca(X: Matrix, nComponents: number, seed = 0, opts: PcaOptions = {}): Promise<PcaResult> {
  const { rows: n, cols: d, data } = X;
  if (!Number.isInteger(nComponents) || nComponents < 1 || nComponents > d)
    throw new RangeError(`nComponents must be an integer in [1, ${d}], got ${nComponents}`);
  if (n < 1) throw new RangeError('PCA needs at least one row');
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) mean[f] += data[i * d + f];
  for (let f = 0; f < d; f++) mean[f] /= n;
  const cov = await covariance(X, mean, opts.device ?? true);
  let values: Float64Array;
  let components: Float64Array;
  if (d <= 64) {
    const eig = symmetricEigen(cov, d);
    values = eig.values.slice(0, nComponents);
    components = new Float64Array(d * nComponents);
    for (let r = 0; r < d; r++) for (let j = 0; j < nComponents; j++) components[r * nComponents + j] = eig.vectors[r * d + j];
  } else {
    const eig = leadingEigen(cov, d, nComponents, seed);
    values = eig.values;
    components = eig.vectors;
  }
  const m = nComponents;
  for (let j = 0; j < m; j++) {
    let best = 0;
    for (let r = 0; r < d; r++) if (Math.abs(components[r * m + j]) > Math.abs(best)) best = components[r * m + j];
    if (best < 0) for (let r = 0; r < d; r++) components[r * m + j] = -components[r * m + j];
  }
  const projection = projectRows(X, mean, components, m);
  return { projection, components, mean, variances: Float64Array.from(values, (v) => Math.max(0, v)), nComponents: m };
}

/** PCA in scikit-learn's shape: `fit` (→ this), `transform` new rows, or `fitTransform`; parameters as data. */
export class Pca {
  private fitted: PcaResult | undefined;

  constructor(readonly params: { nComponents: number; seed?: number } & PcaOptions) {}

  async fit(X: Matrix): Promise<this> {
    const { nComponents, seed = 0, ...opts } = this.params;
    this.fitted = await pca(X, nComponents, seed, opts);
    return this;
  }

  /** The fit's components, mean, variances and its projection of the rows it was fitted on. */
  get result(): PcaResult {
    if (!this.fitted) throw new Error('PCA is not fitted: call fit first');
    return this.fitted;
  }

  /** The rows of X on the fitted components (rows × nComponents). */
  transform(X: Matrix): Float32Array {
    const { mean, components, nComponents } = this.result;
    return projectRows(X, mean, components, nComponents);
  }

  async fitTransform(X: Matrix): Promise<Float32Array> {
    return (await this.fit(X)).result.projection;
  }
}
