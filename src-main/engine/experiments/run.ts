/**
 * Runs one experiment end to end: validate, load the data, fit the pipeline (features → optional UMAP →
 * clusterer) on what the protocol allows, evaluate on the test images, and store everything in the run history.
 */
import { activeBackendInfo, initBackend, type BackendName } from '../backend/index';
import { isLabelled, isSingleSplit, type DataSplit, type DatasetShape, type LoadedDataset } from '../data/dataset';
import { evaluate } from '../metrics/index';
import { clusterScores } from '../metrics/internal';
import type { RunStore } from '../store/index';
import type { RunRecord, RunResult, SweepLink } from '../store/types';
import type { Images, Matrix, ProgressFn } from '../types';
import { removeRunArtifacts, runArtifactsDir } from '../store/run-files';
import { checkAgainstData, describeDataset } from './checks';
import { throwIfAborted } from '../abort';
import { CancelledError, isAbort, type StageContext, type StageResult } from './context';
import { concatRows, featureStage } from './encoder';
import { evalSetIssue, evalSetWarning, ParamError, parseExperimentParams } from '../schema/params';
import { loadRunData } from './data';
import { pipelineSpecOf, type PipelineSpec } from './spec';
import { clusterStage, embeddingStage, map2dStage, type FitAndEval } from './stages';

export { CancelledError };

export interface RunContext {
  store: RunStore;
  /** Explicit data folder (`--data`); otherwise the usual search order applies. */
  dataDir?: string;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  /** The sweep this run is a child of: its row is created linked to it. */
  sweep?: SweepLink;
  /** Called once the run row exists, so callers can show or cancel it by id. */
  onRunCreated?: (run: RunRecord) => void;
}

/**
 * The run row is created only once the inputs are known to be good, so a bad parameter never leaves a run
 * behind; after that, any failure marks it failed or cancelled and removes its half-written files.
 */
export async function runExperiment(input: unknown, ctx: RunContext): Promise<RunRecord> {
  const params = parseExperimentParams(input);
  const { store, onProgress, signal } = ctx;
  store.assertWritable(); // a read-only history says so before any work
  const timings: Record<string, number> = {};
  const started = performance.now();
  const startedAt = new Date().toISOString(); // the run's wall time counts from here: loading and backend included

  onProgress?.({ phase: 'load', message: `Loading ${params.dataset}` });
  const loadProgress = (done: number, total: number) =>
    onProgress?.({ phase: 'load', fraction: total > 0 ? done / total : undefined, message: `Reading ${params.dataset}` });
  const limits = { trainLimit: params.trainLimit, testLimit: params.testLimit };
  const { data, origin } = await loadRunData(params.dataset, limits, { ...ctx, onProgress: loadProgress });
  timings.loadMs = performance.now() - started;
  const spec = pipelineSpecOf(params, data.shape);
  const scored = scoredRowsName(data);
  const evalIssue = evalSetIssue(params.k, data.test.count, scored);
  if (evalIssue) throw new ParamError([evalIssue]);
  const reused = checkAgainstData(spec, data, store);
  if (signal?.aborted) throw new CancelledError(); // no run exists yet: nothing to mark
  const evalWarning = evalSetWarning(params.k, data.test.count, scored, isLabelled(data) ? undefined : 'the label-free scores');
  if (evalWarning) onProgress?.({ phase: 'warning', message: evalWarning });
  for (const note of data.notes) onProgress?.({ phase: 'warning', message: `${data.name}: ${note}` });
  const dataset = describeDataset(data, origin);

  const backendStarted = performance.now();
  const backend = await startBackend(params.backend, !reused && spec.encoder.kind !== 'none', onProgress);
  timings.backendMs = performance.now() - backendStarted;
  const run = store.createRun({
    startedAt,
    task: params.task,
    params: { ...params },
    seed: params.seed,
    backend,
    dataset,
    sweep: ctx.sweep,
  });
  ctx.onRunCreated?.(run);
  // Beats so that other processes (on any host) see the run is alive; progress beats too, for loops that block timers.
  const alive = store.keepAlive(run.id);

  try {
    const beatingProgress: ProgressFn = (event) => {
      alive.beat();
      onProgress?.(event);
    };
    const stageContext: StageContext = {
      run,
      dir: runArtifactsDir(store.path, run.id),
      images: { train: rowsAsImages(data.train, data.shape), test: rowsAsImages(data.test, data.shape) },
      shape: data.shape,
      dataset,
      store,
      onProgress: beatingProgress,
      signal,
    };
    const result = await runPipeline(spec, reused, stageContext, truthOf(data), timings);
    timings.totalMs = performance.now() - started;
    const { name: backend, imagesPerSec: calibrated, threads, trainingPath } = activeBackendInfo() ?? {};
    if (calibrated !== undefined) result.metrics.backendImagesPerSec = calibrated;
    if (threads !== undefined) result.metrics.backendThreads = threads;
    // only webgpu has two training paths (its calibration timed the same one); recorded when this run trained
    if (backend === 'webgpu' && result.metrics.trainImagesPerSec !== undefined)
      result.metrics.backendFusedTraining = trainingPath === 'fused' ? 1 : 0;
    return store.completeRun(run.id, { ...result, timings });
  } catch (err) {
    const cancelled = isAbort(err, signal);
    if (cancelled) store.cancelRun(run.id);
    else store.failRun(run.id, (err as Error)?.message ?? String(err));
    // A run that did not complete keeps no half-written weights or codes.
    await removeRunArtifacts(store.path, run.id).catch(() => undefined);
    throw cancelled ? new CancelledError() : err;
  } finally {
    alive.stop();
  }
}

/**
 * Starts the backend. `auto` calibrates (its own progress phase, `calibrate`) only when a network is about to train;
 * otherwise it takes the cached choice or the default backend, untimed.
 */
function startBackend(name: BackendName, trains: boolean, onProgress: ProgressFn | undefined): Promise<string> {
  let phase: 'backend' | 'calibrate' = 'backend';
  onProgress?.({ phase, message: `Starting the ${name} backend` });
  return initBackend(name, {
    calibrate: trains,
    onCalibrating: () => {
      phase = 'calibrate';
      onProgress?.({ phase, message: 'Calibrating backends (timing a short training on each; once per machine)' });
    },
    onProgress: (message) => onProgress?.({ phase, message }),
  });
}

/** The test split's labels and class names, when the data set has labels: all that scoring against labels needs. */
interface Truth {
  labels: Uint8Array;
  classNames: string[];
}

function truthOf(data: LoadedDataset): Truth | undefined {
  const { labels } = data.test;
  return labels && data.classNames ? { labels, classNames: data.classNames } : undefined;
}

/** The scored rows as messages name them: `test images`, or `rows` of a features data set with one split, … */
function scoredRowsName(data: LoadedDataset): string {
  return `${isSingleSplit(data) ? '' : 'test '}${data.shape.kind === 'images' ? 'images' : 'rows'}`;
}

/** A split's rows as the encoders take them: images, or a features data set's rows as 1×d "images". */
function rowsAsImages(split: DataSplit, shape: DatasetShape): Images {
  const [height, width, channels] = shape.kind === 'images' ? [shape.height, shape.width, shape.channels] : [1, shape.dim, 1];
  return { images: split.values, count: split.count, height, width, channels };
}

/**
 * The scores that need no labels, of the clusters the clusterer gave the scored rows, in the space it clustered
 * (silhouette, Calinski–Harabasz, Davies–Bouldin); none when the scored rows fell into a single cluster.
 */
async function labelFreeScores(x: Matrix, assignments: Int32Array, ctx: StageContext): Promise<StageResult<void>> {
  const start = performance.now();
  ctx.onProgress?.({ phase: 'evaluate', message: 'Scoring the clusters (silhouette, Calinski–Harabasz, Davies–Bouldin)' });
  try {
    const scores = await clusterScores(x, assignments, { seed: ctx.run.seed, signal: ctx.signal });
    const metrics: Record<string, number> = {
      silhouette: scores.silhouette,
      calinskiHarabasz: scores.calinskiHarabasz,
      daviesBouldin: scores.daviesBouldin,
    };
    if (scores.silhouetteSample !== null) metrics.silhouetteSample = scores.silhouetteSample;
    return { output: undefined, metrics, timings: { scoreMs: performance.now() - start } };
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    ctx.onProgress?.({ phase: 'warning', message: `no label-free scores: ${err.message}` });
    return { output: undefined, metrics: {}, timings: {} };
  }
}

/**
 * Features → optional UMAP → clusterer → the UI's 2-D map, all on unlabelled rows; the label-free scores; then the
 * one use of labels, when the data set has them: scoring the test rows' clusters against them. A data set with one
 * split fits on the rows it scores (as transductive runs do, with nothing to add).
 */
async function runPipeline(
  spec: PipelineSpec,
  reused: RunRecord | undefined,
  ctx: StageContext,
  truth: Truth | undefined,
  timings: Record<string, number>,
): Promise<Omit<RunResult, 'timings'>> {
  const { run, images, store, signal } = ctx;
  const singleSplit = ctx.dataset.singleSplit === true;
  const transductive = spec.protocol === 'transductive' && !singleSplit;
  const metrics: Record<string, number> = {};
  /** A stage's output; what it measured joins the run's metrics and timings. */
  const collect = <T>(result: StageResult<T>): T => {
    Object.assign(metrics, result.metrics);
    Object.assign(timings, result.timings);
    return result.output;
  };
  store.setArtifacts(run.id, { protocol: singleSplit ? 'transductive' : spec.protocol });

  const features = collect(await featureStage(spec.encoder, reused, transductive, ctx));
  throwIfAborted(signal);
  const { cols } = features;
  const nTrain = images.train.count;
  const nTest = images.test.count;
  const testFeatures: Matrix = { data: features.test, rows: nTest, cols };
  // transductive (N2D): the unsupervised stages see the test rows too, never their labels
  let stageInput: FitAndEval = {
    fit: transductive
      ? { data: concatRows(features.train, features.test), rows: nTrain + nTest, cols }
      : { data: features.train, rows: nTrain, cols },
    evalSet: testFeatures,
  };
  metrics.fitRows = stageInput.fit.rows;
  // one split: the scored rows are the fitted rows, so their embedding is UMAP's own (the transductive case's reading)
  const embedding = singleSplit ? { ...spec, protocol: 'transductive' as const } : spec;
  if (spec.umap) stageInput = collect(await embeddingStage(spec.umap, embedding, stageInput, ctx));

  const assignments = collect(await clusterStage(spec.clusterer, stageInput, ctx));
  throwIfAborted(signal);
  collect(await map2dStage(spec.map2d, spec.seed, testFeatures, ctx));
  collect(await labelFreeScores(stageInput.evalSet, assignments, ctx));

  if (!truth) return { metrics, evaluation: null, assignments };
  const evaluation = evaluate(assignments, truth.labels, { k: spec.k, classNames: truth.classNames });
  return {
    metrics: { accuracy: evaluation.accuracy, nmi: evaluation.nmi, ari: evaluation.ari, ...metrics },
    evaluation,
    assignments,
  };
}
