/// <reference types="@webgpu/types" />
/**
 * `npm run bench -- ae --profile` on webgpu, for the fused training step (src-main/engine/backend/webgpuTraining):
 * what one step asks of the device — dispatches (by kernel), submits, buffer writes, readbacks, and buffers, bind
 * groups and pipelines created — counted by bench/gpu-counters.ts, and the host time to queue a step.
 */
import type * as tf from '@tensorflow/tfjs';
import { FusedStep } from '../src-main/engine/backend/webgpuTraining/recorder';
import { networkOf, readWeights } from '../src-main/engine/backend/webgpuTraining/tfjs-model';
import { countGpuWork, type GpuCounts } from './gpu-counters';
import { table } from './harness';

/** Whether the fused step can train this model (else the trainer keeps tfjs's path). */
export function hasFusedPath(model: tf.LayersModel): boolean {
  return typeof networkOf(model) !== 'string';
}

/** `steps` counted fused training steps on `batch` rows of `images` (after two warm-up steps). */
export async function profileFused(
  device: GPUDevice,
  model: tf.LayersModel,
  images: Float32Array,
  batch: number,
  learningRate: number,
  steps: number,
  say: (line: string) => void,
): Promise<void> {
  const net = networkOf(model);
  if (typeof net === 'string') {
    say(`\nwebgpu fused step: not available for this model (${net})`);
    return;
  }
  const step = await FusedStep.create(device, net, batch, learningRate);
  const rows = images.subarray(0, batch * 784);
  try {
    step.writeParams(await readWeights(model, net));
    for (let i = 0; i < 2; i++) step.step(rows, batch);
    await step.drained();
    const counts: GpuCounts[] = [];
    let hostMs = 0;
    let totalMs = 0;
    for (let i = 0; i < steps; i++) {
      const counter = countGpuWork(device);
      const t0 = performance.now();
      step.step(rows, batch);
      hostMs += performance.now() - t0;
      counts.push(counter.stop());
      await step.drained();
      totalMs += performance.now() - t0;
    }
    const per = (key: Exclude<keyof GpuCounts, 'byProgram'>): string =>
      (counts.reduce((s, c) => s + c[key], 0) / counts.length).toFixed(key === 'submitMs' ? 1 : 0);
    say(`\nwebgpu fused step (batch ${batch}), mean of ${steps} steps after 2 warm-up steps`);
    say(
      table(
        ['dispatches', 'submits', 'buffer writes', 'readbacks', 'buffers made', 'bind groups made', 'pipelines made'],
        [
          [
            per('dispatches'),
            per('submits'),
            per('writeBuffers'),
            per('readbacks'),
            per('bufferCreations'),
            per('bindGroupCreations'),
            per('pipelineCreations'),
          ],
        ],
      ),
    );
    const submitMs = counts.reduce((sum, c) => sum + c.submitMs, 0) / steps;
    const encodeUs = (1000 * (hostMs / steps - submitMs)) / step.dispatchesPerStep;
    say(
      `  host time to queue a step: ${(hostMs / steps).toFixed(2)} ms, of which ${submitMs.toFixed(2)} ms inside queue.submit (a software ` +
        `or OpenGL adapter runs the work there); the rest, ${encodeUs.toFixed(0)} µs per dispatch, is encoding on the host`,
    );
    say(`  the step until the device is done: ${(totalMs / steps).toFixed(1)} ms`);
    say(`  kernels: ${Object.keys(counts[0].byProgram).join(', ')}`);
    say('  the loss is summed on the device and read once per epoch (not in these steps)');
  } finally {
    step.dispose();
  }
}
