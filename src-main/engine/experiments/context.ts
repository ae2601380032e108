import type { DatasetShape } from '../data/dataset';
import type { RunStore } from '../store/index';
import type { DatasetInfo, RunRecord } from '../store/types';
import type { Images, ProgressFn } from '../types';

/**
 * What each stage of a run works with: the run's row and folder, the images, progress, cancellation. The
 * images come without labels (types.withoutLabels): no training, fitting or selection step can read them; only
 * the evaluation in run.ts holds them.
 */
export interface StageContext {
  run: RunRecord;
  /** The run's artifact folder. */
  dir: string;
  /**
   * The rows of both splits. A features data set's rows come as 1×d "images": only the encoders that take its shape
   * (spec.ts) ever treat them as pictures.
   */
  images: { train: Images; test: Images };
  shape: DatasetShape;
  /** The data the run was given, as recorded with it (checksums, sizes). */
  dataset: DatasetInfo;
  store: RunStore;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
}

/** What a stage gives back: its output, and what it measured (merged into the run's metrics and timings). */
export interface StageResult<T> {
  output: T;
  metrics: Record<string, number>;
  timings: Record<string, number>;
}

export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor() {
    super('Run cancelled');
  }
}

export const isAbort = (err: unknown, signal?: AbortSignal): boolean =>
  err instanceof CancelledError || (err as Error)?.name === 'AbortError' || signal?.aborted === true;
