/**
 * The study's convolutional autoencoder for 28×28 grey images (Fashion-MNIST), built with tfjs-layers, and the same
 * layers generalised to any H×W×C image (conv-input.ts says which shapes and what each fixes).
 *
 *   Encoder: 28×28×1 → Conv(32,3×3,relu,same) → MaxPool 2 → Conv(16,relu,same) → MaxPool 2 → Conv(8,relu,same)
 *            → MaxPool 2 'same' (7→4) → Flatten: 128-d code.
 *   Decoder: Reshape 4×4×8 → Conv(8,relu,same) → Up 2 → Conv(16,relu,same) → Up 2 → Conv(32,relu,VALID 16→14)
 *            → Up 2 → Conv(1,3×3,sigmoid,same): 28×28×1.
 *
 * 12,785 parameters; binary cross-entropy (Keras semantics) and Adam (β1 0.9, β2 0.999, ε 1e-7), trained by the
 * shared custom loop of `./trainer` (losses read once per epoch, cancellation through an AbortSignal).
 *
 * On H×W×C (`conv-ae-v2:HxWxC`) every pooling pads ('same': ⌈s/2⌉, so the code is h3×w3×8 with h3 = ⌈H/8⌉) and
 * every convolution keeps its size; the decoder's 8·h3 × 8·w3 × 32 is cropped (Cropping2D, centred) to H×W before
 * the output convolution, which has C filters. On 28×28×1 the study's network is built exactly as it always was.
 */
import * as tf from '@tensorflow/tfjs';
import { valuesPerImage, type Images } from '../types';
import { Rng } from '../math/rng';
import { parseEstimatorParams } from '../schema/constraints';
import { TRAINING_PARAMS } from './training-params';
import { inputShapeOf, type Autoencoder, type AutoencoderArchitecture } from './autoencoder';
import {
  CONV_AE_ARCHITECTURE,
  STUDY_INPUT,
  convArchitectureId,
  convCodeShape,
  convCodeSize,
  convConfigOf,
  describeConvAutoencoder,
  describeConvInput,
  isStudyInput,
  parseConvArchitectureId,
  type ConvAutoencoderConfig,
} from './conv-input';
import { throwIfAborted } from '../abort';
import { loadModelArtifacts, saveModelArtifacts } from './fs-io';
import { registerCpuTrainingKernelFixes, registerWasmTrainingKernels } from '../backend/wasm-kernels';
import { fusedAutoencoderTrainer } from '../backend/webgpuTraining/index';
import { checkTrainParams, gatherRows, meanLossInBatches, runTrainingLoop, splitTrainVal, trainingBatches } from './trainer';
import type { AutoencoderTrainParams, BatchEvent, EpochEvent, TrainOptions, TrainResult } from './trainer';

export type { AutoencoderTrainParams, BatchEvent, EpochEvent, TrainOptions, TrainResult };
export { CONV_AE_ARCHITECTURE, STUDY_INPUT, type ConvAutoencoderConfig };

/** The study's network (28×28×1): its code size and parameter count. */
export const CONV_AE_CODE_SIZE = 128;
export const CONV_AE_PARAMS = 12_785;
/** Name of the Flatten layer whose output is the code. */
const CODE_LAYER = 'code';

/** The study's training settings (Adam, lr 0.01, batch 128, 50 epochs): the training schema's defaults. */
export const DEFAULT_AE_TRAIN_PARAMS: Readonly<AutoencoderTrainParams> = Object.freeze(
  parseEstimatorParams('Autoencoder training', TRAINING_PARAMS),
);

export interface ConvAutoencoder {
  autoencoder: tf.LayersModel;
  encoder: tf.LayersModel;
  /** The images it takes (28×28×1: the study's network). */
  input: ConvAutoencoderConfig;
  codeSize: number;
  /** Stable identifier of the architecture, stored with saved models to check that an encoder can be reused. */
  architecture: string;
}

export type AutoencoderLike = ConvAutoencoder | tf.LayersModel;

// ---------------------------------------------------------------------------------------------------------------
// Model

/**
 * Builds the autoencoder and its encoder (sharing the same layers) for images of `input` (the study's 28×28×1 by
 * default). Weights are initialised with Glorot-uniform kernels seeded from `seed` (one derived seed per layer) and
 * zero biases, so a seed reproduces the same initial weights on a given backend.
 */
export function buildConvAutoencoder(seed: number, input: ConvAutoencoderConfig = STUDY_INPUT): ConvAutoencoder {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const shape = convConfigOf({ kind: 'images', ...input });
  // The study's network pools 28→14→7 unpadded and its third decoder convolution is 'valid' (16→14, up to 28);
  // elsewhere every pooling pads and the decoder's 8·h3 × 8·w3 is cropped to H×W instead.
  const study = isStudyInput(shape);
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
  const pool = (name: string, padding: 'same' | 'valid') => tf.layers.maxPooling2d({ name, poolSize: 2, padding });
  const up = (name: string) => tf.layers.upSampling2d({ name, size: [2, 2] });
  const [h3, w3] = convCodeShape(shape);

  const image = tf.input({ shape: [shape.height, shape.width, shape.channels], name: 'image' });
  let x = conv(32, 'relu', 'same', 'enc_conv1').apply(image) as tf.SymbolicTensor;
  x = pool('enc_pool1', study ? 'valid' : 'same').apply(x) as tf.SymbolicTensor;
  x = conv(16, 'relu', 'same', 'enc_conv2').apply(x) as tf.SymbolicTensor;
  x = pool('enc_pool2', study ? 'valid' : 'same').apply(x) as tf.SymbolicTensor;
  x = conv(8, 'relu', 'same', 'enc_conv3').apply(x) as tf.SymbolicTensor;
  x = pool('enc_pool3', 'same').apply(x) as tf.SymbolicTensor;
  const code = tf.layers.flatten({ name: CODE_LAYER }).apply(x) as tf.SymbolicTensor;

  let y = tf.layers.reshape({ name: 'dec_reshape', targetShape: [h3, w3, 8] }).apply(code) as tf.SymbolicTensor;
  y = conv(8, 'relu', 'same', 'dec_conv1').apply(y) as tf.SymbolicTensor;
  y = up('dec_up1').apply(y) as tf.SymbolicTensor;
  y = conv(16, 'relu', 'same', 'dec_conv2').apply(y) as tf.SymbolicTensor;
  y = up('dec_up2').apply(y) as tf.SymbolicTensor;
  y = conv(32, 'relu', study ? 'valid' : 'same', 'dec_conv3').apply(y) as tf.SymbolicTensor;
  y = up('dec_up3').apply(y) as tf.SymbolicTensor;
  const [cropH, cropW] = study ? [0, 0] : [8 * h3 - shape.height, 8 * w3 - shape.width];
  if (cropH > 0 || cropW > 0) {
    const cropping: [[number, number], [number, number]] = [
      [Math.floor(cropH / 2), cropH - Math.floor(cropH / 2)],
      [Math.floor(cropW / 2), cropW - Math.floor(cropW / 2)],
    ];
    y = tf.layers.cropping2D({ name: 'dec_crop', cropping }).apply(y) as tf.SymbolicTensor;
  }
  const decoded = conv(shape.channels, 'sigmoid', 'same', 'dec_out').apply(y) as tf.SymbolicTensor;

  const autoencoder = tf.model({ inputs: image, outputs: decoded, name: 'conv_autoencoder' });
  const encoder = tf.model({ inputs: image, outputs: code, name: 'conv_encoder' });
  return { autoencoder, encoder, input: shape, codeSize: convCodeSize(shape), architecture: convArchitectureId(shape) };
}

/** The encoder (input → code) of an autoencoder built by {@link buildConvAutoencoder} or loaded from disk. */
export function encoderOf(autoencoder: tf.LayersModel): tf.LayersModel {
  const codeLayer = autoencoder.getLayer(CODE_LAYER);
  return tf.model({ inputs: autoencoder.inputs, outputs: codeLayer.output as tf.SymbolicTensor, name: 'conv_encoder' });
}

function autoencoderOf(model: AutoencoderLike): tf.LayersModel {
  return model instanceof tf.LayersModel ? model : model.autoencoder;
}

/** The images a model (or its encoder) takes, from its input layer. */
function inputOf(model: tf.LayersModel): ConvAutoencoderConfig {
  const shape = model.inputs[0]?.shape ?? [];
  const [height, width, channels] = shape.slice(1);
  if (model.inputs.length !== 1 || shape.length !== 4 || !height || !width || (channels !== 1 && channels !== 3)) {
    throw new RangeError(`not a conv autoencoder: its input is [${shape.join(', ')}]`);
  }
  return { height, width, channels };
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

function checkImages(images: Images, input: ConvAutoencoderConfig): void {
  const channels = images.channels ?? 1;
  if (images.height !== input.height || images.width !== input.width || channels !== input.channels) {
    throw new RangeError(
      `the autoencoder needs ${describeConvInput(input)} images, got ${describeConvInput({ height: images.height, width: images.width, channels: channels as 1 | 3 })}`,
    );
  }
  const size = valuesPerImage(input);
  if (images.images.length < images.count * size) {
    throw new RangeError(`image buffer holds ${images.images.length} values, fewer than ${images.count} × ${size}`);
  }
}

/** Copies the images `order[from..to)` into a [n, H, W, C] tensor. */
function batchTensor(images: Float32Array, input: ConvAutoencoderConfig, order: Int32Array | null, from: number, to: number): tf.Tensor4D {
  return imagesTensor(gatherRows(images, valuesPerImage(input), order, from, to), input);
}

/** Whole images, row-major and channels last, as a [n, H, W, C] tensor. */
function imagesTensor(rows: Float32Array, input: ConvAutoencoderConfig): tf.Tensor4D {
  const size = valuesPerImage(input);
  return tf.tensor4d(rows, [rows.length / size, input.height, input.width, input.channels], 'float32');
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
  const ae = autoencoderOf(model);
  const input = inputOf(ae);
  checkImages(images, input);
  const { signal, onEpoch, onBatch } = opts;
  throwIfAborted(signal);
  // gradients of this model need kernels that tfjs lacks (wasm) or gets wrong (cpu); both calls are idempotent
  registerWasmTrainingKernels();
  registerCpuTrainingKernelFixes();

  const size = valuesPerImage(input);
  const split = splitTrainVal(images.images, images.count, size, params.valSplit, 'images');
  const batchRows = trainingBatches(split.train, size, opts.augment);
  return runTrainingLoop(
    {
      trainRows: split.trainRows,
      vars: ae.trainableWeights.map((w) => w.read() as tf.Variable),
      batch: (order, from, to) => imagesTensor(batchRows(order, from, to), input),
      loss: (x) => binaryCrossEntropy(x, ae.apply(x, { training: true }) as tf.Tensor),
      validationLoss: split.valRows > 0 ? (abort) => evaluateLoss(ae, input, split.val, split.valRows, params.batchSize, abort) : undefined,
      // On webgpu the study's network (28×28×1) trains by the fused step (backend/webgpuTraining), unless
      // CLUSTERBENCH_WEBGPU_FUSED=0. Other shapes always train through tfjs layers: the fused step has no cropping
      // and has been checked against tfjs on the study's network only.
      fused: isStudyInput(input) ? (batchSize, learningRate) => fusedAutoencoderTrainer(ae, batchRows, batchSize, learningRate) : undefined,
    },
    params,
    { onEpoch, onBatch, signal },
  );
}

/** Mean binary cross-entropy of the autoencoder over the first `count` images of `data`, summed on the device. */
function evaluateLoss(
  ae: tf.LayersModel,
  input: ConvAutoencoderConfig,
  data: Float32Array,
  count: number,
  batchSize: number,
  signal?: AbortSignal,
): Promise<number> {
  return meanLossInBatches(
    count,
    batchSize,
    (from, to) => {
      const x = batchTensor(data, input, null, from, to);
      return binaryCrossEntropy(x, ae.apply(x, { training: false }) as tf.Tensor);
    },
    signal,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Inference

/** Input values per inference batch at most (16 MB; the first convolution's output is 32 times that). */
const MAX_BATCH_VALUES = 1 << 22;

/** `model`'s outputs for all images (or those at `indices`), in batches, as one row-major array. */
async function runBatched(model: tf.LayersModel, images: Images, batchSize: number, indices?: number[]): Promise<Float32Array> {
  const input = inputOf(model);
  checkImages(images, input);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be an integer ≥ 1, got ${batchSize}`);
  const batch = Math.max(1, Math.min(batchSize, Math.floor(MAX_BATCH_VALUES / valuesPerImage(input))));
  const outSize = model.outputs[0].shape.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
  const n = indices ? indices.length : images.count;
  const out = new Float32Array(n * outSize);
  let order: Int32Array | null = null;
  if (indices) {
    order = Int32Array.from(indices);
    for (const i of order) {
      if (!(i >= 0 && i < images.count)) throw new RangeError(`image index ${i} out of range 0..${images.count - 1}`);
    }
  }
  for (let from = 0; from < n; from += batch) {
    const to = Math.min(n, from + batch);
    const y = tf.tidy(() => model.predict(batchTensor(images.images, input, order, from, to)) as tf.Tensor);
    try {
      out.set(await y.data(), from * outSize);
    } finally {
      y.dispose();
    }
  }
  return out;
}

/** Codes of all images: a row-major `count × codeSize` matrix (128 for the study's network). */
export async function encodeConv(encoder: tf.LayersModel, images: Images, batchSize = 512): Promise<Float32Array> {
  return runBatched(encoder, images, batchSize);
}

/** Reconstructions of the images at `indices`: `indices.length × H·W·C` values in [0, 1] (784 for the study's). */
export async function reconstructConv(model: AutoencoderLike, images: Images, indices: number[]): Promise<Float32Array> {
  return runBatched(autoencoderOf(model), images, 256, indices);
}

// ---------------------------------------------------------------------------------------------------------------
// Persistence

/** Saves the autoencoder (topology + weights, tfjs format: `model.json` + `weights.bin`) into `dir`, atomically per file. */
export async function saveConvAutoencoder(model: AutoencoderLike, dir: string): Promise<void> {
  const ae = autoencoderOf(model);
  const input = inputOf(ae);
  const architecture = model instanceof tf.LayersModel ? convArchitectureId(input) : model.architecture;
  await ae.save(saveModelArtifacts(dir, { architecture, codeSize: convCodeSize(input), params: ae.countParams() }));
}

/**
 * Loads an autoencoder saved by {@link saveConvAutoencoder}; the encoder shares its layers. Throws when the saved
 * architecture is not a conv one, not `expectedArchitecture` (when given), or not the input its id names.
 */
export async function loadConvAutoencoder(dir: string, expectedArchitecture?: string): Promise<ConvAutoencoder> {
  const handler = loadModelArtifacts(dir);
  const autoencoder = await tf.loadLayersModel(handler);
  const meta = handler.lastMetadata;
  const architecture = typeof meta?.architecture === 'string' ? meta.architecture : 'unknown';
  const input = parseConvArchitectureId(architecture);
  const problem = !input
    ? `${dir} holds an autoencoder of architecture '${architecture}', expected '${expectedArchitecture ?? CONV_AE_ARCHITECTURE}' or another conv one`
    : expectedArchitecture !== undefined && architecture !== expectedArchitecture
      ? `${dir} holds an autoencoder of architecture '${architecture}', expected '${expectedArchitecture}'`
      : savedShapeProblem(autoencoder, input, architecture, dir);
  if (problem || !input) {
    autoencoder.dispose();
    throw new Error(problem);
  }
  return { autoencoder, encoder: encoderOf(autoencoder), input, codeSize: convCodeSize(input), architecture };
}

/** Why a loaded network is not the one its architecture id names (its input, output or code), if it is not. */
function savedShapeProblem(
  autoencoder: tf.LayersModel,
  input: ConvAutoencoderConfig,
  architecture: string,
  dir: string,
): string | undefined {
  const want = [null, input.height, input.width, input.channels];
  const same = (shape: unknown[] | undefined, expected: unknown[]) => JSON.stringify(shape) === JSON.stringify(expected);
  let code: unknown[] | undefined;
  try {
    code = (autoencoder.getLayer(CODE_LAYER).output as tf.SymbolicTensor).shape;
  } catch {
    code = undefined;
  }
  if (autoencoder.inputs.length === 1 && same(autoencoder.inputs[0].shape, want) && same(autoencoder.outputs[0]?.shape, want)) {
    if (same(code, [null, convCodeSize(input)])) return undefined;
  }
  return `${dir} holds a network that is not the ${describeConvInput(input)} one its architecture '${architecture}' names`;
}

// ---------------------------------------------------------------------------------------------------------------
// The common interface (autoencoder.ts)

function asAutoencoder(model: ConvAutoencoder): Autoencoder {
  return {
    architecture: model.architecture,
    codeSize: model.codeSize,
    paramCount: model.autoencoder.countParams(),
    train: (images, params, options) => trainConvAutoencoder(model, images, params, options),
    encode: (images) => encodeConv(model.encoder, images),
    reconstruct: (images, indices) => reconstructConv(model, images, indices),
    save: (dir) => saveConvAutoencoder(model, dir),
    dispose: () => model.autoencoder.dispose(),
  };
}

/** The conv autoencoder: the study's network on 28×28×1 images, the same layers generalised on any other H×W×C. */
export const convArchitecture: AutoencoderArchitecture<ConvAutoencoderConfig> = {
  kind: 'conv',
  configOf: (_params, input) => convConfigOf(inputShapeOf(input)),
  describeInput: describeConvAutoencoder,
  architectureId: convArchitectureId,
  owns: (id) => parseConvArchitectureId(id) !== undefined,
  codeSize: convCodeSize,
  build: (config, seed) => asAutoencoder(buildConvAutoencoder(seed, config)),
  load: async (dir, id) => asAutoencoder(await loadConvAutoencoder(dir, id)),
  reuseHint: ' (a conv encoder takes only images of the shape it was trained on)',
};
