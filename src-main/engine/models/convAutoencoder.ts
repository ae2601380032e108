/**
 * The study's convolutional autoencoder for 28×28 grey images (Fashion-MNIST), built with tfjs-layers.
 *
 *   Encoder: 28×28×1 → Conv(32,3×3,relu,same) → MaxPool 2 → Conv(16,relu,same) → MaxPool 2 → Conv(8,relu,same)
 *            → MaxPool 2 'same' (7→4) → Flatten: 128-d code.
 *   Decoder: Reshape 4×4×8 → Conv(8,relu,same) → Up 2 → Conv(16,relu,same) → Up 2 → Conv(32,relu,VALID 16→14)
 *            → Up 2 → Conv(1,3×3,sigmoid,same): 28×28×1.
 *
 * 12,785 parameters; binary cross-entropy (Keras semantics) and Adam (β1 0.9, β2 0.999, ε 1e-7).
 *
 * Training is a custom loop rather than `model.fit`: the batch losses are summed on the device and read once per
 * epoch, so there is no device→CPU synchronisation per batch; it yields to the event loop between batches so that
 * a worker stays responsive (cancellation through an AbortSignal).
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../types';
import { Rng } from '../cluster/rng';
import { loadModelArtifacts, saveModelArtifacts } from './fsIo';
import { registerCpuTrainingKernelFixes, registerWasmTrainingKernels } from '../backend/wasmKernels';

export const CONV_AE_ARCHITECTURE = 'conv-ae-study-v1';
export const CONV_AE_CODE_SIZE = 128;
export const CONV_AE_PARAMS = 12_785;
/** Name of the Flatten layer whose output is the 128-d code. */
const CODE_LAYER = 'code';

export interface AutoencoderTrainParams {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Fraction of the training images (the last ones, deterministic) held out for the validation loss; 0 = none. */
  valSplit: number;
  /**
   * Early stopping: stop after `patience` epochs in a row without improvement of the validation loss (the training
   * loss without a validation split) and restore the best weights; null = off.
   */
  patience: number | null;
  seed: number;
}

export const DEFAULT_AE_TRAIN_PARAMS: Readonly<AutoencoderTrainParams> = Object.freeze({
  epochs: 50,
  batchSize: 128,
  learningRate: 0.01,
  valSplit: 0.1,
  patience: null,
  seed: 0,
});

export interface ConvAutoencoder {
  autoencoder: tf.LayersModel;
  encoder: tf.LayersModel;
  codeSize: 128;
  /** Stable identifier of the architecture, stored with saved models to check that an encoder can be reused. */
  architecture: string;
}

export type AutoencoderLike = ConvAutoencoder | tf.LayersModel;

export interface EpochEvent {
  epoch: number;
  epochs: number;
  trainLoss: number;
  valLoss: number | null;
  imagesPerSec: number;
  elapsedMs: number;
}

export interface BatchEvent {
  epoch: number;
  batch: number;
  batches: number;
  imagesPerSec: number;
}

export interface TrainOptions {
  onEpoch?(e: EpochEvent): void;
  onBatch?(e: BatchEvent): void;
  signal?: AbortSignal;
}

export interface TrainResult {
  losses: { epoch: number; trainLoss: number; valLoss: number | null }[];
  stoppedEarly: boolean;
  /** Training throughput of the fastest epoch after the first (the first includes warm-up), or of the only epoch. */
  imagesPerSec: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Model

/**
 * Builds the autoencoder and its encoder (sharing the same layers). Weights are initialised with Glorot-uniform
 * kernels seeded from `seed` (one derived seed per layer) and zero biases, so a seed reproduces the same initial
 * weights on a given backend.
 */
export function buildConvAutoencoder(seed: number): ConvAutoencoder {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const rng = new Rng(seed);
  const conv = (filters: number, activation: 'relu' | 'sigmoid', padding: 'same' | 'valid', name: string) => {
    return tf.layers.conv2d({
      name,
      filters,
      kernelSize: 3,
      activation,
      padding,
      kernelInitializer: tf.initializers.glorotUniform({ seed: rng.nextSeed() }),
      biasInitializer: 'zeros',
    });
  };

  const input = tf.input({ shape: [28, 28, 1], name: 'image' });
  let x = conv(32, 'relu', 'same', 'enc_conv1').apply(input) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ name: 'enc_pool1', poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = conv(16, 'relu', 'same', 'enc_conv2').apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ name: 'enc_pool2', poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = conv(8, 'relu', 'same', 'enc_conv3').apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ name: 'enc_pool3', poolSize: 2, padding: 'same' }).apply(x) as tf.SymbolicTensor;
  const code = tf.layers.flatten({ name: CODE_LAYER }).apply(x) as tf.SymbolicTensor;

  let y = tf.layers.reshape({ name: 'dec_reshape', targetShape: [4, 4, 8] }).apply(code) as tf.SymbolicTensor;
  y = conv(8, 'relu', 'same', 'dec_conv1').apply(y) as tf.SymbolicTensor;
  y = tf.layers.upSampling2d({ name: 'dec_up1', size: [2, 2] }).apply(y) as tf.SymbolicTensor;
  y = conv(16, 'relu', 'same', 'dec_conv2').apply(y) as tf.SymbolicTensor;
  y = tf.layers.upSampling2d({ name: 'dec_up2', size: [2, 2] }).apply(y) as tf.SymbolicTensor;
  y = conv(32, 'relu', 'valid', 'dec_conv3').apply(y) as tf.SymbolicTensor;
  y = tf.layers.upSampling2d({ name: 'dec_up3', size: [2, 2] }).apply(y) as tf.SymbolicTensor;
  const decoded = conv(1, 'sigmoid', 'same', 'dec_out').apply(y) as tf.SymbolicTensor;

  const autoencoder = tf.model({ inputs: input, outputs: decoded, name: 'conv_autoencoder' });
  const encoder = tf.model({ inputs: input, outputs: code, name: 'conv_encoder' });
  return { autoencoder, encoder, codeSize: CONV_AE_CODE_SIZE, architecture: CONV_AE_ARCHITECTURE };
}

/** The encoder (input → 128-d code) of an autoencoder built by {@link buildConvAutoencoder} or loaded from disk. */
export function encoderOf(autoencoder: tf.LayersModel): tf.LayersModel {
  const codeLayer = autoencoder.getLayer(CODE_LAYER);
  return tf.model({ inputs: autoencoder.inputs, outputs: codeLayer.output as tf.SymbolicTensor, name: 'conv_encoder' });
}

function autoencoderOf(model: AutoencoderLike): tf.LayersModel {
  return model instanceof tf.LayersModel ? model : model.autoencoder;
}

// ---------------------------------------------------------------------------------------------------------------
// Loss

/**
 * Binary cross-entropy as Keras computes it on probabilities (clipped to [ε, 1−ε], ε = 1e-7), averaged over all
 * pixels. The wasm backend's clip turns NaN into ε, which would hide a diverged model; adding (p − p), zero for
 * any finite p and NaN otherwise, keeps NaN visible without changing values or gradients.
 */
export function binaryCrossEntropy(target: tf.Tensor, predicted: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const eps = 1e-7;
    const p = tf.add(tf.clipByValue(predicted, eps, 1 - eps), tf.sub(predicted, predicted));
    // −[t·log p + (1−t)·log(1−p)]
    const loss = tf.add(tf.mul(target, tf.log(p)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p))));
    return tf.neg(tf.mean(loss)) as tf.Scalar;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function checkImages(images: ImageSet): void {
  if (images.height !== 28 || images.width !== 28) {
    throw new RangeError(`the autoencoder needs 28×28 images, got ${images.height}×${images.width}`);
  }
  if (images.images.length < images.count * 784) {
    throw new RangeError(`image buffer holds ${images.images.length} values, fewer than ${images.count} × 784`);
  }
}

function checkParams(p: AutoencoderTrainParams): void {
  const bad = (name: string, v: unknown, why: string): never => {
    throw new RangeError(`invalid ${name} ${String(v)}: ${why}`);
  };
  if (!Number.isInteger(p.epochs) || p.epochs < 1) bad('epochs', p.epochs, 'must be an integer ≥ 1');
  if (!Number.isInteger(p.batchSize) || p.batchSize < 1) bad('batchSize', p.batchSize, 'must be an integer ≥ 1');
  if (!(p.learningRate > 0) || !Number.isFinite(p.learningRate)) bad('learningRate', p.learningRate, 'must be a finite number > 0');
  if (!(p.valSplit >= 0 && p.valSplit < 1)) bad('valSplit', p.valSplit, 'must be in [0, 1)');
  if (p.patience !== null && (!Number.isInteger(p.patience) || p.patience < 0)) bad('patience', p.patience, 'must be null or an integer ≥ 0');
  if (!Number.isFinite(p.seed)) bad('seed', p.seed, 'must be a finite number');
}

/** Copies the images `order[from..to)` into a [n, 28, 28, 1] tensor. */
function batchTensor(images: Float32Array, order: Int32Array | null, from: number, to: number): tf.Tensor4D {
  const n = to - from;
  let data: Float32Array;
  if (order === null) {
    data = images.subarray(from * 784, to * 784);
  } else {
    data = new Float32Array(n * 784);
    for (let i = 0; i < n; i++) {
      const src = order[from + i] * 784;
      data.set(images.subarray(src, src + 784), i * 784);
    }
  }
  return tf.tensor4d(data, [n, 28, 28, 1], 'float32');
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason as unknown;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const err = new Error(typeof reason === 'string' ? reason : 'Autoencoder training aborted');
  err.name = 'AbortError';
  return err;
}

/** Lets pending I/O and messages (e.g. a cancel request sent to a worker) run. */
function nextTick(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Training

/**
 * Trains `model` to reconstruct `images` with binary cross-entropy and Adam. The last `valSplit` fraction of the
 * images (in their given order) is held out for the validation loss; the training part is shuffled every epoch
 * with a generator seeded by `params.seed`. Losses are read from the device once per epoch.
 *
 * Throws an Error naming the epoch when a loss becomes NaN or infinite, and an `AbortError` when `opts.signal`
 * is aborted (checked between batches). With `patience`, training stops when the monitored loss (validation, or
 * training without a validation split) has not improved for `patience` epochs and the best weights are restored.
 */
export async function trainAutoencoder(
  model: AutoencoderLike,
  images: ImageSet,
  params: AutoencoderTrainParams,
  opts: TrainOptions = {},
): Promise<TrainResult> {
  checkParams(params);
  checkImages(images);
  const ae = autoencoderOf(model);
  const { signal, onEpoch, onBatch } = opts;
  if (signal?.aborted) throw abortError(signal);
  // gradients of this model need kernels that tfjs lacks (wasm) or gets wrong (cpu); both calls are idempotent
  registerWasmTrainingKernels();
  registerCpuTrainingKernelFixes();

  const nVal = Math.floor(images.count * params.valSplit);
  const nTrain = images.count - nVal;
  if (nTrain < 1) throw new RangeError(`no training images left: ${images.count} images with valSplit ${params.valSplit}`);
  const trainImages = images.images.subarray(0, nTrain * 784);
  const valImages = images.images.subarray(nTrain * 784, images.count * 784);

  const rng = new Rng(params.seed);
  const optimizer = tf.train.adam(params.learningRate, 0.9, 0.999, 1e-7);
  const vars = ae.trainableWeights.map((w) => w.read() as tf.Variable);
  const batches = Math.ceil(nTrain / params.batchSize);
  const losses: TrainResult['losses'] = [];
  const rates: number[] = [];
  const started = performance.now();

  let best = Infinity;
  let bestWeights: tf.Tensor[] | null = null;
  let wait = 0;
  let stoppedEarly = false;

  const lossOf = (x: tf.Tensor4D, training: boolean): tf.Scalar =>
    binaryCrossEntropy(x, ae.apply(x, { training }) as tf.Tensor);

  try {
    for (let epoch = 1; epoch <= params.epochs; epoch++) {
      const order = rng.permutation(nTrain);
      const epochStart = performance.now();
      let sum: tf.Scalar = tf.scalar(0);
      try {
        for (let b = 0; b < batches; b++) {
          if (signal?.aborted) throw abortError(signal);
          const from = b * params.batchSize;
          const to = Math.min(nTrain, from + params.batchSize);
          const x = batchTensor(trainImages, order, from, to);
          const cost = optimizer.minimize(() => lossOf(x, true), true, vars) as tf.Scalar;
          x.dispose();
          // weight the batch mean by its size so that the epoch loss is the mean over images
          const next = tf.tidy(() => tf.add(sum, tf.mul(cost, to - from)) as tf.Scalar);
          cost.dispose();
          sum.dispose();
          sum = next;
          if (onBatch) {
            const ms = performance.now() - epochStart;
            onBatch({ epoch, batch: b + 1, batches, imagesPerSec: ms > 0 ? (to * 1000) / ms : 0 });
          }
          await nextTick();
        }
        const trainLoss = (await sum.data())[0] / nTrain;
        const trainMs = performance.now() - epochStart;
        const imagesPerSec = (nTrain * 1000) / trainMs;
        rates.push(imagesPerSec);
        if (!Number.isFinite(trainLoss)) throw new Error(`loss became ${Number.isNaN(trainLoss) ? 'NaN' : 'infinite'} at epoch ${epoch}`);

        let valLoss: number | null = null;
        if (nVal > 0) {
          valLoss = await evaluateLoss(ae, valImages, nVal, params.batchSize, signal);
          if (!Number.isFinite(valLoss)) {
            throw new Error(`validation loss became ${Number.isNaN(valLoss) ? 'NaN' : 'infinite'} at epoch ${epoch}`);
          }
        }
        losses.push({ epoch, trainLoss, valLoss });
        onEpoch?.({ epoch, epochs: params.epochs, trainLoss, valLoss, imagesPerSec, elapsedMs: performance.now() - started });

        if (params.patience !== null) {
          const monitored = valLoss ?? trainLoss;
          if (monitored < best) {
            best = monitored;
            wait = 0;
            if (bestWeights) tf.dispose(bestWeights);
            bestWeights = vars.map((v) => tf.keep(v.clone()));
          } else if (++wait >= params.patience) {
            // `patience` epochs in a row without improvement (Keras semantics)
            stoppedEarly = true;
            break;
          }
        }
      } finally {
        sum.dispose();
      }
    }
    if (stoppedEarly && bestWeights) {
      const saved = bestWeights;
      vars.forEach((v, i) => v.assign(saved[i]));
    }
  } finally {
    if (bestWeights) tf.dispose(bestWeights);
    optimizer.dispose();
  }
  const imagesPerSec = rates.length > 1 ? Math.max(...rates.slice(1)) : (rates[0] ?? 0);
  return { losses, stoppedEarly, imagesPerSec };
}

/** Mean binary cross-entropy of the autoencoder over the first `count` images of `data`, summed on the device. */
async function evaluateLoss(ae: tf.LayersModel, data: Float32Array, count: number, batchSize: number, signal?: AbortSignal): Promise<number> {
  let sum: tf.Scalar = tf.scalar(0);
  try {
    for (let from = 0; from < count; from += batchSize) {
      if (signal?.aborted) throw abortError(signal);
      const to = Math.min(count, from + batchSize);
      const next = tf.tidy(() => {
        const x = batchTensor(data, null, from, to);
        const l = binaryCrossEntropy(x, ae.apply(x, { training: false }) as tf.Tensor);
        return tf.add(sum, tf.mul(l, to - from)) as tf.Scalar;
      });
      sum.dispose();
      sum = next;
      await nextTick();
    }
    return (await sum.data())[0] / count;
  } finally {
    sum.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Inference

async function runBatched(model: tf.LayersModel, images: ImageSet, outSize: number, batchSize: number, indices?: number[]): Promise<Float32Array> {
  checkImages(images);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be an integer ≥ 1, got ${batchSize}`);
  const n = indices ? indices.length : images.count;
  const out = new Float32Array(n * outSize);
  let order: Int32Array | null = null;
  if (indices) {
    order = Int32Array.from(indices);
    for (const i of order) {
      if (!(i >= 0 && i < images.count)) throw new RangeError(`image index ${i} out of range 0..${images.count - 1}`);
    }
  }
  for (let from = 0; from < n; from += batchSize) {
    const to = Math.min(n, from + batchSize);
    const y = tf.tidy(() => model.predict(batchTensor(images.images, order, from, to)) as tf.Tensor);
    try {
      out.set(await y.data(), from * outSize);
    } finally {
      y.dispose();
    }
  }
  return out;
}

/** Codes of all images: a row-major `count × 128` matrix. */
export async function encode(encoder: tf.LayersModel, images: ImageSet, batchSize = 512): Promise<Float32Array> {
  return runBatched(encoder, images, CONV_AE_CODE_SIZE, batchSize);
}

/** Reconstructions of the images at `indices`: `indices.length × 784` values in [0, 1]. */
export async function reconstruct(model: AutoencoderLike, images: ImageSet, indices: number[]): Promise<Float32Array> {
  return runBatched(autoencoderOf(model), images, 784, 256, indices);
}

// ---------------------------------------------------------------------------------------------------------------
// Persistence

/** Saves the autoencoder (topology + weights, tfjs format: `model.json` + `weights.bin`) into `dir`, atomically per file. */
export async function saveAutoencoder(model: AutoencoderLike, dir: string): Promise<void> {
  const ae = autoencoderOf(model);
  const architecture = model instanceof tf.LayersModel ? CONV_AE_ARCHITECTURE : model.architecture;
  await ae.save(saveModelArtifacts(dir, { architecture, codeSize: CONV_AE_CODE_SIZE, params: ae.countParams() }));
}

/**
 * Loads an autoencoder saved by {@link saveAutoencoder}; the encoder shares its layers. Throws when the saved
 * architecture is not this one.
 */
export async function loadAutoencoder(dir: string): Promise<ConvAutoencoder> {
  const handler = loadModelArtifacts(dir);
  const autoencoder = await tf.loadLayersModel(handler);
  const meta = handler.lastMetadata;
  const architecture = typeof meta?.architecture === 'string' ? meta.architecture : 'unknown';
  if (architecture !== CONV_AE_ARCHITECTURE) {
    autoencoder.dispose();
    throw new Error(`${dir} holds an autoencoder of architecture '${architecture}', expected '${CONV_AE_ARCHITECTURE}'`);
  }
  return { autoencoder, encoder: encoderOf(autoencoder), codeSize: CONV_AE_CODE_SIZE, architecture };
}
