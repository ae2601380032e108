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
 */
import { tf } from '../backend/index';
import type { Matrix } from '../types';
import { taskDefaults } from '../experiments/params';
import { Rng } from './rng';

export interface KMeansParams {
  /** Number of clusters (integer ≥ 2, ≤ number of samples). */
  k: number;
  /** Number of k-means++ restarts; the lowest inertia wins. */
  nInit: number;
  /** Maximum Lloyd iterations per restart. */
  maxIter: number;
  /** Relative tolerance: stop when the total squared center shift ≤ tol · mean feature variance. */
  tol: number;
  /** Seed of the random generator (integer). */
  seed: number;
}

/** The kmeans task's defaults (scikit-learn's, but k = 10), from the parameter schema. */
const KM = taskDefaults('kmeans');
export const KMEANS_DEFAULTS: Readonly<KMeansParams> = Object.freeze({ k: KM.k, nInit: KM.nInit, maxIter: KM.maxIter, tol: KM.tol, seed: KM.seed });

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

/** Thrown when `fit` is aborted through its signal. `name === 'AbortError'`. */
export class KMeansAbortError extends Error {
  constructor(reason?: unknown) {
    super('k-means fit aborted', reason === undefined ? undefined : { cause: reason });
    this.name = 'AbortError';
  }
}

/** Validates and completes parameters; throws RangeError/TypeError with a clear message. */
export function validateKMeansParams(params: Partial<KMeansParams> = {}): KMeansParams {
  if (params === null || typeof params !== 'object') throw new TypeError('KMeans params must be an object');
  const known = new Set(Object.keys(KMEANS_DEFAULTS));
  for (const key of Object.keys(params)) {
    if (!known.has(key)) throw new TypeError(`Unknown KMeans parameter "${key}" (expected one of ${[...known].join(', ')})`);
  }
  const p: KMeansParams = { ...KMEANS_DEFAULTS };
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) (p as unknown as Record<string, unknown>)[key] = value;
  }
  const num = (name: keyof KMeansParams): number => {
    const v = p[name];
    if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`KMeans ${name} must be a number, got ${String(v)}`);
    return v;
  };
  const int = (name: keyof KMeansParams, min: number): void => {
    const v = num(name);
    if (!Number.isInteger(v) || v < min) throw new RangeError(`KMeans ${name} must be an integer ≥ ${min}, got ${v}`);
  };
  int('k', 2);
  int('nInit', 1);
  int('maxIter', 1);
  const tol = num('tol');
  if (!(tol >= 0) || !Number.isFinite(tol)) throw new RangeError(`KMeans tol must be a finite number ≥ 0, got ${tol}`);
  const seed = num('seed');
  if (!Number.isSafeInteger(seed)) throw new RangeError(`KMeans seed must be an integer, got ${seed}`);
  return p;
}

function checkMatrix(X: Matrix, what: string): void {
  if (!X || !(X.data instanceof Float32Array)) throw new TypeError(`${what}: X.data must be a Float32Array`);
  if (!Number.isInteger(X.rows) || X.rows < 1) throw new RangeError(`${what}: X.rows must be a positive integer, got ${X.rows}`);
  if (!Number.isInteger(X.cols) || X.cols < 1) throw new RangeError(`${what}: X.cols must be a positive integer, got ${X.cols}`);
  if (X.data.length !== X.rows * X.cols) {
    throw new RangeError(`${what}: X.data has ${X.data.length} values, expected rows × cols = ${X.rows} × ${X.cols}`);
  }
}

/** Largest number of float32 outputs of one chunk product (16 MiB): bounds device memory per step. */
const MAX_CHUNK_OUTPUTS = 1 << 22;
/** Upper bound on rows per chunk (keeps texture-backed backends inside their size limits). */
const MAX_CHUNK_ROWS = 16384;

function chunkRowsFor(n: number, maxCols: number): number {
  let rows = Math.max(64, Math.floor(MAX_CHUNK_OUTPUTS / Math.max(1, maxCols)));
  rows = Math.min(rows, MAX_CHUNK_ROWS, n);
  const chunks = Math.ceil(n / rows);
  return Math.ceil(n / chunks);
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new KMeansAbortError(signal.reason);
}

/**
 * X resident on the device as mean-centred row chunks, with the float64 squared norms of the centred rows.
 * Products are evaluated as X_c · B + bias (B is d × K, bias K), never with transpose flags.
 */
class DeviceRows {
  readonly chunks: tf.Tensor2D[] = [];
  readonly starts: number[] = [];
  /** ‖x_i − μ‖² from the float32 values that were uploaded. */
  readonly norms: Float64Array;
  /** max_i ‖x_i − μ‖². */
  maxNorm = 0;

  constructor(X: Matrix, mean: Float64Array, chunkRows: number, withNorms = true) {
    const { rows: n, cols: d, data } = X;
    this.norms = new Float64Array(withNorms ? n : 0);
    try {
      for (let s = 0; s < n; s += chunkRows) {
        const e = Math.min(n, s + chunkRows);
        const buf = new Float32Array((e - s) * d);
        for (let i = s; i < e; i++) {
          const src = i * d;
          const dst = (i - s) * d;
          let nrm = 0;
          for (let j = 0; j < d; j++) {
            const v = Math.fround(data[src + j] - mean[j]);
            buf[dst + j] = v;
            nrm += v * v;
          }
          if (withNorms) this.norms[i] = nrm;
          if (nrm > this.maxNorm) this.maxNorm = nrm;
        }
        this.starts.push(s);
        this.chunks.push(tf.tensor2d(buf, [e - s, d]));
      }
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /** For every chunk: argMin over each of the `groups` consecutive column groups of size `k` → int32 [rows × groups]. */
  async argminGroups(B: Float32Array, bias: Float32Array, groups: number, k: number): Promise<Int32Array[]> {
    const d = this.chunks[0].shape[1];
    const K = groups * k;
    const bT = tf.tensor2d(B, [d, K]);
    const biasT = tf.tensor1d(bias);
    const outs: tf.Tensor[] = [];
    try {
      for (const c of this.chunks) {
        outs.push(
          tf.tidy(() => {
            const scores = tf.fused.matMul({ a: c, b: bT, bias: biasT });
            return groups === 1 ? tf.argMin(scores, 1) : tf.argMin(tf.reshape(scores, [c.shape[0], groups, k]), 2);
          }),
        );
      }
      const data = await Promise.all(outs.map((o) => o.data()));
      return data as Int32Array[];
    } finally {
      tf.dispose(outs);
      tf.dispose([bT, biasT]);
    }
  }

  /** For every chunk: the raw scores X_c·B + bias, float32 [rows × K]. */
  async scores(B: Float32Array, bias: Float32Array, K: number): Promise<Float32Array[]> {
    const d = this.chunks[0].shape[1];
    const bT = tf.tensor2d(B, [d, K]);
    const biasT = tf.tensor1d(bias);
    const outs: tf.Tensor[] = [];
    try {
      for (const c of this.chunks) outs.push(tf.fused.matMul({ a: c, b: bT, bias: biasT }));
      const data = await Promise.all(outs.map((o) => o.data()));
      return data as Float32Array[];
    } finally {
      tf.dispose(outs);
      tf.dispose([bT, biasT]);
    }
  }

  dispose(): void {
    tf.dispose(this.chunks);
    this.chunks.length = 0;
  }
}

/**
 * Packs the (centred) centers of several restarts as the right-hand side of the distance product:
 * B[:, g·k + j] = −2 (c_gj − μ), bias[g·k + j] = ‖c_gj − μ‖², so that ‖x − c‖² = ‖x − μ‖² + (x − μ)·B + bias.
 * `rawRows`: the left-hand rows will be x itself, not x − μ; the bias then absorbs the centering
 * (+ 2 μ·(c − μ)).
 */
function packCenters(
  centerSets: Float64Array[],
  k: number,
  d: number,
  mean: Float64Array,
  rawRows = false,
): { B: Float32Array; bias: Float32Array } {
  const K = centerSets.length * k;
  const B = new Float32Array(d * K);
  const bias = new Float32Array(K);
  for (let g = 0; g < centerSets.length; g++) {
    const C = centerSets[g];
    for (let j = 0; j < k; j++) {
      const col = g * k + j;
      let nrm = 0;
      let shift = 0;
      for (let f = 0; f < d; f++) {
        const v = C[j * d + f] - mean[f];
        nrm += v * v;
        shift += mean[f] * v;
        B[f * K + col] = -2 * v;
      }
      bias[col] = rawRows ? nrm + 2 * shift : nrm;
    }
  }
  return { B, bias };
}

/**
 * Pruning policy. On wasm, streaming all of X through the lockstep product costs ≈ 0.4 µs per point and restart
 * (k = 10), gathering a point's row on the CPU, uploading it and multiplying ≈ 1.1 µs: a restart that needs
 * fresh distances for more than FULL_FRACTION of its points joins the full product, the others get a product
 * over just the rows they need.
 */
const FULL_FRACTION = 0.35;
/**
 * Backends on which pruning pays by default. On GPU backends the full product costs next to nothing and the
 * CPU-side bookkeeping, gathers and extra transfers of pruning would dominate.
 */
const PRUNING_BACKENDS = new Set(['wasm', 'cpu']);
/** Elkan keeps k lower bounds per point and restart (float32): above this many, pruning is switched off. */
const MAX_BOUND_ENTRIES = 1 << 25;
/**
 * Restarts that run in lockstep at once. Streaming X once per iteration for many restarts is what makes the
 * lockstep cheap, and 32 restarts already share most of that; beyond them, restarts run in further batches so
 * that memory (per restart: labels, Elkan bounds n × k, the seeding's distances n) stays bounded whatever nInit.
 */
export const MAX_LOCKSTEP_RESTARTS = 32;

/** Scratch buffer for rows gathered on the CPU (grown on demand, reused across iterations). */
let gatherBuffer = new Float32Array(0);

/**
 * Scores of the given rows of X (raw, not centred: `bias` must come from packCenters(…, rawRows = true)):
 * float32 [rows.length × K], computed on the device in pieces of at most `pieceRows` rows.
 */
async function scoreRawRows(X: Matrix, rows: Int32Array, B: Float32Array, bias: Float32Array, K: number, pieceRows: number): Promise<Float32Array> {
  const { cols: d, data } = X;
  const out = new Float32Array(rows.length * K);
  const bT = tf.tensor2d(B, [d, K]);
  const biasT = tf.tensor1d(bias);
  try {
    for (let s = 0; s < rows.length; s += pieceRows) {
      const e = Math.min(rows.length, s + pieceRows);
      const m = e - s;
      if (gatherBuffer.length < m * d) gatherBuffer = new Float32Array(Math.max(m * d, Math.min(gatherBuffer.length * 2, pieceRows * d)));
      const buf = gatherBuffer;
      for (let q = 0; q < m; q++) {
        const o = rows[s + q] * d;
        buf.set(data.subarray(o, o + d), q * d);
      }
      const scores = tf.tidy(() => tf.fused.matMul({ a: tf.tensor2d(buf.subarray(0, m * d), [m, d]), b: bT, bias: biasT }));
      try {
        out.set((await scores.data()) as Float32Array, s * K);
      } finally {
        scores.dispose();
      }
    }
  } finally {
    tf.dispose([bT, biasT]);
  }
  return out;
}

/**
 * Elkan's test: the points of restart r whose upper bound u (distance to the own center a) cannot be shown to
 * be ≤ the distance to every other center j, i.e. u > s(a) and, for some j, u > lower(i, j) and
 * u > ½‖c_a − c_j‖. Returns their indices.
 */
function neededPoints(r: Restart, k: number, d: number, n: number): Int32Array {
  const C = r.centers;
  const halfCC = new Float64Array(k * k);
  const s = new Float64Array(k).fill(Infinity);
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      let q = 0;
      for (let f = 0; f < d; f++) {
        const diff = C[a * d + f] - C[b * d + f];
        q += diff * diff;
      }
      const h = 0.5 * Math.sqrt(q);
      halfCC[a * k + b] = h;
      halfCC[b * k + a] = h;
      if (h < s[a]) s[a] = h;
      if (h < s[b]) s[b] = h;
    }
  }
  const { upper, lowerK, labels, drift } = r;
  const out = r.needBuffer;
  let m = 0;
  for (let i = 0; i < n; i++) {
    const a = labels[i];
    const u = upper[i] + drift[a];
    if (u <= s[a]) continue;
    const lo = i * k;
    const ho = a * k;
    for (let j = 0; j < k; j++) {
      if (j !== a && u > lowerK[lo + j] - drift[j] && u > halfCC[ho + j]) {
        out[m++] = i;
        break;
      }
    }
  }
  return out.subarray(0, m);
}

/** Moves point i of restart r to cluster `nl` (float64 cluster sums), counting the change. */
function movePoint(r: Restart, i: number, nl: number, data: Float32Array, d: number): void {
  const ol = r.labels[i];
  if (nl === ol) return;
  r.changed++;
  r.labels[i] = nl;
  const { sums, counts } = r;
  const xo = i * d;
  if (ol >= 0) {
    const so = ol * d;
    for (let f = 0; f < d; f++) sums[so + f] -= data[xo + f];
    counts[ol]--;
  }
  const sn = nl * d;
  for (let f = 0; f < d; f++) sums[sn + f] += data[xo + f];
  counts[nl]++;
}

/**
 * Closest center of one point from its scores row segment [off, off + k); sets the label and fresh bounds,
 * widened by epsSq on the squared distances (covers the float32 rounding of the product).
 */
function assignFromScores(r: Restart, i: number, row: Float32Array, off: number, k: number, xn: number, epsSq: number, data: Float32Array, d: number): void {
  const { lowerK, drift } = r;
  const lo = i * k;
  let b1 = 0;
  let v1 = row[off];
  for (let j = 0; j < k; j++) {
    const v = row[off + j];
    if (v < v1) {
      v1 = v;
      b1 = j;
    }
    const dj = xn + v - epsSq;
    // stored relative to the center's drift so far; rounded down so that float32 storage keeps it a lower bound
    lowerK[lo + j] = ((dj > 0 ? Math.sqrt(dj) : 0) + drift[j]) * (1 - 2.5e-7);
  }
  const d1 = xn + v1;
  r.upper[i] = Math.sqrt((d1 > 0 ? d1 : 0) + epsSq) - drift[b1];
  movePoint(r, i, b1, data, d);
}

/** Full-product scores [rows × G·k] per chunk → labels and bounds of every point for every restart of the group. */
function applyFullScores(group: Restart[], chunks: Float32Array[], starts: number[], norms: Float64Array, k: number, epsSq: number, data: Float32Array, d: number): void {
  const G = group.length;
  const K = G * k;
  for (let c = 0; c < chunks.length; c++) {
    const arr = chunks[c];
    const rows = arr.length / K;
    const s = starts[c];
    for (let q = 0; q < rows; q++) {
      const i = s + q;
      const xn = norms[i];
      for (let g = 0; g < G; g++) assignFromScores(group[g], i, arr, q * K + g * k, k, xn, epsSq, data, d);
    }
  }
}

/** Scores [rows.length × k] of the gathered rows of one restart → their labels and bounds. */
function applyRowScores(r: Restart, rows: Int32Array, scores: Float32Array, norms: Float64Array, k: number, epsSq: number, data: Float32Array, d: number): void {
  for (let q = 0; q < rows.length; q++) {
    const i = rows[q];
    assignFromScores(r, i, scores, q * k, k, norms[i], epsSq, data, d);
  }
}

function squaredShift(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let t = 0; t < a.length; t++) {
    const diff = b[t] - a[t];
    s += diff * diff;
  }
  return s;
}

/**
 * Loosens the bounds by how far each center moves (Elkan: u += δ(a), l(j) −= δ(j)); returns the total squared
 * shift. The bounds are stored relative to the cumulative drift of each center, so this is O(k·d), not O(n·k):
 * effective u = upper + drift(a), effective l(j) = lowerK(j) − drift(j).
 */
function moveBounds(r: Restart, next: Float64Array, k: number, d: number): number {
  let total = 0;
  for (let j = 0; j < k; j++) {
    let q = 0;
    for (let f = 0; f < d; f++) {
      const diff = next[j * d + f] - r.centers[j * d + f];
      q += diff * diff;
    }
    total += q;
    r.drift[j] += Math.sqrt(q) * (1 + 1e-9);
  }
  return total;
}

/** Per-restart state of the lockstep Lloyd loop. */
interface Restart {
  index: number;
  rng: Rng;
  centers: Float64Array; // k × d, raw coordinates
  labels: Int32Array; // n, −1 before the first assignment
  sums: Float64Array; // k × d, Σ x over the points currently labelled j
  counts: Float64Array; // k
  iter: number;
  done: boolean;
  strict: boolean;
  inertia: number;
  potential: number;
  /** Labels changed in the current iteration. */
  changed: number;
  /**
   * Elkan bounds (pruning only), stored relative to `drift`: upper bound of the distance to the own center, lower
   * bounds of the distances to each center (n × k).
   */
  upper: Float64Array;
  lowerK: Float32Array;
  /** Cumulative distance each center has moved (the bounds are stored relative to it). */
  drift: Float64Array;
  boundsValid: boolean;
  /** Scratch list of the points needing fresh distances (pruning only). */
  needBuffer: Int32Array;
}

function newRestart(index: number, rng: Rng, n: number, k: number, d: number, pruning: boolean): Restart {
  return {
    index,
    rng,
    centers: new Float64Array(k * d),
    labels: new Int32Array(n).fill(-1),
    sums: new Float64Array(k * d),
    counts: new Float64Array(k),
    iter: 0,
    done: false,
    strict: false,
    inertia: NaN,
    potential: NaN,
    changed: 0,
    upper: new Float64Array(pruning ? n : 0),
    lowerK: new Float32Array(pruning ? n * k : 0),
    drift: new Float64Array(k),
    boundsValid: false,
    needBuffer: new Int32Array(pruning ? n : 0),
  };
}

/** What the lockstep batches of one fit share. */
interface LockstepContext {
  X: Matrix;
  dev: DeviceRows;
  mean: Float64Array;
  k: number;
  nTrials: number;
  maxIter: number;
  /** Absolute tolerance on the total squared center shift. */
  tolAbs: number;
  /** Σ‖x − μ‖² over all points. */
  totalNorm: number;
  /** Widening of the Elkan bounds for the float32 rounding of the products. */
  epsSq: number;
  pruning: boolean;
  chunkRows: number;
  stats: KMeansFitStats;
  signal?: AbortSignal;
  emit: (r: Restart, inertia: number) => void;
}

/**
 * Lloyd iterations of seeded restarts, all in lockstep, then the final E-step: labels against the final centers
 * and the inertia (float64, from the cluster sums).
 *
 * With pruning, a point's distances are only recomputed when its Elkan bounds cannot prove that its center is
 * still the closest one. Restarts that need many points recomputed (always the first iteration) share one full
 * product over the device-resident X; the rows each other restart needs are gathered on the CPU and multiplied
 * by its centers in a small product.
 */
async function lloydInLockstep(restarts: Restart[], ctx: LockstepContext): Promise<void> {
  const { X, dev, mean, k, maxIter, tolAbs, totalNorm, epsSq, pruning, chunkRows, stats, signal, emit } = ctx;
  const { rows: n, cols: d, data } = X;
  let active = restarts.slice();
  while (active.length > 0) {
    throwIfAborted(signal);
    const tRound = performance.now();
    const fullGroup: Restart[] = [];
    const sparseGroup: Restart[] = [];
    const sparseRows: Int32Array[] = [];
    for (const r of active) {
      r.changed = 0;
      if (!pruning || !r.boundsValid) {
        fullGroup.push(r);
        continue;
      }
      const rows = neededPoints(r, k, d, n);
      if (rows.length > FULL_FRACTION * n) fullGroup.push(r);
      else if (rows.length > 0) {
        sparseGroup.push(r);
        sparseRows.push(rows);
      }
    }
    stats.distanceRows += fullGroup.length * n + sparseRows.reduce((acc, rows) => acc + rows.length, 0);
    const t0 = performance.now();
    stats.cpuMs += t0 - tRound;
    const fullCenters = packCenters(
      fullGroup.map((r) => r.centers),
      k,
      d,
      mean,
    );
    const [fullArg, fullScores, ...rowScores] = await Promise.all([
      fullGroup.length > 0 && !pruning ? dev.argminGroups(fullCenters.B, fullCenters.bias, fullGroup.length, k) : null,
      fullGroup.length > 0 && pruning ? dev.scores(fullCenters.B, fullCenters.bias, fullGroup.length * k) : null,
      ...sparseGroup.map((r, g) => {
        const { B, bias } = packCenters([r.centers], k, d, mean, true);
        return scoreRawRows(X, sparseRows[g], B, bias, k, chunkRows);
      }),
    ]);
    const t1 = performance.now();
    stats.deviceMs += t1 - t0;
    stats.rounds++;
    if (fullArg) {
      for (let a = 0; a < fullGroup.length; a++) fullGroup[a].changed = applyLabels(fullGroup[a], fullArg, dev.starts, a, fullGroup.length, data, d);
    }
    if (fullScores) applyFullScores(fullGroup, fullScores, dev.starts, dev.norms, k, epsSq, data, d);
    for (let g = 0; g < sparseGroup.length; g++) {
      applyRowScores(sparseGroup[g], sparseRows[g], rowScores[g] as Float32Array, dev.norms, k, epsSq, data, d);
    }
    for (const r of fullGroup) r.boundsValid = pruning;
    for (const r of active) {
      // Inertia of this assignment step (labels vs. the centers they were assigned to), for progress.
      const stepInertia = inertiaFromSums(r, totalNorm, mean, k, d);
      const newCenters = centersFromSums(r, data, d, k, n);
      const shiftTot = pruning ? moveBounds(r, newCenters, k, d) : squaredShift(r.centers, newCenters);
      r.centers = newCenters;
      r.iter++;
      r.inertia = stepInertia;
      if (r.changed === 0) {
        r.strict = true;
        r.done = true;
      } else if (shiftTot <= tolAbs || r.iter >= maxIter) {
        r.done = true;
      }
    }
    stats.cpuMs += performance.now() - t1;
    for (const r of active) emit(r, r.inertia);
    active = active.filter((r) => !r.done);
    await yieldToEventLoop();
  }

  // ---- final E-step: labels against the final centers, inertia (float64, from the cluster sums) ----
  throwIfAborted(signal);
  const { B, bias } = packCenters(
    restarts.map((r) => r.centers),
    k,
    d,
    mean,
  );
  const t0 = performance.now();
  const assigned = await dev.argminGroups(B, bias, restarts.length, k);
  stats.deviceMs += performance.now() - t0;
  for (let m = 0; m < restarts.length; m++) {
    const r = restarts[m];
    applyLabels(r, assigned, dev.starts, m, restarts.length, data, d);
    r.inertia = inertiaFromSums(r, totalNorm, mean, k, d);
  }
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
    const { rows: n, cols: d, data } = X;
    if (k > n) throw new RangeError(`KMeans k (${k}) must be ≤ the number of samples (${n})`);
    const { signal, onProgress, initCenters } = opts;
    if (initCenters !== undefined) {
      if (initCenters.length !== k * d) {
        throw new RangeError(`KMeans.fit: initCenters has ${initCenters.length} values, expected k × d = ${k} × ${d}`);
      }
      for (let t = 0; t < initCenters.length; t++) {
        if (!Number.isFinite(initCenters[t])) throw new RangeError('KMeans.fit: initCenters contains NaN or infinite values');
      }
    }
    const runs = initCenters !== undefined ? 1 : nInit;
    throwIfAborted(signal);
    await tf.ready();
    const tFit = performance.now();
    const backend = tf.getBackend();
    const batchSize = Math.min(runs, Math.max(1, Math.floor(opts.maxLockstepRestarts ?? MAX_LOCKSTEP_RESTARTS)));
    const pruning = (opts.pruning ?? PRUNING_BACKENDS.has(backend)) && n * k * batchSize <= MAX_BOUND_ENTRIES;

    // Column means and variances (float64, shifted by the first row for stability); also rejects NaN/Inf.
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
    const tolAbs = (tol * varSum) / d;

    const nTrials = 2 + Math.floor(Math.log(k));
    const chunkRows = chunkRowsFor(n, batchSize * Math.max(k, nTrials));
    const master = new Rng(seed);
    const stats: KMeansFitStats = {
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
      lockstepRestarts: batchSize,
      batches: 0,
    };
    const dev = new DeviceRows(X, mean, chunkRows);
    stats.uploadMs = performance.now() - tFit;
    const SEED_SHARE = 0.05;
    const progressOf = (r: Restart): number => {
      if (r.done) return 1;
      const expected = Math.min(maxIter, 100);
      return 0.95 * (1 - Math.exp((-3 * r.iter) / expected));
    };
    // Restarts of earlier batches count as done; the current batch's restarts are all seeded when this is called.
    let finished = 0;
    let batch: Restart[] = [];
    const emit = (r: Restart, inertia: number): void => {
      if (!onProgress) return;
      let sum = finished;
      for (const q of batch) sum += progressOf(q);
      const fraction = SEED_SHARE * ((finished + batch.length) / runs) + (1 - SEED_SHARE) * (sum / runs);
      onProgress({ phase: 'kmeans', init: r.index, nInit: runs, iter: r.iter, inertia, fraction: Math.min(1, fraction) });
    };
    const ctx: LockstepContext = {
      X, dev, mean, k, nTrials, maxIter, tolAbs, pruning, chunkRows, stats, signal, emit,
      totalNorm: dev.norms.reduce((a, b) => a + b, 0),
      epsSq: 1e-5 * (3 * dev.maxNorm + 2 * mean.reduce((a, v) => a + v * v, 0)),
    };

    // Restarts run in lockstep batches of at most `batchSize`: the memory of a fit (bounds, labels, the products'
    // right-hand sides) grows with the batch, not with nInit. Restart m draws from the m-th child generator
    // whatever its batch, so the batching does not change the result. Only the best restart so far is kept.
    let best: Restart | undefined;
    const outcomes: KMeansInitResult[] = [];
    try {
      for (let first = 0; first < runs; first += batchSize) {
        batch = [];
        for (let m = first; m < Math.min(runs, first + batchSize); m++) batch.push(newRestart(m, master.fork(), n, k, d, pruning));
        throwIfAborted(signal);
        if (initCenters !== undefined) {
          for (let t = 0; t < k * d; t++) batch[0].centers[t] = initCenters[t];
        } else {
          const t0 = performance.now();
          await this.seedPlusPlus(X, dev, batch, k, nTrials, mean, signal);
          stats.seedingMs += performance.now() - t0;
          for (const r of batch) emit(r, r.potential);
        }
        await lloydInLockstep(batch, ctx);
        for (const r of batch) {
          outcomes.push({ inertia: r.inertia, nIter: r.iter, strictConvergence: r.strict, converged: r.strict || r.iter < maxIter });
          if (!best || r.inertia < best.inertia) best = r;
          stats.totalIterations += r.iter;
        }
        finished += batch.length;
        stats.batches++;
      }
    } finally {
      dev.dispose();
    }

    if (!best) throw new Error('KMeans.fit: no restart ran'); // runs ≥ 1: cannot happen
    this.centers = Float32Array.from(best.centers);
    this.labels = best.labels;
    this.inertia = exactInertia(data, d, best.centers, best.labels);
    this.nIter = best.iter;
    this.bestInit = best.index;
    this.nFeatures = d;
    this.mean = mean;
    this.backend = backend;
    stats.totalMs = performance.now() - tFit;
    this.fitStats = stats;
    outcomes[best.index].inertia = this.inertia;
    this.initResults = outcomes;
    if (onProgress) {
      onProgress({ phase: 'kmeans', init: best.index, nInit: runs, iter: best.iter, inertia: this.inertia, fraction: 1 });
    }
    return this;
  }

  /** Greedy k-means++ (sklearn's `_kmeans_plusplus`), the candidates of all restarts evaluated in one product per step. */
  private async seedPlusPlus(
    X: Matrix,
    dev: DeviceRows,
    restarts: Restart[],
    k: number,
    nTrials: number,
    mean: Float64Array,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const { rows: n, cols: d, data } = X;
    const M = restarts.length;
    const norms = dev.norms;
    const closest = restarts.map(() => new Float64Array(n));
    const pot = new Float64Array(M);

    // First center: uniform.
    const first = restarts.map((r) => r.rng.int(n));
    {
      const { B, bias } = packRows(data, d, first, mean);
      const sc = await dev.scores(B, bias, M);
      forEachRow(sc, dev.starts, M, (i, row, off) => {
        for (let m = 0; m < M; m++) {
          const v = Math.max(0, norms[i] + row[off + m]);
          closest[m][i] = v;
          pot[m] += v;
        }
      });
      for (let m = 0; m < M; m++) restarts[m].centers.set(data.subarray(first[m] * d, first[m] * d + d), 0);
    }

    const cum = new Float64Array(n);
    for (let c = 1; c < k; c++) {
      throwIfAborted(signal);
      // Candidates: sampled ∝ current squared distance (searchsorted on the cumulative sum, like sklearn).
      const cand = new Array<number>(M * nTrials);
      for (let m = 0; m < M; m++) {
        const cl = closest[m];
        let acc = 0;
        for (let i = 0; i < n; i++) {
          acc += cl[i];
          cum[i] = acc;
        }
        for (let t = 0; t < nTrials; t++) {
          const v = restarts[m].rng.random() * pot[m];
          cand[m * nTrials + t] = Math.min(searchSortedLeft(cum, v), n - 1);
        }
      }
      const K = M * nTrials;
      const { B, bias } = packRows(data, d, cand, mean);
      const sc = await dev.scores(B, bias, K);
      const candPot = new Float64Array(K);
      forEachRow(sc, dev.starts, K, (i, row, off) => {
        const xn = norms[i];
        for (let m = 0; m < M; m++) {
          const cl = closest[m][i];
          const base = m * nTrials;
          for (let t = 0; t < nTrials; t++) {
            const v = Math.max(0, xn + row[off + base + t]);
            candPot[base + t] += v < cl ? v : cl;
          }
        }
      });
      const bestT = new Int32Array(M);
      for (let m = 0; m < M; m++) {
        let bt = 0;
        for (let t = 1; t < nTrials; t++) if (candPot[m * nTrials + t] < candPot[m * nTrials + bt]) bt = t;
        bestT[m] = bt;
        pot[m] = candPot[m * nTrials + bt];
        const id = cand[m * nTrials + bt];
        restarts[m].centers.set(data.subarray(id * d, id * d + d), c * d);
      }
      forEachRow(sc, dev.starts, K, (i, row, off) => {
        const xn = norms[i];
        for (let m = 0; m < M; m++) {
          const v = Math.max(0, xn + row[off + m * nTrials + bestT[m]]);
          if (v < closest[m][i]) closest[m][i] = v;
        }
      });
      await yieldToEventLoop();
    }
    for (let m = 0; m < M; m++) restarts[m].potential = pot[m];
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
    const { B, bias } = packCenters([Float64Array.from(centers)], k, X.cols, mean);
    const out = new Int32Array(X.rows);
    await forEachDeviceChunk(X, mean, chunkRowsFor(X.rows, k), false, async (dev, start) => {
      const [labels] = await dev.argminGroups(B, bias, 1, k);
      out.set(labels, start);
    });
    return out;
  }

  /** Euclidean distances of every row of X to every center: float32 [rows × k] (sklearn's `transform`). */
  async transform(X: Matrix): Promise<Float32Array> {
    const { centers, mean } = this.requireFitted(X, 'KMeans.transform');
    await tf.ready();
    const k = centers.length / X.cols;
    const { B, bias } = packCenters([Float64Array.from(centers)], k, X.cols, mean);
    const out = new Float32Array(X.rows * k);
    await forEachDeviceChunk(X, mean, chunkRowsFor(X.rows, k), true, async (dev, start) => {
      const [sc] = await dev.scores(B, bias, k);
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

/** Uploads X chunk by chunk (bounded memory) and calls `fn` on each; chunk-local norms are at dev.norms[0..]. */
async function forEachDeviceChunk(
  X: Matrix,
  mean: Float64Array,
  chunkRows: number,
  withNorms: boolean,
  fn: (dev: DeviceRows, start: number) => Promise<void>,
): Promise<void> {
  const { rows: n, cols: d } = X;
  for (let s = 0; s < n; s += chunkRows) {
    const e = Math.min(n, s + chunkRows);
    const part: Matrix = { data: X.data.subarray(s * d, e * d), rows: e - s, cols: d };
    const dev = new DeviceRows(part, mean, e - s, withNorms);
    try {
      await fn(dev, s);
    } finally {
      dev.dispose();
    }
  }
}

/** Rows `ids` of X as the right-hand side of the distance product (see packCenters). */
function packRows(data: Float32Array, d: number, ids: number[], mean: Float64Array): { B: Float32Array; bias: Float32Array } {
  const K = ids.length;
  const B = new Float32Array(d * K);
  const bias = new Float32Array(K);
  for (let col = 0; col < K; col++) {
    const o = ids[col] * d;
    let nrm = 0;
    for (let f = 0; f < d; f++) {
      const v = Math.fround(data[o + f] - mean[f]);
      nrm += v * v;
      B[f * K + col] = -2 * v;
    }
    bias[col] = nrm;
  }
  return { B, bias };
}

function forEachRow(chunks: Float32Array[], starts: number[], K: number, fn: (i: number, row: Float32Array, off: number) => void): void {
  for (let c = 0; c < chunks.length; c++) {
    const arr = chunks[c];
    const rows = arr.length / K;
    const s = starts[c];
    for (let r = 0; r < rows; r++) fn(s + r, arr, r * K);
  }
}

/** First index i with cum[i] ≥ v (numpy searchsorted, side='left'); cum.length when none. */
function searchSortedLeft(cum: Float64Array, v: number): number {
  let lo = 0;
  let hi = cum.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Applies the device labels of restart column `a` (of `groups`) to the restart, moving changed points between
 * the float64 cluster sums. Returns the number of changed labels.
 */
function applyLabels(r: Restart, assigned: Int32Array[], starts: number[], a: number, groups: number, data: Float32Array, d: number): number {
  const before = r.changed;
  for (let c = 0; c < assigned.length; c++) {
    const arr = assigned[c];
    const rows = arr.length / groups;
    for (let q = 0; q < rows; q++) movePoint(r, starts[c] + q, arr[q * groups + a], data, d);
  }
  return r.changed - before;
}

/**
 * Σ_i ‖x_i − c_{l_i}‖² from the cluster sums, in centred coordinates:
 * Σ‖x−μ‖² − 2 Σ_j (S_j − n_j μ)·(c_j − μ) + Σ_j n_j ‖c_j − μ‖².
 */
function inertiaFromSums(r: Restart, totalNorm: number, mean: Float64Array, k: number, d: number): number {
  let cross = 0;
  let sq = 0;
  for (let j = 0; j < k; j++) {
    const nj = r.counts[j];
    if (nj === 0) continue;
    let dot = 0;
    let nrm = 0;
    for (let f = 0; f < d; f++) {
      const cc = r.centers[j * d + f] - mean[f];
      dot += (r.sums[j * d + f] - nj * mean[f]) * cc;
      nrm += cc * cc;
    }
    cross += dot;
    sq += nj * nrm;
  }
  return Math.max(0, totalNorm - 2 * cross + sq);
}

/**
 * New centers = cluster means; empty clusters are relocated like sklearn (`_relocate_empty_clusters_dense`): to the
 * points farthest from their current (old) centers, taking them out of their clusters. A point is not taken from
 * a cluster it is the only member of (that would just move the hole).
 */
function centersFromSums(r: Restart, data: Float32Array, d: number, k: number, n: number): Float64Array {
  const sums = Float64Array.from(r.sums);
  const counts = Float64Array.from(r.counts);
  const empty: number[] = [];
  for (let j = 0; j < k; j++) if (counts[j] === 0) empty.push(j);
  if (empty.length > 0) {
    const old = r.centers;
    const dist = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const xo = i * d;
      const co = r.labels[i] * d;
      let s = 0;
      for (let f = 0; f < d; f++) {
        const diff = data[xo + f] - old[co + f];
        s += diff * diff;
      }
      dist[i] = s;
    }
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => dist[b] - dist[a] || a - b);
    let next = 0;
    for (const j of empty) {
      while (next < n && counts[r.labels[order[next]]] <= 1) next++;
      if (next >= n) break;
      const far = order[next++];
      const from = r.labels[far];
      const xo = far * d;
      for (let f = 0; f < d; f++) {
        sums[from * d + f] -= data[xo + f];
        sums[j * d + f] = data[xo + f];
      }
      counts[from] -= 1;
      counts[j] = 1;
    }
  }
  const centers = new Float64Array(k * d);
  for (let j = 0; j < k; j++) {
    if (counts[j] > 0) {
      const inv = 1 / counts[j];
      for (let f = 0; f < d; f++) centers[j * d + f] = sums[j * d + f] * inv;
    } else {
      centers.set(r.centers.subarray(j * d, j * d + d), j * d); // nothing to relocate to: keep the old center
    }
  }
  return centers;
}

/** Σ_i ‖x_i − c_{labels_i}‖², directly, in float64. */
export function exactInertia(data: Float32Array, d: number, centers: ArrayLike<number>, labels: Int32Array): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const xo = i * d;
    const co = labels[i] * d;
    let s = 0;
    for (let f = 0; f < d; f++) {
      const diff = data[xo + f] - centers[co + f];
      s += diff * diff;
    }
    total += s;
  }
  return total;
}
