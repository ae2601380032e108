import { join } from 'node:path';
import { activeBackendInfo, initBackend } from '../backend/index';
import { GaussianMixture } from '../cluster/gmm';
import { KMeans } from '../cluster/kmeans';
import { FASHION_MNIST_CLASSES, loadFashionMnist, pixelStats, type FashionMnist } from '../data/index';
import { evaluate } from '../metrics/index';
import { buildConvAutoencoder, CONV_AE_ARCHITECTURE, CONV_AE_CODE_SIZE, encode, loadAutoencoder, saveAutoencoder, trainAutoencoder, type ConvAutoencoder } from '../models/convAutoencoder';
import type { RunStore } from '../store/index';
import type { DatasetInfo, RunRecord, RunResult } from '../store/types';
import { imagesAsMatrix, type Matrix, type ProgressFn } from '../types';
import { copyArtifact, readMatrixFile, removeRunArtifacts, runArtifactsDir, writeMatrixFile } from './artifacts';
import { ParamError, parseExperimentParams, type AutoencoderTaskParams, type ExperimentParams } from './params';

export interface RunContext {
  store: RunStore;
  /** Explicit data folder (`--data`); otherwise the usual search order applies. */
  dataDir?: string;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  /** Called once the run row exists, so callers can show or cancel it by id. */
  onRunCreated?: (run: RunRecord) => void;
}

export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor() {
    super('Run cancelled');
  }
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

const isAbort = (err: unknown, signal?: AbortSignal): boolean =>
  err instanceof CancelledError || (err as Error)?.name === 'AbortError' || signal?.aborted === true;

/** Facts about the data a run saw, stored with it so runs can be compared and reused safely. */
function describeDataset(data: FashionMnist): DatasetInfo {
  return {
    name: data.info.name, dir: data.info.dir, format: data.info.format, checksums: data.info.checksums,
    fitSize: data.train.count, evalSize: data.test.count, pixelStats: pixelStats(data.train),
  };
}

/** Checks that need the data or the history; like schema errors they come before any run exists. */
function checkAgainstData(params: ExperimentParams, data: FashionMnist, store: RunStore): RunRecord | undefined {
  if (params.k > data.train.count) throw new ParamError([{ param: 'k', message: `${params.k} clusters for only ${data.train.count} training images` }]);
  if (params.task === 'kmeans') return undefined;
  const trainCount = data.train.count - Math.floor(data.train.count * params.valSplit);
  if (params.reuseEncoder === undefined && params.batchSize > trainCount) {
    throw new ParamError([{ param: 'batchSize', message: `${params.batchSize} is larger than the ${trainCount} training images left after the validation split` }]);
  }
  if (params.reuseEncoder === undefined) return undefined;
  const earlier = store.getRun(params.reuseEncoder);
  const problem = !earlier
    ? 'no such run'
    : earlier.status !== 'completed'
      ? `run #${earlier.id} is ${earlier.status}`
      : !earlier.artifacts.autoencoder
        ? `run #${earlier.id} (${earlier.task}) has no trained autoencoder`
        : earlier.artifacts.architecture !== CONV_AE_ARCHITECTURE
          ? `run #${earlier.id} used architecture '${earlier.artifacts.architecture}', not '${CONV_AE_ARCHITECTURE}'`
          : undefined;
  if (problem) throw new ParamError([{ param: 'reuseEncoder', message: problem }]);
  return earlier;
}

/**
 * Runs one experiment end to end: validate, load data, fit on the training images, evaluate on the test
 * images, and store everything in the run history. The run row is created only once the inputs are known to
 * be good, so a bad parameter never leaves a run behind; after that, any failure marks it failed or cancelled.
 */
export async function runExperiment(input: unknown, ctx: RunContext): Promise<RunRecord> {
  const params = parseExperimentParams(input);
  const { store, onProgress, signal } = ctx;
  const timings: Record<string, number> = {};
  const started = performance.now();

  onProgress?.({ phase: 'load', message: 'Loading Fashion-MNIST' });
  const data = await loadFashionMnist({ dir: ctx.dataDir, trainLimit: params.trainLimit, testLimit: params.testLimit });
  timings.loadMs = performance.now() - started;
  const reused = checkAgainstData(params, data, store);
  throwIfAborted(signal);

  onProgress?.({ phase: 'backend', message: `Starting the ${params.backend} backend` });
  const backend = await initBackend(params.backend);
  const run = store.createRun({ task: params.task, params: { ...params }, seed: params.seed, backend, dataset: describeDataset(data) });
  ctx.onRunCreated?.(run);

  try {
    const task = { run, data, store, onProgress, signal, timings };
    const result = params.task === 'kmeans' ? await kmeansOnPixels(params, task) : await autoencoderThenCluster(params, reused, task);
    timings.totalMs = performance.now() - started;
    const calibrated = activeBackendInfo()?.imagesPerSec;
    if (calibrated !== undefined) result.metrics.backendImagesPerSec = calibrated;
    return store.completeRun(run.id, { ...result, timings });
  } catch (err) {
    const cancelled = isAbort(err, signal);
    if (cancelled) store.cancelRun(run.id);
    else store.failRun(run.id, (err as Error)?.message ?? String(err));
    // A run that did not complete keeps no half-written weights or codes.
    await removeRunArtifacts(store.path, run.id).catch(() => undefined);
    throw cancelled ? new CancelledError() : err;
  }
}

interface TaskContext {
  run: RunRecord;
  data: FashionMnist;
  store: RunStore;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  timings: Record<string, number>;
}

type TaskResult = Omit<RunResult, 'timings'>;

function evaluateAssignments(assignments: Int32Array, data: FashionMnist, k: number) {
  return evaluate(assignments, data.test.labels, { k, classNames: [...FASHION_MNIST_CLASSES] });
}

/** Experiment 1: k-means on the raw pixels. */
async function kmeansOnPixels(params: Extract<ExperimentParams, { task: 'kmeans' }>, ctx: TaskContext): Promise<TaskResult> {
  const fit = imagesAsMatrix(ctx.data.train);
  const evalSet = imagesAsMatrix(ctx.data.test);
  const { assignments, metrics } = await clusterWithKmeans(params, fit, evalSet, ctx);
  const evaluation = evaluateAssignments(assignments, ctx.data, params.k);
  return { metrics: { accuracy: evaluation.accuracy, nmi: evaluation.nmi, ari: evaluation.ari, ...metrics }, evaluation, assignments };
}

async function clusterWithKmeans(
  params: { k: number; nInit: number; maxIter: number; tol: number; seed: number },
  fit: Matrix,
  evalSet: Matrix,
  ctx: TaskContext,
): Promise<{ assignments: Int32Array; metrics: Record<string, number> }> {
  const start = performance.now();
  const model = new KMeans({ k: params.k, nInit: params.nInit, maxIter: params.maxIter, tol: params.tol, seed: params.seed });
  await model.fit(fit, { onProgress: (e) => ctx.onProgress?.({ ...e }), signal: ctx.signal });
  ctx.timings.fitMs = performance.now() - start;
  throwIfAborted(ctx.signal);
  ctx.onProgress?.({ phase: 'evaluate', message: 'Assigning test images' });
  const evalStart = performance.now();
  const assignments = await model.predict(evalSet);
  ctx.timings.evalMs = performance.now() - evalStart;
  return { assignments, metrics: { inertia: model.inertia, iterations: model.nIter } };
}

async function clusterWithGmm(
  params: Extract<ExperimentParams, { task: 'ae-gmm' }>,
  fit: Matrix,
  evalSet: Matrix,
  ctx: TaskContext,
): Promise<{ assignments: Int32Array; metrics: Record<string, number> }> {
  const start = performance.now();
  const model = new GaussianMixture({
    k: params.k, covarianceType: params.covariance, regCovar: params.regCovar, maxIter: params.gmmMaxIter,
    tol: params.gmmTol, nInit: params.gmmNInit, seed: params.seed,
  });
  await model.fit(fit, { onProgress: (e) => ctx.onProgress?.({ ...e }), signal: ctx.signal });
  ctx.timings.fitMs = performance.now() - start;
  throwIfAborted(ctx.signal);
  ctx.onProgress?.({ phase: 'evaluate', message: 'Assigning test images' });
  const evalStart = performance.now();
  const assignments = await model.predict(evalSet);
  const logLikelihood = await model.score(evalSet);
  ctx.timings.evalMs = performance.now() - evalStart;
  return {
    assignments,
    metrics: { logLikelihood, trainLowerBound: model.lowerBound, iterations: model.nIter, converged: model.converged ? 1 : 0, bic: await model.bic(fit) },
  };
}

const sameData = (a: DatasetInfo | null, b: DatasetInfo): boolean =>
  !!a && a.fitSize === b.fitSize && a.evalSize === b.evalSize && JSON.stringify(a.checksums) === JSON.stringify(b.checksums);

/** Experiments 2 and 3: train the study's autoencoder (or reuse one), then cluster its 128-d codes. */
async function autoencoderThenCluster(params: AutoencoderTaskParams, reused: RunRecord | undefined, ctx: TaskContext): Promise<TaskResult> {
  const { run, data, store, onProgress, signal, timings } = ctx;
  const dir = runArtifactsDir(store.path, run.id);
  const modelDir = join(dir, 'autoencoder');
  const codeFiles = { fit: join(dir, 'codes-fit.f32'), eval: join(dir, 'codes-eval.f32') };
  const metrics: Record<string, number> = {};
  let model: ConvAutoencoder | undefined;
  let codes: { fit: Float32Array; eval: Float32Array } | undefined;

  try {
    if (reused) {
      onProgress?.({ phase: 'reuse', message: `Loading the encoder of run #${reused.id}` });
      await copyArtifact(reused.artifacts.autoencoder, modelDir);
      const dataset = describeDataset(data);
      if (sameData(reused.dataset, dataset) && reused.artifacts.codesFit && reused.artifacts.codesEval) {
        // Same images as the earlier run: its codes are exactly what encoding again would give.
        codes = {
          fit: await readMatrixFile(reused.artifacts.codesFit, data.train.count, CONV_AE_CODE_SIZE),
          eval: await readMatrixFile(reused.artifacts.codesEval, data.test.count, CONV_AE_CODE_SIZE),
        };
        store.setArtifacts(run.id, { reusedCodesFrom: String(reused.id) });
      } else {
        model = await loadAutoencoder(modelDir);
      }
      for (const loss of reused.losses) store.appendLoss(run.id, loss);
      store.setArtifacts(run.id, { reusedEncoderFrom: String(reused.id) });
    } else {
      model = buildConvAutoencoder(params.seed);
      const trainStart = performance.now();
      const total = params.epochs;
      const result = await trainAutoencoder(model, data.train, params, {
        signal,
        onBatch: (e) => {
          const done = (e.epoch - 1 + e.batch / e.batches) / total;
          const elapsed = (performance.now() - trainStart) / 1000;
          onProgress?.({ phase: 'train', fraction: done, epoch: e.epoch, epochs: total, batch: e.batch, batches: e.batches, imagesPerSec: e.imagesPerSec, etaSeconds: done > 0 ? (elapsed / done) * (1 - done) : undefined });
        },
        onEpoch: (e) => {
          store.appendLoss(run.id, { epoch: e.epoch, trainLoss: e.trainLoss, valLoss: e.valLoss });
          onProgress?.({ phase: 'epoch', fraction: e.epoch / total, epoch: e.epoch, epochs: total, trainLoss: e.trainLoss, valLoss: e.valLoss, imagesPerSec: e.imagesPerSec });
        },
      });
      timings.trainMs = performance.now() - trainStart;
      metrics.trainImagesPerSec = result.imagesPerSec;
      metrics.epochsRun = result.losses.length;
      metrics.finalTrainLoss = result.losses.at(-1)?.trainLoss ?? NaN;
      if (result.losses.at(-1)?.valLoss != null) metrics.finalValLoss = result.losses.at(-1)!.valLoss!;
      await saveAutoencoder(model, modelDir);
    }
    store.setArtifacts(run.id, { autoencoder: modelDir, architecture: CONV_AE_ARCHITECTURE });
    throwIfAborted(signal);

    if (!codes) {
      onProgress?.({ phase: 'encode', message: 'Encoding images' });
      const encodeStart = performance.now();
      codes = { fit: await encode(model!.encoder, data.train), eval: await encode(model!.encoder, data.test) };
      timings.encodeMs = performance.now() - encodeStart;
    }
    await writeMatrixFile(codeFiles.fit, codes.fit);
    await writeMatrixFile(codeFiles.eval, codes.eval);
    store.setArtifacts(run.id, { codesFit: codeFiles.fit, codesEval: codeFiles.eval });
  } finally {
    model?.autoencoder.dispose();
  }
  throwIfAborted(signal);

  const fit: Matrix = { data: codes.fit, rows: data.train.count, cols: CONV_AE_CODE_SIZE };
  const evalSet: Matrix = { data: codes.eval, rows: data.test.count, cols: CONV_AE_CODE_SIZE };
  const clustered = params.task === 'ae-gmm' ? await clusterWithGmm(params, fit, evalSet, ctx) : await clusterWithKmeans(params, fit, evalSet, ctx);
  const evaluation = evaluateAssignments(clustered.assignments, data, params.k);
  return {
    metrics: { accuracy: evaluation.accuracy, nmi: evaluation.nmi, ari: evaluation.ari, ...metrics, ...clustered.metrics },
    evaluation,
    assignments: clustered.assignments,
  };
}
