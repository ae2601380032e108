/**
 * Sum over all leading axes (bias gradients) for the wasm backend: row sums (sumRows.wat) without the
 * original's transpose, in float32 blocks of rows added up in float64.
 */
import * as tf from '@tensorflow/tfjs';
import { simdKernels } from './simd-kernels';
import { heap, kernel, offsetOf, type KernelArgs, type TensorInfo, type WasmBackendLike } from './support';

const SUM_BLOCK_ROWS = 64;

export function sum(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
  if (x.dtype !== 'float32' || !leading) return kernel('Sum')(args as KernelArgs) as TensorInfo;
  const C = x.shape[rank - 1];
  const R = tf.util.sizeFromShape(x.shape) / Math.max(C, 1);
  const outShape = keepDims ? x.shape.map((s, i) => (i === rank - 1 ? s : 1)) : [C];
  const acc = new Float64Array(C);
  const out = backend.makeOutput(outShape, 'float32');
  const kernels = simdKernels(backend);
  if (kernels && C % 4 === 0) {
    // float32 sums of blocks of rows (SIMD), added up in float64
    const oo = offsetOf(backend, out);
    const xo = offsetOf(backend, x);
    for (let r = 0; r < R; r += SUM_BLOCK_ROWS) {
      kernels.sumRows((xo + r * C) * 4, oo * 4, Math.min(SUM_BLOCK_ROWS, R - r), C);
      const mem = heap(backend);
      for (let c = 0; c < C; c++) acc[c] += mem[oo + c];
    }
    const mem = heap(backend);
    for (let c = 0; c < C; c++) mem[oo + c] = acc[c];
    return out;
  }
  const mem = heap(backend);
  let p = offsetOf(backend, x);
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) acc[c] += mem[p++];
  }
  const oo = offsetOf(backend, out);
  for (let c = 0; c < C; c++) mem[oo + c] = acc[c];
  return out;
}
