/**
 * Nearest-neighbour resizing for the wasm backend, and a fix for the cpu backend's gradient:
 *
 * - ResizeNearestNeighbor by integer factors (UpSampling2D): SIMD block copies (upsample.wat); other sizes use
 *   the original kernel;
 * - ResizeNearestNeighborGrad: SIMD block sums for integer factors, else the exact adjoint of the forward
 *   sampling;
 * - cpuResizeNearestNeighborGrad: a correct ResizeNearestNeighborGrad for the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import { simdKernels } from './simd-kernels';
import { heap, kernel, offsetOf, type KernelArgs, type TensorInfo, type WasmBackendLike } from './support';

/**
 * Source row (or column) of every output row of tfjs's nearest-neighbour resize, exactly as the forward kernels
 * compute it (alignCorners, halfPixelCenters).
 */
function nearestSources(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): Int32Array {
  const effIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const ratio = effIn / effOut;
  const src = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const frac = halfPixelCenters ? ratio * (i + 0.5) : ratio * i;
    let s = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
    if (halfPixelCenters) s = Math.max(0, s);
    src[i] = s;
  }
  return src;
}

/** The exact adjoint of the forward resize: every dy pixel is added to the input pixel it was copied from. */
function resizeNearestAdjoint(
  dy: Float32Array,
  dyOff: number,
  dx: Float32Array,
  dxOff: number,
  B: number,
  H: number,
  W: number,
  C: number,
  OH: number,
  OW: number,
  rows: Int32Array,
  cols: Int32Array,
): void {
  dx.fill(0, dxOff, dxOff + B * H * W * C);
  let g = dyOff;
  for (let b = 0; b < B; b++) {
    for (let y = 0; y < OH; y++) {
      const rowOut = dxOff + (b * H + rows[y]) * W * C;
      for (let x = 0; x < OW; x++) {
        const o = rowOut + cols[x] * C;
        for (let c = 0; c < C; c++) dx[o + c] += dy[g++];
      }
    }
  }
}

function isBlockMapping(src: Int32Array, factor: number): boolean {
  for (let i = 0; i < src.length; i++) if (src[i] !== Math.floor(i / factor)) return false;
  return true;
}

export function resizeNearestNeighborGrad(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { images, dy } = args.inputs as { images: TensorInfo; dy: TensorInfo };
  const { alignCorners = false, halfPixelCenters = false } = (args.attrs ?? {}) as { alignCorners?: boolean; halfPixelCenters?: boolean };
  if (dy.dtype !== 'float32' || images.shape.length !== 4 || dy.shape.length !== 4) {
    return kernel('ResizeNearestNeighborGrad')(args as KernelArgs) as TensorInfo;
  }
  const [B, H, W, C] = images.shape;
  const [, OH, OW] = dy.shape;
  const dx = backend.makeOutput(images.shape, 'float32');
  if (B * H * W * C === 0) return dx;
  const rows = nearestSources(H, OH, alignCorners, halfPixelCenters);
  const cols = nearestSources(W, OW, alignCorners, halfPixelCenters);
  const mem = heap(backend);
  const go = offsetOf(backend, dy);
  const dxo = offsetOf(backend, dx);
  const kernels = simdKernels(backend);
  if (kernels && C % 4 === 0 && OH % H === 0 && OW % W === 0 && isBlockMapping(rows, OH / H) && isBlockMapping(cols, OW / W)) {
    // integer up-scaling: dx sums fy×fx blocks of dy
    mem.fill(0, dxo, dxo + B * H * W * C);
    kernels.upGrad(go * 4, dxo * 4, B, H, W, C, OH / H, OW / W);
    return dx;
  }
  resizeNearestAdjoint(mem, go, mem, dxo, B, H, W, C, OH, OW, rows, cols);
  return dx;
}

/** Nearest-neighbour up-sampling by integer factors (UpSampling2D) with the SIMD copy loop; else the original. */
export function resizeNearestNeighbor(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { images } = args.inputs as { images: TensorInfo };
  const {
    alignCorners = false,
    halfPixelCenters = false,
    size,
  } = args.attrs as unknown as {
    alignCorners?: boolean;
    halfPixelCenters?: boolean;
    size: [number, number];
  };
  const kernels = simdKernels(backend);
  if (!kernels || images.dtype !== 'float32' || images.shape.length !== 4) return kernel('ResizeNearestNeighbor')(args) as TensorInfo;
  const [B, H, W, C] = images.shape;
  const [OH, OW] = size;
  if (C % 4 !== 0 || H === 0 || W === 0 || OH % H !== 0 || OW % W !== 0) return kernel('ResizeNearestNeighbor')(args) as TensorInfo;
  const rows = nearestSources(H, OH, alignCorners, halfPixelCenters);
  const cols = nearestSources(W, OW, alignCorners, halfPixelCenters);
  if (!isBlockMapping(rows, OH / H) || !isBlockMapping(cols, OW / W)) return kernel('ResizeNearestNeighbor')(args) as TensorInfo;
  const out = backend.makeOutput([B, OH, OW, C], 'float32');
  kernels.upFwd(offsetOf(backend, images) * 4, offsetOf(backend, out) * 4, B, H, W, C, OH / H, OW / W);
  return out;
}

/**
 * The cpu backend's ResizeNearestNeighborGrad (tfjs-backend-cpu 4.22) offsets dy by the *input's* batch stride,
 * so every image after the first gets a wrong gradient, and it ignores halfPixelCenters: any model with an
 * UpSampling2D layer trains wrongly on cpu with batches of more than one image. This replacement is the exact
 * adjoint of the cpu forward kernel.
 */
export function cpuResizeNearestNeighborGrad(args: KernelArgs): TensorInfo {
  const backend = args.backend as unknown as {
    data: { get(id: object): { values: Float32Array } };
    makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): TensorInfo;
  };
  const { images, dy } = args.inputs as { images: TensorInfo; dy: TensorInfo };
  const { alignCorners = false, halfPixelCenters = false } = (args.attrs ?? {}) as { alignCorners?: boolean; halfPixelCenters?: boolean };
  const [B, H, W, C] = images.shape;
  const [, OH, OW] = dy.shape;
  const dyValues = backend.data.get(dy.dataId).values;
  const out = new Float32Array(B * H * W * C);
  if (out.length > 0)
    resizeNearestAdjoint(
      dyValues,
      0,
      out,
      0,
      B,
      H,
      W,
      C,
      OH,
      OW,
      nearestSources(H, OH, alignCorners, halfPixelCenters),
      nearestSources(W, OW, alignCorners, halfPixelCenters),
    );
  return backend.makeTensorInfo(images.shape, 'float32', out);
}
