import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type { TrainingPath } from './calibration-training';
import { BackendUnavailableError, firstLine } from './errors';
import type { ConcreteBackendName } from './names';
import { registerTensorflowBackend, tensorflowDevice } from './tensorflow';
import { setBackendOrThrow } from './tfjs-switch';
import { registerWasmTrainingKernels } from './wasm-kernels';
import { prepareWasmBackend, wasmBackendThreads, wasmThreadsWanted } from './wasm-threads';
import { registerWebGPUBackend, releaseWebGPU, webgpuDeviceLost } from './webgpu';
import { fusedTrainingEnabled } from './webgpuTraining/index';

/**
 * The concrete backends and how each one starts: one loader per name in names.ts (the Record type makes a name
 * without a loader a compile error), and {@link activate}, which makes one of them tfjs's active backend.
 */

export interface ActiveBackendInfo {
  name: ConcreteBackendName;
  device?: string;
  software?: boolean;
  /** wasm: XNNPACK threads. */
  threads?: number;
  /** Calibration-net training throughput (images/s) on this backend, when known. */
  imagesPerSec?: number;
  /** Where imagesPerSec comes from. */
  calibration?: 'measured' | 'cached';
  /** How autoencoders train here: the fused WebGPU step (webgpu, CLUSTERBENCH_WEBGPU_FUSED not 0) or tfjs's kernels. */
  trainingPath: TrainingPath;
}

export const cpuModel = (): string => cpus()[0]?.model?.trim() ?? 'unknown CPU';

async function startCpu(): Promise<ActiveBackendInfo> {
  await setBackendOrThrow('cpu');
  return { name: 'cpu', device: `JavaScript (${cpuModel()})`, trainingPath: 'tfjs' };
}

/** wasm: Clusterbench's training kernels and the wanted XNNPACK thread count, both set before tfjs starts it. */
async function startWasm(): Promise<ActiveBackendInfo> {
  registerWasmTrainingKernels();
  await prepareWasmBackend(wasmThreadsWanted());
  await setBackendOrThrow('wasm');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = wasmBackendThreads() ?? 1;
  return {
    name: 'wasm',
    device: `WebAssembly${simd ? ' SIMD' : ''}, ${threads} thread${threads === 1 ? '' : 's'} (${cpuModel()})`,
    threads,
    trainingPath: 'tfjs',
  };
}

/** tensorflow: libtensorflow through the optional tfjs-node(-gpu) package, loaded on first use. */
async function startTensorflow(): Promise<ActiveBackendInfo> {
  const pkg = await registerTensorflowBackend();
  await setBackendOrThrow('tensorflow');
  return { name: 'tensorflow', device: tensorflowDevice(pkg), trainingPath: 'tfjs' };
}

/** webgpu: the device is created before tfjs can start the backend, so a failed start must release it. */
async function startWebgpu(): Promise<ActiveBackendInfo> {
  const adapter = await registerWebGPUBackend();
  try {
    await setBackendOrThrow('webgpu');
  } catch (err) {
    releaseWebGPU();
    throw err;
  }
  const lost = webgpuDeviceLost();
  if (lost) throw new Error(`device lost (${lost})`);
  return {
    name: 'webgpu',
    device: adapter.name,
    software: adapter.software,
    trainingPath: fusedTrainingEnabled() ? 'fused' : 'tfjs',
  };
}

const LOADERS: Record<ConcreteBackendName, () => Promise<ActiveBackendInfo>> = {
  tensorflow: startTensorflow,
  webgpu: startWebgpu,
  wasm: startWasm,
  cpu: startCpu,
};

/** After a failed start: tfjs back on the backend it had, and no WebGPU device left open that nothing uses. */
async function restorePrevious(name: ConcreteBackendName, previous: string | undefined): Promise<void> {
  if (previous && previous !== name && tf.findBackendFactory(previous)) {
    try {
      await tf.setBackend(previous);
    } catch {
      /* keep going: the caller's error is what matters */
    }
  }
  if (name === 'webgpu' && tf.getBackend() !== 'webgpu') releaseWebGPU();
}

/** Makes `name` the active tfjs backend; on failure the previous backend stays active and it throws. */
export async function activate(name: ConcreteBackendName): Promise<ActiveBackendInfo> {
  // A name read from a cache file may be anything: only the table's own entries start.
  if (!Object.hasOwn(LOADERS, name)) throw new BackendUnavailableError(name, 'unknown backend');
  const previous = tf.getBackend();
  try {
    return await LOADERS[name]();
  } catch (err) {
    await restorePrevious(name, previous);
    throw new BackendUnavailableError(name, firstLine(err));
  }
}
