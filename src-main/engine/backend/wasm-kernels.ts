/**
 * Training kernels for the tfjs wasm backend (and one fix for the cpu backend): their registration.
 *
 * @tensorflow/tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel (tfjs issue 8474), so a convolutional
 * model cannot be trained on wasm at all, and several kernels that training needs are scalar loops an order of
 * magnitude slower than its XNNPACK convolutions. {@link registerWasmTrainingKernels} registers for 'wasm'
 * (the kernels are in kernels/, each file saying how it works):
 *
 * - Conv2DBackpropFilter (missing; conv-filter-grad.ts): a convolution by XNNPACK, or a SIMD loop when one side
 *   has one or two channels;
 * - Conv2DBackpropInput (stride 1), and Conv2D / FusedConv2D with 1–2 output channels (conv.ts): formulations
 *   XNNPACK runs at full speed;
 * - MaxPoolGrad (max-pool-grad.ts): dy routed to the first maximum of each window in one pass;
 * - ResizeNearestNeighbor and its gradient (resize.ts): SIMD block copies / sums for integer up-scaling;
 * - Sum over all leading axes (sum.ts): row sums, for bias gradients;
 * - Identity (identity.ts): shares the data like the cpu backend, instead of copying.
 *
 * The SIMD loops are WebAssembly text (kernels/*.wat) assembled by scripts/build-wasm-kernels.mjs into
 * kernels/simd-module.generated.ts, and instantiated on the backend's own memory by kernels/simd-kernels.ts; a
 * module that does not load fails the wasm backend's start, naming it. {@link registerCpuTrainingKernelFixes}
 * replaces the cpu backend's ResizeNearestNeighborGrad, which is wrong for batches of more than one image.
 * (The multi-threaded wasm build is started by wasm-threads.ts.)
 *
 * Every kernel is checked against the cpu backend (or an independent reference) in test/unit/wasm-kernels.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2d, conv2DBackpropInput, fusedConv2d } from './kernels/conv';
import { conv2DBackpropFilter } from './kernels/conv-filter-grad';
import { identity } from './kernels/identity';
import { maxPoolGrad } from './kernels/max-pool-grad';
import { cpuResizeNearestNeighborGrad, resizeNearestNeighbor, resizeNearestNeighborGrad } from './kernels/resize';
import { simdKernels } from './kernels/simd-kernels';
import { sum } from './kernels/sum';
import { BACKEND, originals, type KernelFunc, type WasmBackendLike } from './kernels/support';

export { setFilterGradMethod, type FilterGradMethod } from './kernels/conv-filter-grad';
export { setWasmSimdKernelsEnabled, wasmSimdKernelsAvailable } from './kernels/simd-kernels';

const overrides: { name: string; fn: KernelFunc }[] = [
  { name: 'Conv2DBackpropFilter', fn: conv2DBackpropFilter as KernelFunc },
  { name: 'Conv2DBackpropInput', fn: conv2DBackpropInput as KernelFunc },
  { name: 'MaxPoolGrad', fn: maxPoolGrad as KernelFunc },
  { name: 'ResizeNearestNeighborGrad', fn: resizeNearestNeighborGrad as KernelFunc },
  { name: 'Sum', fn: sum as KernelFunc },
  { name: 'Conv2D', fn: conv2d as KernelFunc },
  { name: 'FusedConv2D', fn: fusedConv2d as KernelFunc },
  { name: 'Identity', fn: identity as KernelFunc },
  { name: 'ResizeNearestNeighbor', fn: resizeNearestNeighbor as KernelFunc },
];

let registered = false;

/**
 * Registers the training kernels above for the 'wasm' backend (idempotent). Call it before the wasm backend
 * trains a convolutional model; it may be called before or after the backend is initialised.
 *
 * Each override's setup, which tfjs runs whenever 'wasm' becomes the active backend, also loads the SIMD
 * kernels on the backend's memory (once per memory): a module that does not load fails `tf.setBackend('wasm')`
 * with an error naming it. (On a backend already active, the first kernel to use them does.)
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const { name, fn } of overrides) {
    const existing = tf.getKernel(name, BACKEND);
    if (existing) {
      // (for Conv2DBackpropFilter: a kernel that a newer tfjs-backend-wasm may bring is kept as the original)
      originals.set(name, existing.kernelFunc);
      tf.unregisterKernel(name, BACKEND);
    }
    const setupFunc: NonNullable<tf.KernelConfig['setupFunc']> = (backend) => {
      existing?.setupFunc?.(backend);
      simdKernels(backend as unknown as WasmBackendLike);
    };
    tf.registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc: fn, setupFunc, disposeFunc: existing?.disposeFunc });
  }
  registered = true;
}

/** Whether {@link registerWasmTrainingKernels} has run. */
export function wasmTrainingKernelsRegistered(): boolean {
  return registered;
}

let cpuFixed = false;
const cpuOriginals = new Map<string, KernelFunc>();

/**
 * Replaces the cpu backend's ResizeNearestNeighborGrad with a correct one (see cpuResizeNearestNeighborGrad in
 * kernels/resize.ts); idempotent. Training an autoencoder calls it, whatever the backend.
 */
export function registerCpuTrainingKernelFixes(): void {
  if (cpuFixed) return;
  const existing = tf.getKernel('ResizeNearestNeighborGrad', 'cpu');
  if (existing) {
    cpuOriginals.set('ResizeNearestNeighborGrad', existing.kernelFunc);
    tf.unregisterKernel('ResizeNearestNeighborGrad', 'cpu');
  }
  tf.registerKernel({
    kernelName: 'ResizeNearestNeighborGrad',
    backendName: 'cpu',
    kernelFunc: cpuResizeNearestNeighborGrad as KernelFunc,
  });
  cpuFixed = true;
}

/** The original (buggy) cpu kernel is kept here only so that tests can demonstrate the bug. */
export function originalCpuKernel(name: string): KernelFunc | undefined {
  return cpuOriginals.get(name);
}
