/**
 * UMAP's initial layout: 'spectral' (umap-learn's default: leading eigenvectors of the normalised adjacency
 * D^−½·A·D^−½, by orthogonal iteration), 'pca' or 'random', scaled to [0, 10] per dimension.
 */
import { abortError, yieldToEventLoop } from '../abort';
import type { Rng } from '../math/rng';
import type { Matrix } from '../types';
import { pca } from './pca';
import type { UmapInit } from './umap-params';
import type { FuzzyGraph } from './umap-graph';

/**
 * The starting embedding (n × dim, float32, scaled to [0, 10]) for `init`; `initFallback` when the asked layout was
 * impossible (a degenerate graph for 'spectral', more components than columns for 'pca') and a random one was used.
 */
export async function initialEmbedding(
  X: Matrix,
  graph: FuzzyGraph,
  opts: { init: UmapInit; dim: number; seed: number; rng: Rng; signal?: AbortSignal },
): Promise<{ embedding: Float32Array; initFallback: boolean }> {
  const { init, dim, rng, signal } = opts;
  const n = X.rows;
  let layout: Float64Array | null = null;
  let initFallback = false;
  if (init === 'spectral') {
    layout = await spectralLayout(graph, dim, rng, signal);
    if (!layout) initFallback = true;
    else layout = expandAndJitter(layout, rng);
  } else if (init === 'pca' && dim <= X.cols) {
    layout = expandAndJitter(Float64Array.from((await pca(X, dim, opts.seed)).projection), rng);
  }
  if (!layout) {
    if (init === 'pca') initFallback = true;
    layout = new Float64Array(n * dim);
    for (let i = 0; i < layout.length; i++) layout[i] = rng.uniform(-10, 10);
  }
  return { embedding: scaleToBox(layout, n, dim), initFallback };
}

/**
 * Modified Gram–Schmidt on the columns of the n × dim block A, after projecting out the unit vector `trivial`.
 * False when a column vanishes (a degenerate graph).
 */
function orthonormaliseColumns(A: Float64Array, n: number, dim: number, trivial: Float64Array): boolean {
  for (let j = 0; j < dim; j++) {
    let t = 0;
    for (let i = 0; i < n; i++) t += A[i * dim + j] * trivial[i];
    for (let i = 0; i < n; i++) A[i * dim + j] -= t * trivial[i];
    for (let q = 0; q < j; q++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += A[i * dim + j] * A[i * dim + q];
      for (let i = 0; i < n; i++) A[i * dim + j] -= dot * A[i * dim + q];
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += A[i * dim + j] * A[i * dim + j];
    norm = Math.sqrt(norm);
    if (!(norm > 1e-300)) return false;
    for (let i = 0; i < n; i++) A[i * dim + j] /= norm;
  }
  return true;
}

/** W = (M + I)/2 · V for the sparse M given as COO (rows, cols, values) and an n × dim block V. */
function shiftedProduct(rows: Int32Array, cols: Int32Array, values: Float64Array, V: Float64Array, W: Float64Array, dim: number): void {
  for (let i = 0; i < W.length; i++) W[i] = 0.5 * V[i];
  for (let e = 0; e < rows.length; e++) {
    const w = 0.5 * values[e];
    const ro = rows[e] * dim;
    const co = cols[e] * dim;
    for (let j = 0; j < dim; j++) W[ro + j] += w * V[co + j];
  }
}

/** Leading non-trivial eigenvectors of D^−½·A·D^−½ (umap-learn's spectral layout), by orthogonal iteration. */
async function spectralLayout(
  graph: FuzzyGraph,
  dim: number,
  rng: Rng,
  signal?: AbortSignal,
  iterations = 150,
): Promise<Float64Array | null> {
  const { n, rows, cols, weights } = graph;
  const p = dim + 1;
  if (n <= p) return null;
  const deg = new Float64Array(n);
  for (let e = 0; e < rows.length; e++) deg[rows[e]] += weights[e];
  const dInvSqrt = Float64Array.from(deg, (d) => (d > 0 ? 1 / Math.sqrt(d) : 0));
  const normW = new Float64Array(weights.length);
  for (let e = 0; e < rows.length; e++) normW[e] = weights[e] * dInvSqrt[rows[e]] * dInvSqrt[cols[e]];
  // the trivial eigenvector (eigenvalue 1) is ∝ √deg; it is projected out, and the rest is iterated with the
  // shifted operator (M + I)/2 whose spectrum lies in [0, 1]
  const trivial = Float64Array.from(deg, (d) => Math.sqrt(d));
  let tn = 0;
  for (let i = 0; i < n; i++) tn += trivial[i] ** 2;
  tn = Math.sqrt(tn) || 1;
  for (let i = 0; i < n; i++) trivial[i] /= tn;
  const V = new Float64Array(n * dim);
  rng.fillNormal(V);
  const W = new Float64Array(n * dim);
  if (!orthonormaliseColumns(V, n, dim, trivial)) return null;
  let lastYield = performance.now();
  for (let it = 0; it < iterations; it++) {
    shiftedProduct(rows, cols, normW, V, W, dim);
    if (!orthonormaliseColumns(W, n, dim, trivial)) return null;
    V.set(W);
    if (performance.now() - lastYield > 50) {
      if (signal?.aborted) throw abortError(signal, 'UMAP aborted');
      await yieldToEventLoop();
      lastYield = performance.now();
    }
  }
  return V;
}

/** Scales each column of an n × dim layout to [0, 10] (umap-learn, before optimising). */
function scaleToBox(layout: Float64Array, n: number, dim: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let j = 0; j < dim; j++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = layout[i * dim + j];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const range = hi - lo || 1;
    for (let i = 0; i < n; i++) out[i * dim + j] = (10 * (layout[i * dim + j] - lo)) / range;
  }
  return out;
}

/** umap-learn: spectral/PCA layouts are expanded to max |x| = 10 and jittered (σ 1e-4) before the box scaling. */
function expandAndJitter(layout: Float64Array, rng: Rng): Float64Array {
  let max = 0;
  for (let i = 0; i < layout.length; i++) max = Math.max(max, Math.abs(layout[i]));
  const expansion = max > 0 ? 10 / max : 1;
  return Float64Array.from(layout, (v) => v * expansion + rng.normal(0, 1e-4));
}
