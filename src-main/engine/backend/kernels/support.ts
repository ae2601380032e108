/**
 * What the wasm kernel overrides share: the parts of the wasm backend they use, the original kernels they fall
 * back to or build on, and access to tensors in the backend's heap.
 */
import * as tf from '@tensorflow/tfjs';

export type TensorInfo = tf.TensorInfo;
export type KernelFunc = tf.KernelFunc;
export type KernelArgs = Parameters<KernelFunc>[0];
export type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/** The parts of the wasm backend these kernels use (it is not exported with types from the package root). */
export interface WasmBackendLike {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number; shape: number[]; dtype: string } };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

export const BACKEND = 'wasm';
/** Original wasm kernels that the overrides fall back to (filled by registerWasmTrainingKernels). */
export const originals = new Map<string, KernelFunc>();

/** The original wasm kernel `name` (the registered one when there is no override). */
export function kernel(name: string): KernelFunc {
  const orig = originals.get(name);
  if (orig) return orig;
  const k = tf.getKernel(name, BACKEND);
  if (!k) throw new Error(`the wasm backend has no ${name} kernel`);
  return k.kernelFunc;
}

/** Runs the original kernel `name` on the backend. */
export function run(
  name: string,
  backend: WasmBackendLike,
  inputs: Record<string, TensorInfo>,
  attrs: Record<string, unknown> = {},
): TensorInfo {
  return kernel(name)({ inputs, backend: backend as unknown as tf.KernelBackend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
}

/** Releases intermediate tensors. */
export function free(backend: WasmBackendLike, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** A tensor info with another shape over the same data (no copy, no new reference). */
export function view(info: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

export function heap(backend: WasmBackendLike): Float32Array {
  // re-read after every allocation: growing the wasm memory replaces the buffer
  return backend.wasm.HEAPF32;
}

/** A tensor's position in the heap, in floats (× 4 for a byte address). */
export function offsetOf(backend: WasmBackendLike, info: TensorInfo): number {
  return backend.dataIdMap.get(info.dataId).memoryOffset >>> 2;
}

export function checkFloat(name: string, ...infos: TensorInfo[]): void {
  for (const info of infos) {
    if (info.dtype !== 'float32') throw new Error(`${name} on wasm supports float32 tensors only, got ${info.dtype}`);
  }
}

/** Attributes common to Conv2DBackpropFilter and Conv2DBackpropInput. */
export interface ConvBackpropAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The forward convolution's geometry behind a backprop kernel (no dilation, channels last). */
export function backpropConvInfo(
  inputShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: ConvBackpropAttrs,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** The original Conv2D at stride 1 (NHWC) with explicit [top, bottom] and [left, right] padding. */
export function paddedConv2d(
  backend: WasmBackendLike,
  x: TensorInfo,
  filter: TensorInfo,
  padRows: [number, number],
  padCols: [number, number],
  dilations: number | [number, number] = 1,
): TensorInfo {
  return run('Conv2D', backend, { x, filter }, { strides: 1, pad: [[0, 0], padRows, padCols, [0, 0]], dataFormat: 'NHWC', dilations });
}

export function checkChannelsLast(name: string, dataFormat: unknown): void {
  if (dataFormat != null && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`${name} on wasm supports dataFormat 'NHWC' only, got '${String(dataFormat)}'`);
  }
}
