/**
 * The loader of the SIMD training kernels: the WebAssembly module assembled from this folder's .wat files
 * (simd-module.generated.ts, made by scripts/build-wasm-kernels.mjs), instantiated on the wasm backend's own
 * memory so that its loops work on tensors in place, with no copies.
 *
 * The module imports that memory as `env.memory`, which must match the backend's: a plain memory in the
 * single-threaded build, a shared one in the multi-threaded build (wasm-threads.ts), hence two variants of the
 * module. One that does not compile or instantiate is an error naming it (it fails the wasm backend's start,
 * see registerWasmTrainingKernels), never a silent fallback: the JavaScript loops beside each kernel run only
 * when the SIMD loops are turned off with {@link setWasmSimdKernelsEnabled} (tests compare both).
 */
import * as tf from '@tensorflow/tfjs';
import { SIMD_MODULE_PLAIN, SIMD_MODULE_SHARED } from './simd-module.generated';
import { BACKEND, type WasmBackendLike } from './support';

/** A kernel of the module: i32 arguments (addresses are byte offsets in the heap), no result. */
export type Kernel = (...args: number[]) => void;

/** The module's exports; each one's arguments are described in its .wat file. */
export interface SimdKernels {
  /** outer[N] is outer.wat's outerN, N = 1 … {@link OUTER_MAX_VECTORS} (outer[0] does nothing). */
  outer: Kernel[];
  maxPoolGrad: Kernel;
  maxPool2x2Grad: Kernel;
  upGrad: Kernel;
  upFwd: Kernel;
  sumRows: Kernel;
}

/** Widest accumulator block of the outer-product loop, in vectors of 4 floats (outer.wat: outer1 … outer8). */
export const OUTER_MAX_VECTORS = 8;

export type Variant = 'plain' | 'shared';

export const SIMD_MODULE_NAME = 'the SIMD training kernel module (src-main/engine/backend/kernels/*.wat)';

let disabled = false;
const compiled = new Map<Variant, WebAssembly.Module>();
const byMemory = new WeakMap<WebAssembly.Memory, SimdKernels>();
const byBackend = new WeakMap<WasmBackendLike, SimdKernels>();

/** Turns the SIMD loops off (tests compare both paths); the JavaScript loops are used instead. */
export function setWasmSimdKernelsEnabled(enabled: boolean): void {
  disabled = !enabled;
}

const reason = (err: unknown): string => String((err as Error)?.message ?? err);

/** The backend's WebAssembly memory: `wasmMemory` in the threaded build, an export of the instance otherwise. */
function backendMemory(backend: WasmBackendLike): WebAssembly.Memory {
  const module = backend.wasm as unknown as { asm?: Record<string, unknown>; wasmMemory?: unknown };
  if (module.wasmMemory instanceof WebAssembly.Memory) return module.wasmMemory;
  for (const value of Object.values(module.asm ?? {})) if (value instanceof WebAssembly.Memory) return value;
  throw new Error(`${SIMD_MODULE_NAME} cannot be loaded: the wasm backend's memory was not found`);
}

const EXPORTS = [
  ...Array.from({ length: OUTER_MAX_VECTORS }, (_, i) => `outer${i + 1}`),
  'maxPoolGrad',
  'maxPool2x2Grad',
  'upGrad',
  'upFwd',
  'sumRows',
];

/** Compiles the module's bytes; failing, throws an error naming the module. */
export function compileSimdModule(bytes: BufferSource, variant: Variant): WebAssembly.Module {
  try {
    return new WebAssembly.Module(bytes);
  } catch (err) {
    throw new Error(`${SIMD_MODULE_NAME}, ${variant}-memory variant, does not compile: ${reason(err)}`, { cause: err });
  }
}

/** Instantiates the module on `memory`; failing, throws an error naming the module. */
export function instantiateSimdModule(module: WebAssembly.Module, variant: Variant, memory: WebAssembly.Memory): SimdKernels {
  const failure = (why: string) => new Error(`${SIMD_MODULE_NAME}, ${variant}-memory variant, ${why}`);
  let e: Record<string, Kernel>;
  try {
    e = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, Kernel>;
  } catch (err) {
    throw failure(`cannot be instantiated on the wasm backend's memory: ${reason(err)}`);
  }
  const missing = EXPORTS.filter((name) => typeof e[name] !== 'function');
  if (missing.length) throw failure(`does not export ${missing.join(', ')}`);
  return {
    outer: [() => {}, ...Array.from({ length: OUTER_MAX_VECTORS }, (_, i) => e[`outer${i + 1}`])],
    maxPoolGrad: e.maxPoolGrad,
    maxPool2x2Grad: e.maxPool2x2Grad,
    upGrad: e.upGrad,
    upFwd: e.upFwd,
    sumRows: e.sumRows,
  };
}

function compiledModule(variant: Variant): WebAssembly.Module {
  let module = compiled.get(variant);
  if (!module) {
    module = compileSimdModule(Buffer.from(variant === 'shared' ? SIMD_MODULE_SHARED : SIMD_MODULE_PLAIN, 'base64'), variant);
    compiled.set(variant, module);
  }
  return module;
}

/**
 * The SIMD kernels on this backend's memory (instantiated once per memory), or null when they are turned off.
 * Throws, naming the module, when they cannot be loaded.
 */
export function simdKernels(backend: WasmBackendLike): SimdKernels | null {
  if (disabled) return null;
  let kernels = byBackend.get(backend);
  if (kernels) return kernels;
  const memory = backendMemory(backend);
  kernels = byMemory.get(memory);
  if (!kernels) {
    const variant: Variant = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer ? 'shared' : 'plain';
    kernels = instantiateSimdModule(compiledModule(variant), variant, memory);
    byMemory.set(memory, kernels);
  }
  byBackend.set(backend, kernels);
  return kernels;
}

/**
 * The wasm backend if it is initialised. (Not tf.findBackend: that starts initialising a registered backend,
 * with whatever thread count its factory has.)
 */
function initialisedWasmBackend(): WasmBackendLike | null {
  const registry = (tf.engine() as unknown as { registry?: Record<string, unknown> }).registry;
  return (registry?.[BACKEND] as WasmBackendLike | undefined) ?? null;
}

/** Whether the SIMD loops are in use for the (initialised) wasm backend, for reports and tests. */
export function wasmSimdKernelsAvailable(): boolean {
  const backend = initialisedWasmBackend();
  return backend != null && simdKernels(backend) != null;
}
