import type { FashionMnist } from '../data/index';
import type { RunStore } from '../store/index';
import type { RunRecord } from '../store/types';
import type { ProgressFn } from '../types';

/** What each stage of a run works with: the run's row and folder, the data, progress, cancellation, timings. */
export interface StageContext {
  run: RunRecord;
  /** The run's artifact folder. */
  dir: string;
  data: FashionMnist;
  store: RunStore;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
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
