/**
 * What the label-free scores share: checking the matrix and the labels, and compacting the label values to
 * cluster codes 0..k-1 in ascending value order, as scikit-learn's LabelEncoder does (a value that no row carries is
 * no cluster at all).
 */
import type { Matrix } from '../types';

export interface EncodedLabels {
  /** codes[i] in 0..k-1: the rank of labels[i] among the distinct label values. */
  codes: Int32Array;
  /** Rows per cluster code (each ≥ 1). */
  sizes: Int32Array;
  /** Number of clusters: distinct label values. */
  k: number;
}

/** Throws one line naming `what` unless `x` is a consistent, finite matrix with one label per row. */
export function checkScoreInput(what: string, x: Matrix, labels: Int32Array): void {
  const { rows, cols, data } = x;
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1) {
    throw new RangeError(`${what}: the matrix must have at least one row and one column, got ${rows} × ${cols}`);
  }
  if (!(data instanceof Float32Array) || data.length !== rows * cols) {
    throw new RangeError(`${what}: the matrix holds ${data?.length} values, not rows × cols = ${rows} × ${cols}`);
  }
  if (!(labels instanceof Int32Array) || labels.length !== rows) {
    throw new RangeError(`${what}: ${labels?.length} labels for ${rows} rows (one label per row is needed)`);
  }
  for (let i = 0; i < data.length; i++) {
    // x − x is 0 for finite x, NaN for ±Infinity and NaN: one subtraction instead of Number.isFinite's call.
    if (data[i] - data[i] !== 0) {
      throw new RangeError(`${what}: row ${Math.floor(i / cols)} holds ${data[i]} (every value must be finite)`);
    }
  }
}

/** The cluster codes of `labels`, in ascending label-value order. */
export function encodeLabels(labels: Int32Array): EncodedLabels {
  const values = Int32Array.from(new Set(labels)).sort();
  const rank = new Map<number, number>();
  values.forEach((v, r) => rank.set(v, r));
  const codes = new Int32Array(labels.length);
  const sizes = new Int32Array(values.length);
  for (let i = 0; i < labels.length; i++) {
    const c = rank.get(labels[i])!;
    codes[i] = c;
    sizes[c]++;
  }
  return { codes, sizes, k: values.length };
}

/** scikit-learn's check_number_of_labels: 2 ≤ k ≤ n − 1, else one line naming `what` (and `where`, e.g. a sample). */
export function checkClusterCount(what: string, k: number, n: number, where = ''): void {
  if (k < 2 || k > n - 1) {
    throw new RangeError(
      `${what}: ${k} distinct label${k === 1 ? '' : 's'} among ${n} rows${where}; ` +
        `the score needs 2 to n − 1 = ${n - 1} clusters (as scikit-learn)`,
    );
  }
}
