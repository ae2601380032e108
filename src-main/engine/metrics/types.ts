export interface ClassReport {
  label: number;
  name: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface AverageReport {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Everything the study reported for one clustering, on one labelled set. */
export interface EvaluationReport {
  accuracy: number;
  nmi: number;
  ari: number;
  /** mapping[cluster] = label it was assigned by the Hungarian algorithm, or -1 when left unmatched (k > classes). */
  mapping: number[];
  /** Cluster sizes on the evaluated set. */
  clusterSizes: number[];
  /** confusion[trueLabel][predictedLabel] after mapping; rows and columns in label order 0..C-1. */
  confusion: number[][];
  classNames: string[];
  perClass: ClassReport[];
  macroAvg: AverageReport;
  weightedAvg: AverageReport;
}
