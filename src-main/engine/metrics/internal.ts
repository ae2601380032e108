/**
 * Label-free ("internal") clustering scores, for data sets without labels: the silhouette, Calinski–Harabasz and
 * Davies–Bouldin, each computed as scikit-learn 1.2 computes it (sklearn.metrics.silhouette_score,
 * calinski_harabasz_score, davies_bouldin_score), Euclidean, in float64.
 *
 * Cost for n rows, d features, k clusters: Calinski–Harabasz and Davies–Bouldin are O(n·d + k²·d) (two passes over
 * the rows); the silhouette is O(m²·d) time and O(m·(d + k)) memory for the m rows it scores — all n up to
 * `maxExact`, else a seeded sample of `sampleSize` rows (default: as many). The default `maxExact` is the size whose
 * exact silhouette takes about 3 s on the project's Intel Xeon 2-core machine (measured 2026-12-07, see
 * {@link defaultSilhouetteMaxExact}): 3,231 rows of 784-d pixels, 7,663 of 128-d, 18,677 of 10-d codes.
 *
 * Labels are compacted as sklearn's LabelEncoder does: a label value no row carries is no cluster. Fewer than 2 or
 * more than n − 1 clusters throw a RangeError, as sklearn refuses them.
 */
import type { Matrix } from '../types';
import { checkClusterCount, checkScoreInput, encodeLabels, type EncodedLabels } from './cluster-labels';
import { silhouetteScore, type SilhouetteOptions } from './silhouette';

export {
  defaultSilhouetteMaxExact,
  silhouetteOfRows,
  silhouetteSampleIndices,
  silhouetteScore,
  type SilhouetteOptions,
  type SilhouetteResult,
} from './silhouette';

/** The three label-free scores of one clustering: what a run stores as its metrics. */
export interface ClusterScores {
  /** Mean silhouette coefficient in [−1, 1], higher is better. */
  silhouette: number;
  /** Rows the silhouette was computed on when it was sampled, else null (every row). */
  silhouetteSample: number | null;
  /** Ratio of between- to within-cluster dispersion, higher is better. */
  calinskiHarabasz: number;
  /** Mean worst-case ratio of within-cluster scatter to centroid separation, ≥ 0, lower is better. */
  daviesBouldin: number;
}

/** All three scores of `labels` on `x`; `options` are the silhouette's (sample size, seed, exact limit, signal). */
export async function clusterScores(x: Matrix, labels: Int32Array, options: SilhouetteOptions = {}): Promise<ClusterScores> {
  const calinskiHarabasz = calinskiHarabaszScore(x, labels);
  const daviesBouldin = daviesBouldinScore(x, labels);
  const { score, sampled } = await silhouetteScore(x, labels, options);
  return { silhouette: score, silhouetteSample: sampled, calinskiHarabasz, daviesBouldin };
}

/**
 * Calinski–Harabasz (variance ratio): [Σ_c n_c ‖μ_c − μ‖²] (n − k) / ([Σ_i ‖x_i − μ_{c(i)}‖²] (k − 1)); 1 when the
 * within-cluster dispersion is 0, as sklearn.
 */
export function calinskiHarabaszScore(x: Matrix, labels: Int32Array): number {
  const enc = checkedLabels('calinskiHarabaszScore', x, labels);
  const { rows: n, cols: d, data } = x;
  const { k, sizes, codes } = enc;
  const centroids = clusterMeans(x, enc);
  const overall = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let f = 0, at = i * d; f < d; f++) overall[f] += data[at + f];
  for (let f = 0; f < d; f++) overall[f] /= n;
  let between = 0;
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let f = 0; f < d; f++) s += (centroids[c * d + f] - overall[f]) ** 2;
    between += sizes[c] * s;
  }
  let within = 0;
  for (let i = 0; i < n; i++) within += squaredDistance(data, i * d, centroids, codes[i] * d, d);
  return within === 0 ? 1 : (between * (n - k)) / (within * (k - 1));
}

/**
 * Davies–Bouldin: the mean over clusters of max_{j ≠ c} (s_c + s_j) / ‖μ_c − μ_j‖, s_c the mean distance of
 * cluster c's rows to its centroid. As sklearn: 0 when every s_c or every centroid distance is within 1e-8 of 0
 * (np.allclose), and a pair of coinciding centroids contributes 0 instead of dividing by zero.
 */
export function daviesBouldinScore(x: Matrix, labels: Int32Array): number {
  const enc = checkedLabels('daviesBouldinScore', x, labels);
  const { rows: n, cols: d, data } = x;
  const { k, sizes, codes } = enc;
  const centroids = clusterMeans(x, enc);
  const scatter = new Float64Array(k);
  for (let i = 0; i < n; i++) scatter[codes[i]] += Math.sqrt(squaredDistance(data, i * d, centroids, codes[i] * d, d));
  for (let c = 0; c < k; c++) scatter[c] /= sizes[c];
  const separation = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const dist = Math.sqrt(squaredDistance(centroids, a * d, centroids, b * d, d));
      separation[a * k + b] = dist;
      separation[b * k + a] = dist;
    }
  }
  const nearZero = (v: Float64Array): boolean => v.every((value) => Math.abs(value) <= 1e-8);
  if (nearZero(scatter) || nearZero(separation)) return 0;
  let total = 0;
  for (let a = 0; a < k; a++) {
    let worst = 0;
    for (let b = 0; b < k; b++) {
      const dist = separation[a * k + b];
      if (b === a || dist === 0) continue; // sklearn divides by ∞ there: a ratio of 0
      const ratio = (scatter[a] + scatter[b]) / dist;
      if (ratio > worst) worst = ratio;
    }
    total += worst;
  }
  return total / k;
}

function checkedLabels(what: string, x: Matrix, labels: Int32Array): EncodedLabels {
  checkScoreInput(what, x, labels);
  const enc = encodeLabels(labels);
  checkClusterCount(what, enc.k, x.rows);
  return enc;
}

/** k × d cluster means, accumulated in float64. */
function clusterMeans(x: Matrix, { k, sizes, codes }: EncodedLabels): Float64Array {
  const { rows: n, cols: d, data } = x;
  const means = new Float64Array(k * d);
  for (let i = 0; i < n; i++) {
    const to = codes[i] * d;
    for (let f = 0, at = i * d; f < d; f++) means[to + f] += data[at + f];
  }
  for (let c = 0; c < k; c++) for (let f = 0; f < d; f++) means[c * d + f] /= sizes[c];
  return means;
}

function squaredDistance(a: ArrayLike<number>, at: number, b: ArrayLike<number>, bt: number, d: number): number {
  let s = 0;
  for (let f = 0; f < d; f++) {
    const diff = a[at + f] - b[bt + f];
    s += diff * diff;
  }
  return s;
}
