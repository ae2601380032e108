/**
 * A fully connected autoencoder for flattened images, N2D-style (McConville et al., "N2D: (Not Too) Deep
 * Clustering via Clustering the Local Manifold of an Autoencoded Embedding"):
 *
 *   Encoder: input (784, or any d: an image's H·W·C values or a feature row) → Dense(500, relu) → Dense(500, relu) → Dense(2000, relu) → Dense(10, linear) = code
 *   Decoder: Dense(2000, relu) → Dense(500, relu) → Dense(500, relu) → Dense(784, linear | sigmoid)
 *
 * The hidden sizes and the code size are configurable; the decoder mirrors the encoder. Loss 'mse' (N2D: linear
 * output, mean squared error) or 'bce' (sigmoid output, binary cross-entropy, computed from the logits so it stays
 * finite). Adam (β1 0.9, β2 0.999, ε 1e-7, Keras' defaults), Glorot-uniform kernels seeded from `seed`, zero biases.
 *
 * Training is a custom loop over the layers' own variables: the forward pass is written with tf ops whose matrix
 * products have a custom gradient using explicitly transposed operands. The tfjs wasm backend runs `matMul` with a
 * transpose flag about ten times slower than a plain one (the Dense layer's own gradient uses those flags), so this
 * makes wasm training ≈ 4× faster. The loop itself is the shared one of `./trainer` (losses read once per epoch,
 * cancellation through an AbortSignal).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../math/rng';
import { parseEstimatorParams } from '../schema/constraints';
import { DENSE_AE_PARAMS, type AutoencoderLoss } from './dense-autoencoder-params';
import { imagesAsMatrix, type Matrix } from '../types';
import { formatCount, inputShapeOf, type Autoencoder, type AutoencoderArchitecture } from './autoencoder';
import { rowSize } from '../data/dataset';
import { throwIfAborted } from '../abort';
import { loadModelArtifacts, saveModelArtifacts } from './fs-io';
import { fusedAutoencoderTrainer } from '../backend/webgpuTraining/index';
import { checkTrainParams, gatherRows, meanLossInBatches, runTrainingLoop, splitTrainVal, trainingBatches } from './trainer';
import type { AutoencoderTrainParams, BatchEvent, EpochEvent, TrainOptions, TrainResult } from './trainer';

export type { AutoencoderTrainParams, BatchEvent, EpochEvent, TrainOptions, TrainResult };

export interface DenseTrainOptions extends TrainOptions {
  /** Awaited after each epoch (after onEpoch), e.g. to checkpoint or encode; training waits for it. */
  afterEpoch?(e: EpochEvent): Promise<void> | void;
}

export type DenseLoss = AutoencoderLoss;

export interface DenseAutoencoderConfig {
  /** Input (and reconstruction) size, e.g. 784 for 28×28 images. */
  inputSize: number;
  /** Hidden layer sizes of the encoder, input side first; the decoder uses them in reverse. */
  layers: number[];
  /** Size of the linear code layer. */
  codeSize: number;
  loss: DenseLoss;
}

const DENSE = parseEstimatorParams('Dense autoencoder', DENSE_AE_PARAMS);
/** N2D's autoencoder for Fashion-MNIST: 784-500-500-2000-10, MSE (the architecture's defaults). */
export const N2D_AE_CONFIG: Readonly<DenseAutoencoderConfig> = Object.freeze({ inputSize: 784, ...DENSE });

export const DENSE_AE_ARCHITECTURE_PREFIX = 'dense-ae-v1';
const CODE_LAYER = 'code';
const OUTPUT_LAYER = 'reconstruction';

export interface DenseAutoencoder {
  autoencoder: tf.LayersModel;
  encoder: tf.LayersModel;
  config: DenseAutoencoderConfig;
  codeSize: number;
  /** e.g. `dense-ae-v1:784-500-500-2000-10:mse`: stored with the model so that reuse can be checked. */
  architecture: string;
}

/** The architecture id of a configuration: layer sizes and loss (which fixes the output activation). */
export function denseArchitectureId(config: DenseAutoencoderConfig): string {
  return `${DENSE_AE_ARCHITECTURE_PREFIX}:${[config.inputSize, ...config.layers, config.codeSize].join('-')}:${config.loss}`;
}

/** Parses an id made by {@link denseArchitectureId}; undefined when it is not a dense autoencoder id. */
export function parseDenseArchitectureId(id: string): DenseAutoencoderConfig | undefined {
  const m = /^dense-ae-v1:(\d+(?:-\d+)+):(mse|bce)$/.exec(id);
  if (!m) return undefined;
  const sizes = m[1].split('-').map(Number);
  if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) return undefined;
  return { inputSize: sizes[0], layers: sizes.slice(1, -1), codeSize: sizes[sizes.length - 1], loss: m[2] as DenseLoss };
}

/** Parameter count of the autoencoder for a configuration (kernels + biases of every Dense layer). */
export function denseParamCount(config: DenseAutoencoderConfig): number {
  const sizes = [config.inputSize, ...config.layers, config.codeSize, ...[...config.layers].reverse(), config.inputSize];
  let n = 0;
  for (let i = 0; i + 1 < sizes.length; i++) n += sizes[i] * sizes[i + 1] + sizes[i + 1];
  return n;
}

function checkConfig(c: DenseAutoencoderConfig): void {
  const posInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1;
  if (!posInt(c.inputSize)) throw new RangeError(`inputSize must be an integer ≥ 1, got ${c.inputSize}`);
  if (!Array.isArray(c.layers) || !c.layers.every(posInt)) throw new RangeError(`layers must be integers ≥ 1, got [${String(c.layers)}]`);
  if (!posInt(c.codeSize)) throw new RangeError(`codeSize must be an integer ≥ 1, got ${c.codeSize}`);
  if (c.loss !== 'mse' && c.loss !== 'bce') throw new RangeError(`loss must be 'mse' or 'bce', got '${String(c.loss)}'`);
}

// ---------------------------------------------------------------------------------------------------------------
// Model

/**
 * Builds the autoencoder and its encoder (sharing layers). Kernels are Glorot-uniform with one seed per layer
 * derived from `seed`, biases zero, so a seed gives the same initial weights on a given backend.
 */
export function buildDenseAutoencoder(config: Partial<DenseAutoencoderConfig> = {}, seed = 0): DenseAutoencoder {
  const cfg: DenseAutoencoderConfig = { ...N2D_AE_CONFIG, ...config, layers: [...(config.layers ?? N2D_AE_CONFIG.layers)] };
  checkConfig(cfg);
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
  const rng = new Rng(seed);
  const dense = (units: number, activation: 'relu' | 'linear' | 'sigmoid', name: string) =>
    tf.layers.dense({
      name,
      units,
      activation,
      kernelInitializer: tf.initializers.glorotUniform({ seed: rng.nextSeed() }),
      biasInitializer: 'zeros',
    });

  const input = tf.input({ shape: [cfg.inputSize], name: 'input' });
  let x: tf.SymbolicTensor = input;
  cfg.layers.forEach((units, i) => (x = dense(units, 'relu', `enc_${i + 1}`).apply(x) as tf.SymbolicTensor));
  const code = dense(cfg.codeSize, 'linear', CODE_LAYER).apply(x) as tf.SymbolicTensor;
  let y: tf.SymbolicTensor = code;
  [...cfg.layers].reverse().forEach((units, i) => (y = dense(units, 'relu', `dec_${i + 1}`).apply(y) as tf.SymbolicTensor));
  const out = dense(cfg.inputSize, cfg.loss === 'bce' ? 'sigmoid' : 'linear', OUTPUT_LAYER).apply(y) as tf.SymbolicTensor;

  const autoencoder = tf.model({ inputs: input, outputs: out, name: 'dense_autoencoder' });
  const encoder = tf.model({ inputs: input, outputs: code, name: 'dense_encoder' });
  return { autoencoder, encoder, config: cfg, codeSize: cfg.codeSize, architecture: denseArchitectureId(cfg) };
}

interface DenseStep {
  kernel: tf.Variable;
  bias: tf.Variable;
  activation: 'relu' | 'linear' | 'sigmoid';
}

/** The Dense layers of the autoencoder in order, with their variables (those the optimizer updates). */
function denseSteps(ae: tf.LayersModel): DenseStep[] {
  const steps: DenseStep[] = [];
  for (const layer of ae.layers) {
    const weights = layer.trainableWeights;
    if (weights.length === 0) continue;
    if (weights.length !== 2) throw new Error(`unexpected layer ${layer.name} with ${weights.length} weights in a dense autoencoder`);
    const activation = (layer.getConfig().activation as string | undefined) ?? 'linear';
    if (activation !== 'relu' && activation !== 'linear' && activation !== 'sigmoid')
      throw new Error(`unexpected activation ${activation} in ${layer.name}`);
    steps.push({ kernel: weights[0].read() as tf.Variable, bias: weights[1].read() as tf.Variable, activation });
  }
  return steps;
}

type MatMulFn = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;
type CustomGradFn = Parameters<typeof tf.customGrad>[0];

/** a·b with gradients dA = dy·bᵀ and dB = aᵀ·dy computed on explicit transposes (no matMul transpose flags). */
const matMulT = tf.customGrad(((a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => [
      tf.matMul(dy, tf.transpose(saved[1] as tf.Tensor2D)),
      tf.matMul(tf.transpose(saved[0] as tf.Tensor2D), dy),
    ],
  };
}) as unknown as CustomGradFn) as unknown as MatMulFn;

/** The same for the first layer, whose input (the data) needs no gradient: dA is a cheap zero tensor. */
const matMulFirstT = tf.customGrad(((a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([a]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => [tf.zerosLike(saved[0]), tf.matMul(tf.transpose(saved[0] as tf.Tensor2D), dy)],
  };
}) as unknown as CustomGradFn) as unknown as MatMulFn;

/** Output of the last layer before its activation (logits for 'bce'); the others apply theirs. */
function forwardPreActivation(steps: DenseStep[], x: tf.Tensor2D): tf.Tensor2D {
  let h = x;
  steps.forEach((s, i) => {
    h = tf.add((i === 0 ? matMulFirstT : matMulT)(h, s.kernel as unknown as tf.Tensor2D), s.bias);
    if (i < steps.length - 1) {
      if (s.activation === 'relu') h = tf.relu(h);
      else if (s.activation === 'sigmoid') h = tf.sigmoid(h);
    }
  });
  return h;
}

/** Mean reconstruction loss over all values of the batch (scalar). */
function lossFromPreActivation(loss: DenseLoss, target: tf.Tensor2D, z: tf.Tensor2D): tf.Scalar {
  if (loss === 'mse') return tf.mean(tf.squaredDifference(z, target)) as tf.Scalar;
  // binary cross-entropy on logits: max(z, 0) − z·t + log(1 + e^−|z|)
  return tf.mean(tf.add(tf.sub(tf.relu(z), tf.mul(z, target)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))))) as tf.Scalar;
}

/**
 * The training loss of a batch (mean over all values), through the same forward pass and custom gradients as
 * {@link trainDenseAutoencoder}: for gradient checks against the layers' own autodiff.
 */
export function denseReconstructionLoss(model: DenseAutoencoder, x: tf.Tensor2D): tf.Scalar {
  return lossFromPreActivation(model.config.loss, x, forwardPreActivation(denseSteps(model.autoencoder), x));
}

// ---------------------------------------------------------------------------------------------------------------
// Training

function checkData(data: Matrix, inputSize: number): void {
  if (data.cols !== inputSize) throw new RangeError(`the autoencoder takes ${inputSize} values per row, got ${data.cols}`);
  if (data.data.length < data.rows * data.cols)
    throw new RangeError(`buffer holds ${data.data.length} values, fewer than ${data.rows} × ${data.cols}`);
}

/** Rows `order[from..to)` (or from..to when order is null) of a row-major matrix, as a [n, cols] tensor. */
function batchTensor(data: Float32Array, cols: number, order: Int32Array | null, from: number, to: number): tf.Tensor2D {
  return rowsTensor(gatherRows(data, cols, order, from, to), cols);
}

/** Whole rows of `cols` values, row-major, as a [n, cols] tensor. */
function rowsTensor(rows: Float32Array, cols: number): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length / cols, cols], 'float32');
}

/**
 * Trains `model` to reconstruct the rows of `data` (values in [0, 1] for 'bce') with Adam. The last `valSplit`
 * fraction of the rows (in their given order) is held out for the validation loss; the rest is shuffled every
 * epoch by a generator seeded with `params.seed`. Losses are read from the device once per epoch.
 *
 * Throws an Error naming the epoch when a loss becomes NaN or infinite, and an `AbortError` when `opts.signal` is
 * aborted (checked between batches). With `patience`, training stops once the monitored loss (validation, or
 * training without a validation split) has not improved for `patience` epochs, and the best weights are restored.
 */
export async function trainDenseAutoencoder(
  model: DenseAutoencoder,
  data: Matrix,
  params: AutoencoderTrainParams,
  opts: DenseTrainOptions = {},
): Promise<TrainResult> {
  checkTrainParams(params);
  checkData(data, model.config.inputSize);
  throwIfAborted(opts.signal);
  const cols = data.cols;
  const split = splitTrainVal(data.data, data.rows, cols, params.valSplit, 'rows');
  const steps = denseSteps(model.autoencoder);
  const lossKind = model.config.loss;
  const batchRows = trainingBatches(split.train, cols, opts.augment);
  return runTrainingLoop(
    {
      trainRows: split.trainRows,
      vars: steps.flatMap((s) => [s.kernel, s.bias]),
      batch: (order, from, to) => rowsTensor(batchRows(order, from, to), cols),
      loss: (x) => lossFromPreActivation(lossKind, x, forwardPreActivation(steps, x)),
      validationLoss:
        split.valRows > 0
          ? (signal) => evaluateDenseLoss(model, { data: split.val, rows: split.valRows, cols }, params.batchSize, signal)
          : undefined,
      // on webgpu: the fused step (backend/webgpuTraining), unless CLUSTERBENCH_WEBGPU_FUSED=0
      fused: (batchSize, learningRate) =>
        fusedAutoencoderTrainer(model.autoencoder, batchRows, batchSize, learningRate, lossKind === 'bce' ? 'bce-logits' : 'mse'),
    },
    params,
    opts,
  );
}

/** Mean reconstruction loss (the model's own loss) over the rows of `data`, summed on the device. */
export async function evaluateDenseLoss(model: DenseAutoencoder, data: Matrix, batchSize = 512, signal?: AbortSignal): Promise<number> {
  checkData(data, model.config.inputSize);
  const steps = denseSteps(model.autoencoder);
  return meanLossInBatches(
    data.rows,
    batchSize,
    (from, to) => {
      const x = batchTensor(data.data, data.cols, null, from, to);
      return lossFromPreActivation(model.config.loss, x, forwardPreActivation(steps, x));
    },
    signal,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Inference

async function predictRows(
  model: tf.LayersModel,
  data: Matrix,
  outSize: number,
  batchSize: number,
  signal?: AbortSignal,
  indices?: number[],
): Promise<Float32Array> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be an integer ≥ 1, got ${batchSize}`);
  const order = indices ? Int32Array.from(indices) : null;
  if (order) for (const i of order) if (!(i >= 0 && i < data.rows)) throw new RangeError(`row index ${i} out of range 0..${data.rows - 1}`);
  const n = order ? order.length : data.rows;
  const out = new Float32Array(n * outSize);
  for (let from = 0; from < n; from += batchSize) {
    throwIfAborted(signal);
    const to = Math.min(n, from + batchSize);
    const y = tf.tidy(() => model.predict(batchTensor(data.data, data.cols, order, from, to)) as tf.Tensor);
    try {
      out.set(await y.data(), from * outSize);
    } finally {
      y.dispose();
    }
  }
  return out;
}

/** Codes of all rows: a row-major `rows × codeSize` matrix. */
export async function encodeDense(model: DenseAutoencoder, data: Matrix, batchSize = 1024, signal?: AbortSignal): Promise<Float32Array> {
  checkData(data, model.config.inputSize);
  return predictRows(model.encoder, data, model.codeSize, batchSize, signal);
}

/** Reconstructions of the rows at `indices` (`indices.length × inputSize`; values in [0, 1] for 'bce'). */
export async function reconstructDense(model: DenseAutoencoder, data: Matrix, indices: number[]): Promise<Float32Array> {
  checkData(data, model.config.inputSize);
  return predictRows(model.autoencoder, data, model.config.inputSize, 256, undefined, indices);
}

// ---------------------------------------------------------------------------------------------------------------
// Persistence

/** Saves the autoencoder (tfjs format: `model.json` + `weights.bin`) into `dir`, with its architecture id. */
export async function saveDenseAutoencoder(model: DenseAutoencoder, dir: string): Promise<void> {
  await model.autoencoder.save(
    saveModelArtifacts(dir, {
      architecture: model.architecture,
      codeSize: model.codeSize,
      layers: model.config.layers,
      loss: model.config.loss,
      params: model.autoencoder.countParams(),
    }),
  );
}

/**
 * Loads a dense autoencoder saved by {@link saveDenseAutoencoder}. With `expectedArchitecture`, throws unless the
 * saved one is exactly that; without, any dense autoencoder is accepted (its id says which).
 */
export async function loadDenseAutoencoder(dir: string, expectedArchitecture?: string): Promise<DenseAutoencoder> {
  const handler = loadModelArtifacts(dir);
  const autoencoder = await tf.loadLayersModel(handler);
  const architecture = typeof handler.lastMetadata?.architecture === 'string' ? handler.lastMetadata.architecture : 'unknown';
  const config = parseDenseArchitectureId(architecture);
  const mismatch = !config
    ? `${dir} holds an autoencoder of architecture '${architecture}', not a dense one`
    : expectedArchitecture !== undefined && architecture !== expectedArchitecture
      ? `${dir} holds an autoencoder of architecture '${architecture}', expected '${expectedArchitecture}'`
      : undefined;
  if (mismatch || !config) {
    autoencoder.dispose();
    throw new Error(mismatch);
  }
  const code = autoencoder.getLayer(CODE_LAYER);
  const encoder = tf.model({ inputs: autoencoder.inputs, outputs: code.output as tf.SymbolicTensor, name: 'dense_encoder' });
  return { autoencoder, encoder, config, codeSize: config.codeSize, architecture };
}

// ---------------------------------------------------------------------------------------------------------------
// The common interface (autoencoder.ts)

/** The most weights a configured dense autoencoder may have (with gradients and Adam's two moments: ≈ 8 GB). */
export const MAX_DENSE_PARAMS = 500_000_000;

/**
 * The configuration for rows of `inputSize` values (an image's H·W·C, channels last, or a feature row's d) from the
 * architecture's parameters; a RangeError of one line when the network would be too large to allocate.
 */
function denseConfigOf(params: Readonly<Record<string, unknown>>, inputSize: number): DenseAutoencoderConfig {
  const config = { inputSize, ...parseEstimatorParams('Dense autoencoder', DENSE_AE_PARAMS, params) };
  const count = denseParamCount(config);
  if (count > MAX_DENSE_PARAMS) {
    throw new RangeError(
      `the dense autoencoder ${[inputSize, ...config.layers, config.codeSize].join('-')} would have ${formatCount(count)} parameters, ` +
        `more than ${formatCount(MAX_DENSE_PARAMS)}: use smaller --layers`,
    );
  }
  return config;
}

function asAutoencoder(model: DenseAutoencoder): Autoencoder {
  return {
    architecture: model.architecture,
    codeSize: model.codeSize,
    paramCount: model.autoencoder.countParams(),
    train: (images, params, options) => trainDenseAutoencoder(model, imagesAsMatrix(images), params, options),
    encode: (images, signal) => encodeDense(model, imagesAsMatrix(images), 1024, signal),
    reconstruct: (images, indices) => reconstructDense(model, imagesAsMatrix(images), indices),
    save: (dir) => saveDenseAutoencoder(model, dir),
    dispose: () => model.autoencoder.dispose(),
  };
}

/** N2D's dense autoencoder: its layers, code size and loss are parameters (dense-autoencoder-params.ts). */
export const denseArchitecture: AutoencoderArchitecture<DenseAutoencoderConfig> = {
  kind: 'dense',
  configOf: (params, input) => denseConfigOf(params, rowSize(inputShapeOf(input))),
  describeInput: (config) =>
    `${denseArchitectureId(config)} for rows of ${config.inputSize} values: code ${config.codeSize}-d, ${formatCount(denseParamCount(config))} parameters`,
  architectureId: denseArchitectureId,
  owns: (id) => parseDenseArchitectureId(id) !== undefined,
  codeSize: (config) => config.codeSize,
  build: (config, seed) => asAutoencoder(buildDenseAutoencoder(config, seed)),
  load: async (dir, id) => asAutoencoder(await loadDenseAutoencoder(dir, id)),
  reuseHint: ' (match its --encoder, --layers, --code-size and --loss)',
};
