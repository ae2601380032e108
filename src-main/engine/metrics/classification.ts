import { contingency, type Labels } from './contingency';
import { hungarianMapping } from './mapping';
import type { AverageReport, ClassReport } from './types';

export interface MappingOptions {
  /** Number of clusters; defaults to max(pred) + 1. */
  k?: number;
  /** Number of classes; defaults to classNames.length, else max(truth) + 1. */
  nClasses?: number;
  /** Cluster → label mapping to apply; defaults to the Hungarian optimum. */
  mapping?: number[];
}

export interface ClassificationReport {
  perClass: ClassReport[];
  macroAvg: AverageReport;
  weightedAvg: AverageReport;
}

/** `mapping[pred[i]]` for every sample: the label each prediction stands for (-1 for unmatched clusters). */
export function mapLabels(pred: Labels, mapping: number[]): Int32Array {
  const out = new Int32Array(pred.length);
  for (let i = 0; i < pred.length; i++) {
    const label = mapping[pred[i]];
    if (label === undefined) throw new RangeError(`pred[${i}] = ${pred[i]} has no entry in the mapping`);
    out[i] = label;
  }
  return out;
}

function maxPlusOne(labels: Labels): number {
  let max = -1;
  for (let i = 0; i < labels.length; i++) if (labels[i] > max) max = labels[i];
  return Math.max(max + 1, 1);
}

function resolve(pred: Labels, truth: Labels, opts: MappingOptions & { classNames?: string[] }) {
  const k = opts.k ?? Math.max(maxPlusOne(pred), opts.mapping?.length ?? 0);
  const nClasses = opts.nClasses ?? opts.classNames?.length ?? maxPlusOne(truth);
  const table = contingency(pred, truth, k, nClasses);
  const mapping = opts.mapping ?? hungarianMapping(table);
  if (mapping.length !== k) throw new RangeError(`mapping has ${mapping.length} entries for ${k} clusters`);
  return { table, mapping, nClasses };
}

/**
 * Confusion matrix of the mapped predictions from a k × C contingency table: `result[trueLabel][mappedLabel]`,
 * C × C, rows and columns in label order.
 *
 * Samples of clusters mapped to -1 (unmatched, only when k > C) fall in no column: they are errors, so a
 * row may sum to less than the class's support. The trace divided by the sample count is the accuracy.
 */
export function confusionFromContingency(table: number[][], mapping: number[]): number[][] {
  const nClasses = table[0]?.length ?? 0;
  const out = Array.from({ length: nClasses }, () => new Array<number>(nClasses).fill(0));
  table.forEach((row, cluster) => {
    const label = mapping[cluster];
    if (label === undefined || label < 0) return;
    if (label >= nClasses) throw new RangeError(`mapping[${cluster}] = ${label} is not a label in [0, ${nClasses})`);
    for (let t = 0; t < nClasses; t++) out[t][label] += row[t];
  });
  return out;
}

/**
 * Confusion matrix in mapped order: rows the true label, columns the label each cluster is mapped to
 * (Hungarian by default). Predictions of unmatched clusters (-1) land in no column but remain errors.
 */
export function confusionMatrix(pred: Labels, truth: Labels, opts: MappingOptions = {}): number[][] {
  const { table, mapping } = resolve(pred, truth, opts);
  return confusionFromContingency(table, mapping);
}

const ratio = (num: number, den: number): number => (den === 0 ? 0 : num / den); // zero_division = 0

/**
 * Per-class precision, recall, F1 and support of the mapped predictions, with macro and support-weighted
 * averages — scikit-learn's `classification_report(y_true, mapping[pred], labels=range(C), zero_division=0)`.
 * Every class 0..C-1 is reported (also those absent from the data); predictions of unmatched clusters (-1)
 * are false negatives of their true class and false positives of none, and no "-1" row is added.
 * Averages carry the total support, as sklearn's do.
 */
export function classificationReportFromContingency(table: number[][], mapping: number[], classNames?: string[]): ClassificationReport {
  const nClasses = table[0]?.length ?? 0;
  const tp = new Array<number>(nClasses).fill(0);
  const predicted = new Array<number>(nClasses).fill(0);
  const support = new Array<number>(nClasses).fill(0);
  table.forEach((row, cluster) => {
    const label = mapping[cluster];
    let size = 0;
    for (let t = 0; t < nClasses; t++) {
      support[t] += row[t];
      size += row[t];
    }
    if (label !== undefined && label >= 0) {
      tp[label] += row[label];
      predicted[label] += size;
    }
  });
  const perClass: ClassReport[] = [];
  for (let c = 0; c < nClasses; c++) {
    const fp = predicted[c] - tp[c];
    const fn = support[c] - tp[c];
    perClass.push({
      label: c,
      name: classNames?.[c] ?? String(c),
      precision: ratio(tp[c], predicted[c]),
      recall: ratio(tp[c], support[c]),
      f1: ratio(2 * tp[c], 2 * tp[c] + fp + fn),
      support: support[c],
    });
  }
  const total = support.reduce((a, b) => a + b, 0);
  const mean = (f: (r: ClassReport) => number) =>
    ratio(
      perClass.reduce((s, r) => s + f(r), 0),
      nClasses,
    );
  const weighted = (f: (r: ClassReport) => number) =>
    ratio(
      perClass.reduce((s, r) => s + f(r) * r.support, 0),
      total,
    );
  return {
    perClass,
    macroAvg: { precision: mean((r) => r.precision), recall: mean((r) => r.recall), f1: mean((r) => r.f1), support: total },
    weightedAvg: {
      precision: weighted((r) => r.precision),
      recall: weighted((r) => r.recall),
      f1: weighted((r) => r.f1),
      support: total,
    },
  };
}

/** {@link classificationReportFromContingency} from label arrays (Hungarian mapping unless `mapping` is given). */
export function classificationReport(
  pred: Labels,
  truth: Labels,
  opts: MappingOptions & { classNames?: string[] } = {},
): ClassificationReport {
  const { table, mapping } = resolve(pred, truth, opts);
  return classificationReportFromContingency(table, mapping, opts.classNames);
}
