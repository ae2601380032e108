/**
 * The custom training loop the autoencoders share, rather than `model.fit`: Adam (β1 0.9, β2 0.999, ε 1e-7) over
 * the training rows, shuffled every epoch by a generator seeded with `params.seed`, with an optional validation loss
 * and early stopping. Batch losses are summed on the device and read once per epoch, so there is no device→CPU
 * synchronisation per batch; the loop yields to the event loop between batches so that a worker stays responsive
 * (cancellation through an AbortSignal).
 *
 * The models supply what differs between them (see {@link TrainingTask}): how rows become a batch tensor, the loss,
 * the variables to update and the validation loss — and, on webgpu, a fused device trainer that replaces tfjs's
 * optimizer step for step (backend/webgpuTraining: same batches, same Adam, the loss still read once per epoch).
 */
import * as tf from '@tensorflow/tfjs';
import { throwIfAborted, yieldToEventLoop } from '../abort';
import { Rng } from '../math/rng';
import { parseEstimatorParams } from '../schema/constraints';
import { TRAINING_PARAMS, type AutoencoderTrainParams } from './training-params';
import type { FusedTrainer } from '../backend/webgpuTraining/index';
import type { BatchAugmenter } from './augment';

export { yieldToEventLoop };

export { TRAINING_PARAMS, type AutoencoderTrainParams };

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
  /** Transforms each training batch before the step (models/augment); validation rows stay as they are. */
  augment?: BatchAugmenter;
}

export interface TrainLoopOptions extends TrainOptions {
  /** Awaited after each epoch (after onEpoch); training waits for it. */
  afterEpoch?(e: EpochEvent): Promise<void> | void;
}

export interface TrainResult {
  losses: { epoch: number; trainLoss: number; valLoss: number | null }[];
  stoppedEarly: boolean;
  /** Training throughput of the fastest epoch after the first (the first includes warm-up), or of the only epoch. */
  imagesPerSec: number;
}

/** What a model brings to {@link runTrainingLoop}. */
export interface TrainingTask<Batch extends tf.Tensor> {
  /** Number of training rows; each epoch visits them all in a new order. */
  trainRows: number;
  /** The variables the optimizer updates, and early stopping saves and restores. */
  vars: tf.Variable[];
  /** The training rows `order[from..to)` as a batch tensor (disposed by the loop). */
  batch(order: Int32Array, from: number, to: number): Batch;
  /** Mean loss over the batch, which the optimizer minimises. */
  loss(batch: Batch): tf.Scalar;
  /** Mean loss over the held-out rows after each epoch; absent without a validation split. */
  validationLoss?(signal: AbortSignal | undefined): Promise<number>;
  /**
   * A fused device trainer to use instead of tfjs's optimizer (backend/webgpuTraining), or null when there is none
   * for this model and backend. It must compute the same loss with the same Adam.
   */
  fused?(batchSize: number, learningRate: number): Promise<FusedTrainer | null>;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers for the models

/** Checks the training settings against {@link TRAINING_PARAMS} (other keys of `p` are not the trainer's). */
export function checkTrainParams(p: AutoencoderTrainParams): void {
  const own = Object.fromEntries(Object.keys(TRAINING_PARAMS).map((name) => [name, p[name as keyof AutoencoderTrainParams]]));
  parseEstimatorParams('Autoencoder training', TRAINING_PARAMS, own);
}

export interface TrainValSplit {
  train: Float32Array;
  trainRows: number;
  val: Float32Array;
  valRows: number;
}

/**
 * Splits the first `rows` rows of a row-major buffer: the last `valSplit` fraction (in their given order) is held
 * out for validation. `unit` names the rows in the error thrown when no training rows are left.
 */
export function splitTrainVal(data: Float32Array, rows: number, rowSize: number, valSplit: number, unit: string): TrainValSplit {
  const valRows = Math.floor(rows * valSplit);
  const trainRows = rows - valRows;
  if (trainRows < 1) throw new RangeError(`no training ${unit} left: ${rows} ${unit} with valSplit ${valSplit}`);
  return { train: data.subarray(0, trainRows * rowSize), trainRows, val: data.subarray(trainRows * rowSize, rows * rowSize), valRows };
}

/** Rows `order[from..to)` (or from..to when order is null) of a row-major buffer, copied only when reordered. */
export function gatherRows(data: Float32Array, rowSize: number, order: Int32Array | null, from: number, to: number): Float32Array {
  if (order === null) return data.subarray(from * rowSize, to * rowSize);
  const n = to - from;
  const out = new Float32Array(n * rowSize);
  for (let i = 0; i < n; i++) {
    const src = order[from + i] * rowSize;
    out.set(data.subarray(src, src + rowSize), i * rowSize);
  }
  return out;
}

/**
 * The training batches of a row-major buffer, `order[from..to)`, augmented when an augmenter is given: what both the
 * tfjs step and the fused device step train on.
 */
export function trainingBatches(
  data: Float32Array,
  rowSize: number,
  augment: BatchAugmenter | undefined,
): (order: Int32Array, from: number, to: number) => Float32Array {
  return (order, from, to) => {
    const rows = gatherRows(data, rowSize, order, from, to);
    return augment ? augment(rows, to - from) : rows;
  };
}

/** A sum of batch-mean losses, each weighted by its batch size so that the result is a mean over rows. */
class DeviceLossSum {
  private sum: tf.Scalar = tf.scalar(0);

  add(batchMean: () => tf.Scalar, batchRows: number): void {
    const next = tf.tidy(() => tf.add(this.sum, tf.mul(batchMean(), batchRows)) as tf.Scalar);
    this.sum.dispose();
    this.sum = next;
  }

  /** The one device→CPU read. */
  async mean(rows: number): Promise<number> {
    return (await this.sum.data())[0] / rows;
  }

  dispose(): void {
    this.sum.dispose();
  }
}

/**
 * Mean loss over `rows` rows taken `batchSize` at a time, where `batchLoss(from, to)` is the mean over rows
 * from..to (its intermediate tensors are disposed). Summed on the device and read once; checks `signal` per batch.
 */
export async function meanLossInBatches(
  rows: number,
  batchSize: number,
  batchLoss: (from: number, to: number) => tf.Scalar,
  signal?: AbortSignal,
): Promise<number> {
  const sum = new DeviceLossSum();
  try {
    for (let from = 0; from < rows; from += batchSize) {
      throwIfAborted(signal);
      const to = Math.min(rows, from + batchSize);
      sum.add(() => batchLoss(from, to), to - from);
      await yieldToEventLoop();
    }
    return await sum.mean(rows);
  } finally {
    sum.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The loop

/**
 * Trains `task.vars` with Adam for `params.epochs` epochs (fewer with early stopping). Throws an Error naming the
 * epoch when a loss becomes NaN or infinite, and an `AbortError` when `opts.signal` is aborted (checked between
 * batches). With `patience`, training stops when the monitored loss (validation, or training without a validation
 * loss) has not improved for `patience` epochs and the best weights are restored.
 */
export async function runTrainingLoop<Batch extends tf.Tensor>(
  task: TrainingTask<Batch>,
  params: AutoencoderTrainParams,
  opts: TrainLoopOptions = {},
): Promise<TrainResult> {
  const rng = new Rng(params.seed);
  let fused: FusedTrainer | null = null;
  const optimizer = tf.train.adam(params.learningRate, 0.9, 0.999, 1e-7);
  const earlyStopping = params.patience === null ? null : new EarlyStopping(params.patience, task.vars);
  const losses: TrainResult['losses'] = [];
  const rates: number[] = [];
  const started = performance.now();
  let stoppedEarly = false;
  try {
    // Made inside the try: if building it fails, the optimizer and the early-stopping copies are still disposed.
    fused = (await task.fused?.(params.batchSize, params.learningRate)) ?? null;
    for (let epoch = 1; epoch <= params.epochs; epoch++) {
      const order = rng.permutation(task.trainRows);
      const { trainLoss, imagesPerSec } = fused
        ? await trainEpochFused(task.trainRows, fused, order, epoch, params.batchSize, opts)
        : await trainEpoch(task, optimizer, order, epoch, params.batchSize, opts);
      rates.push(imagesPerSec);
      throwIfNotFinite(trainLoss, 'loss', epoch);
      const valLoss = task.validationLoss ? await task.validationLoss(opts.signal) : null;
      if (valLoss !== null) throwIfNotFinite(valLoss, 'validation loss', epoch);
      losses.push({ epoch, trainLoss, valLoss });
      const event: EpochEvent = { epoch, epochs: params.epochs, trainLoss, valLoss, imagesPerSec, elapsedMs: performance.now() - started };
      opts.onEpoch?.(event);
      if (opts.afterEpoch) await opts.afterEpoch(event);
      if (earlyStopping?.shouldStop(valLoss ?? trainLoss)) {
        stoppedEarly = true;
        break;
      }
    }
    if (stoppedEarly) earlyStopping?.restoreBest();
  } finally {
    earlyStopping?.dispose();
    optimizer.dispose();
    fused?.dispose();
  }
  const imagesPerSec = rates.length > 1 ? Math.max(...rates.slice(1)) : (rates[0] ?? 0);
  return { losses, stoppedEarly, imagesPerSec };
}

/** One pass over the training rows in `order`: the mean training loss and the throughput. */
async function trainEpoch<Batch extends tf.Tensor>(
  task: TrainingTask<Batch>,
  optimizer: tf.Optimizer,
  order: Int32Array,
  epoch: number,
  batchSize: number,
  { signal, onBatch }: TrainOptions,
): Promise<{ trainLoss: number; imagesPerSec: number }> {
  const epochStart = performance.now();
  const batches = Math.ceil(task.trainRows / batchSize);
  const sum = new DeviceLossSum();
  try {
    for (let b = 0; b < batches; b++) {
      throwIfAborted(signal);
      const from = b * batchSize;
      const to = Math.min(task.trainRows, from + batchSize);
      const x = task.batch(order, from, to);
      const cost = optimizer.minimize(() => task.loss(x), true, task.vars) as tf.Scalar;
      x.dispose();
      sum.add(() => cost, to - from);
      cost.dispose();
      if (onBatch) {
        const ms = performance.now() - epochStart;
        onBatch({ epoch, batch: b + 1, batches, imagesPerSec: ms > 0 ? (to * 1000) / ms : 0 });
      }
      await yieldToEventLoop();
    }
    const trainLoss = await sum.mean(task.trainRows);
    return { trainLoss, imagesPerSec: (task.trainRows * 1000) / (performance.now() - epochStart) };
  } finally {
    sum.dispose();
  }
}

/**
 * {@link trainEpoch} on a fused device trainer: the same batches in the same order, one device step each; the loss
 * is read once at the end and the weights are then copied into the model's variables, which validation, early
 * stopping and saving read.
 */
async function trainEpochFused(
  trainRows: number,
  fused: FusedTrainer,
  order: Int32Array,
  epoch: number,
  batchSize: number,
  { signal, onBatch }: TrainOptions,
): Promise<{ trainLoss: number; imagesPerSec: number }> {
  const epochStart = performance.now();
  const batches = Math.ceil(trainRows / batchSize);
  for (let b = 0; b < batches; b++) {
    throwIfAborted(signal);
    const from = b * batchSize;
    const to = Math.min(trainRows, from + batchSize);
    await fused.step(order, from, to);
    if (onBatch) {
      const ms = performance.now() - epochStart;
      onBatch({ epoch, batch: b + 1, batches, imagesPerSec: ms > 0 ? (to * 1000) / ms : 0 });
    }
    await yieldToEventLoop();
  }
  const trainLoss = await fused.takeEpochLoss(trainRows);
  const imagesPerSec = (trainRows * 1000) / (performance.now() - epochStart);
  await fused.writeBack();
  return { trainLoss, imagesPerSec };
}

function throwIfNotFinite(loss: number, what: string, epoch: number): void {
  if (!Number.isFinite(loss)) throw new Error(`${what} became ${Number.isNaN(loss) ? 'NaN' : 'infinite'} at epoch ${epoch}`);
}

/** Keeps a copy of the weights of the best epoch so far and says when `patience` epochs have not improved on it. */
class EarlyStopping {
  private best = Infinity;
  private wait = 0;
  private bestWeights: tf.Tensor[] | null = null;

  constructor(
    private readonly patience: number,
    private readonly vars: tf.Variable[],
  ) {}

  shouldStop(monitored: number): boolean {
    if (monitored < this.best) {
      this.best = monitored;
      this.wait = 0;
      this.dispose();
      this.bestWeights = this.vars.map((v) => tf.keep(v.clone()));
      return false;
    }
    // `patience` epochs in a row without improvement (Keras semantics)
    return ++this.wait >= this.patience;
  }

  restoreBest(): void {
    const saved = this.bestWeights;
    if (saved) this.vars.forEach((v, i) => v.assign(saved[i]));
  }

  dispose(): void {
    if (this.bestWeights) tf.dispose(this.bestWeights);
    this.bestWeights = null;
  }
}
