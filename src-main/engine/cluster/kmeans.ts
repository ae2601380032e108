/**
 * k-means (Lloyd) with greedy k-means++ seeding, scikit-learn semantics, distances on the active tfjs backend.
 *
 * Semantics follow `sklearn.cluster.KMeans(algorithm="lloyd")`:
 * - greedy k-means++ initialisation with `2 + floor(ln k)` local trials per new center;
 * - `nInit` restarts, the one with the lowest inertia is kept;
 * - convergence when the labels stop changing ("strict convergence") or when the total squared center shift
 *   is ≤ `tol · mean(var(X, axis=0))`, at most `maxIter` iterations;
 * - empty clusters are relocated to the points farthest from their (old) centers;
 * - after the loop the labels are recomputed against the final centers, and the inertia is the sum of squared
 *   distances of every point to its (final) closest center.
 *
 * How it runs:
 * - X is uploaded once, mean-centred, as row chunks (bounded memory for the per-chunk products).
 * - Restarts run in lockstep, up to {@link MAX_LOCKSTEP_RESTARTS} at once (more run in further batches, so memory
 *   does not grow with nInit): one matrix product X·[−2·C₁ᵀ … −2·C_Mᵀ] + ‖c‖² per chunk (no transpose flags:
 *   the centers are laid out pre-transposed, the fast path on wasm/XNNPACK). Streaming X once per lockstep
 *   iteration for all restarts instead of once per restart is what makes the batch cheaper; converged restarts
 *   drop out of the product.
 * - Elkan pruning (default on wasm/cpu, see {@link KMeansFitOptions.pruning}): per point and restart an upper
 *   bound to its own center and lower bounds to the others, loosened by how far the centers move. Only the points
 *   whose bounds do not prove their label go through a product: restarts needing many (always the first
 *   iteration) join the full lockstep product, the others multiply just the rows they need (gathered on the CPU).
 *   The labels are those of plain Lloyd.
 * - Without pruning, the argMin runs on the device and the only transfer per iteration is the label vector
 *   (n × active restarts, int32).
 * - The center update is incremental on the CPU, in float64: only points whose label changed move their row
 *   from one cluster sum to the other, so late iterations cost almost nothing there.
 * - The k-means++ seeding runs in lockstep too: each step evaluates the `2 + ln k` candidates of every restart
 *   in one product on the device.
 * - After the loop one more lockstep product (argMin on the device) gives the labels against the final centers.
 *
 * The same seed gives the same result on the same backend (restarts draw from per-restart child generators, so
 * the batching does not change the numbers).
 *
 * This file holds the estimator; the parts live next to it: kmeans-device.ts (X on the device, the distance
 * products), kmeans-seeding.ts (k-means++), kmeans-lloyd.ts (the lockstep iteration), kmeans-elkan.ts (the bounds),
 * kmeans-restart.ts (per-restart state, center updates, inertia).
 */
import { tf } from '../backend/index';
import { throwIfAborted } from '../abort';
import type { Matrix } from '../types';
import { parseEstimatorParams } from '../schema/constraints';
import { KMEANS_PARAMS, type KMeansParams } from './kmeans-params';
import { Rng } from '../math/rng';
import { chunkRowsFor, DeviceRows, forEachDeviceChunk, packCenters } from './kmeans-device';
import { usePruning } from './kmeans-elkan';
import { lloydInLockstep, type LockstepContext } from './kmeans-lloyd';
import { exactInertia, newRestart, type Restart } from './kmeans-restart';
import { seedPlusPlus } from './kmeans-seeding';

export { exactInertia } from './kmeans-restart';

export { KMEANS_PARAMS, type KMeansParams };

/** Every parameter at its default (scikit-learn's, but k = 10). */
export const KMEANS_DEFAULTS: Readonly<KMeansParams> = Object.freeze(validateKMeansParams());

export interface KMeansProgress {
  phase: 'kmeans';
  /** Restart index, 0-based. */
  init: number;
  nInit: number;
  /** Lloyd iterations done by this restart (0 = just seeded). */
  iter: number;
  /** Inertia of the last assignment step of this restart (for iter 0: the k-means++ potential). */
  inertia: number;
  /** Overall progress estimate in [0, 1] (monotone; 1 when the fit ends). */
  fraction: number;
}

export interface KMeansFitOptions {
  onProgress?: (e: KMeansProgress) => void;
  signal?: AbortSignal;
  /**
   * Explicit initial centers (k × d, row-major) instead of k-means++ (sklearn's `init=ndarray`): a single run is
   * made whatever `nInit` says, as sklearn does.
   */
  initCenters?: ArrayLike<number>;
  /**
   * Skip distance computations that Elkan's triangle-inequality bounds prove unnecessary. The labels are the
   * same as with plain Lloyd (up to float32 ties); `false` recomputes all distances every iteration. Default:
   * on for the wasm and cpu backends, off on GPU backends (where the full product is nearly free). Switched off
   * when the bounds (n × k × restarts in lockstep, float32) would exceed 128 MiB.
   */
  pruning?: boolean;
  /** Most restarts run in lockstep at once (default {@link MAX_LOCKSTEP_RESTARTS}); the result does not depend on it. */
  maxLockstepRestarts?: number;
}

/** Result of one restart of the last fit. */
export interface KMeansInitResult {
  inertia: number;
  nIter: number;
  /** true when the labels stopped changing, false when stopped by `tol` or `maxIter`. */
  strictConvergence: boolean;
  converged: boolean;
}

export interface KMeansFitStats {
  backend: string;
  /** Mean/variance pass and upload of X. */
  uploadMs: number;
  seedingMs: number;
  /** Device products and label reads of the Lloyd loop and the final E-step. */
  deviceMs: number;
  /** CPU label application, center updates and convergence checks. */
  cpuMs: number;
  totalMs: number;
  /** Lockstep rounds of the Lloyd loop (= max iterations over restarts). */
  rounds: number;
  /** Point × restart distance evaluations (all k centers each) in the Lloyd loop; n × totalIterations without pruning. */
  distanceRows: number;
  /** Σ iterations over restarts. */
  totalIterations: number;
  chunkRows: number;
  /** Whether Elkan pruning was used. */
  pruning: boolean;
  /** Restarts run in lockstep at once: the fit's memory grows with this, not with nInit. */
  lockstepRestarts: number;
  /** Lockstep batches run one after the other (⌈nInit / lockstepRestarts⌉). */
  batches: number;
}

/** Validates and completes parameters; throws RangeError/TypeError with a clear message. */
/** Checks parameters against {@link KMEANS_PARAMS} and fills in the defaults; one-line TypeError / RangeError. */
export function validateKMeansParams(params: Partial<KMeansParams> = {}): KMeansParams {
  return parseEstimatorParams('KMeans', KMEANS_PARAMS, params);
}

function checkMatrix(X: Matrix, what: string): void {
  if (!X || !(X.data instanceof Float32Array)) throw new TypeError(`${what}: X.data must be a Float32Array`);
  if (!Number.isInteger(X.rows) || X.rows < 1) throw new RangeError(`${what}: X.rows must be a positive integer, got ${X.rows}`);
  if (!Number.isInteger(X.cols) || X.cols < 1) throw new RangeError(`${what}: X.cols must be a positive integer, got ${X.cols}`);
  if (X.data.length !== X.rows * X.cols) {
    throw new RangeError(`${what}: X.data has ${X.data.length} values, expected rows × cols = ${X.rows} × ${X.cols}`);
  }
}

/**
 * Restarts that run in lockstep at once. Streaming X once per iteration for many restarts is what makes the
 * lockstep cheap, and 32 restarts already share most of that; beyond them, restarts run in further batches so
 * that memory (per restart: labels, Elkan bounds n × k, the seeding's distances n) stays bounded whatever nInit.
 */
export const MAX_LOCKSTEP_RESTARTS = 32;

/** Share of the progress bar given to the k-means++ seeding of all restarts. */
const SEED_SHARE = 0.05;

/**
 * Progress of a fit in [0, 1]: the seeding of a batch counts SEED_SHARE of its restarts, each restart's iterations
 * the rest, estimated (its end is not known in advance) and jumping to 1 when it converges.
 */
class FitProgress {
  /** Restarts of earlier batches: done. */
  private finished = 0;
  /** The restarts of the current batch, all seeded whenever `emit` is called. */
  private batch: Restart[] = [];

  constructor(
    private readonly onProgress: ((e: KMeansProgress) => void) | undefined,
    private readonly runs: number,
    private readonly maxIter: number,
  ) {}

  startBatch(batch: Restart[]): void {
    this.batch = batch;
  }

  endBatch(): void {
    this.finished += this.batch.length;
  }

  readonly emit = (r: Restart, inertia: number): void => {
    if (!this.onProgress) return;
    const { finished, batch, runs } = this;
    let sum = finished;
    for (const q of batch) sum += this.progressOf(q);
    const fraction = SEED_SHARE * ((finished + batch.length) / runs) + (1 - SEED_SHARE) * (sum / runs);
    this.onProgress({ phase: 'kmeans', init: r.index, nInit: runs, iter: r.iter, inertia, fraction: Math.min(1, fraction) });
  };

  private progressOf(r: Restart): number {
    if (r.done) return 1;
    const expected = Math.min(this.maxIter, 100);
    return 0.95 * (1 - Math.exp((-3 * r.iter) / expected));
  }
}

function checkInitCenters(initCenters: ArrayLike<number>, k: number, d: number): void {
  if (initCenters.length !== k * d) {
    throw new RangeError(`KMeans.fit: initCenters has ${initCenters.length} values, expected k × d = ${k} × ${d}`);
  }
  for (let t = 0; t < initCenters.length; t++) {
    if (!Number.isFinite(initCenters[t])) throw new RangeError('KMeans.fit: initCenters contains NaN or infinite values');
  }
}

/**
 * Column means (the centering of the device products) and the absolute tolerance tol · mean(var(X, axis=0)), in
 * float64, shifted by the first row for stability; also rejects NaN/Inf.
 */
function columnMeans(X: Matrix, tol: number): { mean: Float64Array; tolAbs: number } {
  const { rows: n, cols: d, data } = X;
  const shift = data.subarray(0, d);
  const s1 = new Float64Array(d);
  const s2 = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const v = data[o + j] - shift[j];
      s1[j] += v;
      s2[j] += v * v;
    }
  }
  const mean = new Float64Array(d);
  let varSum = 0;
  for (let j = 0; j < d; j++) {
    if (!Number.isFinite(s1[j]) || !Number.isFinite(s2[j])) throw new RangeError('KMeans.fit: X contains NaN or infinite values');
    const m = s1[j] / n;
    mean[j] = shift[j] + m;
    varSum += Math.max(0, s2[j] / n - m * m);
  }
  return { mean, tolAbs: (tol * varSum) / d };
}

function newFitStats(backend: string, chunkRows: number, pruning: boolean, lockstepRestarts: number): KMeansFitStats {
  return {
    backend,
    uploadMs: 0,
    seedingMs: 0,
    deviceMs: 0,
    cpuMs: 0,
    totalMs: 0,
    rounds: 0,
    distanceRows: 0,
    totalIterations: 0,
    chunkRows,
    pruning,
    lockstepRestarts,
    batches: 0,
  };
}

/** How the restarts of one fit are run. */
interface RestartPlan {
  runs: number;
  batchSize: number;
  seed: number;
  initCenters?: ArrayLike<number>;
  progress: FitProgress;
  stats: KMeansFitStats;
}

/**
 * Runs the restarts in lockstep batches of at most `batchSize`: the memory of a fit (bounds, labels, the products'
 * right-hand sides) grows with the batch, not with nInit. Restart m draws from the m-th child generator whatever
 * its batch, so the batching does not change the result. Only the best restart so far is kept.
 */
async function runRestarts(
  ctx: LockstepContext & { nTrials: number },
  plan: RestartPlan,
): Promise<{ best: Restart; outcomes: KMeansInitResult[] }> {
  const { X, k, maxIter, pruning, signal } = ctx;
  const { rows: n, cols: d } = X;
  const { runs, batchSize, initCenters, progress, stats } = plan;
  const master = new Rng(plan.seed);
  let best: Restart | undefined;
  const outcomes: KMeansInitResult[] = [];
  for (let first = 0; first < runs; first += batchSize) {
    const batch: Restart[] = [];
    for (let m = first; m < Math.min(runs, first + batchSize); m++) batch.push(newRestart(m, master.fork(), n, k, d, pruning));
    progress.startBatch(batch);
    throwIfAborted(signal);
    if (initCenters !== undefined) {
      for (let t = 0; t < k * d; t++) batch[0].centers[t] = initCenters[t];
    } else {
      const t0 = performance.now();
      await seedPlusPlus(batch, ctx);
      stats.seedingMs += performance.now() - t0;
      for (const r of batch) progress.emit(r, r.potential);
    }
    await lloydInLockstep(batch, ctx);
    for (const r of batch) {
      outcomes.push({ inertia: r.inertia, nIter: r.iter, strictConvergence: r.strict, converged: r.strict || r.iter < maxIter });
      if (!best || r.inertia < best.inertia) best = r;
      stats.totalIterations += r.iter;
    }
    progress.endBatch();
    stats.batches++;
  }
  if (!best) throw new Error('KMeans.fit: no restart ran'); // runs ≥ 1: cannot happen
  return { best, outcomes };
}

export class KMeans {
  readonly params: KMeansParams;
  /** k × d cluster centers of the best restart (null before fit). */
  centers: Float32Array | null = null;
  /** Inertia of the best restart on the fit set (sum of squared distances to the closest center). */
  inertia = NaN;
  /** Lloyd iterations of the best restart. */
  nIter = 0;
  /** Labels of the fit set against the final centers of the best restart. */
  labels: Int32Array | null = null;
  /** Number of features seen by fit. */
  nFeatures = 0;
  /** Restart index (0-based) that won. */
  bestInit = -1;
  /** Per-restart outcome of the last fit. */
  initResults: KMeansInitResult[] = [];
  /** Backend the last fit ran on. */
  backend = '';
  /** Where the last fit spent its time (ms): upload, k-means++ seeding, device products + reads, CPU updates. */
  fitStats: KMeansFitStats | null = null;
  /** Column means of the fit set (centering used by the device products). */
  private mean: Float64Array | null = null;

  constructor(params: Partial<KMeansParams> = {}) {
    this.params = Object.freeze(validateKMeansParams(params));
  }

  async fit(X: Matrix, opts: KMeansFitOptions = {}): Promise<this> {
    checkMatrix(X, 'KMeans.fit');
    const { k, nInit, maxIter, tol, seed } = this.params;
    const { rows: n, cols: d } = X;
    if (k > n) throw new RangeError(`KMeans k (${k}) must be ≤ the number of samples (${n})`);
    const { signal, onProgress, initCenters } = opts;
    if (initCenters !== undefined) checkInitCenters(initCenters, k, d);
    const runs = initCenters !== undefined ? 1 : nInit;
    throwIfAborted(signal);
    await tf.ready();
    const tFit = performance.now();
    const backend = tf.getBackend();
    const batchSize = Math.min(runs, Math.max(1, Math.floor(opts.maxLockstepRestarts ?? MAX_LOCKSTEP_RESTARTS)));
    const pruning = usePruning(opts.pruning, backend, n, k, batchSize);
    const { mean, tolAbs } = columnMeans(X, tol);
    const nTrials = 2 + Math.floor(Math.log(k));
    const chunkRows = chunkRowsFor(n, batchSize * Math.max(k, nTrials));
    const stats = newFitStats(backend, chunkRows, pruning, batchSize);
    const dev = new DeviceRows(X, mean, chunkRows);
    stats.uploadMs = performance.now() - tFit;
    const progress = new FitProgress(onProgress, runs, maxIter);
    const ctx = {
      X,
      dev,
      mean,
      k,
      nTrials,
      maxIter,
      tolAbs,
      pruning,
      chunkRows,
      stats,
      signal,
      emit: progress.emit,
      totalNorm: dev.norms.reduce((a, b) => a + b, 0),
      // Widening of the Elkan bounds for the float32 rounding of the products.
      bounds: { data: X.data, d, k, norms: dev.norms, epsSq: 1e-5 * (3 * dev.maxNorm + 2 * mean.reduce((a, v) => a + v * v, 0)) },
    };
    let result: { best: Restart; outcomes: KMeansInitResult[] };
    try {
      result = await runRestarts(ctx, { runs, batchSize, seed, initCenters, progress, stats });
    } finally {
      dev.dispose();
    }
    this.adopt(X, result, mean, backend);
    stats.totalMs = performance.now() - tFit;
    this.fitStats = stats;
    onProgress?.({ phase: 'kmeans', init: this.bestInit, nInit: runs, iter: this.nIter, inertia: this.inertia, fraction: 1 });
    return this;
  }

  /** Keeps the best restart as the fitted model; its inertia is recomputed directly (float64, from the points). */
  private adopt(X: Matrix, { best, outcomes }: { best: Restart; outcomes: KMeansInitResult[] }, mean: Float64Array, backend: string): void {
    this.centers = Float32Array.from(best.centers);
    this.labels = best.labels;
    this.inertia = exactInertia(X.data, X.cols, best.centers, best.labels);
    this.nIter = best.iter;
    this.bestInit = best.index;
    this.nFeatures = X.cols;
    this.mean = mean;
    this.backend = backend;
    outcomes[best.index].inertia = this.inertia;
    this.initResults = outcomes;
  }

  private requireFitted(X: Matrix, what: string): { centers: Float32Array; mean: Float64Array } {
    checkMatrix(X, what);
    if (!this.centers) throw new Error(`${what}: the model is not fitted (call fit first)`);
    if (X.cols !== this.nFeatures) throw new RangeError(`${what}: X has ${X.cols} features, the model was fitted on ${this.nFeatures}`);
    let mean = this.mean;
    if (!mean) {
      // Centers set by hand: centre on their mean.
      const { k } = this.params;
      const d = this.nFeatures;
      mean = new Float64Array(d);
      for (let j = 0; j < k; j++) for (let f = 0; f < d; f++) mean[f] += this.centers[j * d + f] / k;
    }
    return { centers: this.centers, mean };
  }

  /** Index of the closest center for every row of X. */
  async predict(X: Matrix): Promise<Int32Array> {
    const { centers, mean } = this.requireFitted(X, 'KMeans.predict');
    await tf.ready();
    const k = centers.length / X.cols;
    const rhs = packCenters([Float64Array.from(centers)], k, X.cols, mean);
    const out = new Int32Array(X.rows);
    await forEachDeviceChunk(X, mean, chunkRowsFor(X.rows, k), false, async (dev, start) => {
      const [labels] = await dev.argminGroups(rhs, 1, k);
      out.set(labels, start);
    });
    return out;
  }

  /** Euclidean distances of every row of X to every center: float32 [rows × k] (sklearn's `transform`). */
  async transform(X: Matrix): Promise<Float32Array> {
    const { centers, mean } = this.requireFitted(X, 'KMeans.transform');
    await tf.ready();
    const k = centers.length / X.cols;
    const rhs = packCenters([Float64Array.from(centers)], k, X.cols, mean);
    const out = new Float32Array(X.rows * k);
    await forEachDeviceChunk(X, mean, chunkRowsFor(X.rows, k), true, async (dev, start) => {
      const [sc] = await dev.scores(rhs, k);
      const rows = sc.length / k;
      for (let i = 0; i < rows; i++) {
        const xn = dev.norms[i];
        for (let j = 0; j < k; j++) out[(start + i) * k + j] = Math.sqrt(Math.max(0, xn + sc[i * k + j]));
      }
    });
    return out;
  }

  /** Opposite of the inertia of X against the fitted centers (sklearn's `score`). */
  async score(X: Matrix): Promise<number> {
    const labels = await this.predict(X);
    return -exactInertia(X.data, X.cols, this.centers as Float32Array, labels);
  }

  /** fit, then the labels of the fit set. */
  async fitPredict(X: Matrix, opts: KMeansFitOptions = {}): Promise<Int32Array> {
    await this.fit(X, opts);
    return this.labels as Int32Array;
  }
}
