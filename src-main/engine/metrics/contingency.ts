/** Label arrays accepted by the metrics: plain arrays or typed arrays of integer labels. */
export type Labels = ArrayLike<number>;

function checkSameLength(pred: Labels, truth: Labels): void {
  if (pred.length !== truth.length) {
    throw new RangeError(`pred and truth differ in length (${pred.length} vs ${truth.length})`);
  }
}

/**
 * Counts of (cluster, label) pairs: `result[cluster][label]`, a k × nClasses matrix of integers.
 * Every prediction must be an integer in [0, k) and every label an integer in [0, nClasses).
 */
export function contingency(pred: Labels, truth: Labels, k: number, nClasses: number): number[][] {
  checkSameLength(pred, truth);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer (got ${k})`);
  if (!Number.isInteger(nClasses) || nClasses < 1) throw new RangeError(`nClasses must be a positive integer (got ${nClasses})`);
  const flat = new Float64Array(k * nClasses);
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i];
    const t = truth[i];
    if (!(Number.isInteger(p) && p >= 0 && p < k)) throw new RangeError(`pred[${i}] = ${p} is not a cluster index in [0, ${k})`);
    if (!(Number.isInteger(t) && t >= 0 && t < nClasses)) throw new RangeError(`truth[${i}] = ${t} is not a label in [0, ${nClasses})`);
    flat[p * nClasses + t]++;
  }
  const out: number[][] = [];
  for (let r = 0; r < k; r++) out.push(Array.from(flat.subarray(r * nClasses, (r + 1) * nClasses)));
  return out;
}

/**
 * Contingency table for arbitrary integer labelings (any values, e.g. -1), used by the label-agnostic scores
 * (NMI, ARI). Non-negative labels index rows/columns directly (empty rows or columns do not change those
 * scores); anything else is first compacted to 0..m-1.
 */
export function labelContingency(pred: Labels, truth: Labels): number[][] {
  checkSameLength(pred, truth);
  const p = denseLabels(pred, 'pred');
  const t = denseLabels(truth, 'truth');
  if (pred.length === 0) return [];
  return contingency(p.codes, t.codes, p.size, t.size);
}

function denseLabels(labels: Labels, what: string): { codes: Labels; size: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (!Number.isInteger(v)) throw new RangeError(`${what}[${i}] = ${v} is not an integer label`);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (labels.length === 0) return { codes: labels, size: 1 };
  // Direct indexing when labels are small non-negative integers.
  if (min >= 0 && max < Math.max(4 * labels.length, 1024)) return { codes: labels, size: max + 1 };
  const index = new Map<number, number>();
  const codes = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    let code = index.get(labels[i]);
    if (code === undefined) {
      code = index.size;
      index.set(labels[i], code);
    }
    codes[i] = code;
  }
  return { codes, size: index.size };
}

export function rowSums(table: number[][]): number[] {
  return table.map((row) => row.reduce((a, b) => a + b, 0));
}

export function colSums(table: number[][]): number[] {
  const out: number[] = new Array(table[0]?.length ?? 0).fill(0);
  for (const row of table) for (let j = 0; j < row.length; j++) out[j] += row[j];
  return out;
}
