import { linearSumAssignment } from 'linear-sum-assignment';
import { contingency, type Labels } from './contingency';

/**
 * Cluster → label assignment that maximises the number of correctly matched samples (the Hungarian /
 * Jonker–Volgenant optimum, via `linear-sum-assignment`), from a k × C contingency table
 * (`table[cluster][label]`).
 *
 * Like the study's `acc()` (scipy's `linear_sum_assignment` on a max(k, C) square), the table is padded with
 * zeros to a square: when k > C, the k − C clusters that end up on padding columns have no label and get -1
 * (their samples count as errors); when k < C, some labels receive no cluster.
 *
 * Returns `mapping[cluster]` = label in [0, C) or -1.
 */
export function hungarianMapping(table: number[][]): number[] {
  const k = table.length;
  if (k === 0) return [];
  const nClasses = table[0].length;
  const n = Math.max(k, nClasses);
  const square: number[][] = [];
  for (let r = 0; r < n; r++) {
    const row = new Array<number>(n).fill(0);
    if (r < k) {
      if (table[r].length !== nClasses) throw new RangeError('contingency table rows differ in length');
      for (let c = 0; c < nClasses; c++) {
        const v = table[r][c];
        if (!Number.isFinite(v)) throw new RangeError(`contingency[${r}][${c}] = ${v} is not finite`);
        row[c] = v;
      }
    }
    square.push(row);
  }
  const { rowAssignments } = linearSumAssignment(square, { maximaze: true });
  const mapping: number[] = [];
  for (let r = 0; r < k; r++) {
    const c = rowAssignments[r];
    mapping.push(c >= 0 && c < nClasses ? c : -1);
  }
  // The solver always yields a full permutation on a finite square matrix; guard against surprises anyway.
  const used = new Set<number>();
  for (const label of mapping) {
    if (label < 0) continue;
    if (used.has(label)) throw new Error(`linear-sum-assignment returned label ${label} twice`);
    used.add(label);
  }
  return mapping;
}

/** Samples whose cluster maps to their true label, divided by the total count, from a contingency table. */
export function accuracyFromContingency(table: number[][], mapping: number[] = hungarianMapping(table)): number {
  let correct = 0;
  let total = 0;
  table.forEach((row, cluster) => {
    const label = mapping[cluster];
    for (let c = 0; c < row.length; c++) total += row[c];
    if (label !== undefined && label >= 0) correct += row[label];
  });
  return total === 0 ? 0 : correct / total;
}

function maxLabel(labels: Labels): number {
  let max = -1;
  for (let i = 0; i < labels.length; i++) if (labels[i] > max) max = labels[i];
  return max;
}

/**
 * Clustering accuracy: the fraction of samples whose cluster's Hungarian-mapped label is their true label
 * (the study's `acc()`). Clusters and labels must be non-negative integers; k and the class count default to
 * the largest value + 1. Pass `mapping` to score a fixed mapping instead of the optimal one.
 */
export function accuracy(pred: Labels, truth: Labels, opts: { k?: number; nClasses?: number; mapping?: number[] } = {}): number {
  if (pred.length === 0 && truth.length === 0) return 0;
  const k = opts.k ?? Math.max(maxLabel(pred) + 1, opts.mapping?.length ?? 0, 1);
  const nClasses = opts.nClasses ?? Math.max(maxLabel(truth) + 1, 1);
  const table = contingency(pred, truth, k, nClasses);
  return accuracyFromContingency(table, opts.mapping ?? hungarianMapping(table));
}
