/**
 * Clustering metrics, pure TypeScript (no tfjs, no electron): Hungarian-mapped accuracy, NMI, ARI,
 * classification report and confusion matrix, as computed by the study with scipy / scikit-learn.
 */
export type { AverageReport, ClassReport, EvaluationReport } from './types';
export { contingency, labelContingency, type Labels } from './contingency';
export { hungarianMapping, accuracy, accuracyFromContingency } from './mapping';
export { nmi, nmiFromContingency, ari, ariFromContingency, mutualInfoFromContingency } from './agreement';
export {
  classificationReport,
  classificationReportFromContingency,
  confusionMatrix,
  confusionFromContingency,
  mapLabels,
  type ClassificationReport,
  type MappingOptions,
} from './classification';
export { evaluate, type EvaluateOptions } from './evaluate';
export {
  calinskiHarabaszScore,
  clusterScores,
  daviesBouldinScore,
  defaultSilhouetteMaxExact,
  silhouetteOfRows,
  silhouetteSampleIndices,
  silhouetteScore,
  type ClusterScores,
  type SilhouetteOptions,
  type SilhouetteResult,
} from './internal';
