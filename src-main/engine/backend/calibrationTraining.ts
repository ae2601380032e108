/**
 * What `--backend auto` times: one training step of a convolutional autoencoder of the study's shape, run the way
 * training will run it on the active backend — through the fused WebGPU step (webgpuTraining/) on webgpu while
 * that path is on, else through tfjs's kernels and Adam. Every backend is measured on the same job, with the same
 * weights and batches, so the choice reflects the training the run will do (timing tfjs's kernels on webgpu would
 * measure a dispatch-bound path that training no longer uses).
 *
 * The network is built here with tfjs-layers, not taken from models/ (the backend layer depends on no model code):
 *
 *   28×28×1 → conv 32 → pool → conv 16 → pool → conv 8 → pool 'same' (4×4×8) → conv 8 → up → conv 16 → up
 *           → conv 32 'valid' (14×14) → up → conv 1 sigmoid; all 3×3, relu, binary cross-entropy, Adam.
 */
import * as tf from '@tensorflow/tfjs';
import { CALIBRATION_NET, IMAGE_SIZE, mulberry32, syntheticImages, type TinyNetConfig } from './calibrationNet';
import { fusedAutoencoderTrainer, type FusedTrainer } from './webgpuTraining/index';

const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

/** How a calibration step was run: the fused WebGPU step, or tfjs's kernels and optimizer. */
export type TrainingPath = 'fused' | 'tfjs';

/** The calibration autoencoder, weights Glorot-uniform from the config's seed (a JS PRNG: the same on every backend). */
export function buildCalibrationModel(config: TinyNetConfig = CALIBRATION_NET): tf.LayersModel {
  const conv = (filters: number, activation: 'relu' | 'sigmoid' = 'relu', padding: 'same' | 'valid' = 'same', input?: number[]) =>
    tf.layers.conv2d({ filters, kernelSize: 3, activation, padding, ...(input ? { inputShape: input } : {}) });
  const pool = (padding: 'same' | 'valid' = 'valid') => tf.layers.maxPooling2d({ poolSize: 2, padding });
  const up = () => tf.layers.upSampling2d({ size: [2, 2] });
  const model = tf.sequential({
    layers: [
      conv(32, 'relu', 'same', [IMAGE_SIZE, IMAGE_SIZE, 1]),
      pool(),
      conv(16),
      pool(),
      conv(8),
      pool('same'),
      conv(8),
      up(),
      conv(16),
      up(),
      conv(32, 'relu', 'valid'),
      up(),
      conv(1, 'sigmoid'),
    ],
  });
  const rnd = mulberry32(config.seed);
  const values = model.getWeights().map((w) => {
    const v = new Float32Array(w.size);
    if (w.rank === 4) {
      const [kh, kw, cin, cout] = w.shape;
      const limit = Math.sqrt(6 / (kh * kw * (cin + cout)));
      for (let i = 0; i < v.length; i++) v[i] = (2 * rnd() - 1) * limit;
    }
    return tf.tensor(v, w.shape);
  });
  model.setWeights(values);
  tf.dispose(values);
  return model;
}

/** Binary cross-entropy with Keras's clipping: the loss the fused step and the study's training use. */
function binaryCrossEntropy(target: tf.Tensor, predicted: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const eps = 1e-7;
    const p = tf.add(tf.clipByValue(predicted, eps, 1 - eps), tf.sub(predicted, predicted));
    const loss = tf.add(tf.mul(target, tf.log(p)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p))));
    return tf.neg(tf.mean(loss)) as tf.Scalar;
  });
}

/** One Adam step per call on the active backend, the way training does it; `loss()` reads the losses since the last call. */
export interface CalibrationTrainer {
  readonly path: TrainingPath;
  step(batch: Float32Array, n: number): Promise<void>;
  /** Mean loss per image over the steps since the last call (waits for the device). */
  loss(): Promise<number>;
  dispose(): void;
}

/** A trainer for `model` (from buildCalibrationModel) on the active backend: fused on webgpu while it is on. */
export async function calibrationTrainer(model: tf.LayersModel, batchSize: number, learningRate: number): Promise<CalibrationTrainer> {
  let current: Float32Array = new Float32Array(0);
  const fused = await fusedAutoencoderTrainer(model, () => current, batchSize, learningRate);
  return fused ? fusedCalibrationTrainer(fused, (b) => (current = b)) : tfjsCalibrationTrainer(model, learningRate);
}

function fusedCalibrationTrainer(fused: FusedTrainer, setBatch: (batch: Float32Array) => void): CalibrationTrainer {
  let rows = 0;
  const order = new Int32Array(0);
  return {
    path: 'fused',
    async step(batch, n) {
      setBatch(batch.subarray(0, n * PIXELS));
      await fused.step(order, 0, n);
      rows += n;
    },
    async loss() {
      const loss = await fused.takeEpochLoss(Math.max(1, rows));
      rows = 0;
      return loss;
    },
    dispose: () => fused.dispose(),
  };
}

function tfjsCalibrationTrainer(model: tf.LayersModel, learningRate: number): CalibrationTrainer {
  const optimizer = tf.train.adam(learningRate);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const costs: { cost: tf.Scalar; n: number }[] = [];
  return {
    path: 'tfjs',
    async step(batch, n) {
      const x = tf.tensor4d(batch.subarray(0, n * PIXELS), [n, IMAGE_SIZE, IMAGE_SIZE, 1]);
      try {
        const cost = optimizer.minimize(() => binaryCrossEntropy(x, model.apply(x, { training: true }) as tf.Tensor), true, vars);
        if (!cost) throw new Error('optimizer returned no loss');
        costs.push({ cost, n });
      } finally {
        x.dispose();
      }
    },
    async loss() {
      let sum = 0;
      let rows = 0;
      for (const { cost, n } of costs.splice(0)) {
        sum += (await cost.data())[0] * n;
        rows += n;
        cost.dispose();
      }
      return sum / Math.max(1, rows);
    },
    dispose() {
      for (const { cost } of costs.splice(0)) cost.dispose();
      optimizer.dispose();
    },
  };
}

export interface ThroughputOptions {
  batchSize?: number;
  /** Untimed steps first (shader compilation, graph set-up, JIT). */
  warmupSteps?: number;
  minSteps?: number;
  maxSteps?: number;
  /** Stop once this much time has been measured (after minSteps). */
  budgetMs?: number;
  /** Stop after the first timed step if it is already slower than this (it cannot win). */
  giveUpBelow?: number;
  config?: TinyNetConfig;
}

export interface Throughput {
  imagesPerSec: number;
  steps: number;
  batchSize: number;
  ms: number;
  /** How the steps ran. */
  path: TrainingPath;
}

/** Steps queued between waits for the device (training waits about as often: MAX_STEPS_AHEAD in webgpuTraining). */
const SYNC_EVERY = 4;

/**
 * Images per second for training the calibration model on the ACTIVE backend. The device is waited for after the
 * first step (to give up early) and then every few steps (every step when steps are slow), as training queues steps
 * ahead; time is only read after a wait, so queued work is never counted as done.
 */
export async function measureTrainingThroughput(opts: ThroughputOptions = {}): Promise<Throughput> {
  const batchSize = opts.batchSize ?? 32;
  const warmup = opts.warmupSteps ?? 1;
  const minSteps = Math.max(1, opts.minSteps ?? 2);
  const maxSteps = Math.max(minSteps, opts.maxSteps ?? 20);
  const budgetMs = opts.budgetMs ?? 1500;
  const config = opts.config ?? CALIBRATION_NET;
  const pool = syntheticImages(4 * batchSize, config.seed + 2);
  const batchAt = (i: number) => pool.subarray((i % 4) * batchSize * PIXELS, ((i % 4) + 1) * batchSize * PIXELS);
  const model = buildCalibrationModel(config);
  let trainer: CalibrationTrainer | undefined;
  try {
    trainer = await calibrationTrainer(model, batchSize, config.learningRate);
    for (let i = 0; i < warmup; i++) await trainer.step(batchAt(i), batchSize);
    await trainer.loss();
    let steps = 0;
    const t0 = performance.now();
    let ms = 0;
    let syncEvery = SYNC_EVERY;
    while (steps < maxSteps) {
      await trainer.step(batchAt(steps), batchSize);
      steps++;
      if (steps !== 1 && steps % syncEvery !== 0 && steps !== maxSteps) continue;
      await trainer.loss();
      ms = performance.now() - t0;
      if (steps === 1 && opts.giveUpBelow !== undefined && (batchSize * 1000) / ms < opts.giveUpBelow) break;
      // slow steps (a software adapter): wait after each, so the budget is not overrun by a whole group
      if (steps === 1 && ms * SYNC_EVERY > budgetMs / 2) syncEvery = 1;
      if (steps >= minSteps && ms >= budgetMs) break;
    }
    return { imagesPerSec: (steps * batchSize * 1000) / ms, steps, batchSize, ms, path: trainer.path };
  } finally {
    trainer?.dispose();
    model.dispose();
  }
}
