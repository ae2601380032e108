import { ariFromContingency, nmiFromContingency } from './agreement';
import { classificationReportFromContingency, confusionFromContingency } from './classification';
import { contingency, rowSums } from './contingency';
import { accuracyFromContingency, hungarianMapping } from './mapping';
import type { EvaluationReport } from './types';

export interface EvaluateOptions {
  /** Number of clusters the model was fitted with (clusters may be empty on the evaluated set). */
  k: number;
  /** One name per label 0..C-1. */
  classNames: string[];
}

/**
 * Everything the study reported for a clustering of a labelled set, from one k × C contingency table:
 * Hungarian accuracy, NMI, ARI, cluster → label mapping (-1 for unmatched clusters when k > C), cluster sizes,
 * the mapped confusion matrix and the classification report of the mapped predictions.
 */
export function evaluate(pred: Int32Array, truth: Uint8Array, opts: EvaluateOptions): EvaluationReport {
  const { k, classNames } = opts;
  if (classNames.length === 0) throw new RangeError('classNames must name at least one class');
  if (pred.length !== truth.length) {
    throw new RangeError(`pred and truth differ in length (${pred.length} vs ${truth.length})`);
  }
  if (pred.length === 0) throw new RangeError('cannot evaluate an empty set');
  const table = contingency(pred, truth, k, classNames.length);
  const mapping = hungarianMapping(table);
  const report = classificationReportFromContingency(table, mapping, classNames);
  return {
    accuracy: accuracyFromContingency(table, mapping),
    nmi: nmiFromContingency(table),
    ari: ariFromContingency(table),
    mapping,
    clusterSizes: rowSums(table),
    confusion: confusionFromContingency(table, mapping),
    classNames: [...classNames],
    perClass: report.perClass,
    macroAvg: report.macroAvg,
    weightedAvg: report.weightedAvg,
  };
}
