/** Checks every format reader makes of the splits it read, worded the same way whatever the container. */
import { defaultClassNames, describeShape, type DataSplit, type DatasetShape } from '../dataset';
import { DataError } from '../errors';

/** `class 0` … `class M` for the largest label M of either split; undefined when neither has labels. */
export function defaultClassNamesOf(train: DataSplit, test?: DataSplit): string[] | undefined {
  if (!train.labels && !test?.labels) return undefined;
  let max = 0;
  for (const labels of [train.labels, test?.labels]) {
    if (labels) for (let i = 0; i < labels.length; i++) if (labels[i] > max) max = labels[i];
  }
  return defaultClassNames(max + 1);
}

/** Both splits labelled or neither: a run scores the test split with the labels the training split was read with. */
export function checkSameLabelling(train: DataSplit, test: DataSplit, trainFile: string, testFile: string): void {
  if (train.labels && !test.labels)
    throw new DataError(`the test split has no labels while the training split (${trainFile}) has: give both or neither`, testFile);
  if (!train.labels && test.labels)
    throw new DataError(`the test split has labels while the training split (${trainFile}) has none: give both or neither`, testFile);
}

/** The test rows must have the training rows' shape. */
export function checkSameShape(train: DatasetShape, test: DatasetShape, testFile: string): void {
  if (describeShape(train) !== describeShape(test) || train.kind !== test.kind) {
    throw new DataError(`the test rows are ${describeShape(test)} but the training rows ${describeShape(train)}`, testFile);
  }
}

/** The row and column (0-based) of the first NaN or ±Infinity among rows of `size` values, or undefined. */
export function firstNonFinite(values: ArrayLike<number>, size: number): { row: number; column: number; value: number } | undefined {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // v - v is NaN exactly for NaN and ±Infinity, and cheaper than Number.isFinite in this loop
    if (v - v !== 0) return { row: Math.floor(i / size), column: i % size, value: v };
  }
  return undefined;
}
