/**
 * UMAP's fuzzy simplicial set (umap-learn 0.5): per point ρ (distance to the nearest neighbour) and σ (binary search
 * so that Σ exp(−(d − ρ)/σ) = log2 k), memberships exp(−(d − ρ)/σ), symmetrised by the fuzzy union A + Aᵀ − A∘Aᵀ.
 * Typed arrays throughout: umap-js's string-keyed sparse matrices take ~45 s for this at 60–70k points.
 */
import type { Neighbours } from './knn';

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
export function memberships(knn: Neighbours, sigmas: Float64Array, rhos: Float64Array, bipartite: boolean): Float64Array {
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
