/**
 * Elkan's pruning for the lockstep Lloyd loop: per point and restart an upper bound on the distance to its own center
 * and lower bounds on the distances to the others, loosened by how far the centers move. A point whose bounds prove
 * that its center is still the closest needs no fresh distances; the labels stay those of plain Lloyd.
 *
 * The bounds are stored relative to the cumulative drift of each center (effective u = upper + drift(a), effective
 * l(j) = lowerK(j) − drift(j)), so moving the centers costs O(k·d) per restart instead of O(n·k).
 */
import { movePoint, type Restart } from './kmeans-restart';

/**
 * Pruning policy. On wasm, streaming all of X through the lockstep product costs ≈ 0.4 µs per point and restart
 * (k = 10), gathering a point's row on the CPU, uploading it and multiplying ≈ 1.1 µs: a restart that needs
 * fresh distances for more than FULL_FRACTION of its points joins the full product, the others get a product
 * over just the rows they need.
 */
export const FULL_FRACTION = 0.35;
/**
 * Backends on which pruning pays by default. On GPU backends the full product costs next to nothing and the
 * CPU-side bookkeeping, gathers and extra transfers of pruning would dominate.
 */
const PRUNING_BACKENDS = new Set(['wasm', 'cpu']);
/** Elkan keeps k lower bounds per point and restart (float32): above this many, pruning is switched off. */
const MAX_BOUND_ENTRIES = 1 << 25;

/** Whether a fit prunes: as asked (default: on wasm/cpu), and only while the bounds of a lockstep batch fit in memory. */
export function usePruning(asked: boolean | undefined, backend: string, n: number, k: number, batchSize: number): boolean {
  return (asked ?? PRUNING_BACKENDS.has(backend)) && n * k * batchSize <= MAX_BOUND_ENTRIES;
}

/** What setting the bounds from fresh scores needs: the fit set (raw rows), its centred norms, and the float32 slack. */
export interface BoundsContext {
  data: Float32Array;
  d: number;
  k: number;
  /** ‖x_i − μ‖² of every point. */
  norms: Float64Array;
  /** Widening of the bounds on the squared distances for the float32 rounding of the products. */
  epsSq: number;
}

/**
 * Elkan's test: the points of restart r whose upper bound u (distance to the own center a) cannot be shown to
 * be ≤ the distance to every other center j, i.e. u > s(a) and, for some j, u > lower(i, j) and
 * u > ½‖c_a − c_j‖. Returns their indices.
 */
export function neededPoints(r: Restart, k: number, d: number, n: number): Int32Array {
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

/**
 * Closest center of point i from its scores row segment [off, off + k); sets the label and fresh bounds,
 * widened by epsSq on the squared distances (covers the float32 rounding of the product).
 */
function assignFromScores(r: Restart, i: number, row: Float32Array, off: number, bc: BoundsContext): void {
  const { k, epsSq } = bc;
  const xn = bc.norms[i];
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
  movePoint(r, i, b1, bc.data, bc.d);
}

/** Full-product scores [rows × G·k] per chunk → labels and bounds of every point for every restart of the group. */
export function applyFullScores(group: Restart[], chunks: Float32Array[], starts: number[], bc: BoundsContext): void {
  const G = group.length;
  const K = G * bc.k;
  for (let c = 0; c < chunks.length; c++) {
    const arr = chunks[c];
    const rows = arr.length / K;
    const s = starts[c];
    for (let q = 0; q < rows; q++) {
      const i = s + q;
      for (let g = 0; g < G; g++) assignFromScores(group[g], i, arr, q * K + g * bc.k, bc);
    }
  }
}

/** Scores [rows.length × k] of the gathered rows of one restart → their labels and bounds. */
export function applyRowScores(r: Restart, rows: Int32Array, scores: Float32Array, bc: BoundsContext): void {
  for (let q = 0; q < rows.length; q++) assignFromScores(r, rows[q], scores, q * bc.k, bc);
}

/**
 * Loosens the bounds by how far each center moves (Elkan: u += δ(a), l(j) −= δ(j)); returns the total squared
 * shift. O(k·d): only the drifts change (see the top of this file).
 */
export function moveBounds(r: Restart, next: Float64Array, k: number, d: number): number {
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
