import { colSums, labelContingency, rowSums, type Labels } from './contingency';

const EPS = 2.220446049250313e-16; // numpy float64 eps, as used by scikit-learn

/** Shannon entropy (nats) of a vector of counts, as sklearn's `entropy` (0 for a single non-empty class). */
function entropyOfCounts(counts: number[]): number {
  const nz = counts.filter((c) => c > 0);
  if (nz.length <= 1) return 0;
  const total = nz.reduce((a, b) => a + b, 0);
  const logTotal = Math.log(total);
  let h = 0;
  for (const c of nz) h -= (c / total) * (Math.log(c) - logTotal);
  return h;
}

/** Mutual information (nats) of a contingency table, computed like sklearn's `mutual_info_score`. */
export function mutualInfoFromContingency(table: number[][]): number {
  const a = rowSums(table);
  const b = colSums(table);
  const nonEmptyRows = a.filter((x) => x > 0).length;
  const nonEmptyCols = b.filter((x) => x > 0).length;
  if (nonEmptyRows <= 1 || nonEmptyCols <= 1) return 0;
  const n = a.reduce((s, x) => s + x, 0);
  const logN = Math.log(n);
  let mi = 0;
  for (let i = 0; i < table.length; i++) {
    for (let j = 0; j < table[i].length; j++) {
      const nij = table[i][j];
      if (nij <= 0) continue;
      const p = nij / n;
      const term = p * (Math.log(nij) - logN) + p * (-Math.log(a[i] * b[j]) + 2 * logN);
      if (Math.abs(term) >= EPS) mi += term;
    }
  }
  return Math.max(mi, 0);
}

/**
 * Normalised mutual information with arithmetic-mean normalisation, MI / ((H(pred) + H(truth)) / 2) — the
 * default of sklearn's `normalized_mutual_info_score`, including its special cases (both labelings with a
 * single class → 1; zero MI → 0). Symmetric and invariant to relabelling; takes any k × C contingency table.
 */
export function nmiFromContingency(table: number[][]): number {
  const a = rowSums(table);
  const b = colSums(table);
  const nonEmptyRows = a.filter((x) => x > 0).length;
  const nonEmptyCols = b.filter((x) => x > 0).length;
  if (nonEmptyRows === nonEmptyCols && nonEmptyRows <= 1) return 1;
  const mi = mutualInfoFromContingency(table);
  if (mi === 0) return 0;
  const normalizer = Math.max((entropyOfCounts(a) + entropyOfCounts(b)) / 2, EPS);
  return mi / normalizer;
}

/** NMI (arithmetic normalisation, sklearn's default) between two labelings of the same samples. */
export function nmi(pred: Labels, truth: Labels): number {
  return nmiFromContingency(labelContingency(pred, truth));
}

/**
 * Adjusted Rand index from a contingency table, following sklearn's `adjusted_rand_score` (pair confusion
 * matrix; 1 when the two partitions agree on every pair). The final products use BigInt so that, like
 * sklearn's Python integers, they stay exact for large sample counts.
 */
export function ariFromContingency(table: number[][]): number {
  const a = rowSums(table);
  const b = colSums(table);
  const n = a.reduce((s, x) => s + x, 0);
  let sumSquares = 0;
  let dotA = 0; // Σ_ij n_ij · a_i (a: cluster sizes)
  let dotB = 0; // Σ_ij n_ij · b_j (b: class sizes)
  for (let i = 0; i < table.length; i++) {
    for (let j = 0; j < table[i].length; j++) {
      const nij = table[i][j];
      if (nij === 0) continue;
      sumSquares += nij * nij;
      dotB += nij * b[j];
      dotA += nij * a[i];
    }
  }
  // Ordered-pair counts (each unordered pair twice), exactly as sklearn's pair_confusion_matrix.
  const tp = BigInt(sumSquares - n);
  const fp = BigInt(dotA - sumSquares); // same cluster, different classes
  const fn = BigInt(dotB - sumSquares); // same class, different clusters
  const tn = BigInt(n) * BigInt(n) - fp - fn - BigInt(sumSquares);
  if (fn === 0n && fp === 0n) return 1;
  const num = 2n * (tp * tn - fn * fp);
  const den = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn);
  return Number(num) / Number(den);
}

/** Adjusted Rand index (sklearn's `adjusted_rand_score`) between two labelings of the same samples. */
export function ari(pred: Labels, truth: Labels): number {
  return ariFromContingency(labelContingency(pred, truth));
}
