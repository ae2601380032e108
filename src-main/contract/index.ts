/**
 * The one contract between the UI and the engine: every operation (request → response) and every event
 * (engine → UI). Main validates every request against these schemas; preload exposes them one function each
 * as `window.clusterbench`; the web mode bridges the same contract over a WebSocket. This module must stay
 * free of Node and Electron imports: the renderer bundles it.
 */
import { z } from 'zod';
import type { EvaluationReport } from '../engine/metrics/types';
import { PARAM_NAMES } from '../engine/schema/param-table';
import { MAX_SEEDS, MAX_SWEEP_RUNS, sweepNameSchema } from '../engine/schema/sweep';
import type { MeanSd, SweepRow } from '../engine/schema/sweep-summary';
import { MAX_TABLE_RUNS, METHOD_TABLE_FORMATS, METHOD_TABLE_METRICS } from '../engine/schema/method-table';
import type { DatasetInfo, EpochLoss, RunRecord, RunStatus, SweepStatus, TaskName } from '../engine/store/types';
import { EVENT_NAMES, OPERATION_NAMES, type EventNameLiteral, type OperationName } from './names';
import { datasetRequests, type DatasetEvents, type DatasetResponses } from './datasets';
import { confusionExportRequest } from './figure-export';

export { EVENT_NAMES, OPERATION_NAMES, IPC_CALL_CHANNEL, IPC_EVENT_CHANNEL } from './names';
/** The experiments (RunSummary.task, runs.start's params.task), listed once in the parameter table. */
export { TASKS } from '../engine/schema/param-table';

const runId = z.number().int().positive();
/** What `export run --what` and export.runArrays export of a run, each as .npy arrays. */
export const RUN_ARRAY_ITEMS = ['codes', 'embedding', 'assignments', 'probabilities'] as const;
export type RunArrayItem = (typeof RUN_ARRAY_ITEMS)[number];
const sweepId = z.number().int().positive();
const split = z.enum(['train', 'test']);

/**
 * A sweep: the base experiment (like runs.start), its seeds and the grid of parameter values (names as in params).
 * Bounded here so no message can ask for more than MAX_SWEEP_RUNS runs; the plan counts the product before it
 * builds anything. The name is one short line of printable text.
 */
const sweepRequest = z.object({
  params: z.record(z.string(), z.unknown()),
  seeds: z.array(z.number().int().min(0)).min(1).max(MAX_SEEDS),
  grid: z
    .array(z.tuple([z.string().min(1), z.array(z.unknown()).max(MAX_SWEEP_RUNS)]))
    .max(PARAM_NAMES.length)
    .default([]),
  maxRuns: z.number().int().positive().max(MAX_SWEEP_RUNS).optional(),
  name: sweepNameSchema.nullable().optional(),
});

/** Request schemas, one per operation. */
export const requests = {
  'runs.start': z.object({ params: z.record(z.string(), z.unknown()) }),
  'runs.cancel': z.object({ jobId: z.string().min(1) }),
  'runs.list': z.object({
    task: z.string().optional(),
    status: z.enum(['queued', 'running', 'completed', 'failed', 'cancelled']).optional(),
    limit: z.number().int().positive().max(10_000).optional(),
  }),
  'runs.get': z.object({ id: runId }),
  'runs.delete': z.object({ id: runId }),
  'runs.compare': z.object({ ids: z.array(runId).min(2).max(4) }),
  /** A page of one cluster's eval images, for the image grids. */
  'runs.clusterImages': z.object({
    id: runId,
    cluster: z.number().int().min(0),
    onlyMistakes: z.boolean().default(false),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(400).default(60),
    shuffleSeed: z.number().int().min(0).optional(),
  }),
  /** Input and reconstruction of one eval image (reconstruction only for autoencoder runs). */
  'runs.imageDetail': z.object({ id: runId, index: z.number().int().min(0) }),
  /**
   * 2-D map of a run's eval images for a scatter plot: the run's own map (a 2-D UMAP or PCA of the eval codes,
   * stored by pipeline runs), else a PCA of its eval codes, else of the raw pixels. `maxPoints` thins it evenly.
   */
  'runs.embedding': z.object({ id: runId, maxPoints: z.number().int().min(1).max(100_000).optional() }),
  'jobs.list': z.object({}),
  /** Where the run history is and whether it can be changed. */
  'history.info': z.object({}),
  'dataset.info': z.object({}),
  'dataset.samples': z.object({ split: split.default('train'), perClass: z.number().int().min(1).max(50).default(10) }),
  /** A name from the download catalog (`data catalog`); default fashion-mnist. */
  'dataset.download': z.object({ name: z.string().min(1).max(64).optional() }),
  'backends.list': z.object({ measure: z.boolean().default(false) }),
  /** Server-rendered figure: the same SVG/PNG/PDF the CLI exports (options: contract/figure-export.ts). */
  'export.confusion': confusionExportRequest,
  'export.runJson': z.object({ id: runId }),
  'export.historyCsv': z.object({}),
  /** Saves bytes the UI produced (chart images, JSON, CSV) through a save dialog (desktop) or a download (web). */
  'files.save': z.object({
    suggestedName: z.string().min(1).max(255),
    data: z.string(),
    encoding: z.enum(['utf8', 'base64']),
  }),
  /** How many runs a sweep makes and about how long it takes, before starting it; invalid → 'invalid-params'. */
  'sweeps.plan': sweepRequest,
  'sweeps.start': sweepRequest,
  'sweeps.list': z.object({}),
  'sweeps.get': z.object({ id: sweepId }),
  'sweeps.cancel': z.object({ id: sweepId }),
  /** Runs the children that are pending, failed or cancelled; completed ones are kept. */
  'sweeps.resume': z.object({ id: sweepId }),
  /** Refuses a running sweep; deleteRuns false keeps the children as runs of their own. */
  'sweeps.delete': z.object({ id: sweepId, deleteRuns: z.boolean().default(true) }),
  'sweeps.compare': z.object({ ids: z.array(sweepId).min(1).max(4) }),
  /** The summary rows (mean ± sd per combination) as CSV, the same as `sweeps export`. */
  'export.sweepCsv': z.object({ id: sweepId }),
  /**
   * The methods × data sets table (mean ± sd of one metric per method and data set) of a sweep's runs or of the runs
   * named, as CSV, Markdown or LaTeX (booktabs): the same file as `export table`.
   */
  'export.methodTable': z
    .object({
      sweep: sweepId.optional(),
      runs: z.array(runId).min(1).max(MAX_TABLE_RUNS).optional(),
      metric: z.enum(METHOD_TABLE_METRICS).default('accuracy'),
      format: z.enum(METHOD_TABLE_FORMATS).default('tex'),
    })
    .refine((req) => (req.sweep === undefined) !== (req.runs === undefined), { message: 'name either a sweep or runs' }),
  /**
   * A run's arrays (codes, embeddings, assignments, probabilities; absent: all it has) as one .npz that numpy.load
   * reads, with export.json describing each array: the files `export run --what` writes.
   */
  'export.runArrays': z.object({ id: runId, what: z.array(z.enum(RUN_ARRAY_ITEMS)).min(1).max(RUN_ARRAY_ITEMS.length).optional() }),
  ...datasetRequests,
} as const satisfies Record<OperationName, z.ZodType>;

export type Operation = keyof typeof requests;
export const OPERATIONS: Operation[] = [...OPERATION_NAMES];
export type RequestOf<O extends Operation> = z.input<(typeof requests)[O]>;
export type ParsedRequestOf<O extends Operation> = z.output<(typeof requests)[O]>;

export interface RunSummary {
  id: number;
  task: TaskName;
  status: RunStatus;
  params: Record<string, unknown>;
  backend: string;
  startedAt: string;
  endedAt: string | null;
  error: string | null;
  accuracy: number | null;
  nmi: number | null;
  ari: number | null;
  /** Label-free: every completed run of a data set has it (null for older runs). */
  silhouette: number | null;
  /** The data set's name and whether it was labelled (null for runs recorded before data sets). */
  dataset: { name: string; labelled: boolean; shape: string | null } | null;
  /** Wall time of the whole run (data loading included), when it completed. */
  totalMs: number | null;
  /** The sweep the run is a child of (its page lists the sweep's other runs). */
  sweepId: number | null;
}

export interface JobInfo {
  jobId: string;
  state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  params: unknown;
  runId?: number;
  lastProgress?: ProgressInfo;
  /** When the job began (ISO 8601; its run's stored start once the run exists): live elapsed times count from it. */
  startedAt?: string;
}

export interface ProgressInfo {
  phase: string;
  fraction?: number;
  message?: string;
  [key: string]: unknown;
}

/**
 * Images as base64 of count × height × width × channels bytes (0–255, channels last), compact to send and easy to
 * draw on a canvas.
 */
export interface ImageBatch {
  width: number;
  height: number;
  /** 1 (grey) or 3 (RGB); absent in answers of older workers: 1. */
  channels?: number;
  indices: number[];
  /** The images' labels; -1 for each image of an unlabelled data set. */
  labels: number[];
  pixelsBase64: string;
}

export interface ClusterImagesPage extends ImageBatch {
  cluster: number;
  /** The class the cluster maps to; -1 when it maps to none or the data set is unlabelled. */
  mappedLabel: number;
  clusterSize: number;
  /** Share of the cluster in its mapped class; null for an unlabelled data set. */
  purity: number | null;
  /** Images in the selection (all of the cluster, or only its mistakes). */
  total: number;
  offset: number;
}

/** 2-D coordinates of (some of) a run's eval images, with their cluster and true label. */
export interface RunEmbedding {
  /** x, y interleaved: points[2i], points[2i + 1] belong to indices[i]. */
  points: number[];
  clusters: number[];
  labels: number[];
  /** Eval-set indices of the points, ascending. */
  indices: number[];
  /** 'umap': the run's 2-D UMAP; 'pca': a PCA projection (of the codes, or of the pixels for runs without codes). */
  method: 'umap' | 'pca';
  /** What was projected. */
  source: 'map' | 'codes' | 'pixels';
}

export interface DatasetSummary {
  available: boolean;
  /** Why it is not available and how to get it. */
  problem?: string;
  info?: { name: string; dir: string; format: 'idx' | 'csv'; checksums: Record<string, string> };
  trainCount?: number;
  testCount?: number;
  classNames: string[];
  /** 256-bin histogram of raw pixel values (train) and the same pixels after /255 (20 bins over [0, 1]). */
  rawHistogram?: number[];
  normalizedHistogram?: number[];
  pixelStats?: DatasetInfo['pixelStats'];
}

/** The run history the engine uses. Read-only when its file or folder cannot be written: runs can be viewed, not started or deleted. */
export interface HistoryInfo {
  path: string;
  readOnly: boolean;
  /** Why it is read-only. */
  reason?: string;
}

export interface BackendInfo {
  name: string;
  available: boolean;
  reason?: string;
  device?: string;
  software?: boolean;
  imagesPerSec?: number;
}

export interface ExportedFile {
  suggestedName: string;
  mime: string;
  encoding: 'utf8' | 'base64';
  data: string;
}

export type { MeanSd, SweepRow, SweepStatus };

/** export.methodTable's file, with what the reader should know (runs left out…), one line each. */
export interface MethodTableFile extends ExportedFile {
  notes: string[];
}

/** A sweep in lists: its state and progress, and its best combination so far. */
export interface SweepSummary {
  id: number;
  uid: string;
  name: string | null;
  task: TaskName;
  status: SweepStatus;
  createdAt: string;
  endedAt: string | null;
  /** The grid's parameter names (+ 'seed' when there is more than one seed). */
  varied: string[];
  /** Planned runs. */
  runs: number;
  completed: number;
  failed: number;
  running: number;
  pending: number;
  best: { accuracyMean: number; accuracySd: number | null; values: Record<string, unknown> } | null;
  /**
   * Why the stored sweep cannot be read (today's validation refuses its plan: a hand-edited row, or one an older
   * version wrote), in one line; its counts are then those of the runs it has.
   */
  unreadable?: string;
}

/** One child of a sweep: its grid values and seed, and its latest run ('pending' while it has none). */
export interface SweepChild {
  index: number;
  values: Record<string, unknown>;
  state: 'pending' | RunStatus;
  run: RunSummary | null;
}

export interface SweepDetail extends SweepSummary {
  base: Record<string, unknown>;
  grid: [string, unknown[]][];
  seeds: number[];
  children: SweepChild[];
  rows: SweepRow[];
  /** Completed children's row-normalised confusion matrices, averaged within one combination; `note` says which. */
  confusionMean: { classNames: string[]; matrix: number[][]; runs: number; note: string } | null;
}

export interface SweepPlanInfo {
  runs: number;
  combinations: number;
  /** About how long the sweep takes, from the history's runs like it; null when it has none (estimateFrom says why). */
  estimateMs: number | null;
  estimateFrom: string;
}

/** Response types, one per operation. */
export interface Responses extends DatasetResponses {
  'runs.start': { jobId: string };
  'runs.cancel': { cancelled: boolean };
  'runs.list': RunSummary[];
  'runs.get': RunRecord;
  'runs.delete': { deleted: boolean };
  'runs.compare': RunRecord[];
  'runs.clusterImages': ClusterImagesPage;
  'runs.imageDetail': {
    index: number;
    /** -1 (label and mapped label) for an unlabelled data set. */
    label: number;
    cluster: number;
    mappedLabel: number;
    /** The image's size (absent in older workers' answers: 28×28×1). */
    width?: number;
    height?: number;
    channels?: number;
    pixelsBase64: string;
    reconstructionBase64: string | null;
  };
  'runs.embedding': RunEmbedding;
  'jobs.list': JobInfo[];
  'history.info': HistoryInfo;
  'dataset.info': DatasetSummary;
  'dataset.samples': ImageBatch;
  'dataset.download': { dir: string };
  'backends.list': BackendInfo[];
  'export.confusion': ExportedFile;
  'export.runJson': ExportedFile;
  'export.historyCsv': ExportedFile;
  'files.save': { saved: boolean; path?: string };
  'sweeps.plan': SweepPlanInfo;
  'sweeps.start': { sweepId: number };
  'sweeps.list': SweepSummary[];
  'sweeps.get': SweepDetail;
  'sweeps.cancel': { cancelled: boolean };
  'sweeps.resume': { resumed: boolean };
  'sweeps.delete': { deleted: boolean };
  'sweeps.compare': SweepDetail[];
  'export.sweepCsv': ExportedFile;
  'export.methodTable': MethodTableFile;
  'export.runArrays': ExportedFile;
}

/** Events pushed from the engine to every UI. */
export interface Events extends DatasetEvents {
  'job.queued': JobInfo;
  'job.started': JobInfo & { runId: number };
  'job.progress': { jobId: string; runId?: number; progress: ProgressInfo };
  'job.epoch': { jobId: string; runId: number; loss: EpochLoss };
  'job.finished': { jobId: string; runId: number; summary: RunSummary };
  'job.failed': { jobId: string; runId?: number; error: string; issues?: { param: string; message: string }[] };
  'job.cancelled': { jobId: string; runId?: number };
  'dataset.downloadProgress': { file: string; receivedBytes: number; totalBytes?: number; fileIndex: number; fileCount: number };
  /** After every child's start and end, and on every change of the sweep's state. */
  'sweep.updated': SweepSummary;
}
export type EventName = keyof Events;
export const EVENTS: EventName[] = [...EVENT_NAMES];

// Compile-time checks that names.ts lists exactly the operations and events defined here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const namesMatch: [Same<Operation, OperationName>, Same<EventName, EventNameLiteral>] = [true, true];
void namesMatch;

/**
 * An error as it crosses the boundary: a code the UI can act on and a message for people. 'queue-full': runs.start
 * while the engine's run queue is full; nothing was queued, try again once a run has finished.
 */
export interface ContractError {
  code: 'invalid-request' | 'unknown-operation' | 'not-found' | 'invalid-params' | 'queue-full' | 'failed';
  message: string;
  issues?: { param: string; message: string }[];
}

export type Reply<O extends Operation> = { ok: true; value: Responses[O] } | { ok: false; error: ContractError };

/** The API the renderer sees, whatever the transport: one async function per operation, plus events. */
export type ClusterbenchApi = {
  [O in Operation]: (request: RequestOf<O>) => Promise<Responses[O]>;
} & {
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
};

export function isOperation(name: unknown): name is Operation {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(requests, name);
}

/** Validates a request for an operation; returns the parsed value (defaults filled) or a ContractError. */
export function validateRequest<O extends Operation>(
  op: unknown,
  payload: unknown,
): { ok: true; op: O; value: ParsedRequestOf<O> } | { ok: false; error: ContractError } {
  if (!isOperation(op))
    return { ok: false, error: { code: 'unknown-operation', message: `Unknown operation: ${String(op).slice(0, 80)}` } };
  const parsed = requests[op].safeParse(payload ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ param: i.path.join('.'), message: i.message }));
    return {
      ok: false,
      error: {
        code: 'invalid-request',
        message: `Invalid request for ${op}: ${issues.map((i) => `${i.param || '(request)'}: ${i.message}`).join('; ')}`,
        issues,
      },
    };
  }
  return { ok: true, op: op as O, value: parsed.data as ParsedRequestOf<O> };
}

export type { EvaluationReport, RunRecord, EpochLoss, TaskName, RunStatus };
export type { DatasetDetail, DatasetEntry, DatasetPreview } from './datasets';
