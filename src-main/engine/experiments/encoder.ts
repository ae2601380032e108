/**
 * The pipeline's feature stage: raw pixels, or the codes of an autoencoder — trained on the images the protocol
 * allows, or reused from an earlier run (copied, checked against its recorded checksum, its codes reused when it
 * encoded exactly these images).
 */
import { join } from 'node:path';
import { rowSize } from '../data/dataset';
import type { Autoencoder } from '../models/autoencoder';
import { affineAugmenter, isAugmenting } from '../models/augment';
import { autoencoderArchitecture } from '../models/registry';
import type { TrainOptions, TrainResult } from '../models/trainer';
import { checksumsOf } from '../store/index';
import { containedArtifactPath } from '../store/artifact-files';
import type { DatasetInfo, RunRecord } from '../store/types';
import type { Images } from '../types';
import { copyArtifact, readMatrixFile, writeMatrixFile } from '../store/run-files';
import { encoderProblem } from './checks';
import { throwIfAborted } from '../abort';
import type { StageContext, StageResult } from './context';
import { encoderArchitecture, featureCols, type EncoderSpec } from './spec';

/** Codes (or pixels) of the training and test images, row-major, `cols` wide. */
export interface Features {
  train: Float32Array;
  test: Float32Array;
  cols: number;
}

export function concatRows(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function concatImages(a: Images, b: Images, size: number): Images {
  return { ...a, images: concatRows(a.images.subarray(0, a.count * size), b.images.subarray(0, b.count * size)), count: a.count + b.count };
}

/** Added to the training seed for the augmentation's generator (any fixed value: the streams just must differ). */
const AUGMENT_SEED_OFFSET = 0x5eed;

/** Autoencoder training callbacks of a run: progress with an ETA for the UI, each epoch's losses into the history. */
function trainingCallbacks(ctx: StageContext, epochs: number): TrainOptions {
  const { run, store, onProgress, signal } = ctx;
  const started = performance.now();
  return {
    signal,
    onBatch: (e) => {
      const done = (e.epoch - 1 + e.batch / e.batches) / epochs;
      const elapsed = (performance.now() - started) / 1000;
      onProgress?.({
        phase: 'train',
        fraction: done,
        epoch: e.epoch,
        epochs,
        batch: e.batch,
        batches: e.batches,
        imagesPerSec: e.imagesPerSec,
        etaSeconds: done > 0 ? (elapsed / done) * (1 - done) : undefined,
      });
    },
    onEpoch: (e) => {
      store.appendLoss(run.id, { epoch: e.epoch, trainLoss: e.trainLoss, valLoss: e.valLoss });
      onProgress?.({
        phase: 'epoch',
        fraction: e.epoch / epochs,
        epoch: e.epoch,
        epochs,
        trainLoss: e.trainLoss,
        valLoss: e.valLoss,
        imagesPerSec: e.imagesPerSec,
      });
    },
  };
}

function trainingMetrics(result: TrainResult): Record<string, number> {
  const last = result.losses.at(-1);
  const metrics: Record<string, number> = {
    trainImagesPerSec: result.imagesPerSec,
    epochsRun: result.losses.length,
    finalTrainLoss: last?.trainLoss ?? NaN,
  };
  if (last?.valLoss != null) metrics.finalValLoss = last.valLoss;
  return metrics;
}

/** Whether a reused run encoded exactly these rows: the same data (by content hash, or by files for older runs) and sizes. */
const sameData = (a: DatasetInfo | null, b: DatasetInfo): boolean =>
  !!a &&
  a.fitSize === b.fitSize &&
  a.evalSize === b.evalSize &&
  a.singleSplit === b.singleSplit &&
  (a.sha256 && b.sha256 ? a.sha256 === b.sha256 : JSON.stringify(a.checksums) === JSON.stringify(b.checksums));

/** Whether a run's codes files are still those recorded with it (older runs recorded no checksum: encode again). */
function codesUnchanged(run: RunRecord): boolean {
  const { codesFitSha256, codesEvalSha256 } = run.artifacts;
  if (!codesFitSha256 || !codesEvalSha256) return false;
  const now = checksumsOf({ codesFit: run.artifacts.codesFit, codesEval: run.artifacts.codesEval });
  return now.codesFitSha256 === codesFitSha256 && now.codesEvalSha256 === codesEvalSha256;
}

type Codes = Omit<Features, 'cols'>;

/**
 * Takes over an earlier run's autoencoder: copies it into `modelDir` and checks the copy against the checksum recorded
 * with that run, records where it came from with its loss history, and returns its stored codes when it encoded exactly
 * these images and they still match their checksums (encoding again would give the same); undefined means the caller
 * loads the model from `modelDir` and encodes.
 */
async function adoptReusedEncoder(reused: RunRecord, ctx: StageContext, modelDir: string, cols: number): Promise<Codes | undefined> {
  const { run, images, store, onProgress } = ctx;
  onProgress?.({ phase: 'reuse', message: `Loading the encoder of run #${reused.id}` });
  const recorded = reused.artifacts.autoencoder;
  if (!recorded) throw new Error(`run #${reused.id} has no trained autoencoder`); // checked before the run began
  // A recorded path is read only inside this history's artifacts, after links (a hand-edited history may lie).
  const from = containedArtifactPath(store.path, recorded, `run #${reused.id}'s encoder`);
  if (!from) throw new Error(`run #${reused.id}'s encoder files are missing (${recorded})`);
  await copyArtifact(from, modelDir);
  const problem = encoderProblem(reused, modelDir);
  if (problem) throw new Error(problem);
  const { codesFit, codesEval } = reused.artifacts;
  let codes: Codes | undefined;
  if (sameData(reused.dataset, ctx.dataset) && codesFit && codesEval && codesUnchanged(reused)) {
    codes = {
      train: readMatrixFile(store.path, codesFit, images.train.count, cols, `run #${reused.id}'s codes`),
      test: readMatrixFile(store.path, codesEval, images.test.count, cols, `run #${reused.id}'s codes`),
    };
    store.setArtifacts(run.id, { reusedCodesFrom: String(reused.id) });
  }
  for (const loss of reused.losses) store.appendLoss(run.id, loss);
  const uid = reused.uid ? { reusedEncoderUid: reused.uid } : {}; // how `runs import` finds it in another history
  store.setArtifacts(run.id, { reusedEncoderFrom: String(reused.id), ...uid, encoderFitOn: reused.artifacts.encoderFitOn ?? 'train' });
  return codes;
}

type AutoencoderSpec = Exclude<EncoderSpec, { kind: 'none' }>;

/** Trains a new autoencoder on the images the protocol allows (transductive: the test images too, never their labels). */
async function trainEncoder(encoder: AutoencoderSpec, ctx: StageContext, transductive: boolean): Promise<StageResult<Autoencoder>> {
  const start = performance.now();
  const images = transductive ? concatImages(ctx.images.train, ctx.images.test, rowSize(ctx.shape)) : ctx.images.train;
  const { augment: augmentation, seed } = encoder.training;
  const callbacks: TrainOptions = {
    ...trainingCallbacks(ctx, encoder.training.epochs),
    // its own stream, so that turning augmentation on leaves the shuffling of the batches as it was
    augment: isAugmenting(augmentation)
      ? affineAugmenter(augmentation, seed + AUGMENT_SEED_OFFSET, images.height, images.width, images.channels ?? 1)
      : undefined,
  };
  ctx.onProgress?.({ phase: 'train', fraction: 0, message: `Training the ${encoder.kind} autoencoder on ${images.count} images` });
  const model = autoencoderArchitecture(encoder.kind).build(encoder.config, seed);
  try {
    const result = await model.train(images, encoder.training, callbacks);
    ctx.store.setArtifacts(ctx.run.id, { encoderFitOn: transductive ? 'train+test' : 'train' });
    return { output: model, metrics: trainingMetrics(result), timings: { trainMs: performance.now() - start } };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

async function encodeImages(ae: Autoencoder, ctx: StageContext): Promise<Codes> {
  const { images, signal } = ctx;
  return { train: await ae.encode(images.train, signal), test: await ae.encode(images.test, signal) };
}

/** Writes the codes into the run's folder and records them with their checksums. */
async function storeCodes(ctx: StageContext, codes: Codes): Promise<void> {
  const files = { codesFit: join(ctx.dir, 'codes-fit.f32'), codesEval: join(ctx.dir, 'codes-eval.f32') };
  await writeMatrixFile(files.codesFit, codes.train);
  await writeMatrixFile(files.codesEval, codes.test);
  ctx.store.setArtifacts(ctx.run.id, { ...files, ...checksumsOf(files) });
}

/** The features of the training and test images: pixels, or the codes of a trained or reused autoencoder. */
export async function featureStage(
  encoder: EncoderSpec,
  reused: RunRecord | undefined,
  transductive: boolean,
  ctx: StageContext,
): Promise<StageResult<Features>> {
  const { images, store, run, signal, onProgress } = ctx;
  if (encoder.kind === 'none') {
    const size = rowSize(ctx.shape);
    const rows = {
      train: images.train.images.subarray(0, images.train.count * size),
      test: images.test.images.subarray(0, images.test.count * size),
      cols: size,
    };
    return { output: rows, metrics: {}, timings: {} };
  }
  const cols = featureCols(encoder, ctx.shape);
  const architecture = autoencoderArchitecture(encoder.kind);
  const modelDir = join(ctx.dir, 'autoencoder');
  const metrics: Record<string, number> = {};
  const timings: Record<string, number> = {};
  let ae: Autoencoder | undefined;
  try {
    let codes = reused ? await adoptReusedEncoder(reused, ctx, modelDir, cols) : undefined;
    if (reused && !codes) ae = await architecture.load(modelDir, encoderArchitecture(encoder));
    if (!reused) {
      const trained = await trainEncoder(encoder, ctx, transductive);
      ae = trained.output;
      Object.assign(metrics, trained.metrics);
      Object.assign(timings, trained.timings);
      await ae.save(modelDir);
    }
    if (ae) metrics.encoderParams = ae.paramCount;
    store.setArtifacts(run.id, {
      autoencoder: modelDir,
      architecture: encoderArchitecture(encoder)!,
      codeSize: String(cols),
      ...checksumsOf({ autoencoder: modelDir }),
    });
    throwIfAborted(signal);
    if (!codes) {
      onProgress?.({ phase: 'encode', message: 'Encoding images' });
      const start = performance.now();
      codes = await encodeImages(ae!, ctx);
      timings.encodeMs = performance.now() - start;
    }
    await storeCodes(ctx, codes);
    return { output: { ...codes, cols }, metrics, timings };
  } finally {
    ae?.dispose();
  }
}
