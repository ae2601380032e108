/**
 * Convolution overrides for the wasm backend:
 *
 * - Conv2D / FusedConv2D with 1–2 output channels (linear/relu): one GEMM X·F[Ci, FH·FW·Co] and a sum over
 *   the taps, instead of an XNNPACK convolution that wastes 7/8 of its GEMM tiles on a single output channel;
 * - Conv2DBackpropInput (stride 1): a plain XNNPACK convolution of dy with the rotated, transposed filter
 *   (~4× the original's speed here); other strides use the original kernel.
 *
 * (Conv2DBackpropFilter, which the backend lacks: conv-filter-grad.ts.)
 */
import * as tf from '@tensorflow/tfjs';
import { backpropConvInfo, checkChannelsLast, free, heap, kernel, offsetOf, paddedConv2d, run, view } from './support';
import type { ConvBackpropAttrs, KernelArgs, Pad, TensorInfo, WasmBackendLike } from './support';

// -------------------------------------------------------------------------------------------------------------
// Conv2D / FusedConv2D with one or two output channels

/**
 * XNNPACK computes a convolution with a single output channel at a fraction of its speed (its GEMM tiles are
 * 8 columns wide, so 7/8 of the work is wasted). Instead: Z = X[B·H·W, Ci] · F[Ci, FH·FW·Co] (one GEMM, FH·FW
 * times wider), then out[b,y,x,co] = Σ_taps Z[b, y·s+i−pt, x·s+j−pl, (i,j,co)] (+ bias, activation).
 */
function narrowConv2d(args: KernelArgs, fused: boolean): TensorInfo | null {
  const backend = args.backend as WasmBackendLike;
  const { x, filter, bias, preluActivationWeights } = args.inputs as {
    x: TensorInfo;
    filter: TensorInfo;
    bias?: TensorInfo;
    preluActivationWeights?: TensorInfo;
  };
  const attrs = args.attrs as unknown as {
    strides: number | [number, number];
    pad: Pad;
    dataFormat?: string;
    dilations?: number | [number, number];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    activation?: string;
  };
  const activation = fused ? (attrs.activation ?? 'linear') : 'linear';
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || x.shape.length !== 4 || filter.shape.length !== 4) return null;
  if (attrs.dataFormat != null && attrs.dataFormat !== 'NHWC' && attrs.dataFormat !== 'channelsLast') return null;
  if (activation !== 'linear' && activation !== 'relu') return null;
  if (preluActivationWeights != null) return null;
  const [FH, FW, Ci, Co] = filter.shape;
  if (Co > 2 || Ci < 8) return null;
  if (bias != null && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== Co)) return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize: B, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, strideHeight: SH, strideWidth: SW } = info;
  const { dilationHeight: DH, dilationWidth: DW } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const T = FH * FW * Co;
  const f = run('Transpose', backend, { x: filter }, { perm: [2, 0, 1, 3] }); // [Ci, FH, FW, Co]
  const z = run(
    'BatchMatMul',
    backend,
    { a: view(x, [1, B * H * W, Ci]), b: view(f, [1, Ci, T]) },
    { transposeA: false, transposeB: false },
  );
  free(backend, f);
  const out = backend.makeOutput([B, OH, OW, Co], 'float32');
  const mem = heap(backend);
  const zo = offsetOf(backend, z);
  const oo = offsetOf(backend, out);
  const bo = bias != null ? offsetOf(backend, bias) : -1;
  const relu = activation === 'relu';
  let o = oo;
  for (let b = 0; b < B; b++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        for (let co = 0; co < Co; co++) {
          let acc = bo >= 0 ? mem[bo + co] : 0;
          for (let i = 0; i < FH; i++) {
            const y = oy * SH + i * DH - pt;
            if (y < 0 || y >= H) continue;
            const rowBase = zo + (b * H + y) * W * T;
            for (let j = 0; j < FW; j++) {
              const xx = ox * SW + j * DW - pl;
              if (xx < 0 || xx >= W) continue;
              acc += mem[rowBase + xx * T + (i * FW + j) * Co + co];
            }
          }
          mem[o++] = relu && acc < 0 ? 0 : acc;
        }
      }
    }
  }
  free(backend, z);
  return out;
}

export function conv2d(args: KernelArgs): TensorInfo {
  return narrowConv2d(args, false) ?? (kernel('Conv2D')(args) as TensorInfo);
}

export function fusedConv2d(args: KernelArgs): TensorInfo {
  return narrowConv2d(args, true) ?? (kernel('FusedConv2D')(args) as TensorInfo);
}

// -------------------------------------------------------------------------------------------------------------
// Conv2DBackpropInput (stride 1 as a convolution)

interface BackpropInputAttrs extends ConvBackpropAttrs {
  inputShape: [number, number, number, number];
}

export function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as BackpropInputAttrs;
  checkChannelsLast('Conv2DBackpropInput', attrs.dataFormat);
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32' || dy.shape.length !== 4)
    return kernel('Conv2DBackpropInput')(args as KernelArgs) as TensorInfo;
  const info = backpropConvInfo(attrs.inputShape, filter.shape as [number, number, number, number], attrs);
  const { inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, filterHeight: FH, filterWidth: FW } = info;
  const qt = FH - 1 - info.padInfo.top;
  const ql = FW - 1 - info.padInfo.left;
  const qb = H - OH + FH - 1 - qt;
  const qr = W - OW + FW - 1 - ql;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || qt < 0 || ql < 0 || qb < 0 || qr < 0) {
    return kernel('Conv2DBackpropInput')(args as KernelArgs) as TensorInfo;
  }
  // dx = conv(dy, F) with F[a, b, co, ci] = W[FH−1−a, FW−1−b, ci, co]
  const rev = run('Reverse', backend, { x: filter }, { dims: [0, 1] });
  const f = run('Transpose', backend, { x: rev }, { perm: [0, 1, 3, 2] });
  free(backend, rev);
  const out = paddedConv2d(backend, dy, f, [qt, qb], [ql, qr]);
  free(backend, f);
  return out;
}
