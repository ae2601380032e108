/// <reference types="@webgpu/types" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countGpuWork } from '../../bench/gpu-counters';
import { initBackend, probeBackends, shutdownBackends, tf } from '../../src-main/engine/backend/index';
import { CALIBRATION_NET, syntheticImages } from '../../src-main/engine/backend/calibration-net';
import { buildCalibrationModel, calibrationTrainer, measureTrainingThroughput } from '../../src-main/engine/backend/calibration-training';
import { buildConvAutoencoder } from '../../src-main/engine/models/conv-autoencoder';
import { recordSkip } from '../helpers/prereqs';

// `--backend auto` times on webgpu the fused training step that training uses, on the same network and job as the
// other backends (tfjs's kernels). On GPU-less machines Dawn's adapter is Mesa's llvmpipe: small batches.

afterAll(() => shutdownBackends());

const BATCH = 4;
const batches = syntheticImages(2 * BATCH, CALIBRATION_NET.seed + 7);
const batchAt = (i: number) => batches.subarray(i * BATCH * 784, (i + 1) * BATCH * 784);

/** Loss of each of two Adam steps of the calibration model on the active backend, and the path they ran. */
async function twoStepLosses(onStep?: (i: number) => Promise<void>): Promise<{ losses: number[]; path: string }> {
  const model = buildCalibrationModel();
  const trainer = await calibrationTrainer(model, BATCH, CALIBRATION_NET.learningRate);
  try {
    const losses: number[] = [];
    for (let i = 0; i < 2; i++) {
      await onStep?.(i);
      await trainer.step(batchAt(i), BATCH);
      losses.push(await trainer.loss());
    }
    return { losses, path: trainer.path };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

describe('calibration on webgpu times the fused training step', () => {
  let skipReason = '';

  beforeAll(async () => {
    const gpu = (await probeBackends()).find((b) => b.name === 'webgpu')!;
    if (!gpu.available) skipReason = recordSkip(`no WebGPU adapter for the fused calibration test (${gpu.reason})`);
  });

  it('runs the fused step on webgpu (≤ 60 dispatches a step, against ~300 through tfjs) with the losses tfjs gives on wasm', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    await initBackend('wasm');
    const wasm = await twoStepLosses();
    expect(wasm.path).toBe('tfjs');

    await initBackend('webgpu');
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    let counter: ReturnType<typeof countGpuWork> | undefined;
    // count the second step (the first compiles pipelines); the loss readback before it leaves no encoder open
    const gpu = await twoStepLosses(async (i) => {
      if (i === 1) counter = countGpuWork(device);
    });
    const counted = counter?.stop();
    expect(gpu.path).toBe('fused');
    expect(counted?.dispatches).toBeGreaterThan(0);
    // the step itself, then one readback of the loss (its copy submit)
    expect(counted!.dispatches).toBeLessThanOrEqual(60);
    expect(counted!.submits).toBeLessThanOrEqual(2);
    expect(counted!.byProgram.adam).toBe(1);

    for (let i = 0; i < 2; i++) expect(Math.abs(gpu.losses[i] - wasm.losses[i]) / wasm.losses[i], `step ${i + 1}`).toBeLessThan(1e-3);
    // and the second loss reflects the first step's update (the same on both)
    expect(gpu.losses[1]).not.toBe(gpu.losses[0]);

    const timed = await measureTrainingThroughput({ batchSize: BATCH, warmupSteps: 0, minSteps: 1, maxSteps: 1 });
    expect(timed).toMatchObject({ path: 'fused', steps: 1 });
    expect(timed.imagesPerSec).toBeGreaterThan(0);
    await initBackend('wasm');
  }, 300_000);
});

// Issue 20: the calibration times the study's own network, built by its builder (one description, one generator).
describe('the calibration network is the study conv autoencoder', () => {
  it('has the layers and the initial weights buildConvAutoencoder gives for its seed', async () => {
    await initBackend('cpu');
    const calibration = buildCalibrationModel();
    const study = buildConvAutoencoder(CALIBRATION_NET.seed);
    const layers = (model: tf.LayersModel) =>
      model.layers.map((layer) => {
        const { name: _name, ...config } = layer.getConfig();
        return [layer.getClassName(), JSON.stringify(config)];
      });
    try {
      expect(layers(calibration)).toEqual(layers(study.autoencoder));
      const weights = (model: tf.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));
      expect(weights(calibration)).toEqual(weights(study.autoencoder));
    } finally {
      calibration.dispose();
      study.autoencoder.dispose();
    }
  });
});
