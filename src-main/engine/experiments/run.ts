import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { activeBackendInfo, initBackend } from '../backend/index';
import { GaussianMixture } from '../cluster/gmm';
import { KMeans } from '../cluster/kmeans';
import { FASHION_MNIST_CLASSES, loadFashionMnist, pixelStats, type FashionMnist } from '../data/index';
import { evaluate } from '../metrics/index';
import { pca } from '../manifold/pca';
import { Umap, umapParamIssues, type UmapParams, type UmapProgressEvent } from '../manifold/umap';
import { buildConvAutoencoder, CONV_AE_ARCHITECTURE, CONV_AE_CODE_SIZE, encode, loadAutoencoder, saveAutoencoder, trainAutoencoder, type ConvAutoencoder } from '../models/convAutoencoder';
import {
  buildDenseAutoencoder, denseArchitectureId, encodeDense, loadDenseAutoencoder, saveDenseAutoencoder, trainDenseAutoencoder, type DenseAutoencoder,
  type DenseAutoencoderConfig,
} from '../models/denseAutoencoder';
import type { TrainOptions, TrainResult } from '../models/trainer';
import { checksumsOf, folderSha256, type RunStore } from '../store/index';
import type { DatasetInfo, RunRecord, RunResult } from '../store/types';
import { imagesAsMatrix, type ImageSet, type Matrix, type ProgressFn } from '../types';
import { copyArtifact, readMatrixFile, removeRunArtifacts, runArtifactsDir, writeMatrixFile } from './artifacts';
import {
  evalSetIssue, evalSetWarning, ParamError, parseExperimentParams, type AutoencoderTaskParams, type ExperimentParams, type PipelineTaskParams,
} from './params';

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
  return reusableEncoderRun(store, params.reuseEncoder, CONV_AE_ARCHITECTURE);
}

/** The completed run whose autoencoder (of architecture `wanted`) a new run reuses; a ParamError says why not. */
function reusableEncoderRun(store: RunStore, id: number, wanted: string | undefined, hint = ''): RunRecord {
  const earlier = store.getRun(id);
  const reject = (message: string): never => {
    throw new ParamError([{ param: 'reuseEncoder', message }]);
  };
  if (!earlier) return reject('no such run');
  if (earlier.status !== 'completed') reject(`run #${earlier.id} is ${earlier.status}`);
  if (!earlier.artifacts.autoencoder) reject(`run #${earlier.id} (${earlier.task}) has no trained autoencoder`);
  if (earlier.artifacts.architecture !== wanted) reject(`run #${earlier.id} used architecture '${earlier.artifacts.architecture}', not '${wanted}'${hint}`);
  const problem = encoderProblem(earlier, earlier.artifacts.autoencoder);
  if (problem) reject(problem);
  return earlier;
}

/**
 * Why the encoder files in `dir` are not exactly those recorded with `run` (null when they are): a reused encoder
 * must never silently be another history's or a changed one.
 */
function encoderProblem(run: RunRecord, dir: string): string | null {
  const recorded = run.artifacts.autoencoderSha256;
  if (!recorded) return `run #${run.id} has no recorded checksum for its encoder (it predates checksums, or its files could not be shown to be this history's); train a new one`;
  if (!existsSync(dir)) return `run #${run.id}'s encoder files are missing (${dir})`;
  if (folderSha256(dir) !== recorded) return `run #${run.id}'s encoder files in ${dir} do not match the checksum recorded with it: they were changed or replaced`;
  return null;
}

/**
 * Runs one experiment end to end: validate, load data, fit on the training images, evaluate on the test
 * images, and store everything in the run history. The run row is created only once the inputs are known to
 * be good, so a bad parameter never leaves a run behind; after that, any failure marks it failed or cancelled.
 */
export async function runExperiment(input: unknown, ctx: RunContext): Promise<RunRecord> {
  const params = parseExperimentParams(input);
  const { store, onProgress, signal } = ctx;
  store.assertWritable(); // a read-only history says so before any work
  const timings: Record<string, number> = {};
  const started = performance.now();

  onProgress?.({ phase: 'load', message: 'Loading Fashion-MNIST' });
  const data = await loadFashionMnist({ dir: ctx.dataDir, trainLimit: params.trainLimit, testLimit: params.testLimit });
  timings.loadMs = performance.now() - started;
  const evalIssue = evalSetIssue(params.k, data.test.count);
  if (evalIssue) throw new ParamError([evalIssue]);
  const reused = isPipeline(params) ? checkPipelineAgainstData(params, data, store) : checkAgainstData(params, data, store);
  throwIfAborted(signal);
  const evalWarning = evalSetWarning(params.k, data.test.count);
  if (evalWarning) onProgress?.({ phase: 'warning', message: evalWarning });

  onProgress?.({ phase: 'backend', message: `Starting the ${params.backend} backend` });
  const backend = await initBackend(params.backend);
  const run = store.createRun({ task: params.task, params: { ...params }, seed: params.seed, backend, dataset: describeDataset(data) });
  ctx.onRunCreated?.(run);
  // Beats so that other processes (on any host) see the run is alive; progress beats too, for loops that block timers.
  const alive = store.keepAlive(run.id);

  try {
    const beatingProgress: ProgressFn = (event) => {
      alive.beat();
      onProgress?.(event);
    };
    const task = { run, data, store, onProgress: beatingProgress, signal, timings };
    const result =
      params.task === 'kmeans'
        ? await kmeansOnPixels(params, task)
        : isPipeline(params)
          ? await pipeline(params, reused, task)
          : await autoencoderThenCluster(params, reused, task);
    timings.totalMs = performance.now() - started;
    const { imagesPerSec: calibrated, threads } = activeBackendInfo() ?? {};
    if (calibrated !== undefined) result.metrics.backendImagesPerSec = calibrated;
    if (threads !== undefined) result.metrics.backendThreads = threads;
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
  params: Pick<Extract<ExperimentParams, { task: 'ae-gmm' }>, 'k' | 'covariance' | 'regCovar' | 'gmmMaxIter' | 'gmmTol' | 'gmmNInit' | 'seed'>,
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

/** Autoencoder training callbacks of a run: progress with an ETA for the UI, each epoch's losses into the history. */
function trainingCallbacks(ctx: TaskContext, epochs: number): TrainOptions {
  const { run, store, onProgress, signal } = ctx;
  const started = performance.now();
  return {
    signal,
    onBatch: (e) => {
      const done = (e.epoch - 1 + e.batch / e.batches) / epochs;
      const elapsed = (performance.now() - started) / 1000;
      onProgress?.({ phase: 'train', fraction: done, epoch: e.epoch, epochs, batch: e.batch, batches: e.batches, imagesPerSec: e.imagesPerSec, etaSeconds: done > 0 ? (elapsed / done) * (1 - done) : undefined });
    },
    onEpoch: (e) => {
      store.appendLoss(run.id, { epoch: e.epoch, trainLoss: e.trainLoss, valLoss: e.valLoss });
      onProgress?.({ phase: 'epoch', fraction: e.epoch / epochs, epoch: e.epoch, epochs, trainLoss: e.trainLoss, valLoss: e.valLoss, imagesPerSec: e.imagesPerSec });
    },
  };
}

function recordTraining(result: TrainResult, metrics: Record<string, number>): void {
  const last = result.losses.at(-1);
  metrics.trainImagesPerSec = result.imagesPerSec;
  metrics.epochsRun = result.losses.length;
  metrics.finalTrainLoss = last?.trainLoss ?? NaN;
  if (last?.valLoss != null) metrics.finalValLoss = last.valLoss;
}

/** Codes of the training and test images, row-major. */
interface Codes {
  train: Float32Array;
  test: Float32Array;
}

/**
 * Takes over an earlier run's autoencoder: copies it into `modelDir` and checks the copy against the checksum recorded
 * with that run, records where it came from with its loss history, and returns its stored codes when it encoded exactly
 * these images and they still match their checksums (encoding again would give the same); undefined means the caller
 * loads the model from `modelDir` and encodes.
 */
async function adoptReusedEncoder(reused: RunRecord, ctx: TaskContext, modelDir: string, cols: number): Promise<Codes | undefined> {
  const { run, data, store, onProgress } = ctx;
  onProgress?.({ phase: 'reuse', message: `Loading the encoder of run #${reused.id}` });
  await copyArtifact(reused.artifacts.autoencoder, modelDir);
  const problem = encoderProblem(reused, modelDir);
  if (problem) throw new Error(problem);
  const { codesFit, codesEval } = reused.artifacts;
  let codes: Codes | undefined;
  if (sameData(reused.dataset, describeDataset(data)) && codesFit && codesEval && codesUnchanged(reused)) {
    codes = { train: await readMatrixFile(codesFit, data.train.count, cols), test: await readMatrixFile(codesEval, data.test.count, cols) };
    store.setArtifacts(run.id, { reusedCodesFrom: String(reused.id) });
  }
  for (const loss of reused.losses) store.appendLoss(run.id, loss);
  store.setArtifacts(run.id, { reusedEncoderFrom: String(reused.id) });
  return codes;
}

/** Whether a run's codes files are still those recorded with it (older runs recorded no checksum: encode again). */
function codesUnchanged(run: RunRecord): boolean {
  const { codesFitSha256, codesEvalSha256 } = run.artifacts;
  if (!codesFitSha256 || !codesEvalSha256) return false;
  const now = checksumsOf({ codesFit: run.artifacts.codesFit, codesEval: run.artifacts.codesEval });
  return now.codesFitSha256 === codesFitSha256 && now.codesEvalSha256 === codesEvalSha256;
}

/** Records a run's trained or adopted autoencoder, with its checksum (checked whenever another run reuses it). */
function recordEncoder(ctx: TaskContext, modelDir: string, artifacts: Record<string, string>): void {
  ctx.store.setArtifacts(ctx.run.id, { autoencoder: modelDir, ...artifacts, ...checksumsOf({ autoencoder: modelDir }) });
}

/** Writes the codes of the training and test images into the run's folder and records them with their checksums. */
async function storeCodes(ctx: TaskContext, dir: string, codes: Codes): Promise<void> {
  const files = { codesFit: join(dir, 'codes-fit.f32'), codesEval: join(dir, 'codes-eval.f32') };
  await writeMatrixFile(files.codesFit, codes.train);
  await writeMatrixFile(files.codesEval, codes.test);
  ctx.store.setArtifacts(ctx.run.id, { ...files, ...checksumsOf(files) });
}

/** Experiments 2 and 3: train the study's autoencoder (or reuse one), then cluster its 128-d codes. */
async function autoencoderThenCluster(params: AutoencoderTaskParams, reused: RunRecord | undefined, ctx: TaskContext): Promise<TaskResult> {
  const { run, data, store, onProgress, signal, timings } = ctx;
  const dir = runArtifactsDir(store.path, run.id);
  const modelDir = join(dir, 'autoencoder');
  const metrics: Record<string, number> = {};
  let model: ConvAutoencoder | undefined;
  let codes: Codes | undefined;

  try {
    if (reused) {
      codes = await adoptReusedEncoder(reused, ctx, modelDir, CONV_AE_CODE_SIZE);
      if (!codes) model = await loadAutoencoder(modelDir);
    } else {
      model = buildConvAutoencoder(params.seed);
      const trainStart = performance.now();
      const result = await trainAutoencoder(model, data.train, params, trainingCallbacks(ctx, params.epochs));
      timings.trainMs = performance.now() - trainStart;
      recordTraining(result, metrics);
      await saveAutoencoder(model, modelDir);
    }
    recordEncoder(ctx, modelDir, { architecture: CONV_AE_ARCHITECTURE });
    throwIfAborted(signal);

    if (!codes) {
      onProgress?.({ phase: 'encode', message: 'Encoding images' });
      const encodeStart = performance.now();
      codes = { train: await encode(model!.encoder, data.train), test: await encode(model!.encoder, data.test) };
      timings.encodeMs = performance.now() - encodeStart;
    }
    await storeCodes(ctx, dir, codes);
  } finally {
    model?.autoencoder.dispose();
  }
  throwIfAborted(signal);

  const fit: Matrix = { data: codes.train, rows: data.train.count, cols: CONV_AE_CODE_SIZE };
  const evalSet: Matrix = { data: codes.test, rows: data.test.count, cols: CONV_AE_CODE_SIZE };
  const clustered = params.task === 'ae-gmm' ? await clusterWithGmm(params, fit, evalSet, ctx) : await clusterWithKmeans(params, fit, evalSet, ctx);
  const evaluation = evaluateAssignments(clustered.assignments, data, params.k);
  return {
    metrics: { accuracy: evaluation.accuracy, nmi: evaluation.nmi, ari: evaluation.ari, ...metrics, ...clustered.metrics },
    evaluation,
    assignments: clustered.assignments,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Pipeline: encoder (none | conv | dense) → optional UMAP → k-means | GMM; 'n2d' is its N2D preset.

const isPipeline = (p: ExperimentParams): p is PipelineTaskParams => p.task === 'pipeline' || p.task === 'n2d';

const PIXELS = 784;

function denseConfigOf(params: PipelineTaskParams): DenseAutoencoderConfig {
  return { inputSize: PIXELS, layers: [...params.layers], codeSize: params.codeSize, loss: params.loss };
}

/** Architecture id of the encoder the parameters ask for (what a reused encoder must match). */
function pipelineArchitecture(params: PipelineTaskParams): string | undefined {
  if (params.encoder === 'conv') return CONV_AE_ARCHITECTURE;
  if (params.encoder === 'dense') return denseArchitectureId(denseConfigOf(params));
  return undefined;
}

/** Width of the features the clusterer (or UMAP) sees. */
function featureCols(params: PipelineTaskParams): number {
  return params.encoder === 'conv' ? CONV_AE_CODE_SIZE : params.encoder === 'dense' ? params.codeSize : PIXELS;
}

const UMAP_PARAM_NAMES: Partial<Record<keyof UmapParams, string>> = {
  nNeighbors: 'umapNeighbors', minDist: 'umapMinDist', nComponents: 'umapComponents', nEpochs: 'umapEpochs', init: 'umapInit',
};

function umapParamsOf(params: PipelineTaskParams): Partial<UmapParams> {
  return {
    nNeighbors: params.umapNeighbors, minDist: params.umapMinDist, nComponents: params.umapComponents ?? params.k,
    nEpochs: params.umapEpochs, init: params.umapInit, seed: params.seed,
  };
}

/** The pipeline's checks that need the data or the history, before any run exists (like checkAgainstData). */
function checkPipelineAgainstData(params: PipelineTaskParams, data: FashionMnist, store: RunStore): RunRecord | undefined {
  const fitRows = params.protocol === 'transductive' ? data.train.count + data.test.count : data.train.count;
  const issues: { param: string; message: string }[] = [];
  if (params.k > fitRows) issues.push({ param: 'k', message: `${params.k} clusters for only ${fitRows} images to fit on` });
  if (params.umap) {
    for (const issue of umapParamIssues(umapParamsOf(params), fitRows)) {
      issues.push({ param: UMAP_PARAM_NAMES[issue.param] ?? issue.param, message: issue.message });
    }
  }
  if (params.encoder !== 'none' && params.reuseEncoder === undefined) {
    const trainCount = fitRows - Math.floor(fitRows * params.valSplit);
    if (params.batchSize > trainCount) {
      issues.push({ param: 'batchSize', message: `${params.batchSize} is larger than the ${trainCount} training images left after the validation split` });
    }
  }
  if (issues.length) throw new ParamError(issues);
  if (params.reuseEncoder === undefined) return undefined;
  const hint = params.encoder === 'dense' ? ' (match its --encoder, --layers, --code-size and --loss)' : '';
  return reusableEncoderRun(store, params.reuseEncoder, pipelineArchitecture(params), hint);
}

function concatRows(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function concatImages(a: ImageSet, b: ImageSet): ImageSet {
  const labels = new Uint8Array(a.count + b.count);
  labels.set(a.labels.subarray(0, a.count));
  labels.set(b.labels.subarray(0, b.count), a.count);
  return {
    images: concatRows(a.images.subarray(0, a.count * 784), b.images.subarray(0, b.count * 784)),
    labels, count: a.count + b.count, height: a.height, width: a.width,
  };
}

interface Features {
  train: Float32Array;
  test: Float32Array;
  cols: number;
}

/** Trains (or reuses) the pipeline's encoder and returns the codes of the training and test images. */
async function encoderStage(params: PipelineTaskParams, reused: RunRecord | undefined, ctx: TaskContext, dir: string, metrics: Record<string, number>): Promise<Features> {
  const { run, data, store, onProgress, signal, timings } = ctx;
  if (params.encoder === 'none') return { train: data.train.images.subarray(0, data.train.count * PIXELS), test: data.test.images.subarray(0, data.test.count * PIXELS), cols: PIXELS };
  const cols = featureCols(params);
  const architecture = pipelineArchitecture(params)!;
  const modelDir = join(dir, 'autoencoder');
  const transductive = params.protocol === 'transductive';
  let conv: ConvAutoencoder | undefined;
  let dense: DenseAutoencoder | undefined;
  let codes: Codes | undefined;
  try {
    if (reused) {
      codes = await adoptReusedEncoder(reused, ctx, modelDir, cols);
      if (!codes && params.encoder === 'conv') conv = await loadAutoencoder(modelDir);
      else if (!codes) dense = await loadDenseAutoencoder(modelDir, architecture);
      store.setArtifacts(run.id, { encoderFitOn: reused.artifacts.encoderFitOn ?? 'train' });
    } else {
      const trainStart = performance.now();
      const trainParams = { epochs: params.epochs, batchSize: params.batchSize, learningRate: params.learningRate, valSplit: params.valSplit, patience: params.patience, seed: params.seed };
      const callbacks = trainingCallbacks(ctx, params.epochs);
      // transductive (N2D): the autoencoder sees the test images too, never their labels
      const images = transductive ? concatImages(data.train, data.test) : data.train;
      onProgress?.({ phase: 'train', fraction: 0, message: `Training the ${params.encoder} autoencoder on ${images.count} images` });
      const result =
        params.encoder === 'conv'
          ? await trainAutoencoder((conv = buildConvAutoencoder(params.seed)), images, trainParams, callbacks)
          : await trainDenseAutoencoder((dense = buildDenseAutoencoder(denseConfigOf(params), params.seed)), imagesAsMatrix(images), trainParams, callbacks);
      timings.trainMs = performance.now() - trainStart;
      recordTraining(result, metrics);
      if (conv) await saveAutoencoder(conv, modelDir);
      else await saveDenseAutoencoder(dense!, modelDir);
      store.setArtifacts(run.id, { encoderFitOn: transductive ? 'train+test' : 'train' });
    }
    metrics.encoderParams = conv ? conv.autoencoder.countParams() : dense ? dense.autoencoder.countParams() : NaN;
    if (Number.isNaN(metrics.encoderParams)) delete metrics.encoderParams;
    recordEncoder(ctx, modelDir, { architecture, codeSize: String(cols) });
    throwIfAborted(signal);
    if (!codes) {
      onProgress?.({ phase: 'encode', message: 'Encoding images' });
      const encodeStart = performance.now();
      codes = conv
        ? { train: await encode(conv.encoder, data.train), test: await encode(conv.encoder, data.test) }
        : { train: await encodeDense(dense!, imagesAsMatrix(data.train), 1024, signal), test: await encodeDense(dense!, imagesAsMatrix(data.test), 1024, signal) };
      timings.encodeMs = performance.now() - encodeStart;
    }
    await storeCodes(ctx, dir, codes);
    return { ...codes, cols };
  } finally {
    conv?.autoencoder.dispose();
    dense?.autoencoder.dispose();
  }
}

/** 2-D coordinates of the test images for the UI's map: a 2-component UMAP of their features, or their PCA. */
async function map2dStage(params: PipelineTaskParams, features: Matrix, ctx: TaskContext): Promise<{ points: Float32Array; method: 'umap' | 'pca' } | undefined> {
  if (params.map2d === 'none' || features.rows < 3) return undefined;
  const start = performance.now();
  ctx.onProgress?.({ phase: 'map', message: `2-D ${params.map2d === 'umap' ? 'UMAP' : 'PCA'} map of the test images` });
  let result: { points: Float32Array; method: 'umap' | 'pca' };
  if (params.map2d === 'umap' && features.rows > 3) {
    const umap = new Umap({ nNeighbors: Math.min(15, features.rows - 1), minDist: 0.1, nComponents: 2, seed: params.seed, init: 'spectral' });
    result = { points: await umap.fit(features, { signal: ctx.signal, onProgress: (e) => ctx.onProgress?.({ ...e, phase: 'map' }) }), method: 'umap' };
  } else {
    result = { points: (await pca(features, Math.min(2, features.cols), params.seed)).projection, method: 'pca' };
  }
  ctx.timings.mapMs = performance.now() - start;
  return result;
}

async function pipeline(params: PipelineTaskParams, reused: RunRecord | undefined, ctx: TaskContext): Promise<TaskResult> {
  const { run, data, store, onProgress, signal, timings } = ctx;
  const dir = runArtifactsDir(store.path, run.id);
  const transductive = params.protocol === 'transductive';
  const metrics: Record<string, number> = {};
  store.setArtifacts(run.id, { protocol: params.protocol });

  const features = await encoderStage(params, reused, ctx, dir, metrics);
  throwIfAborted(signal);
  const nTrain = data.train.count;
  const nTest = data.test.count;
  const cols = features.cols;
  const evalFeatures: Matrix = { data: features.test, rows: nTest, cols };
  let fit: Matrix = transductive ? { data: concatRows(features.train, features.test), rows: nTrain + nTest, cols } : { data: features.train, rows: nTrain, cols };
  let evalSet: Matrix = evalFeatures;
  metrics.fitRows = fit.rows;

  if (params.umap) {
    const umapStart = performance.now();
    const umap = new Umap(umapParamsOf(params));
    const dim = umap.params.nComponents;
    onProgress?.({ phase: 'umap', fraction: 0, message: `UMAP of ${fit.rows} points to ${dim} dimensions (${params.protocol})` });
    const forward = (e: UmapProgressEvent) => onProgress?.({ ...e, phase: 'umap' });
    const embedding = await umap.fit(fit, { signal, onProgress: forward });
    fit = { data: embedding, rows: fit.rows, cols: dim };
    evalSet = transductive
      ? { data: embedding.subarray(nTrain * dim, (nTrain + nTest) * dim), rows: nTest, cols: dim }
      : { data: await umap.transform(evalFeatures, { signal, onProgress: forward }), rows: nTest, cols: dim };
    timings.umapMs = performance.now() - umapStart;
    const info = umap.info!;
    Object.assign(timings, { umapKnnMs: info.timings.knnMs, umapGraphMs: info.timings.graphMs, umapInitMs: info.timings.initMs, umapOptimizeMs: info.timings.optimizeMs });
    Object.assign(metrics, { umapComponents: dim, umapEpochs: info.nEpochs, umapEdges: info.edges });
    if (info.initFallback) metrics.umapInitFallback = 1;
    const file = join(dir, 'embedding-eval.f32');
    await writeMatrixFile(file, evalSet.data.slice());
    store.setArtifacts(run.id, { embeddingEval: file, embeddingDims: String(dim) });
    throwIfAborted(signal);
  }

  const clustered =
    params.cluster === 'gmm' ? await clusterWithGmm(params, fit, evalSet, ctx) : await clusterWithKmeans(params, fit, evalSet, ctx);
  throwIfAborted(signal);

  const map = await map2dStage(params, evalFeatures, ctx);
  if (map) {
    const file = join(dir, 'map2d-eval.f32');
    await writeMatrixFile(file, map.points);
    store.setArtifacts(run.id, { map2dEval: file, map2dMethod: map.method });
  }

  const evaluation = evaluateAssignments(clustered.assignments, data, params.k);
  return {
    metrics: { accuracy: evaluation.accuracy, nmi: evaluation.nmi, ari: evaluation.ari, ...metrics, ...clustered.metrics },
    evaluation,
    assignments: clustered.assignments,
  };
}
