/**
 * UMAP (McInnes, Healy & Melville) as a pipeline step: seeded, cancellable, with progress, following umap-learn's
 * algorithm (0.5) step by step:
 *
 * 1. exact k nearest neighbours (knn.ts: a k-d tree for codes, the tfjs backend for wide rows), each point its own
 *    first neighbour;
 * 2. the fuzzy simplicial set: per point ρ (distance to the nearest neighbour) and σ (binary search so that
 *    Σ exp(−(d − ρ)/σ) = log2 k), memberships exp(−(d − ρ)/σ), symmetrised by the fuzzy union A + Aᵀ − A∘Aᵀ;
 * 3. the initial layout: 'spectral' (umap-learn's default: leading eigenvectors of the normalised adjacency
 *    D^−½·A·D^−½, by orthogonal iteration), 'pca' or 'random', scaled to [0, 10] per dimension;
 * 4. the layout optimisation: stochastic gradient descent on the fuzzy cross-entropy, edges sampled in proportion
 *    to their weight, `negativeSampleRate` negative samples per positive one, a learning rate decaying linearly
 *    from 1, gradients clipped at ±4, the curve 1/(1 + a·d^2b) fitted to minDist/spread (umap-js's findABParams).
 *
 * Why not umap-js's own fit: at 60–70k points its sparse matrices (string-keyed maps) take ~45 s to build the graph
 * in one synchronous call, its layout epochs work on arrays of arrays (≈ 0.5–3 s per epoch at 70k × 10), and it
 * has no spectral initialisation. Here everything is typed arrays, yields to the event loop between chunks/epochs
 * and checks an AbortSignal. umap-js still provides the a/b curve fit.
 *
 * `transform` places new points as umap-learn does: their neighbours among the fitted points, memberships with
 * local connectivity 0, initial positions at the membership-weighted mean of those neighbours' embeddings, then
 * nEpochs/3 epochs (100 or 30 by default) moving only the new points, learning rate ¼.
 */
import { findABParams } from 'umap-js/dist/umap.js';
import { abortError, yieldToEventLoop } from '../abort';
import { Rng } from '../cluster/rng';
import { taskDefaults } from '../experiments/params';
import type { Matrix } from '../types';
import { exactNeighbours, type Neighbours } from './knn';
import { pca } from './pca';

export type UmapMetric = 'euclidean';
export type UmapInit = 'spectral' | 'pca' | 'random';

export interface UmapParams {
  /** Size of the local neighbourhood (umap-learn's n_neighbors), ≥ 2 and below the number of points. */
  nNeighbors: number;
  /** Minimum distance between embedded points (≥ 0, ≤ spread; 0 packs clusters tightly, as N2D uses). */
  minDist: number;
  /** Dimension of the embedding (≥ 1). */
  nComponents: number;
  /** Optimisation epochs; null = umap-learn's default (500 up to 10,000 points, else 200). */
  nEpochs: number | null;
  metric: UmapMetric;
  /** Scale of the embedded points (umap-learn's spread, default 1). */
  spread: number;
  init: UmapInit;
  /** Negative samples per positive sample (5). */
  negativeSampleRate: number;
  seed: number;
}

export const DEFAULT_UMAP_PARAMS: Readonly<UmapParams> = Object.freeze({
  nNeighbors: 15,
  minDist: 0.1,
  nComponents: 2,
  nEpochs: null,
  metric: 'euclidean' as UmapMetric,
  spread: 1,
  init: 'spectral' as UmapInit,
  negativeSampleRate: 5,
  seed: 0,
});

const N2D = taskDefaults('n2d');
/** N2D's settings (the n2d task's defaults): UMAP on the autoencoder codes, 20 neighbours, min_dist 0, as many components as clusters. */
export const N2D_UMAP_PARAMS: Readonly<Pick<UmapParams, 'nNeighbors' | 'minDist' | 'nComponents' | 'metric'>> = Object.freeze({
  nNeighbors: N2D.umapNeighbors,
  minDist: N2D.umapMinDist,
  nComponents: N2D.k,
  metric: 'euclidean' as UmapMetric,
});

export interface UmapIssue {
  /** Parameter name (as in UmapParams). */
  param: keyof UmapParams;
  message: string;
}

/**
 * Problems with UMAP parameters, each naming its parameter; `points` (the number of points to embed), when known,
 * bounds nNeighbors and nComponents. An empty list means the parameters are usable.
 */
export function umapParamIssues(p: Partial<UmapParams>, points?: number): UmapIssue[] {
  const issues: UmapIssue[] = [];
  const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
  if (p.nNeighbors !== undefined) {
    if (!isInt(p.nNeighbors) || p.nNeighbors < 2) issues.push({ param: 'nNeighbors', message: `must be an integer ≥ 2, got ${p.nNeighbors}` });
    else if (points !== undefined && p.nNeighbors >= points) issues.push({ param: 'nNeighbors', message: `${p.nNeighbors} neighbours need more than ${p.nNeighbors} points, got ${points}` });
  }
  const spreadOk = p.spread === undefined || (typeof p.spread === 'number' && Number.isFinite(p.spread) && p.spread > 0);
  if (!spreadOk) issues.push({ param: 'spread', message: `must be a number > 0, got ${p.spread}` });
  if (p.minDist !== undefined) {
    if (!(typeof p.minDist === 'number' && Number.isFinite(p.minDist) && p.minDist >= 0)) issues.push({ param: 'minDist', message: `must be a number ≥ 0, got ${p.minDist}` });
    else if (spreadOk && p.minDist > (p.spread ?? 1)) issues.push({ param: 'minDist', message: `must not exceed the spread (${p.spread ?? 1}), got ${p.minDist}` });
  }
  if (p.nComponents !== undefined) {
    if (!isInt(p.nComponents) || p.nComponents < 1) issues.push({ param: 'nComponents', message: `must be an integer ≥ 1, got ${p.nComponents}` });
    else if (points !== undefined && p.nComponents >= points) issues.push({ param: 'nComponents', message: `must be below the number of points (${points}), got ${p.nComponents}` });
  }
  if (p.nEpochs !== undefined && p.nEpochs !== null && (!isInt(p.nEpochs) || p.nEpochs < 1)) {
    issues.push({ param: 'nEpochs', message: `must be an integer ≥ 1 (or null for the default), got ${p.nEpochs}` });
  }
  if (p.metric !== undefined && p.metric !== 'euclidean') issues.push({ param: 'metric', message: `only 'euclidean' is supported, got '${String(p.metric)}'` });
  if (p.init !== undefined && !['spectral', 'pca', 'random'].includes(p.init)) issues.push({ param: 'init', message: `must be spectral, pca or random, got '${String(p.init)}'` });
  if (p.negativeSampleRate !== undefined && (!isInt(p.negativeSampleRate) || p.negativeSampleRate < 0)) {
    issues.push({ param: 'negativeSampleRate', message: `must be an integer ≥ 0, got ${p.negativeSampleRate}` });
  }
  if (p.seed !== undefined && !(typeof p.seed === 'number' && Number.isSafeInteger(p.seed))) issues.push({ param: 'seed', message: `must be an integer, got ${p.seed}` });
  return issues;
}

export class UmapParamError extends RangeError {
  override name = 'UmapParamError';
  constructor(readonly issues: UmapIssue[]) {
    super(`Invalid UMAP parameters — ${issues.map((i) => `${i.param}: ${i.message}`).join('; ')}`);
  }
}

export interface UmapProgressEvent {
  phase: 'umap';
  stage: 'knn' | 'graph' | 'init' | 'optimize' | 'transform';
  /** 0..1 over the whole call. */
  fraction: number;
  epoch?: number;
  epochs?: number;
  message?: string;
}

export interface UmapRunOptions {
  signal?: AbortSignal;
  onProgress?: (e: UmapProgressEvent) => void;
}

// ---------------------------------------------------------------------------------------------------------------
// Fuzzy simplicial set

const SMOOTH_K_TOLERANCE = 1e-5;
const MIN_K_DIST_SCALE = 1e-3;

/** umap-learn's smooth_knn_dist: per row ρ and σ such that Σ_{j≥1} exp(−max(0, d − ρ)/σ) = log2(k). */
export function smoothKnnDist(knn: Neighbours, localConnectivity = 1): { sigmas: Float64Array; rhos: Float64Array } {
  const { n, k, distances } = knn;
  const target = Math.log2(k);
  const rhos = new Float64Array(n);
  const sigmas = new Float64Array(n);
  let meanAll = 0;
  for (let i = 0; i < distances.length; i++) meanAll += distances[i];
  meanAll /= Math.max(1, distances.length);
  const nonZero: number[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * k;
    nonZero.length = 0;
    let rowMean = 0;
    for (let j = 0; j < k; j++) {
      const d = distances[o + j];
      rowMean += d;
      if (d > 0) nonZero.push(d);
    }
    rowMean /= k;
    let rho = 0;
    if (nonZero.length >= localConnectivity) {
      const index = Math.floor(localConnectivity);
      const interpolation = localConnectivity - index;
      if (index > 0) {
        rho = nonZero[index - 1];
        if (interpolation > SMOOTH_K_TOLERANCE) rho += interpolation * (nonZero[index] - nonZero[index - 1]);
      } else {
        rho = interpolation * nonZero[0];
      }
    } else if (nonZero.length > 0) {
      rho = Math.max(...nonZero);
    }
    let lo = 0;
    let hi = Infinity;
    let mid = 1;
    for (let it = 0; it < 64; it++) {
      let psum = 0;
      for (let j = 1; j < k; j++) {
        const d = distances[o + j] - rho;
        psum += d > 0 ? Math.exp(-(d / mid)) : 1;
      }
      if (Math.abs(psum - target) < SMOOTH_K_TOLERANCE) break;
      if (psum > target) {
        hi = mid;
        mid = (lo + hi) / 2;
      } else {
        lo = mid;
        mid = hi === Infinity ? mid * 2 : (lo + hi) / 2;
      }
    }
    const floor = MIN_K_DIST_SCALE * (rho > 0 ? rowMean : meanAll);
    sigmas[i] = mid < floor ? floor : mid;
    rhos[i] = rho;
  }
  return { sigmas, rhos };
}

/** Membership strength of each (row, neighbour) pair, n × k; 0 for a point and itself when `selfLoops` is false. */
function memberships(knn: Neighbours, sigmas: Float64Array, rhos: Float64Array, bipartite: boolean): Float64Array {
  const { n, k, indices, distances } = knn;
  const vals = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const o = i * k + j;
      if (!bipartite && indices[o] === i) vals[o] = 0;
      else if (distances[o] - rhos[i] <= 0 || sigmas[i] === 0) vals[o] = 1;
      else vals[o] = Math.exp(-((distances[o] - rhos[i]) / sigmas[i]));
    }
  }
  return vals;
}

/** A symmetric sparse graph as both directions of every edge (COO, row-major order). */
export interface FuzzyGraph {
  n: number;
  rows: Int32Array;
  cols: Int32Array;
  weights: Float64Array;
}

/** Fuzzy union of the directed kNN memberships: w(i,j) = a + b − a·b with a = A[i,j], b = A[j,i]. */
export function fuzzySimplicialSet(knn: Neighbours, localConnectivity = 1): FuzzyGraph {
  const { n, k, indices } = knn;
  const { sigmas, rhos } = smoothKnnDist(knn, localConnectivity);
  const vals = memberships(knn, sigmas, rhos, false);
  // position of i in j's neighbour list, or −1
  const positionIn = (j: number, i: number): number => {
    const o = j * k;
    for (let c = 0; c < k; c++) if (indices[o + c] === i) return c;
    return -1;
  };
  // each undirected pair once (from its smaller end when both list each other), then stored both ways
  const ei: number[] = [];
  const ej: number[] = [];
  const ew: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const j = indices[i * k + c];
      if (j === i || j < 0) continue;
      const back = positionIn(j, i);
      if (back >= 0 && j < i) continue;
      const a = vals[i * k + c];
      const b = back >= 0 ? vals[j * k + back] : 0;
      const w = a + b - a * b;
      if (w <= 0) continue;
      ei.push(i);
      ej.push(j);
      ew.push(w);
    }
  }
  const m = ei.length;
  const rows = new Int32Array(2 * m);
  const cols = new Int32Array(2 * m);
  const weights = new Float64Array(2 * m);
  // counting sort by row for a row-major order (memory locality in the optimiser)
  const counts = new Int32Array(n + 1);
  for (let e = 0; e < m; e++) {
    counts[ei[e] + 1]++;
    counts[ej[e] + 1]++;
  }
  for (let i = 0; i < n; i++) counts[i + 1] += counts[i];
  const put = (r: number, c: number, w: number) => {
    const at = counts[r]++;
    rows[at] = r;
    cols[at] = c;
    weights[at] = w;
  };
  for (let e = 0; e < m; e++) {
    put(ei[e], ej[e], ew[e]);
    put(ej[e], ei[e], ew[e]);
  }
  return { n, rows, cols, weights };
}

// ---------------------------------------------------------------------------------------------------------------
// Initial layout

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
async function spectralLayout(graph: FuzzyGraph, dim: number, rng: Rng, signal?: AbortSignal, iterations = 150): Promise<Float64Array | null> {
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

// ---------------------------------------------------------------------------------------------------------------
// Layout optimisation

interface Edges {
  head: Int32Array;
  tail: Int32Array;
  epochsPerSample: Float64Array;
}

/** The edges worth sampling in `nEpochs` (weight ≥ max / nEpochs, as umap-learn prunes) and their sampling periods. */
function edgesFor(heads: Int32Array, tails: Int32Array, weights: Float64Array, nEpochs: number): Edges {
  let max = 0;
  for (let e = 0; e < weights.length; e++) if (weights[e] > max) max = weights[e];
  const threshold = max / nEpochs;
  let m = 0;
  for (let e = 0; e < weights.length; e++) if (weights[e] >= threshold && weights[e] > 0) m++;
  const head = new Int32Array(m);
  const tail = new Int32Array(m);
  const epochsPerSample = new Float64Array(m);
  let at = 0;
  for (let e = 0; e < weights.length; e++) {
    if (!(weights[e] >= threshold && weights[e] > 0)) continue;
    head[at] = heads[e];
    tail[at] = tails[e];
    // n_epochs / (n_epochs · w / max)
    epochsPerSample[at] = max / weights[e];
    at++;
  }
  return { head, tail, epochsPerSample };
}

interface OptimizeArgs {
  headEmb: Float32Array;
  tailEmb: Float32Array;
  nTail: number;
  dim: number;
  edges: Edges;
  nEpochs: number;
  a: number;
  b: number;
  initialAlpha: number;
  negativeSampleRate: number;
  moveOther: boolean;
  rng: Rng;
  signal?: AbortSignal;
  onEpoch?: (epoch: number) => void;
}

const clip4 = (v: number): number => (v > 4 ? 4 : v < -4 ? -4 : v);

/** State of one layout optimisation: umap-learn's per-edge sampling schedule. */
interface LayoutState {
  headEmb: Float32Array;
  tailEmb: Float32Array;
  head: Int32Array;
  tail: Int32Array;
  epochsPerSample: Float64Array;
  epochOfNextSample: Float64Array;
  epochsPerNegativeSample: Float64Array;
  epochOfNextNegativeSample: Float64Array;
  nTail: number;
  dim: number;
  a: number;
  b: number;
  negativeSampleRate: number;
  moveOther: boolean;
  /** xorshift32 state for the negative samples. */
  rand: number;
}

/**
 * One epoch of umap-learn's optimize_layout_euclidean (single-threaded). A plain synchronous function over typed
 * arrays, so that V8 optimises it as a whole (the async driver around it only yields between epochs).
 */
function layoutEpoch(st: LayoutState, n: number, alpha: number): void {
  const { headEmb, tailEmb, head, tail, epochsPerSample, epochOfNextSample, epochsPerNegativeSample, epochOfNextNegativeSample, nTail, dim, a, b, moveOther } = st;
  const m = head.length;
  const twoAB = 2 * a * b;
  const twoGammaB = 2 * b; // repulsion strength γ = 1
  const negatives = st.negativeSampleRate > 0;
  let x = st.rand;
  for (let i = 0; i < m; i++) {
    if (epochOfNextSample[i] > n) continue;
    const jo = head[i] * dim;
    const ko = tail[i] * dim;
    let d2 = 0;
    for (let d = 0; d < dim; d++) {
      const diff = headEmb[jo + d] - tailEmb[ko + d];
      d2 += diff * diff;
    }
    if (d2 > 0) {
      // −2ab·d^(b−1) / (a·d^b + 1), with one pow: d^(b−1) = d^b / d
      const pb = Math.pow(d2, b);
      const coeff = (-twoAB * (pb / d2)) / (a * pb + 1);
      for (let d = 0; d < dim; d++) {
        const g = clip4(coeff * (headEmb[jo + d] - tailEmb[ko + d])) * alpha;
        headEmb[jo + d] += g;
        if (moveOther) tailEmb[ko + d] -= g;
      }
    }
    epochOfNextSample[i] += epochsPerSample[i];
    if (!negatives) continue;
    const nNeg = Math.floor((n - epochOfNextNegativeSample[i]) / epochsPerNegativeSample[i]);
    for (let p = 0; p < nNeg; p++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const oo = ((x >>> 0) % nTail) * dim;
      let s2 = 0;
      for (let d = 0; d < dim; d++) {
        const diff = headEmb[jo + d] - tailEmb[oo + d];
        s2 += diff * diff;
      }
      if (s2 > 0) {
        const coeff = twoGammaB / ((0.001 + s2) * (a * Math.pow(s2, b) + 1));
        for (let d = 0; d < dim; d++) headEmb[jo + d] += clip4(coeff * (headEmb[jo + d] - tailEmb[oo + d])) * alpha;
      }
    }
    if (nNeg > 0) epochOfNextNegativeSample[i] += nNeg * epochsPerNegativeSample[i];
  }
  st.rand = x;
}

/** umap-learn's optimize_layout_euclidean, epoch by epoch, yielding to the event loop in between. */
async function optimizeLayout(args: OptimizeArgs): Promise<void> {
  const { nEpochs, initialAlpha, signal, onEpoch, edges } = args;
  const st: LayoutState = {
    headEmb: args.headEmb,
    tailEmb: args.tailEmb,
    head: edges.head,
    tail: edges.tail,
    epochsPerSample: edges.epochsPerSample,
    epochOfNextSample: Float64Array.from(edges.epochsPerSample),
    epochsPerNegativeSample: Float64Array.from(edges.epochsPerSample, (e) => e / Math.max(args.negativeSampleRate, 1e-300)),
    epochOfNextNegativeSample: new Float64Array(0),
    nTail: args.nTail,
    dim: args.dim,
    a: args.a,
    b: args.b,
    negativeSampleRate: args.negativeSampleRate,
    moveOther: args.moveOther,
    // negative samples draw from an inline xorshift32 seeded by the run's generator (a method call per draw
    // costs as much as the arithmetic around it)
    rand: args.rng.nextUint32() | 1,
  };
  st.epochOfNextNegativeSample = Float64Array.from(st.epochsPerNegativeSample);
  let lastYield = performance.now();
  for (let n = 0; n < nEpochs; n++) {
    if (signal?.aborted) throw abortError(signal, 'UMAP aborted');
    layoutEpoch(st, n, initialAlpha * (1 - n / nEpochs));
    onEpoch?.(n + 1);
    if (performance.now() - lastYield > 40 || n === nEpochs - 1) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The estimator

export interface UmapFitInfo {
  nEpochs: number;
  /** Edges sampled by the layout optimisation (both directions). */
  edges: number;
  init: UmapInit;
  /** Whether the spectral layout was replaced by a random one (degenerate graph). */
  initFallback: boolean;
  a: number;
  b: number;
  /** Wall time of each stage, ms. */
  timings: { knnMs: number; graphMs: number; initMs: number; optimizeMs: number };
}

/** A UMAP embedding, fitted once (`fit`), then usable to place new points (`transform`). */
export class Umap {
  readonly params: UmapParams;
  private fitted: { data: Matrix; embedding: Float32Array } | undefined;
  /** Facts about the last fit (epochs, edges, stage timings). */
  info: UmapFitInfo | undefined;
  private transforms = 0;

  constructor(params: Partial<UmapParams> = {}) {
    const p: UmapParams = { ...DEFAULT_UMAP_PARAMS, ...params };
    const issues = umapParamIssues(p);
    if (issues.length) throw new UmapParamError(issues);
    this.params = p;
  }

  private ab(): { a: number; b: number } {
    return findABParams(this.params.spread, this.params.minDist);
  }

  /** Embeds the rows of X: a row-major `X.rows × nComponents` matrix. */
  async fit(X: Matrix, opts: UmapRunOptions = {}): Promise<Float32Array> {
    const { signal, onProgress } = opts;
    const issues = umapParamIssues(this.params, X.rows);
    if (issues.length) throw new UmapParamError(issues);
    if (X.data.length < X.rows * X.cols) throw new RangeError(`X.data has ${X.data.length} values, fewer than ${X.rows} × ${X.cols}`);
    if (signal?.aborted) throw abortError(signal, 'UMAP aborted');
    const p = this.params;
    const n = X.rows;
    const dim = p.nComponents;
    const rng = new Rng(p.seed);
    const nEpochs = p.nEpochs ?? (n <= 10_000 ? 500 : 200);
    const progress = (stage: UmapProgressEvent['stage'], fraction: number, extra: Partial<UmapProgressEvent> = {}) =>
      onProgress?.({ phase: 'umap', stage, fraction, ...extra });

    let t = performance.now();
    progress('knn', 0, { message: `${p.nNeighbors}-nearest neighbours of ${n} points` });
    const knn = await exactNeighbours(X, p.nNeighbors, { signal, onProgress: (done, total) => progress('knn', 0.15 * (done / total)) });
    const knnMs = performance.now() - t;

    t = performance.now();
    progress('graph', 0.15, { message: 'Fuzzy simplicial set' });
    await yieldToEventLoop();
    if (signal?.aborted) throw abortError(signal, 'UMAP aborted');
    const graph = fuzzySimplicialSet(knn);
    const graphMs = performance.now() - t;

    t = performance.now();
    progress('init', 0.2, { message: `${p.init} initialisation` });
    await yieldToEventLoop();
    let layout: Float64Array | null = null;
    let initFallback = false;
    if (p.init === 'spectral') {
      layout = await spectralLayout(graph, dim, rng, signal);
      if (!layout) initFallback = true;
      else layout = expandAndJitter(layout, rng);
    } else if (p.init === 'pca' && dim <= X.cols) {
      layout = expandAndJitter(Float64Array.from((await pca(X, dim, p.seed)).projection), rng);
    }
    if (!layout) {
      if (p.init === 'pca') initFallback = true;
      layout = new Float64Array(n * dim);
      for (let i = 0; i < layout.length; i++) layout[i] = rng.uniform(-10, 10);
    }
    const embedding = scaleToBox(layout, n, dim);
    const initMs = performance.now() - t;
    if (signal?.aborted) throw abortError(signal, 'UMAP aborted');

    t = performance.now();
    const edges = edgesFor(graph.rows, graph.cols, graph.weights, nEpochs);
    const { a, b } = this.ab();
    progress('optimize', 0.3, { epoch: 0, epochs: nEpochs });
    await optimizeLayout({
      headEmb: embedding, tailEmb: embedding, nTail: n, dim, edges, nEpochs, a, b, initialAlpha: 1,
      negativeSampleRate: p.negativeSampleRate, moveOther: true, rng, signal,
      onEpoch: (e) => {
        if (e % 5 === 0 || e === nEpochs) progress('optimize', 0.3 + 0.7 * (e / nEpochs), { epoch: e, epochs: nEpochs });
      },
    });
    const optimizeMs = performance.now() - t;
    this.fitted = { data: X, embedding };
    this.transforms = 0;
    this.info = { nEpochs, edges: edges.head.length, init: p.init, initFallback, a, b, timings: { knnMs, graphMs, initMs, optimizeMs } };
    return embedding.slice();
  }

  /**
   * Places the rows of Y in the fitted embedding without moving the fitted points (umap-learn's transform).
   * Deterministic for a given fit and call order (each call draws from its own seeded generator).
   */
  async transform(Y: Matrix, opts: UmapRunOptions = {}): Promise<Float32Array> {
    if (!this.fitted) throw new Error('Umap.transform needs a fitted model (call fit first)');
    const { data: X, embedding } = this.fitted;
    if (Y.cols !== X.cols) throw new RangeError(`transform: rows have ${Y.cols} columns, the fit had ${X.cols}`);
    const { signal, onProgress } = opts;
    if (signal?.aborted) throw abortError(signal, 'UMAP aborted');
    const p = this.params;
    const dim = p.nComponents;
    const rng = new Rng(p.seed + 7919 * ++this.transforms);
    onProgress?.({ phase: 'umap', stage: 'transform', fraction: 0, message: `Placing ${Y.rows} new points` });
    const knn = await exactNeighbours(X, p.nNeighbors, {
      queries: Y, signal, onProgress: (done, total) => onProgress?.({ phase: 'umap', stage: 'transform', fraction: 0.3 * (done / total) }),
    });
    const { sigmas, rhos } = smoothKnnDist(knn, 0);
    const vals = memberships(knn, sigmas, rhos, true);
    const m = Y.rows;
    const k = knn.k;
    // initial positions: membership-weighted mean of the neighbours' embeddings (l1-normalised rows)
    const out = new Float32Array(m * dim);
    for (let i = 0; i < m; i++) {
      let total = 0;
      for (let c = 0; c < k; c++) total += vals[i * k + c];
      for (let c = 0; c < k; c++) {
        const w = total > 0 ? vals[i * k + c] / total : 1 / k;
        const o = knn.indices[i * k + c] * dim;
        for (let d = 0; d < dim; d++) out[i * dim + d] += w * embedding[o + d];
      }
    }
    const nEpochs = p.nEpochs !== null ? Math.max(1, Math.floor(p.nEpochs / 3)) : m <= 10_000 ? 100 : 30;
    const heads = new Int32Array(m * k);
    for (let i = 0; i < m; i++) heads.fill(i, i * k, (i + 1) * k);
    const edges = edgesFor(heads, knn.indices, vals, nEpochs);
    const { a, b } = this.ab();
    await optimizeLayout({
      headEmb: out, tailEmb: embedding.slice(), nTail: X.rows, dim, edges, nEpochs, a, b, initialAlpha: 0.25,
      negativeSampleRate: p.negativeSampleRate, moveOther: false, rng, signal,
      onEpoch: (e) => {
        if (e % 5 === 0 || e === nEpochs) onProgress?.({ phase: 'umap', stage: 'transform', fraction: 0.3 + 0.7 * (e / nEpochs), epoch: e, epochs: nEpochs });
      },
    });
    return out;
  }
}
