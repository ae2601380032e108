/**
 * Exact k-nearest neighbours (euclidean), for UMAP's neighbour graph. Two ways, same results (up to ties):
 *
 * - {@link kdTreeNeighbours}: a k-d tree in JavaScript, for low-dimensional rows (autoencoder codes: 70k × 10 in a
 *   few seconds, where brute force would compute 4.9 billion distances);
 * - {@link nearestNeighbours}: brute force on the active tfjs backend, for wide rows (raw pixels), where a tree
 *   prunes nothing and one matrix product per chunk is the fast path.
 * {@link exactNeighbours} picks one by the number of columns.
 *
 * Backend brute force: the reference points are mean-centred and uploaded once, transposed (d × n), with their squared norms; query
 * rows go through in chunks: ‖q − r‖² = ‖q‖² + ‖r‖² − 2·q·r from one plain matrix product per chunk (no transpose
 * flags: the fast path on wasm/XNNPACK), then `topk` on the device. Only the k candidates per query come back;
 * their distances are recomputed exactly in float64 on the CPU (the expansion loses precision for near points) and
 * sorted. The chunk size keeps the distance block around 16M values. Yields to the event loop between chunks and
 * checks an AbortSignal.
 */
import { abortError, yieldToEventLoop } from '../abort';
import { tf } from '../backend/index';
import type { Matrix } from '../types';
import { pca } from './pca';

export interface Neighbours {
  /** n × k row-major: neighbour indices into the reference set, nearest first. */
  indices: Int32Array;
  /** n × k row-major: euclidean distances, ascending. */
  distances: Float32Array;
  n: number;
  k: number;
}

export interface KnnOptions {
  /** Query rows (default: the reference rows themselves, each then its own first neighbour at distance 0). */
  queries?: Matrix;
  /** Query rows per device product (default: about 16M distances per block). */
  chunkRows?: number;
  signal?: AbortSignal;
  /** Called after each chunk with the number of query rows done. */
  onProgress?: (done: number, total: number) => void;
}

/** Widest rows for which the k-d tree is used by {@link exactNeighbours}. */
export const KD_TREE_MAX_COLS = 24;

/** Exact neighbours by the faster method for the shape of the data (see the module comment). */
export function exactNeighbours(reference: Matrix, k: number, opts: KnnOptions = {}): Promise<Neighbours> {
  return reference.cols <= KD_TREE_MAX_COLS ? kdTreeNeighbours(reference, k, opts) : nearestNeighbours(reference, k, opts);
}

function checkMatrix(X: Matrix, what: string): void {
  if (!(X.data instanceof Float32Array)) throw new TypeError(`${what}.data must be a Float32Array`);
  if (!Number.isInteger(X.rows) || !Number.isInteger(X.cols) || X.rows < 1 || X.cols < 1)
    throw new RangeError(`${what} must have rows ≥ 1 and cols ≥ 1, got ${X.rows} × ${X.cols}`);
  if (X.data.length < X.rows * X.cols) throw new RangeError(`${what}.data has ${X.data.length} values, fewer than ${X.rows} × ${X.cols}`);
}

/** Reference rows centred and transposed (d × n), their mean and squared norms. */
function prepareReference(reference: Matrix): { mean: Float64Array; refT: Float32Array; refNorms: Float32Array } {
  const { rows: n, cols: d, data } = reference;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) mean[f] += data[i * d + f];
  for (let f = 0; f < d; f++) mean[f] /= n;
  const refT = new Float32Array(d * n);
  const refNorms = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let f = 0; f < d; f++) {
      const v = data[i * d + f] - mean[f];
      refT[f * n + i] = v;
      s += v * v;
    }
    refNorms[i] = s;
  }
  return { mean, refT, refNorms };
}

/** Rows [from, to) of X minus `mean`. */
function centredRows(X: Matrix, from: number, to: number, mean: Float64Array): Float32Array {
  const d = X.cols;
  const out = new Float32Array((to - from) * d);
  for (let r = 0; r < to - from; r++) for (let f = 0; f < d; f++) out[r * d + f] = X.data[(from + r) * d + f] - mean[f];
  return out;
}

/** Exact distances of the device's candidates, sorted; the point itself first for self-queries. */
class CandidateRefiner {
  private readonly cand: { j: number; d2: number }[];

  constructor(
    private readonly queries: Matrix,
    private readonly reference: Matrix,
    private readonly k: number,
    private readonly kk: number,
    private readonly self: boolean,
    private readonly indices: Int32Array,
    private readonly distances: Float32Array,
  ) {
    this.cand = Array.from({ length: kk }, () => ({ j: 0, d2: 0 }));
  }

  run(found: Int32Array, from: number, to: number): void {
    const { k, kk, self, cand, indices, distances } = this;
    const d = this.reference.cols;
    const qd = this.queries.data;
    const rd = this.reference.data;
    for (let r = 0; r < to - from; r++) {
      const qi = from + r;
      const qo = qi * d;
      for (let c = 0; c < kk; c++) {
        const j = found[r * kk + c];
        const ro = j * d;
        let d2 = 0;
        for (let f = 0; f < d; f++) {
          const diff = qd[qo + f] - rd[ro + f];
          d2 += diff * diff;
        }
        cand[c].j = j;
        cand[c].d2 = self && j === qi ? -1 : d2;
      }
      cand.sort((a, b) => a.d2 - b.d2 || a.j - b.j);
      let c0 = 0;
      if (self && cand[0].j !== qi) {
        // more exact duplicates than k: the point itself still comes first
        indices[qi * k] = qi;
        distances[qi * k] = 0;
        c0 = 1;
      }
      for (let c = c0; c < k; c++) {
        const { j, d2 } = cand[c - c0];
        indices[qi * k + c] = j;
        distances[qi * k + c] = d2 > 0 ? Math.sqrt(d2) : 0;
      }
    }
  }
}

/** The checks both neighbour searches make before any work; `self` when the reference is queried against itself. */
function checkKnnArgs(reference: Matrix, k: number, opts: KnnOptions): { self: boolean; queries: Matrix; n: number; d: number } {
  checkMatrix(reference, 'reference');
  const self = opts.queries === undefined;
  const queries = opts.queries ?? reference;
  checkMatrix(queries, 'queries');
  const { rows: n, cols: d } = reference;
  if (queries.cols !== d) throw new RangeError(`queries have ${queries.cols} columns, the reference ${d}`);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`k must be an integer in [1, ${n}], got ${k}`);
  if (opts.signal?.aborted) throw abortError(opts.signal);
  return { self, queries, n, d };
}

/**
 * The `k` nearest reference rows of every query row (of every reference row when `opts.queries` is not given:
 * then each row is its own first neighbour, as UMAP expects). Ties are broken by the lower index.
 */
export async function nearestNeighbours(reference: Matrix, k: number, opts: KnnOptions = {}): Promise<Neighbours> {
  const { self, queries, n, d } = checkKnnArgs(reference, k, opts);
  const { signal, onProgress } = opts;

  // centre on the reference mean: the norms expansion is then as precise as it gets in float32
  const { mean, refT, refNorms } = prepareReference(reference);

  const m = queries.rows;
  const chunk = Math.max(1, Math.min(m, opts.chunkRows ?? Math.floor(16_000_000 / n)));
  // one extra candidate: float32 ties around the k-th may order differently from the exact distances
  const kk = Math.min(n, k + 1);
  const indices = new Int32Array(m * k);
  const distances = new Float32Array(m * k);
  const refTensor = tf.tensor2d(refT, [d, n]);
  const normTensor = tf.tensor2d(refNorms, [1, n]);
  const refine = new CandidateRefiner(queries, reference, k, kk, self, indices, distances);
  try {
    for (let s = 0; s < m; s += chunk) {
      if (signal?.aborted) throw abortError(signal);
      const e = Math.min(m, s + chunk);
      const rows = e - s;
      const q = centredRows(queries, s, e, mean);
      const { values, indices: idx } = tf.tidy(() => {
        const qt = tf.tensor2d(q, [rows, d]);
        // −‖q − r‖² = 2·q·r − ‖r‖² − ‖q‖²; the per-row ‖q‖² does not change the order, so it is left out
        const negDist = tf.sub(tf.mul(tf.matMul(qt, refTensor), 2), normTensor);
        return tf.topk(negDist, kk, true);
      });
      let found: Int32Array;
      try {
        found = (await idx.data()) as Int32Array;
      } finally {
        values.dispose();
        idx.dispose();
      }
      refine.run(found, s, e);
      onProgress?.(e, m);
      await yieldToEventLoop();
    }
  } finally {
    refTensor.dispose();
    normTensor.dispose();
  }
  return { indices, distances, n: m, k };
}

// ---------------------------------------------------------------------------------------------------------------
// k-d tree

const LEAF_SIZE = 16;

interface KdTree {
  /** Points in tree order, row-major (leaf scans read contiguous memory). */
  points: Float32Array;
  /** Original index of each point in tree order. */
  ids: Int32Array;
  d: number;
  // per node: range [start, end) in tree order; split dimension (−1 for a leaf) and value; children
  start: Int32Array;
  end: Int32Array;
  dim: Int32Array;
  split: Float32Array;
  left: Int32Array;
  right: Int32Array;
}

function buildKdTree(X: Matrix): KdTree {
  const { rows: n, cols: d, data } = X;
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  const maxNodes = 2 * Math.ceil(n / (LEAF_SIZE / 2)) + 1;
  const start = new Int32Array(maxNodes);
  const end = new Int32Array(maxNodes);
  const dim = new Int32Array(maxNodes).fill(-1);
  const split = new Float32Array(maxNodes);
  const left = new Int32Array(maxNodes);
  const right = new Int32Array(maxNodes);
  let count = 0;
  const stack: number[] = [];
  const newNode = (s: number, e: number): number => {
    start[count] = s;
    end[count] = e;
    stack.push(count);
    return count++;
  };
  // quickselect ids[s..e) so that ids[m] has the median value along `c`
  const select = (s: number, e: number, m: number, c: number): void => {
    let lo = s;
    let hi = e - 1;
    while (hi > lo) {
      const pivot = data[ids[(lo + hi) >>> 1] * d + c];
      let i = lo;
      let j = hi;
      while (i <= j) {
        while (data[ids[i] * d + c] < pivot) i++;
        while (data[ids[j] * d + c] > pivot) j--;
        if (i <= j) {
          const t = ids[i];
          ids[i] = ids[j];
          ids[j] = t;
          i++;
          j--;
        }
      }
      if (m <= j) hi = j;
      else if (m >= i) lo = i;
      else break;
    }
  };
  newNode(0, n);
  const lo = new Float64Array(d);
  const hi = new Float64Array(d);
  while (stack.length) {
    const node = stack.pop()!;
    const s = start[node];
    const e = end[node];
    if (e - s <= LEAF_SIZE) continue;
    lo.fill(Infinity);
    hi.fill(-Infinity);
    for (let i = s; i < e; i++) {
      const o = ids[i] * d;
      for (let c = 0; c < d; c++) {
        const v = data[o + c];
        if (v < lo[c]) lo[c] = v;
        if (v > hi[c]) hi[c] = v;
      }
    }
    let c = 0;
    for (let f = 1; f < d; f++) if (hi[f] - lo[f] > hi[c] - lo[c]) c = f;
    if (!(hi[c] > lo[c])) continue; // all points equal: a (big) leaf
    const m = (s + e) >>> 1;
    select(s, e, m, c);
    dim[node] = c;
    split[node] = data[ids[m] * d + c];
    left[node] = newNode(s, m);
    right[node] = newNode(m, e);
  }
  const points = new Float32Array(n * d);
  for (let i = 0; i < n; i++) points.set(data.subarray(ids[i] * d, ids[i] * d + d), i * d);
  return { points, ids, d, start, end, dim, split, left, right };
}

/** Rows of M on the principal axes of `rotation` (centred), for the k-d tree. */
function rotateRows(M: Matrix, mean: Float64Array, components: Float64Array): Matrix {
  const d = M.cols;
  const out = new Float32Array(M.rows * d);
  const row = new Float64Array(d);
  for (let i = 0; i < M.rows; i++) {
    for (let f = 0; f < d; f++) row[f] = M.data[i * d + f] - mean[f];
    for (let j = 0; j < d; j++) {
      let t = 0;
      for (let f = 0; f < d; f++) t += row[f] * components[f * d + j];
      out[i * d + j] = t;
    }
  }
  return { data: out, rows: M.rows, cols: d };
}

/**
 * The k-d tree search of a range of query rows: synchronous code over typed arrays (V8 optimises it far better
 * than the same loops inside an async function), called chunk by chunk by {@link kdTreeNeighbours}.
 */
class KdSearch {
  private readonly hd: Float64Array;
  private readonly hi: Int32Array;
  private size = 0;
  private readonly q: Float64Array;
  private readonly stack = new Int32Array(512);
  private readonly bound = new Float64Array(512);
  private readonly order: number[];

  constructor(
    private readonly tree: KdTree,
    private readonly k: number,
    /** Queries in tree coordinates (for the search) and in the original ones (for the exact distances). */
    private readonly rotatedQueries: Matrix,
    private readonly queries: Matrix,
    private readonly reference: Matrix,
    private readonly self: boolean,
    private readonly indices: Int32Array,
    private readonly distances: Float32Array,
  ) {
    this.hd = new Float64Array(k);
    this.hi = new Int32Array(k);
    this.q = new Float64Array(tree.d);
    this.order = Array.from({ length: k }, (_, i) => i);
  }

  /** Adds (dist, id) to the max-heap of the k best (ties: the lower index wins). */
  private push(dist: number, id: number): void {
    const { hd, hi, k } = this;
    if (this.size < k) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (hd[p] > dist || (hd[p] === dist && hi[p] > id)) break;
        hd[i] = hd[p];
        hi[i] = hi[p];
        i = p;
      }
      hd[i] = dist;
      hi[i] = id;
      return;
    }
    if (dist > hd[0] || (dist === hd[0] && id > hi[0])) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= k) break;
      const r = l + 1;
      let c = l;
      if (r < k && (hd[r] > hd[l] || (hd[r] === hd[l] && hi[r] > hi[l]))) c = r;
      if (hd[c] < dist || (hd[c] === dist && hi[c] < id)) break;
      hd[i] = hd[c];
      hi[i] = hi[c];
      i = c;
    }
    hd[i] = dist;
    hi[i] = id;
  }

  run(from: number, to: number): void {
    const { tree, k, q, stack, bound, hd, hi, order, self } = this;
    const { points, ids, d } = tree;
    const rq = this.rotatedQueries.data;
    const oq = this.queries.data;
    const ref = this.reference.data;
    for (let qi = from; qi < to; qi++) {
      for (let c = 0; c < d; c++) q[c] = rq[qi * d + c];
      this.size = 0;
      let top = 1;
      stack[0] = 0;
      bound[0] = 0;
      while (top > 0) {
        top--;
        const node = stack[top];
        if (this.size === k && bound[top] > hd[0]) continue;
        const c = tree.dim[node];
        if (c < 0) {
          for (let i = tree.start[node]; i < tree.end[node]; i++) {
            const o = i * d;
            let s = 0;
            for (let f = 0; f < d; f++) {
              const diff = q[f] - points[o + f];
              s += diff * diff;
            }
            if (this.size < k || s <= hd[0]) this.push(self && ids[i] === qi ? -1 : s, ids[i]);
          }
          continue;
        }
        const b = bound[top];
        const diff = q[c] - tree.split[node];
        const plane = diff * diff;
        // the far side first (visited last), bounded by its plane distance; then the near side
        stack[top] = diff < 0 ? tree.right[node] : tree.left[node];
        bound[top] = plane > b ? plane : b;
        top++;
        stack[top] = diff < 0 ? tree.left[node] : tree.right[node];
        bound[top] = b;
        top++;
      }
      // exact distances in the original coordinates (the rotated ones carry float32 rounding)
      for (let c = 0; c < k; c++) {
        if (hd[c] < 0) continue;
        const o = hi[c] * d;
        let t = 0;
        for (let f = 0; f < d; f++) {
          const diff = oq[qi * d + f] - ref[o + f];
          t += diff * diff;
        }
        hd[c] = t;
      }
      order.sort((x, y) => hd[x] - hd[y] || hi[x] - hi[y]);
      for (let c = 0; c < k; c++) {
        const j = order[c];
        this.indices[qi * k + c] = hi[j];
        this.distances[qi * k + c] = hd[j] > 0 ? Math.sqrt(hd[j]) : 0;
      }
    }
  }
}

/**
 * Exact k nearest neighbours with a k-d tree on the principal axes of the reference rows (median splits on the
 * widest dimension, leaves of 16 points, nearer child first, the farther one only while its splitting plane is
 * closer than the current k-th neighbour). Same contract as {@link nearestNeighbours}.
 */
export async function kdTreeNeighbours(reference: Matrix, k: number, opts: KnnOptions = {}): Promise<Neighbours> {
  const { self, queries, d } = checkKnnArgs(reference, k, opts);
  const { signal, onProgress } = opts;
  // on the principal axes the splits follow the directions of largest spread: fewer nodes visited
  const rotation = d > 1 ? await pca(reference, d) : undefined;
  const rotatedRef = rotation ? rotateRows(reference, rotation.mean, rotation.components) : reference;
  const rotatedQueries = self ? rotatedRef : rotation ? rotateRows(queries, rotation.mean, rotation.components) : queries;
  const tree = buildKdTree(rotatedRef);
  const m = queries.rows;
  const indices = new Int32Array(m * k);
  const distances = new Float32Array(m * k);
  const search = new KdSearch(tree, k, rotatedQueries, queries, reference, self, indices, distances);
  const chunk = 1000;
  for (let s = 0; s < m; s += chunk) {
    if (signal?.aborted) throw abortError(signal);
    const e = Math.min(m, s + chunk);
    search.run(s, e);
    onProgress?.(e, m);
    if (e < m) await yieldToEventLoop();
  }
  return { indices, distances, n: m, k };
}
