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
 *
 * The steps live next to this file: umap-graph.ts (2), umap-init.ts (3), umap-layout.ts (4).
 */
import { findABParams } from 'umap-js/dist/umap.js';
import { abortError, yieldToEventLoop } from '../abort';
import { Rng } from '../math/rng';
import { paramIssue, parseEstimatorParams } from '../schema/constraints';
import { UMAP_INITS, UMAP_PARAMS, type UmapInit, type UmapMetric, type UmapParams } from './umap-params';
import type { Matrix } from '../types';
import { exactNeighbours } from './knn';
import { fuzzySimplicialSet, memberships, smoothKnnDist } from './umap-graph';
import { initialEmbedding } from './umap-init';
import { edgesFor, optimizeLayout } from './umap-layout';

export { fuzzySimplicialSet, smoothKnnDist, type FuzzyGraph } from './umap-graph';

export { UMAP_INITS, UMAP_PARAMS, type UmapInit, type UmapMetric, type UmapParams };

/** Every parameter at its default (umap-learn's). */
export const DEFAULT_UMAP_PARAMS: Readonly<UmapParams> = Object.freeze(parseEstimatorParams('Umap', UMAP_PARAMS));

export interface UmapIssue {
  /** Parameter name (as in UmapParams). */
  param: keyof UmapParams;
  message: string;
}

const PARAM_ORDER = Object.keys(UMAP_PARAMS);

/**
 * Problems with UMAP parameters, each naming its parameter: what its schema says ({@link UMAP_PARAMS}), then the
 * bounds between parameters and the data; `points` (the number of points to embed), when known, bounds nNeighbors
 * and nComponents. An empty list means the parameters are usable.
 */
export function umapParamIssues(p: Partial<UmapParams>, points?: number): UmapIssue[] {
  const issues: UmapIssue[] = [];
  for (const name of Object.keys(p) as (keyof UmapParams)[]) {
    const message = name in UMAP_PARAMS ? paramIssue(UMAP_PARAMS[name], p[name]) : 'is not a UMAP parameter';
    if (message !== undefined && p[name] !== undefined) issues.push({ param: name, message });
  }
  const valid = (name: keyof UmapParams): boolean => p[name] !== undefined && !issues.some((i) => i.param === name);
  // What the schema cannot say: the bounds the data and the other parameters set.
  if (valid('nNeighbors') && points !== undefined && p.nNeighbors! >= points)
    issues.push({ param: 'nNeighbors', message: `${p.nNeighbors} neighbours need more than ${p.nNeighbors} points, got ${points}` });
  if (valid('minDist') && (p.spread === undefined || valid('spread')) && p.minDist! > (p.spread ?? 1))
    issues.push({ param: 'minDist', message: `must not exceed the spread (${p.spread ?? 1}), got ${p.minDist}` });
  if (valid('nComponents') && points !== undefined && p.nComponents! >= points)
    issues.push({ param: 'nComponents', message: `must be below the number of points (${points}), got ${p.nComponents}` });
  return issues.sort((a, b) => PARAM_ORDER.indexOf(a.param) - PARAM_ORDER.indexOf(b.param));
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

/**
 * A UMAP embedding in scikit-learn's shape: `fit` (→ this, the embedding in `embedding`) or `fitTransform`
 * (→ the embedding), then `transform` places new points.
 */
export class Umap {
  readonly params: UmapParams;
  private fitted: { data: Matrix; embedding: Float32Array } | undefined;
  /** Facts about the last fit (epochs, edges, stage timings). */
  info: UmapFitInfo | undefined;
  private transforms = 0;

  constructor(params: Partial<UmapParams> = {}) {
    const issues = umapParamIssues(params);
    if (issues.length) throw new UmapParamError(issues);
    this.params = parseEstimatorParams('Umap', UMAP_PARAMS, params);
  }

  private ab(): { a: number; b: number } {
    return findABParams(this.params.spread, this.params.minDist);
  }

  /** Fits the embedding of the rows of X; it is then in `embedding`. */
  async fit(X: Matrix, opts: UmapRunOptions = {}): Promise<this> {
    await this.fitTransform(X, opts);
    return this;
  }

  /** The fitted embedding: a row-major `rows × nComponents` matrix. */
  get embedding(): Float32Array {
    if (!this.fitted) throw new Error('UMAP is not fitted: call fit first');
    return this.fitted.embedding;
  }

  /** Embeds the rows of X: a row-major `X.rows × nComponents` matrix. */
  async fitTransform(X: Matrix, opts: UmapRunOptions = {}): Promise<Float32Array> {
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
    const { embedding, initFallback } = await initialEmbedding(X, graph, { init: p.init, dim, seed: p.seed, rng, signal });
    const initMs = performance.now() - t;
    if (signal?.aborted) throw abortError(signal, 'UMAP aborted');

    t = performance.now();
    const edges = edgesFor(graph.rows, graph.cols, graph.weights, nEpochs);
    const { a, b } = this.ab();
    progress('optimize', 0.3, { epoch: 0, epochs: nEpochs });
    await optimizeLayout({
      headEmb: embedding,
      tailEmb: embedding,
      nTail: n,
      dim,
      edges,
      nEpochs,
      a,
      b,
      initialAlpha: 1,
      negativeSampleRate: p.negativeSampleRate,
      moveOther: true,
      rng,
      signal,
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
      queries: Y,
      signal,
      onProgress: (done, total) => onProgress?.({ phase: 'umap', stage: 'transform', fraction: 0.3 * (done / total) }),
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
      headEmb: out,
      tailEmb: embedding.slice(),
      nTail: X.rows,
      dim,
      edges,
      nEpochs,
      a,
      b,
      initialAlpha: 0.25,
      negativeSampleRate: p.negativeSampleRate,
      moveOther: false,
      rng,
      signal,
      onEpoch: (e) => {
        if (e % 5 === 0 || e === nEpochs)
          onProgress?.({ phase: 'umap', stage: 'transform', fraction: 0.3 + 0.7 * (e / nEpochs), epoch: e, epochs: nEpochs });
      },
    });
    return out;
  }
}
