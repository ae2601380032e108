/**
 * Per-restart state of a k-means fit and the CPU side of Lloyd's update: labels, float64 cluster sums moved point by
 * point when a label changes (so late iterations, where few labels change, cost almost nothing), centers as cluster
 * means with sklearn's relocation of empty clusters, and the inertia derived from the sums.
 */
import type { Matrix } from '../types';
import type { Rng } from '../math/rng';

/** Per-restart state of the lockstep Lloyd loop. */
export interface Restart {
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

export function newRestart(index: number, rng: Rng, n: number, k: number, d: number, pruning: boolean): Restart {
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

/** Labels of several restarts from one device argMin: chunk c holds [rows × groups] int32, restart a in column a. */
export interface GroupedLabels {
  chunks: Int32Array[];
  /** First row of each chunk. */
  starts: number[];
  groups: number;
}

/** Moves point i of restart r to cluster `nl` (float64 cluster sums), counting the change. */
export function movePoint(r: Restart, i: number, nl: number, data: Float32Array, d: number): void {
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
 * Applies the device labels of restart column `a` to the restart, moving changed points between the float64 cluster
 * sums. Returns the number of changed labels.
 */
export function applyLabels(r: Restart, assigned: GroupedLabels, a: number, X: Matrix): number {
  const { chunks, starts, groups } = assigned;
  const { data, cols: d } = X;
  const before = r.changed;
  for (let c = 0; c < chunks.length; c++) {
    const arr = chunks[c];
    const rows = arr.length / groups;
    for (let q = 0; q < rows; q++) movePoint(r, starts[c] + q, arr[q * groups + a], data, d);
  }
  return r.changed - before;
}

/** Σ (b − a)², the total squared shift between two center sets. */
export function squaredShift(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let t = 0; t < a.length; t++) {
    const diff = b[t] - a[t];
    s += diff * diff;
  }
  return s;
}

/**
 * Σ_i ‖x_i − c_{l_i}‖² from the cluster sums, in centred coordinates:
 * Σ‖x−μ‖² − 2 Σ_j (S_j − n_j μ)·(c_j − μ) + Σ_j n_j ‖c_j − μ‖².
 */
export function inertiaFromSums(r: Restart, totalNorm: number, mean: Float64Array, k: number, d: number): number {
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
export function centersFromSums(r: Restart, data: Float32Array, d: number, k: number, n: number): Float64Array {
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
