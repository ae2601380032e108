/**
 * Conv2DBackpropFilter for the wasm backend, which has none (tfjs-backend-wasm 4.22, tfjs issue 8474):
 * dW[i,j,ci,co] = Σ_{b,y,x} x[b, y·s+i−pt, x·s+j−pl, ci] · dy[b,y,x,co], in one of four formulations:
 *
 * - "x as input" (default): the filter gradient is itself a convolution once batch and channels swap roles,
 *   conv(xᵀ[Ci,H,W,B], dyᵀ[OH,OW,B,Co], dilation = stride) = dW as [Ci,FH,FW,Co], run by the backend's own
 *   XNNPACK Conv2D; any stride and padding.
 * - "outer" (one side with ≤ 2 channels, the other a multiple of 4): a direct SIMD loop (outer.wat). A GEMM
 *   would pack an operand as large as the activations for a product 1–2 columns wide.
 * - "dy as input" and "im2col" (stride 1): alternative formulations, kept for tests and benchmarks; im2col
 *   is the choice for tiny input depths when the SIMD loops are turned off.
 */
import { simdKernels, OUTER_MAX_VECTORS, type SimdKernels } from './simd-kernels';
import { backpropConvInfo, checkChannelsLast, checkFloat, free, heap, offsetOf, paddedConv2d, run, view } from './support';
import type { ConvBackpropAttrs, KernelArgs, TensorInfo, WasmBackendLike } from './support';

interface BackpropFilterAttrs extends ConvBackpropAttrs {
  filterShape: [number, number, number, number];
}

export type FilterGradMethod = 'auto' | 'x-input' | 'dy-input' | 'im2col' | 'outer';

let forcedFilterMethod: FilterGradMethod = 'auto';

/** Forces one formulation of the filter gradient (tests and benchmarks); 'auto' picks by shape. */
export function setFilterGradMethod(method: FilterGradMethod): void {
  forcedFilterMethod = method;
}

export function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as BackpropFilterAttrs;
  checkFloat('Conv2DBackpropFilter', x, dy);
  checkChannelsLast('Conv2DBackpropFilter', attrs.dataFormat);
  if (x.shape.length !== 4 || dy.shape.length !== 4) {
    throw new Error(`Conv2DBackpropFilter on wasm needs rank-4 x and dy, got shapes [${x.shape}] and [${dy.shape}]`);
  }
  const info = backpropConvInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co } = info;
  const { filterHeight: FH, filterWidth: FW, strideHeight: SH, strideWidth: SW } = info;
  if (dy.shape[0] !== B || dy.shape[1] !== OH || dy.shape[2] !== OW || dy.shape[3] !== Co) {
    throw new Error(`Conv2DBackpropFilter: dy has shape [${dy.shape}], expected [${[B, OH, OW, Co]}]`);
  }
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  // the padding actually read at the bottom/right: rows beyond the last window do not contribute
  const pb = Math.max(0, (OH - 1) * SH + FH - H - pt);
  const pr = Math.max(0, (OW - 1) * SW + FW - W - pl);
  if (pt < 0 || pl < 0) throw new Error('Conv2DBackpropFilter on wasm: negative padding is not supported');

  if (B * OH * OW === 0) {
    const out = backend.makeOutput(attrs.filterShape, 'float32');
    heap(backend).fill(0, offsetOf(backend, out), offsetOf(backend, out) + FH * FW * Ci * Co);
    return out;
  }

  const d: FilterDims = { B, H, W, Ci, OH, OW, Co, FH, FW, SH, SW, pt, pl, pb, pr };
  const kernels = simdKernels(backend);
  const method = filterGradMethod(d, kernels);
  if (method === 'outer') return filterGradOuter(backend, kernels as SimdKernels, x, dy, d);
  if (method === 'im2col') return filterGradIm2col(backend, x, dy, d);
  if (method === 'dy-input') return filterGradDyInput(backend, x, dy, d);
  return filterGradXInput(backend, x, dy, d);
}

/** The formulation: the forced one where it applies (else "x as input"), or by shape for 'auto'. */
function filterGradMethod(d: FilterDims, kernels: SimdKernels | null): Exclude<FilterGradMethod, 'auto'> {
  const { Ci, Co, FH, FW, SH, SW } = d;
  let method = forcedFilterMethod;
  const stride1 = SH === 1 && SW === 1;
  const outerOk = kernels !== null && (Co % 4 === 0 || Ci % 4 === 0);
  if (method === 'auto') {
    // one side with one or two channels: a direct SIMD loop beats any GEMM formulation (their packed operand
    // would be as large as the activations, for a product only 1–2 columns wide); otherwise "x as input",
    // measured faster than "dy as input" for both 32→16 and 16→32 channels (its packed filter, dy, is smaller)
    if (outerOk && Math.min(Ci, Co) <= 2) method = 'outer';
    else if (kernels === null && stride1 && FH * FW * Ci <= 32) method = 'im2col';
    else method = 'x-input';
  }
  if (method === 'outer' && !outerOk) method = 'x-input';
  if (!stride1 && (method === 'dy-input' || method === 'im2col')) method = 'x-input';
  return method;
}

/**
 * Stride 1: out[co, a, b, ci] = Σ dyPadded[co, a+h, b+w, n] · x[h, w, n, ci], with dy padded by (FH−1−pt) on
 * top: a = FH−1−i (then flipped and transposed). "x as input" where that padding would be negative.
 */
function filterGradDyInput(backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, d: FilterDims): TensorInfo {
  const { H, W, OH, OW, FH, FW, pt, pl } = d;
  const dyT = run('Transpose', backend, { x: dy }, { perm: [3, 1, 2, 0] }); // [Co, OH, OW, B]
  const xT = run('Transpose', backend, { x }, { perm: [1, 2, 0, 3] }); // [H, W, B, Ci]
  const qt = FH - 1 - pt;
  const ql = FW - 1 - pl;
  // output height = OH + qt + qbot − H + 1 must be FH
  const qbot = FH - 1 - OH + H - qt;
  const qright = FW - 1 - OW + W - ql;
  if (qt < 0 || ql < 0 || qbot < 0 || qright < 0) {
    free(backend, dyT, xT);
    return filterGradXInput(backend, x, dy, d);
  }
  const r = paddedConv2d(backend, dyT, xT, [qt, qbot], [ql, qright]); // [Co, FH, FW, Ci], flipped
  free(backend, dyT, xT);
  const rev = run('Reverse', backend, { x: r }, { dims: [1, 2] });
  free(backend, r);
  const out = run('Transpose', backend, { x: rev }, { perm: [1, 2, 3, 0] }); // [FH, FW, Ci, Co]
  free(backend, rev);
  return out;
}

interface FilterDims {
  B: number;
  H: number;
  W: number;
  Ci: number;
  OH: number;
  OW: number;
  Co: number;
  FH: number;
  FW: number;
  SH: number;
  SW: number;
  pt: number;
  pl: number;
  pb: number;
  pr: number;
}

/** conv(xᵀ[Ci,H,W,B], dyᵀ[OH,OW,B,Co], dilation = stride) = dW as [Ci, FH, FW, Co]. */
function filterGradXInput(backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, d: FilterDims): TensorInfo {
  const { H, W, Ci, OH, OW, Co, FH, FW, SH, SW, pt, pl } = d;
  const xT = run('Transpose', backend, { x }, { perm: [3, 1, 2, 0] }); // [Ci, H, W, B]
  const dyT = run('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, B, Co]
  // output rows a = 0..FH−1 need input rows up to a + (OH−1)·SH − pt ≤ H − 1 + pbot
  const pbot = Math.max(0, FH - 1 + (OH - 1) * SH - pt - (H - 1));
  const pright = Math.max(0, FW - 1 + (OW - 1) * SW - pl - (W - 1));
  let r = paddedConv2d(backend, xT, dyT, [pt, pbot], [pl, pright], [SH, SW]); // [Ci, ≥FH, ≥FW, Co]
  free(backend, xT, dyT);
  if (r.shape[1] !== FH || r.shape[2] !== FW) {
    const cropped = run('Slice', backend, { x: r }, { begin: [0, 0, 0, 0], size: [Ci, FH, FW, Co] });
    free(backend, r);
    r = cropped;
  }
  const out = run('Transpose', backend, { x: r }, { perm: [1, 2, 0, 3] }); // [FH, FW, Ci, Co]
  free(backend, r);
  return out;
}

/** Images per call of the SIMD loop: keeps the vector operand of one call within ~256 KiB (cache-resident). */
const OUTER_CHUNK_BYTES = 256 * 1024;

/**
 * dW by direct SIMD accumulation: for every filter tap and every channel of the narrow side, the sum over all
 * output positions of (narrow-side value) × (wide-side channel vector). The wide side (dy's Co channels, or x's
 * Ci channels) must be a multiple of 4; any stride and padding.
 */
function filterGradOuter(backend: WasmBackendLike, kernels: SimdKernels, x: TensorInfo, dy: TensorInfo, d: FilterDims): TensorInfo {
  const { B, H, W, Ci, OH, OW, Co, FH, FW, SH, SW, pt, pl } = d;
  const vecIsDy = Co % 4 === 0 && (Ci % 4 !== 0 || Co >= Ci);
  const S = vecIsDy ? Ci : Co; // narrow (scalar) side
  const V = vecIsDy ? Co : Ci; // wide (vector) side
  const acc = backend.makeOutput([FH, FW, S, V], 'float32');
  const accOff = offsetOf(backend, acc);
  heap(backend).fill(0, accOff, accOff + FH * FW * S * V);
  const xBase = offsetOf(backend, x) * 4;
  const dyBase = offsetOf(backend, dy) * 4;
  const accBase = accOff * 4;
  // byte strides of x and dy (NHWC)
  const xB = H * W * Ci * 4,
    xR = W * Ci * 4,
    xC = Ci * 4;
  const dB = OH * OW * Co * 4,
    dR = OW * Co * 4,
    dC = Co * 4;
  const perImage = (vecIsDy ? OH * OW * Co : H * W * Ci) * 4;
  const chunk = Math.max(1, Math.floor(OUTER_CHUNK_BYTES / perImage));
  for (let b0 = 0; b0 < B; b0 += chunk) {
    const nb = Math.min(chunk, B - b0);
    for (let i = 0; i < FH; i++) {
      // output rows whose input row oy·SH + i − pt lies in [0, H)
      const oyLo = Math.max(0, Math.ceil((pt - i) / SH));
      const oyHi = Math.min(OH, Math.floor((H - 1 + pt - i) / SH) + 1);
      if (oyHi <= oyLo) continue;
      for (let j = 0; j < FW; j++) {
        const oxLo = Math.max(0, Math.ceil((pl - j) / SW));
        const oxHi = Math.min(OW, Math.floor((W - 1 + pl - j) / SW) + 1);
        if (oxHi <= oxLo) continue;
        const xAt = xBase + b0 * xB + (oyLo * SH + i - pt) * xR + (oxLo * SW + j - pl) * xC;
        const dyAt = dyBase + b0 * dB + oyLo * dR + oxLo * dC;
        const tapAcc = accBase + (i * FW + j) * S * V * 4;
        for (let s = 0; s < S; s++) {
          for (let v0 = 0; v0 < V; v0 += 4 * OUTER_MAX_VECTORS) {
            const nv = Math.min(OUTER_MAX_VECTORS, (V - v0) / 4);
            const out = tapAcc + (s * V + v0) * 4;
            if (vecIsDy) {
              kernels.outer[nv](xAt + s * 4, dyAt + v0 * 4, out, nb, oyHi - oyLo, oxHi - oxLo, xB, SH * xR, SW * xC, dB, dR, dC);
            } else {
              kernels.outer[nv](dyAt + s * 4, xAt + v0 * 4, out, nb, oyHi - oyLo, oxHi - oxLo, dB, dR, dC, xB, SH * xR, SW * xC);
            }
          }
        }
      }
    }
  }
  if (vecIsDy) return acc; // already [FH, FW, Ci, Co]
  // [FH, FW, Co, Ci] → [FH, FW, Ci, Co]
  const out = backend.makeOutput([FH, FW, Ci, Co], 'float32');
  const mem = heap(backend);
  const src = offsetOf(backend, acc);
  const dst = offsetOf(backend, out);
  for (let t = 0; t < FH * FW; t++) {
    for (let co = 0; co < Co; co++) {
      for (let ci = 0; ci < Ci; ci++) mem[dst + (t * Ci + ci) * Co + co] = mem[src + (t * Co + co) * Ci + ci];
    }
  }
  free(backend, acc);
  return out;
}

/** Stride 1: patchesᵀ [FH·FW·Ci, B·OH·OW] (built in place on the wasm heap) times dy [B·OH·OW, Co]. */
function filterGradIm2col(
  backend: WasmBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  d: { B: number; H: number; W: number; Ci: number; OH: number; OW: number; Co: number; FH: number; FW: number; pt: number; pl: number },
): TensorInfo {
  const { B, H, W, Ci, OH, OW, Co, FH, FW, pt, pl } = d;
  const M = B * OH * OW;
  const K = FH * FW * Ci;
  const patches = backend.makeOutput([1, K, M], 'float32');
  const mem = heap(backend);
  const xo = offsetOf(backend, x);
  const po = offsetOf(backend, patches);
  for (let i = 0; i < FH; i++) {
    for (let j = 0; j < FW; j++) {
      for (let c = 0; c < Ci; c++) {
        const row = po + ((i * FW + j) * Ci + c) * M;
        let m = row;
        for (let b = 0; b < B; b++) {
          for (let oy = 0; oy < OH; oy++) {
            const iy = oy + i - pt;
            if (iy < 0 || iy >= H) {
              mem.fill(0, m, m + OW);
              m += OW;
              continue;
            }
            // ox range whose ix = ox + j − pl lies inside [0, W)
            const lo = Math.max(0, pl - j);
            const hi = Math.min(OW, W + pl - j);
            for (let ox = 0; ox < lo; ox++) mem[m++] = 0;
            let src = xo + ((b * H + iy) * W + (lo + j - pl)) * Ci + c;
            for (let ox = lo; ox < hi; ox++, src += Ci) mem[m++] = mem[src];
            for (let ox = Math.max(hi, lo); ox < OW; ox++) mem[m++] = 0;
          }
        }
      }
    }
  }
  const r = run('BatchMatMul', backend, { a: patches, b: view(dy, [1, M, Co]) }, { transposeA: false, transposeB: false });
  free(backend, patches);
  return view(r, [FH, FW, Ci, Co]);
}
