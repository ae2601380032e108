/**
 * What `--backend auto` times: one training step of the study's convolutional autoencoder (models/conv-autoencoder.ts,
 * built by its own builder), run the way training will run it on the active backend — through the fused WebGPU step
 * (webgpuTraining/) on webgpu while that path is on, else through tfjs's kernels and Adam. Every backend is measured
 * on the same job, with the same weights and batches, so the choice reflects the training the run will do (timing
 * tfjs's kernels on webgpu would measure a dispatch-bound path that training no longer uses).
 */
import * as tf from '@tensorflow/tfjs';
import { binaryCrossEntropy, buildConvAutoencoder } from '../models/conv-autoencoder';
import { CALIBRATION_NET, IMAGE_SIZE, syntheticImages, type CalibrationConfig } from './calibration-net';
import { registerCpuTrainingKernelFixes, registerWasmTrainingKernels } from './wasm-kernels';
import { fusedAutoencoderTrainer, type FusedTrainer } from './webgpuTraining/index';

const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

/** How a calibration step was run: the fused WebGPU step, or tfjs's kernels and optimizer. */
export type TrainingPath = 'fused' | 'tfjs';

/** The calibration network: the study's conv autoencoder as its builder makes it from the config's seed. */
export function buildCalibrationModel(config: CalibrationConfig = CALIBRATION_NET): tf.LayersModel {
  return buildConvAutoencoder(config.seed).autoencoder;
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
  // the kernels training uses: tfjs lacks some of this network's gradients on wasm and gets one wrong on cpu
  registerWasmTrainingKernels();
  registerCpuTrainingKernelFixes();
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

/**
 * The loss of each of `steps` Adam steps of the calibration network through tfjs's kernels on the ACTIVE backend, on
 * fixed synthetic batches: the same weights and batches on every backend, so the sequences can be compared.
 */
export async function trainLossSequence(steps: number, batchSize: number, config: CalibrationConfig = CALIBRATION_NET): Promise<number[]> {
  const data = syntheticImages(steps * batchSize, config.seed + 1);
  const model = buildCalibrationModel(config);
  const trainer = tfjsCalibrationTrainer(model, config.learningRate);
  try {
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      await trainer.step(data.subarray(s * batchSize * PIXELS, (s + 1) * batchSize * PIXELS), batchSize);
      losses.push(await trainer.loss());
    }
    return losses;
  } finally {
    trainer.dispose();
    model.dispose();
  }
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
  config?: CalibrationConfig;
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
