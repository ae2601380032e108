import { FASHION_MNIST_CLASSES } from '../../src-main/engine/data/index';
import type { RunResult } from '../../src-main/engine/store/types';

/** An evaluation report of the shape the app writes, for 3 clusters (the numbers do not matter where it is used). */
export const evaluationOf = (accuracy: number): RunResult['evaluation'] => {
  const average = { precision: 0, recall: 0, f1: 0, support: 0 };
  return {
    accuracy,
    nmi: 0.5,
    ari: 0.4,
    mapping: [0, 1, 2],
    clusterSizes: [1, 1, 1],
    confusion: FASHION_MNIST_CLASSES.map(() => FASHION_MNIST_CLASSES.map(() => 0)),
    classNames: [...FASHION_MNIST_CLASSES],
    perClass: FASHION_MNIST_CLASSES.map((name, label) => ({ label, name, ...average })),
    macroAvg: average,
    weightedAvg: average,
  };
};
