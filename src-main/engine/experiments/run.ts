/**
 * Runs one experiment end to end: validate, load the data, fit the pipeline (features → optional UMAP →
 * clusterer) on what the protocol allows, evaluate on the test images, and store everything in the run history.
 */
import { activeBackendInfo, initBackend } from '../backend/index';
import { FASHION_MNIST_CLASSES, loadFashionMnist } from '../data/index';
import { evaluate } from '../metrics/index';
import type { RunStore } from '../store/index';
import type { RunRecord, RunResult, SweepLink } from '../store/types';
import { withoutLabels, type Matrix, type ProgressFn } from '../types';
import { removeRunArtifacts, runArtifactsDir } from '../store/run-files';
import { checkAgainstData, describeDataset } from './checks';
import { throwIfAborted } from '../abort';
import { CancelledError, isAbort, type StageContext, type StageResult } from './context';
import { concatRows, featureStage } from './encoder';
import { evalSetIssue, evalSetWarning, ParamError, parseExperimentParams } from '../schema/params';
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
  const spec = pipelineSpecOf(params);
  const { store, onProgress, signal } = ctx;
  store.assertWritable(); // a read-only history says so before any work
  const timings: Record<string, number> = {};
  const started = performance.now();

  onProgress?.({ phase: 'load', message: 'Loading Fashion-MNIST' });
  const data = await loadFashionMnist({ dir: ctx.dataDir, trainLimit: params.trainLimit, testLimit: params.testLimit });
  timings.loadMs = performance.now() - started;
  const evalIssue = evalSetIssue(params.k, data.test.count);
  if (evalIssue) throw new ParamError([evalIssue]);
  const reused = checkAgainstData(spec, data, store);
  if (signal?.aborted) throw new CancelledError(); // no run exists yet: nothing to mark
  const evalWarning = evalSetWarning(params.k, data.test.count);
  if (evalWarning) onProgress?.({ phase: 'warning', message: evalWarning });

  onProgress?.({ phase: 'backend', message: `Starting the ${params.backend} backend` });
  const backend = await initBackend(params.backend);
  const run = store.createRun({
    task: params.task,
    params: { ...params },
    seed: params.seed,
    backend,
    dataset: describeDataset(data),
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
      images: { train: withoutLabels(data.train), test: withoutLabels(data.test) },
      dataset: describeDataset(data),
      store,
      onProgress: beatingProgress,
      signal,
    };
    const result = await runPipeline(spec, reused, stageContext, data.test.labels, timings);
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
 * Features → optional UMAP → clusterer → the UI's 2-D map, all on unlabelled images; then the one use of labels:
 * scoring the test images' clusters against `testLabels`.
 */
async function runPipeline(
  spec: PipelineSpec,
  reused: RunRecord | undefined,
  ctx: StageContext,
  testLabels: Uint8Array,
  timings: Record<string, number>,
): Promise<Omit<RunResult, 'timings'>> {
  const { run, images, store, signal } = ctx;
  const transductive = spec.protocol === 'transductive';
  const metrics: Record<string, number> = {};
  /** A stage's output; what it measured joins the run's metrics and timings. */
  const collect = <T>(result: StageResult<T>): T => {
    Object.assign(metrics, result.metrics);
    Object.assign(timings, result.timings);
    return result.output;
  };
  store.setArtifacts(run.id, { protocol: spec.protocol });

  const features = collect(await featureStage(spec.encoder, reused, transductive, ctx));
  throwIfAborted(signal);
  const { cols } = features;
  const nTrain = images.train.count;
  const nTest = images.test.count;
  const testFeatures: Matrix = { data: features.test, rows: nTest, cols };
  // transductive (N2D): the unsupervised stages see the test images too, never their labels
  let stageInput: FitAndEval = {
    fit: transductive
      ? { data: concatRows(features.train, features.test), rows: nTrain + nTest, cols }
      : { data: features.train, rows: nTrain, cols },
    evalSet: testFeatures,
  };
  metrics.fitRows = stageInput.fit.rows;
  if (spec.umap) stageInput = collect(await embeddingStage(spec.umap, spec, stageInput, ctx));

  const assignments = collect(await clusterStage(spec.clusterer, stageInput, ctx));
  throwIfAborted(signal);
  collect(await map2dStage(spec.map2d, spec.seed, testFeatures, ctx));

  const evaluation = evaluate(assignments, testLabels, { k: spec.k, classNames: [...FASHION_MNIST_CLASSES] });
  return {
    metrics: { accuracy: evaluation.accuracy, nmi: evaluation.nmi, ari: evaluation.ari, ...metrics },
    evaluation,
    assignments,
  };
}
