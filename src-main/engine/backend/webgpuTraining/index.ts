/**
 * Fused WebGPU training for the study's conv autoencoder and N2D's dense one (and any chain of the same layer
 * types): what the shared training loop (models/trainer.ts) calls instead of tfjs's `optimizer.minimize` when the
 * backend is webgpu.
 *
 * Why: through tfjs one conv AE training step is ~300 dispatches (38 forward, 67 backward, 196 Adam), ~21 submits
 * and ~94 new buffers, each dispatch costing the host more than the GPU's work (bench: `npm run bench -- ae
 * --profile`). The fused step is a fixed sequence of 32 dispatches (N2D's dense AE: 33) and one submit, weights
 * in one flat buffer with one Adam dispatch, the loss summed on the device and read once per epoch. Off with
 * CLUSTERBENCH_WEBGPU_FUSED=0.
 *
 * Modules: network.ts (shapes, weight layout), kernels.ts and dense-kernels.ts (WGSL), recorder.ts (buffers,
 * pipelines, the step), tfjs-model.ts (tfjs model ↔ network and weights), device.ts (which device, the switch,
 * readbacks).
 */
import type * as tf from '@tensorflow/tfjs';
import { fusedTrainingDevice } from './device';
import { FusedStep } from './recorder';
import { networkOf, readWeights, writeWeights } from './tfjs-model';

export { fusedTrainingEnabled } from './device';

/** What the training loop drives instead of a tfjs optimizer (see models/trainer.ts). */
export interface FusedTrainer {
  /** Dispatches in one training step (one submit). */
  readonly dispatchesPerStep: number;
  /** Queues one Adam step on the training rows order[from..to); waits only when the device falls far behind. */
  step(order: Int32Array, from: number, to: number): Promise<void>;
  /** Mean training loss over `rows` rows since the last call (one readback), and a new sum begins. */
  takeEpochLoss(rows: number): Promise<number>;
  /** Copies the device's weights into the tfjs model (for validation, early stopping, saving). */
  writeBack(): Promise<void>;
  dispose(): void;
}

/** Steps queued ahead of the device before the host waits (bounds the queue's memory on a fast host). */
const MAX_STEPS_AHEAD = 8;

/**
 * A fused trainer for `model`, whose batches `rows(order, from, to)` gives (row-major images), when the active backend is
 * webgpu, the switch is on and the model's layers are all supported (the loss: the input's reconstruction);
 * else null, and the caller keeps tfjs's path.
 */
export async function fusedAutoencoderTrainer(
  model: tf.LayersModel,
  rows: (order: Int32Array, from: number, to: number) => Float32Array,
  batchSize: number,
  learningRate: number,
  /** A Dense model's loss on its output's pre-activation (a convolutional one's is always 'bce'). */
  denseLoss: 'mse' | 'bce-logits' = 'mse',
): Promise<FusedTrainer | null> {
  const device = fusedTrainingDevice();
  if (!device) return null;
  const net = networkOf(model, denseLoss);
  if (typeof net === 'string') return null;
  const step = await FusedStep.create(device, net, batchSize, learningRate);
  try {
    step.writeParams(await readWeights(model, net));
  } catch (err) {
    step.dispose();
    throw err;
  }
  step.resetLossSum();
  let queued = 0;
  let inFlight: Promise<void> | undefined;
  return {
    dispatchesPerStep: step.dispatchesPerStep,
    async step(order, from, to) {
      step.step(rows(order, from, to), to - from);
      if (++queued % MAX_STEPS_AHEAD === 0) {
        const done = step.drained();
        if (inFlight) await inFlight;
        inFlight = done;
      }
    },
    async takeEpochLoss(rows) {
      const sum = await step.lossSum();
      step.resetLossSum();
      return sum / rows;
    },
    async writeBack() {
      writeWeights(model, net, await step.readParams());
    },
    dispose: () => step.dispose(),
  };
}
