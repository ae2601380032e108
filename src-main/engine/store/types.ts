import type { TaskName } from '../experiments/paramTable';
import type { EvaluationReport } from '../metrics/types';

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
/** The experiments, listed once in the parameter table. */
export type { TaskName };

export interface DatasetInfo {
  name: string;
  /** Where it was loaded from. */
  dir: string;
  format: 'idx' | 'csv';
  /** SHA-256 of each file's decompressed content, keyed by file name. */
  checksums: Record<string, string>;
  fitSize: number;
  evalSize: number;
  /** Verification of the normalisation, over the fit set. */
  pixelStats: { min: number; max: number; mean: number };
}

export interface EpochLoss {
  epoch: number;
  trainLoss: number;
  valLoss: number | null;
}

export interface NewRun {
  task: TaskName;
  /** Every parameter, as plain data (seed included). */
  params: Record<string, unknown>;
  seed: number;
  backend: string;
  dataset?: DatasetInfo;
}

export interface RunResult {
  metrics: { accuracy: number; nmi: number; ari: number; inertia?: number; logLikelihood?: number; [k: string]: number | undefined };
  evaluation: EvaluationReport;
  /** Cluster index of every eval image, in eval-set order. */
  assignments: Int32Array;
  timings: Record<string, number>;
  artifacts?: Record<string, string>;
}

export interface RunRecord {
  id: number;
  task: TaskName;
  params: Record<string, unknown>;
  seed: number;
  backend: string;
  dataset: DatasetInfo | null;
  status: RunStatus;
  error: string | null;
  startedAt: string; // ISO 8601
  endedAt: string | null;
  metrics: RunResult['metrics'] | null;
  evaluation: EvaluationReport | null;
  timings: Record<string, number> | null;
  artifacts: Record<string, string>;
  losses: EpochLoss[];
  /** Loaded only by getRun(id, { withAssignments: true }). */
  assignments?: Int32Array | null;
}
