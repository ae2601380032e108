/// <reference types="@webgpu/types" />
/**
 * The GPU device the fused training step runs on, the switch that turns the path off, and buffer helpers.
 *
 * Device: the one tfjs-backend-webgpu already uses (backend/webgpu.ts creates it), not a second one from the
 * `webgpu` package. The fused path only runs while webgpu is the active tfjs backend, so that device exists; a
 * second device would hold a second copy of the driver's per-context state (and, on a GPU, be scheduled against
 * tfjs's), while nothing is gained from isolation: the fused step shares no buffer with tfjs, and weights cross
 * between the two once per epoch through the tfjs model (one readback), which would cost the same from either.
 */
import * as tf from '@tensorflow/tfjs';

/** `CLUSTERBENCH_WEBGPU_FUSED=0` trains through tfjs's own kernels on webgpu (the path before the fused step). */
export function fusedTrainingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CLUSTERBENCH_WEBGPU_FUSED !== '0';
}

/** The active tfjs backend's GPUDevice when that backend is webgpu and the fused path is on; else undefined. */
export function fusedTrainingDevice(): GPUDevice | undefined {
  if (!fusedTrainingEnabled() || tf.getBackend() !== 'webgpu') return undefined;
  return (tf.backend() as unknown as { device?: GPUDevice }).device;
}

export const STORAGE = (): number => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** A zero-filled buffer of `floats` float32 values (at least 16 bytes). */
export function createFloatBuffer(device: GPUDevice, label: string, floats: number, usage = STORAGE()): GPUBuffer {
  return device.createBuffer({ label, size: Math.max(16, Math.ceil((floats * 4) / 16) * 16), usage });
}

/**
 * Reads `floats` values of `source` through `staging` (a MAP_READ buffer at least that large): one copy, one
 * submit, one mapAsync. Callers must not overlap reads through the same staging buffer.
 */
export async function readFloats(device: GPUDevice, source: GPUBuffer, staging: GPUBuffer, floats: number): Promise<Float32Array> {
  const bytes = floats * 4;
  const encoder = device.createCommandEncoder({ label: 'fused-training readback' });
  encoder.copyBufferToBuffer(source, 0, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ, 0, bytes);
  try {
    return new Float32Array(staging.getMappedRange(0, bytes).slice(0));
  } finally {
    staging.unmap();
  }
}
