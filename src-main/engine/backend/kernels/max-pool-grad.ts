/**
 * MaxPoolGrad for the wasm backend: one pass over the windows that routes dy to the first maximum of each
 * window (the cpu backend's tie rule; relu outputs tie often), instead of the original per-pixel search. SIMD
 * loops (maxPoolGrad.wat) for 4k channels, with a special case for 2×2 windows of stride 2 that tile the input.
 */
import * as tf from '@tensorflow/tfjs';
import { simdKernels } from './simd-kernels';
import { heap, kernel, offsetOf, type KernelArgs, type Pad, type TensorInfo, type WasmBackendLike } from './support';

export function maxPoolGrad(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: Pad;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  if (dy.dtype !== 'float32' || input.dtype !== 'float32' || input.shape.length !== 4) {
    return kernel('MaxPoolGrad')(args as KernelArgs) as TensorInfo;
  }
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const dx = backend.makeOutput(input.shape, 'float32');
  const kernels = simdKernels(backend);
  const xo = offsetOf(backend, input);
  const go = offsetOf(backend, dy);
  const dxo = offsetOf(backend, dx);
  if (kernels && C % 4 === 0 && FH === 2 && FW === 2 && SH === 2 && SW === 2 && pt === 0 && pl === 0 && H === 2 * OH && W === 2 * OW) {
    kernels.maxPool2x2Grad(xo * 4, go * 4, dxo * 4, B, OH, OW, C);
    return dx;
  }
  const mem = heap(backend);
  mem.fill(0, dxo, dxo + B * H * W * C);
  if (kernels && C % 4 === 0) {
    kernels.maxPoolGrad(xo * 4, go * 4, dxo * 4, B, H, W, C, OH, OW, FH, FW, SH, SW, pt, pl);
    return dx;
  }
  const maxv = new Float32Array(C);
  const pos = new Int32Array(C);
  let g = go;
  for (let b = 0; b < B; b++) {
    for (let oy = 0; oy < OH; oy++) {
      const y0 = oy * SH - pt;
      const yLo = Math.max(0, y0);
      const yHi = Math.min(H, y0 + FH);
      for (let ox = 0; ox < OW; ox++, g += C) {
        const x0 = ox * SW - pl;
        const xLo = Math.max(0, x0);
        const xHi = Math.min(W, x0 + FW);
        maxv.fill(-Infinity);
        pos.fill(-1);
        for (let y = yLo; y < yHi; y++) {
          for (let xx = xLo; xx < xHi; xx++) {
            const base = ((b * H + y) * W + xx) * C;
            const src = xo + base;
            for (let c = 0; c < C; c++) {
              const v = mem[src + c];
              // strict '>' keeps the first maximum in row-major window order, like the cpu backend
              if (v > maxv[c]) {
                maxv[c] = v;
                pos[c] = base + c;
              }
            }
          }
        }
        for (let c = 0; c < C; c++) {
          const p = pos[c];
          if (p >= 0) mem[dxo + p] += mem[g + c];
        }
      }
    }
  }
  return dx;
}
