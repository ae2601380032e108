/**
 * The study's convolutional autoencoder for 28×28 grey images (Fashion-MNIST), built with tfjs-layers.
 *
 *   Encoder: 28×28×1 → Conv(32,3×3,relu,same) → MaxPool 2 → Conv(16,relu,same) → MaxPool 2 → Conv(8,relu,same)
 *            → MaxPool 2 'same' (7→4) → Flatten: 128-d code.
 *   Decoder: Reshape 4×4×8 → Conv(8,relu,same) → Up 2 → Conv(16,relu,same) → Up 2 → Conv(32,relu,VALID 16→14)
 *            → Up 2 → Conv(1,3×3,sigmoid,same): 28×28×1.
 *
 * 12,785 parameters; binary cross-entropy (Keras semantics) and Adam (β1 0.9, β2 0.999, ε 1e-7), trained by the
 * shared custom loop of `./trainer` (losses read once per epoch, cancellation through an AbortSignal).
 */
import * as tf from '@tensorflow/tfjs';
import type { Images } from '../types';
import { Rng } from '../math/rng';
import { parseEstimatorParams } from '../schema/constraints';
import { TRAINING_PARAMS } from './training-params';
import type { Autoencoder, AutoencoderArchitecture } from './autoencoder';
import { throwIfAborted } from '../abort';
import { loadModelArtifacts, saveModelArtifacts } from './fs-io';
import { registerCpuTrainingKernelFixes, registerWasmTrainingKernels } from '../backend/wasm-kernels';
import { fusedAutoencoderTrainer } from '../backend/webgpuTraining/index';
import { checkTrainParams, gatherRows, meanLossInBatches, runTrainingLoop, splitTrainVal, trainingBatches } from './trainer';
import type { AutoencoderTrainParams, BatchEvent, EpochEvent, TrainOptions, TrainResult } from './trainer';

export type { AutoencoderTrainParams, BatchEvent, EpochEvent, TrainOptions, TrainResult };

export const CONV_AE_ARCHITECTURE = 'conv-ae-study-v1';
export const CONV_AE_CODE_SIZE = 128;
export const CONV_AE_PARAMS = 12_785;
/** Name of the Flatten layer whose output is the 128-d code. */
const CODE_LAYER = 'code';

/** The study's training settings (Adam, lr 0.01, batch 128, 50 epochs): the training schema's defaults. */
export const DEFAULT_AE_TRAIN_PARAMS: Readonly<AutoencoderTrainParams> = Object.freeze(
  parseEstimatorParams('Autoencoder training', TRAINING_PARAMS),
);

export interface ConvAutoencoder {
  autoencoder: tf.LayersModel;
  encoder: tf.LayersModel;
  codeSize: 128;
  /** Stable identifier of the architecture, stored with saved models to check that an encoder can be reused. */
  architecture: string;
}

export type AutoencoderLike = ConvAutoencoder | tf.LayersModel;

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

function checkImages(images: Images): void {
  if (images.height !== 28 || images.width !== 28) {
    throw new RangeError(`the autoencoder needs 28×28 images, got ${images.height}×${images.width}`);
  }
  if (images.images.length < images.count * 784) {
    throw new RangeError(`image buffer holds ${images.images.length} values, fewer than ${images.count} × 784`);
  }
}

/** Copies the images `order[from..to)` into a [n, 28, 28, 1] tensor. */
function batchTensor(images: Float32Array, order: Int32Array | null, from: number, to: number): tf.Tensor4D {
  return imagesTensor(gatherRows(images, 784, order, from, to));
}

/** Whole 28×28 images, row-major, as a [n, 28, 28, 1] tensor. */
function imagesTensor(rows: Float32Array): tf.Tensor4D {
  return tf.tensor4d(rows, [rows.length / 784, 28, 28, 1], 'float32');
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
export async function trainConvAutoencoder(
  model: AutoencoderLike,
  images: Images,
  params: AutoencoderTrainParams,
  opts: TrainOptions = {},
): Promise<TrainResult> {
  checkTrainParams(params);
  checkImages(images);
  const ae = autoencoderOf(model);
  const { signal, onEpoch, onBatch } = opts;
  throwIfAborted(signal);
  // gradients of this model need kernels that tfjs lacks (wasm) or gets wrong (cpu); both calls are idempotent
  registerWasmTrainingKernels();
  registerCpuTrainingKernelFixes();

  const split = splitTrainVal(images.images, images.count, 784, params.valSplit, 'images');
  const batchRows = trainingBatches(split.train, 784, opts.augment);
  return runTrainingLoop(
    {
      trainRows: split.trainRows,
      vars: ae.trainableWeights.map((w) => w.read() as tf.Variable),
      batch: (order, from, to) => imagesTensor(batchRows(order, from, to)),
      loss: (x) => binaryCrossEntropy(x, ae.apply(x, { training: true }) as tf.Tensor),
      validationLoss: split.valRows > 0 ? (abort) => evaluateLoss(ae, split.val, split.valRows, params.batchSize, abort) : undefined,
      // on webgpu: the fused step (backend/webgpuTraining), unless CLUSTERBENCH_WEBGPU_FUSED=0
      fused: (batchSize, learningRate) => fusedAutoencoderTrainer(ae, batchRows, batchSize, learningRate),
    },
    params,
    { onEpoch, onBatch, signal },
  );
}

/** Mean binary cross-entropy of the autoencoder over the first `count` images of `data`, summed on the device. */
function evaluateLoss(ae: tf.LayersModel, data: Float32Array, count: number, batchSize: number, signal?: AbortSignal): Promise<number> {
  return meanLossInBatches(
    count,
    batchSize,
    (from, to) => {
      const x = batchTensor(data, null, from, to);
      return binaryCrossEntropy(x, ae.apply(x, { training: false }) as tf.Tensor);
    },
    signal,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Inference

async function runBatched(
  model: tf.LayersModel,
  images: Images,
  outSize: number,
  batchSize: number,
  indices?: number[],
): Promise<Float32Array> {
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
export async function encodeConv(encoder: tf.LayersModel, images: Images, batchSize = 512): Promise<Float32Array> {
  return runBatched(encoder, images, CONV_AE_CODE_SIZE, batchSize);
}

/** Reconstructions of the images at `indices`: `indices.length × 784` values in [0, 1]. */
export async function reconstructConv(model: AutoencoderLike, images: Images, indices: number[]): Promise<Float32Array> {
  return runBatched(autoencoderOf(model), images, 784, 256, indices);
}

// ---------------------------------------------------------------------------------------------------------------
// Persistence

/** Saves the autoencoder (topology + weights, tfjs format: `model.json` + `weights.bin`) into `dir`, atomically per file. */
export async function saveConvAutoencoder(model: AutoencoderLike, dir: string): Promise<void> {
  const ae = autoencoderOf(model);
  const architecture = model instanceof tf.LayersModel ? CONV_AE_ARCHITECTURE : model.architecture;
  await ae.save(saveModelArtifacts(dir, { architecture, codeSize: CONV_AE_CODE_SIZE, params: ae.countParams() }));
}

/**
 * Loads an autoencoder saved by {@link saveConvAutoencoder}; the encoder shares its layers. Throws when the saved
 * architecture is not this one.
 */
export async function loadConvAutoencoder(dir: string): Promise<ConvAutoencoder> {
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

// ---------------------------------------------------------------------------------------------------------------
// The common interface (autoencoder.ts)

function asAutoencoder(model: ConvAutoencoder): Autoencoder {
  return {
    architecture: model.architecture,
    codeSize: CONV_AE_CODE_SIZE,
    paramCount: model.autoencoder.countParams(),
    train: (images, params, options) => trainConvAutoencoder(model, images, params, options),
    encode: (images) => encodeConv(model.encoder, images),
    reconstruct: (images, indices) => reconstructConv(model, images, indices),
    save: (dir) => saveConvAutoencoder(model, dir),
    dispose: () => model.autoencoder.dispose(),
  };
}

/** The study's convolutional autoencoder: a fixed network for 28×28 images, nothing to configure. */
export const convArchitecture: AutoencoderArchitecture<Record<string, never>> = {
  kind: 'conv',
  configOf: (_params, pixels) => {
    if (pixels !== 784) throw new RangeError(`the study's conv autoencoder takes 28×28 images (784 pixels), not ${pixels}`);
    return {};
  },
  architectureId: () => CONV_AE_ARCHITECTURE,
  owns: (id) => id === CONV_AE_ARCHITECTURE,
  codeSize: () => CONV_AE_CODE_SIZE,
  build: (_config, seed) => asAutoencoder(buildConvAutoencoder(seed)),
  load: async (dir) => asAutoencoder(await loadConvAutoencoder(dir)),
};
