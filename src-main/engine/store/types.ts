import type { TaskName } from '../schema/param-table';
import type { DatasetFormat, DatasetShape } from '../data/dataset';
import type { EvaluationReport } from '../metrics/types';

export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
/** The experiments, listed once in the parameter table. */
export type { TaskName };

export interface DatasetInfo {
  name: string;
  /** Where it was loaded from (a folder, or the file of a data set added from one file). */
  dir: string;
  format: DatasetFormat;
  /** SHA-256 of each file's decompressed content, keyed by file name. */
  checksums: Record<string, string>;
  fitSize: number;
  evalSize: number;
  /** Verification of the normalisation, over the fit set. */
  pixelStats: { min: number; max: number; mean: number };
  /**
   * sha256 of the data set's content as read for the run (data/dataset.ts): what tells a changed data set. Absent in
   * runs recorded before data sets had one.
   */
  sha256?: string;
  /** Absent in older runs: Fashion-MNIST's 28×28×1, labelled, two splits. */
  shape?: DatasetShape;
  labelled?: boolean;
  /** The run fitted on and scored the same rows (a data set with no test split). */
  singleSplit?: boolean;
  /** A features data set's images (`datasets add … --images-of`): what grids show for its rows. */
  imagesOf?: { name: string; shape: DatasetShape };
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
  /** Identifies the run across histories (imports); a fresh random one when absent. */
  uid?: string;
  /** The sweep this run is a child of. */
  sweep?: SweepLink;
  /** When the run's work began (ISO 8601), if before the row was created (loading the data, starting the backend); default now. */
  startedAt?: string;
}

/** A run's place in a sweep: the sweep's id and the child's index in the sweep's plan. */
export interface SweepLink {
  sweepId: number;
  child: number;
}

export type SweepStatus = 'queued' | 'running' | 'completed' | 'partial' | 'failed' | 'cancelled';

/** A sweep's varied parameters, in order: [[paramName, [values…]], …]; [] for a seeds-only sweep. */
export type SweepGrid = [string, unknown[]][];

export interface NewSweep {
  /** Identifies the sweep across histories; a fresh random one when absent. */
  uid?: string;
  name?: string | null;
  task: TaskName;
  /** The base experiment's parameters: the task and every parameter, seed excluded. */
  base: Record<string, unknown>;
  grid: SweepGrid;
  seeds: number[];
  status?: SweepStatus;
}

/** What a sweep's runner learns at each beat: it still runs the sweep, was asked to cancel, lost it, or it is gone. */
export type SweepBeat = 'owned' | 'cancel-requested' | 'taken-over' | 'deleted';

/** What cancelSweep did: asked the live process running it, cancelled one whose process is gone, or nothing. */
export type SweepCancel = 'requested' | 'cancelled' | 'not-running';

export interface SweepRecord {
  id: number;
  uid: string;
  name: string | null;
  task: TaskName;
  base: Record<string, unknown>;
  grid: SweepGrid;
  seeds: number[];
  status: SweepStatus;
  createdAt: string;
  endedAt: string | null;
}

/**
 * What a run leaves besides its row, by name: files in its artifact folder and facts about them, stored as one
 * JSON object of strings. Every name the engine writes is listed here.
 */
export type RunArtifacts = {
  /** The trained or adopted autoencoder's folder, its architecture id, its code width, the sha256 of its files. */
  autoencoder?: string;
  architecture?: string;
  codeSize?: string;
  autoencoderSha256?: string;
  /** What the encoder was fitted on: the training images, or training and test images (transductive). */
  encoderFitOn?: 'train' | 'train+test';
  /** Codes of the fit and eval images (float32, row-major) and the sha256 of each file. */
  codesFit?: string;
  codesEval?: string;
  codesFitSha256?: string;
  codesEvalSha256?: string;
  /** Ids of the runs whose encoder (and codes) this run took over. */
  reusedEncoderFrom?: string;
  reusedCodesFrom?: string;
  /** The uid of the run whose encoder this run took over: `runs import` finds it by this in another history. */
  reusedEncoderUid?: string;
  protocol?: 'inductive' | 'transductive';
  /** The UMAP embedding of the eval images and its width. */
  embeddingEval?: string;
  embeddingDims?: string;
  /** A mixture's posterior probabilities of the eval rows (float32, rows × k). */
  probabilitiesEval?: string;
  /** The 2-D map of the eval images the UI shows, and how it was made. */
  map2dEval?: string;
  map2dMethod?: 'umap' | 'pca';
  /** Other files recorded with a run later (a figure, a report): the store takes any name → path. */
  [other: string]: string | undefined;
};

export interface RunResult {
  /** accuracy, nmi and ari only when the data set is labelled; silhouette & co. for every run. */
  metrics: { accuracy?: number; nmi?: number; ari?: number; inertia?: number; logLikelihood?: number; [k: string]: number | undefined };
  /** The scores against the labels; null for a data set without labels. */
  evaluation: EvaluationReport | null;
  /** Cluster index of every eval image, in eval-set order. */
  assignments: Int32Array;
  timings: Record<string, number>;
  artifacts?: RunArtifacts;
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
  artifacts: RunArtifacts;
  losses: EpochLoss[];
  /** Random hex id, the same in every history the run is imported into (null only in read-only pre-sweep histories). */
  uid: string | null;
  /** The sweep it is a child of, and its index in the sweep's plan; null for a run of its own. */
  sweepId: number | null;
  sweepChild: number | null;
  /** Loaded only by getRun(id, { withAssignments: true }). */
  assignments?: Int32Array | null;
}
