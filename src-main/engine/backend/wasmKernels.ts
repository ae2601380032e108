/**
 * Training kernels for the tfjs wasm backend (and one fix for the cpu backend).
 *
 * @tensorflow/tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel (tfjs issue 8474), so a convolutional
 * model cannot be trained on wasm at all, and several kernels that training needs are scalar loops an order of
 * magnitude slower than its XNNPACK convolutions. {@link registerWasmTrainingKernels} registers for 'wasm':
 *
 * - Conv2DBackpropFilter (missing): dW[i,j,ci,co] = Σ_{b,y,x} x[b, y·s+i−pt, x·s+j−pl, ci] · dy[b,y,x,co].
 *     • "x as input" (default): the filter gradient is itself a convolution once batch and channels swap roles,
 *       conv(xᵀ[Ci,H,W,B], dyᵀ[OH,OW,B,Co], dilation = stride) = dW as [Ci,FH,FW,Co], run by the backend's own
 *       XNNPACK Conv2D; any stride and padding.
 *     • "outer" (one side with ≤ 2 channels, the other a multiple of 4): a direct SIMD loop (below). A GEMM
 *       would pack an operand as large as the activations for a product 1–2 columns wide.
 *     • "dy as input" and "im2col" (stride 1): alternative formulations, kept for tests and benchmarks; im2col
 *       is the fallback for tiny input depths where WebAssembly SIMD is missing.
 * - Conv2DBackpropInput (stride 1): a plain XNNPACK convolution of dy with the rotated, transposed filter
 *   (~4× the original's speed here); other strides use the original kernel.
 * - Conv2D / FusedConv2D with 1–2 output channels (linear/relu): one GEMM X·F[Ci, FH·FW·Co] and a sum over
 *   the taps, instead of an XNNPACK convolution that wastes 7/8 of its GEMM tiles on a single output channel.
 * - MaxPoolGrad: one pass over the windows that routes dy to the first maximum of each window (the cpu
 *   backend's tie rule; relu outputs tie often), instead of the original per-pixel search.
 * - ResizeNearestNeighbor and its gradient (integer up-scaling, UpSampling2D): SIMD block copies / sums; other
 *   sizes use the exact adjoint of the forward sampling.
 * - Sum over all leading axes (bias gradients): row sums without the original's transpose.
 * - Identity (the clones tfjs keeps for gradients): shares the data like the cpu backend, instead of copying.
 *
 * The SIMD loops are a small WebAssembly module assembled below that imports the backend's own memory, so they
 * work on tensors in place; without WebAssembly SIMD, plain JavaScript loops do the same work.
 * {@link registerCpuTrainingKernelFixes} replaces the cpu backend's ResizeNearestNeighborGrad, which is wrong
 * for batches of more than one image. (The multi-threaded wasm build is started by wasmThreads.ts.)
 *
 * Every kernel is checked against the cpu backend (or an independent reference) in test/wasm-kernels.test.ts.
 */
import * as tf from '@tensorflow/tfjs';

type TensorInfo = tf.TensorInfo;
type KernelFunc = tf.KernelFunc;
type KernelArgs = Parameters<KernelFunc>[0];
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/** The parts of the wasm backend these kernels use (it is not exported with types from the package root). */
interface WasmBackendLike {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number; shape: number[]; dtype: string } };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

const BACKEND = 'wasm';
let registered = false;
/** Original wasm kernels that the overrides fall back to. */
const originals = new Map<string, KernelFunc>();

function kernel(name: string): KernelFunc {
  const orig = originals.get(name);
  if (orig) return orig;
  const k = tf.getKernel(name, BACKEND);
  if (!k) throw new Error(`the wasm backend has no ${name} kernel`);
  return k.kernelFunc;
}

function run(name: string, backend: WasmBackendLike, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}): TensorInfo {
  return kernel(name)({ inputs, backend: backend as unknown as tf.KernelBackend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
}

function free(backend: WasmBackendLike, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** A tensor info with another shape over the same data (no copy, no new reference). */
function view(info: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

function heap(backend: WasmBackendLike): Float32Array {
  // re-read after every allocation: growing the wasm memory replaces the buffer
  return backend.wasm.HEAPF32;
}

function offsetOf(backend: WasmBackendLike, info: TensorInfo): number {
  return backend.dataIdMap.get(info.dataId).memoryOffset >>> 2;
}

function checkFloat(name: string, ...infos: TensorInfo[]): void {
  for (const info of infos) {
    if (info.dtype !== 'float32') throw new Error(`${name} on wasm supports float32 tensors only, got ${info.dtype}`);
  }
}

function checkChannelsLast(name: string, dataFormat: unknown): void {
  if (dataFormat != null && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`${name} on wasm supports dataFormat 'NHWC' only, got '${String(dataFormat)}'`);
  }
}

// -------------------------------------------------------------------------------------------------------------
// A few SIMD loops, assembled here as a small WebAssembly module that imports the wasm backend's own memory, so
// they work on tensors in place (no copies). Each loop is generated from the tiny emitter below; the module is
// validated before use and, where WebAssembly SIMD is unavailable, plain JavaScript loops are used instead.

/** Unsigned LEB128. */
function uleb(n: number, out: number[]): void {
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
}

/** Signed LEB128 (32-bit). */
function sleb(n: number, out: number[]): void {
  n |= 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

const I32 = 0x7f;
const V128 = 0x7b;

/** Function body builder: i32 parameters only, no results; helpers emit one instruction each. */
class Fn {
  readonly code: number[] = [];
  private readonly localTypes: number[] = [];
  constructor(readonly name: string, readonly params: number) {}

  local(type: number): number {
    this.localTypes.push(type);
    return this.params + this.localTypes.length - 1;
  }

  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  private simd(opcode: number): this {
    this.code.push(0xfd);
    uleb(opcode, this.code);
    return this;
  }
  private mem(align: number, offset: number): this {
    uleb(align, this.code);
    uleb(offset, this.code);
    return this;
  }

  get(i: number): this { this.op(0x20); uleb(i, this.code); return this; }
  set(i: number): this { this.op(0x21); uleb(i, this.code); return this; }
  tee(i: number): this { this.op(0x22); uleb(i, this.code); return this; }
  i32(v: number): this { this.op(0x41); sleb(v, this.code); return this; }
  add(): this { return this.op(0x6a); }
  sub(): this { return this.op(0x6b); }
  mul(): this { return this.op(0x6c); }
  geS(): this { return this.op(0x4e); }
  ltS(): this { return this.op(0x48); }
  gtS(): this { return this.op(0x4a); }
  select(): this { return this.op(0x1b); }
  f32load(offset = 0): this { return this.op(0x2a).mem(2, offset); }
  v128load(offset = 0): this { return this.simd(0x00).mem(2, offset); }
  v128store(offset = 0): this { return this.simd(0x0b).mem(2, offset); }
  v128zero(): this { this.simd(0x0c); for (let i = 0; i < 16; i++) this.code.push(0); return this; }
  f32x4splatConst(v: number): this {
    this.simd(0x0c);
    const b = new Uint8Array(new Float32Array([v, v, v, v]).buffer);
    this.code.push(...b);
    return this;
  }
  i32x4splat(): this { return this.simd(0x11); }
  f32x4splat(): this { return this.simd(0x13); }
  i32x4eq(): this { return this.simd(0x37); }
  f32x4gt(): this { return this.simd(0x44); }
  v128and(): this { return this.simd(0x4e); }
  v128andnot(): this { return this.simd(0x4f); }
  v128or(): this { return this.simd(0x50); }
  bitselect(): this { return this.simd(0x52); }
  f32x4add(): this { return this.simd(0xe4); }
  f32x4mul(): this { return this.simd(0xe6); }

  /** local[i] += local[j] */
  inc(i: number, j: number): this { return this.get(i).get(j).add().set(i); }
  /** local[i] += constant */
  incC(i: number, c: number): this { return this.get(i).i32(c).add().set(i); }

  /** for (local[i] = from; local[i] < local[end]; local[i] += step) body(); `from` is a local or a constant. */
  loop(i: number, from: { local: number } | number, end: number, body: () => void, step = 1): this {
    if (typeof from === 'number') this.i32(from);
    else this.get(from.local);
    this.set(i);
    this.op(0x02, 0x40); // block
    this.op(0x03, 0x40); // loop
    this.get(i).get(end).geS().op(0x0d, 1); // br_if 1: leave when i >= end
    body();
    this.incC(i, step);
    this.op(0x0c, 0); // br 0
    this.op(0x0b, 0x0b); // end loop, end block
    return this;
  }

  bytes(): number[] {
    const body: number[] = [];
    // locals, run-length encoded by type
    const groups: [number, number][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(groups.length, body);
    for (const [n, t] of groups) {
      uleb(n, body);
      body.push(t);
    }
    body.push(...this.code, 0x0b);
    const out: number[] = [];
    uleb(body.length, out);
    return out.concat(body);
  }
}

function section(id: number, content: number[]): number[] {
  const out = [id];
  uleb(content.length, out);
  return out.concat(content);
}

function vec(items: number[][]): number[] {
  const out: number[] = [];
  uleb(items.length, out);
  for (const it of items) out.push(...it);
  return out;
}

function str(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  const out: number[] = [];
  uleb(b.length, out);
  return out.concat(b);
}

/**
 * A module importing `env.memory` and exporting the given functions. The import must match the backend's memory:
 * a plain one (any size), or the shared memory of the multi-threaded build (declared with the largest maximum).
 */
function assemble(fns: Fn[], shared: boolean): Uint8Array<ArrayBuffer> {
  const paramCounts = [...new Set(fns.map((f) => f.params))];
  const types = section(1, vec(paramCounts.map((n) => [0x60, ...vec(Array.from({ length: n }, () => [I32])), 0])));
  const limits = shared ? [0x03, 0x00, 0x80, 0x80, 0x04] : [0x00, 0x00]; // shared: min 0, max 65536 pages
  const imports = section(2, vec([[...str('env'), ...str('memory'), 0x02, ...limits]]));
  const funcs = section(3, vec(fns.map((f) => { const o: number[] = []; uleb(paramCounts.indexOf(f.params), o); return o; })));
  const exports = section(7, vec(fns.map((f, i) => { const o = [...str(f.name), 0x00]; uleb(i, o); return o; })));
  const code = section(10, vec(fns.map((f) => f.bytes())));
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imports, ...funcs, ...exports, ...code]);
}

/** Widest accumulator block of the outer-product loop (vectors of 4 floats). */
const OUTER_MAX_VECTORS = 8;

/**
 * outer<nv>(s, v, out, nb, ny, nx, sSB, sSR, sSC, vSB, vSR, vSC): over a 3-level grid of positions (strides in
 * bytes), out[0..4·nv) += Σ s[pos] · v[pos][0..4·nv): a scalar stream times a vector stream, nv·4 accumulators.
 */
function outerFn(nv: number): Fn {
  const f = new Fn(`outer${nv}`, 12);
  const [S, V, OUT, NB, NY, NX, SSB, SSR, SSC, VSB, VSR, VSC] = Array.from({ length: 12 }, (_, i) => i);
  const b = f.local(I32), y = f.local(I32), x = f.local(I32);
  const sB = f.local(I32), vB = f.local(I32), sR = f.local(I32), vR = f.local(I32), sp = f.local(I32), vp = f.local(I32);
  const sv = f.local(V128);
  const acc = Array.from({ length: nv }, () => f.local(V128));
  for (const a of acc) f.v128zero().set(a);
  f.get(S).set(sB).get(V).set(vB);
  f.loop(b, 0, NB, () => {
    f.get(sB).set(sR).get(vB).set(vR);
    f.loop(y, 0, NY, () => {
      f.get(sR).set(sp).get(vR).set(vp);
      f.loop(x, 0, NX, () => {
        f.get(sp).f32load().f32x4splat().set(sv);
        acc.forEach((a, u) => f.get(a).get(sv).get(vp).v128load(16 * u).f32x4mul().f32x4add().set(a));
        f.inc(sp, SSC).inc(vp, VSC);
      });
      f.inc(sR, SSR).inc(vR, VSR);
    });
    f.inc(sB, SSB).inc(vB, VSB);
  });
  acc.forEach((a, u) => f.get(OUT).get(OUT).v128load(16 * u).get(a).f32x4add().v128store(16 * u));
  return f;
}

/**
 * maxPoolGrad(x, dy, dx, B, H, W, C, OH, OW, FH, FW, SH, SW, pt, pl): dx (zeroed by the caller) += dy routed to
 * the first maximum of every window, four channels at a time (C a multiple of 4).
 */
function maxPoolGradFn(): Fn {
  const f = new Fn('maxPoolGrad', 15);
  const [X, DY, DX, B, H, W, C, OH, OW, FH, FW, SH, SW, PT, PL] = Array.from({ length: 15 }, (_, i) => i);
  const b = f.local(I32), oy = f.local(I32), ox = f.local(I32), c = f.local(I32), y = f.local(I32), xx = f.local(I32);
  const yLo = f.local(I32), yHi = f.local(I32), xLo = f.local(I32), xHi = f.local(I32), k = f.local(I32);
  const rowBytes = f.local(I32), pix = f.local(I32), cBytes = f.local(I32), gp = f.local(I32), p = f.local(I32), t = f.local(I32);
  const best = f.local(V128), idx = f.local(V128), v = f.local(V128), g = f.local(V128), gt = f.local(V128);
  // pixel stride (C·4 bytes) and row stride (W·C·4)
  f.get(C).i32(4).mul().set(pix);
  f.get(W).get(pix).mul().set(rowBytes);
  f.get(DY).set(gp);
  /** address of x/dx pixel (b, y, xx) + channel offset c, as an offset from the tensor start */
  const pixelOffset = () => f.get(b).get(H).mul().get(y).add().get(rowBytes).mul().get(xx).get(pix).mul().add().get(c).add();
  f.loop(b, 0, B, () => {
    f.loop(oy, 0, OH, () => {
      // yLo = max(0, oy·SH − pt), yHi = min(H, oy·SH − pt + FH)
      f.get(oy).get(SH).mul().get(PT).sub().set(t);
      f.get(t).i32(0).get(t).i32(0).gtS().select().set(yLo);
      f.get(t).get(FH).add().set(t);
      f.get(t).get(H).get(t).get(H).ltS().select().set(yHi);
      f.loop(ox, 0, OW, () => {
        f.get(ox).get(SW).mul().get(PL).sub().set(t);
        f.get(t).i32(0).get(t).i32(0).gtS().select().set(xLo);
        f.get(t).get(FW).add().set(t);
        f.get(t).get(W).get(t).get(W).ltS().select().set(xHi);
        f.get(C).i32(4).mul().set(cBytes);
        f.loop(c, 0, cBytes, () => {
          f.f32x4splatConst(-Infinity).set(best);
          f.i32(-1).i32x4splat().set(idx);
          f.i32(0).set(k);
          f.loop(y, { local: yLo }, yHi, () => {
            f.loop(xx, { local: xLo }, xHi, () => {
              f.get(X);
              pixelOffset();
              f.add().v128load().set(v);
              f.get(v).get(best).f32x4gt().set(gt);
              f.get(v).get(best).get(gt).bitselect().set(best);
              f.get(k).i32x4splat().get(idx).get(gt).bitselect().set(idx);
              f.incC(k, 1);
            });
          });
          f.get(gp).v128load().set(g);
          f.i32(0).set(k);
          f.loop(y, { local: yLo }, yHi, () => {
            f.loop(xx, { local: xLo }, xHi, () => {
              f.get(DX);
              pixelOffset();
              f.add().set(p);
              f.get(p).get(p).v128load().get(g).get(idx).get(k).i32x4splat().i32x4eq().v128and().f32x4add().v128store();
              f.incC(k, 1);
            });
          });
          f.incC(gp, 16);
        }, 16);
      });
    });
  });
  return f;
}

/**
 * maxPool2x2Grad(x, dy, dx, B, OH, OW, C): the common 2×2, stride 2, unpadded pooling whose windows tile the
 * input exactly (H = 2·OH, W = 2·OW): every dx element is written once (no zeroing, no accumulation).
 */
function maxPool2x2GradFn(): Fn {
  const f = new Fn('maxPool2x2Grad', 7);
  const [X, DY, DX, B, OH, OW, C] = Array.from({ length: 7 }, (_, i) => i);
  const row = f.local(I32), ox = f.local(I32), c = f.local(I32);
  const pix = f.local(I32), rowBytes = f.local(I32), rows = f.local(I32), xp = f.local(I32), gp = f.local(I32);
  const delta = f.local(I32), p = f.local(I32), q = f.local(I32);
  const a0 = f.local(V128), a1 = f.local(V128), a2 = f.local(V128), a3 = f.local(V128), best = f.local(V128), g = f.local(V128);
  const g0 = f.local(V128), g1 = f.local(V128), g2 = f.local(V128), g3 = f.local(V128), any = f.local(V128);
  f.get(C).i32(4).mul().set(pix);
  f.get(OW).i32(2).mul().get(pix).mul().set(rowBytes); // one input row: W·C·4 bytes
  f.get(B).get(OH).mul().set(rows); // (b, oy) pairs: image rows of windows
  f.get(DX).get(X).sub().set(delta);
  f.get(X).set(xp);
  f.get(DY).set(gp);
  f.loop(row, 0, rows, () => {
    // xp: first input row of this row of windows
    f.loop(ox, 0, OW, () => {
      f.get(xp).set(p);
      f.loop(c, 0, pix, () => {
        f.get(p).set(q);
        f.get(q).v128load().set(a0);
        f.get(q).get(pix).add().v128load().set(a1);
        f.get(q).get(rowBytes).add().v128load().set(a2);
        f.get(q).get(rowBytes).add().get(pix).add().v128load().set(a3);
        // first strict maximum from −∞, in window order 0..3 (same rule as the cpu backend)
        f.get(a0).f32x4splatConst(-Infinity).f32x4gt().set(g0);
        f.get(a0).f32x4splatConst(-Infinity).get(g0).bitselect().set(best);
        f.get(a1).get(best).f32x4gt().set(g1);
        f.get(a1).get(best).get(g1).bitselect().set(best);
        f.get(a2).get(best).f32x4gt().set(g2);
        f.get(a2).get(best).get(g2).bitselect().set(best);
        f.get(a3).get(best).f32x4gt().set(g3);
        f.get(gp).v128load().set(g);
        // winners: 3 if g3; 2 if g2 & !g3; 1 if g1 & !(g2|g3); 0 if g0 & !(g1|g2|g3)
        f.get(q).get(delta).add().get(rowBytes).add().get(pix).add().get(g).get(g3).v128and().v128store();
        f.get(g3).set(any);
        f.get(q).get(delta).add().get(rowBytes).add().get(g).get(g2).get(any).v128andnot().v128and().v128store();
        f.get(any).get(g2).v128or().set(any);
        f.get(q).get(delta).add().get(pix).add().get(g).get(g1).get(any).v128andnot().v128and().v128store();
        f.get(any).get(g1).v128or().set(any);
        f.get(q).get(delta).add().get(g).get(g0).get(any).v128andnot().v128and().v128store();
        f.incC(p, 16).incC(gp, 16);
      }, 16);
      f.get(xp).get(pix).i32(2).mul().add().set(xp);
    });
    // skip the second input row of the windows just done
    f.inc(xp, rowBytes);
  });
  return f;
}

/**
 * The loop nest shared by nearest-neighbour up-sampling by integer factors and its gradient, C a multiple of 4:
 * for every pixel of the small image (b, y, x) and every one of its fy×fx copies, `step` runs once per 4
 * channels with `p` at the small pixel's channels and `s` at the large image's next 4 channels (the large image
 * is walked in order). Parameters: (large, small, B, H, W, C, fy, fx) where `large` is parameter `largeParam` and
 * `small` the other of the first two.
 */
function upsampleLoopFn(name: string, largeParam: 0 | 1, step: (f: Fn, p: number, s: number) => void): Fn {
  const f = new Fn(name, 8);
  const [B, H, W, C, FY, FX] = [2, 3, 4, 5, 6, 7];
  const LARGE = largeParam;
  const SMALL = 1 - largeParam;
  const b = f.local(I32), yo = f.local(I32), a = f.local(I32), xo = f.local(I32), cx = f.local(I32), c = f.local(I32);
  const s = f.local(I32), rowStart = f.local(I32), px = f.local(I32), p = f.local(I32), cBytes = f.local(I32);
  f.get(C).i32(4).mul().set(cBytes);
  f.get(LARGE).set(s);
  f.get(SMALL).set(rowStart);
  f.loop(b, 0, B, () => {
    f.loop(yo, 0, H, () => {
      f.loop(a, 0, FY, () => {
        f.get(rowStart).set(px);
        f.loop(xo, 0, W, () => {
          f.loop(cx, 0, FX, () => {
            f.get(px).set(p);
            f.loop(c, 0, cBytes, () => {
              step(f, p, s);
              f.incC(p, 16).incC(s, 16);
            }, 16);
          });
          f.inc(px, cBytes);
        });
      });
      f.get(rowStart).get(W).get(cBytes).mul().add().set(rowStart);
    });
  });
  return f;
}

/**
 * upGrad(dy, dx, B, H, W, C, fy, fx): dx[b,y,x,:] (zeroed by the caller) += Σ of the fy×fx block of dy
 * (nearest-neighbour up-sampling by integer factors), C a multiple of 4.
 */
function upGradFn(): Fn {
  return upsampleLoopFn('upGrad', 0, (f, p, gp) => f.get(p).get(p).v128load().get(gp).v128load().f32x4add().v128store());
}

/**
 * upFwd(x, out, B, H, W, C, fy, fx): nearest-neighbour up-sampling by integer factors,
 * out[b, y, x, :] = x[b, ⌊y/fy⌋, ⌊x/fx⌋, :], C a multiple of 4.
 */
function upFwdFn(): Fn {
  return upsampleLoopFn('upFwd', 1, (f, p, op) => f.get(op).get(p).v128load().v128store());
}

/** sumRows(x, out, rows, C): out[0..C) = Σ_r x[r, 0..C) (float32, C a multiple of 4); the caller blocks the rows. */
function sumRowsFn(): Fn {
  const f = new Fn('sumRows', 4);
  const [X, OUT, R, C] = [0, 1, 2, 3];
  const r = f.local(I32), c = f.local(I32), cBytes = f.local(I32), xp = f.local(I32), op = f.local(I32);
  f.get(C).i32(4).mul().set(cBytes);
  f.loop(c, 0, cBytes, () => {
    f.get(OUT).get(c).add().v128zero().v128store();
  }, 16);
  f.get(X).set(xp);
  f.loop(r, 0, R, () => {
    f.get(OUT).set(op);
    f.loop(c, 0, cBytes, () => {
      f.get(op).get(op).v128load().get(xp).v128load().f32x4add().v128store();
      f.incC(op, 16).incC(xp, 16);
    }, 16);
  });
  return f;
}

type Kernel = (...args: number[]) => void;

interface SimdKernels {
  outer: Kernel[]; // index nv (1..OUTER_MAX_VECTORS)
  maxPoolGrad: Kernel;
  maxPool2x2Grad: Kernel;
  upGrad: Kernel;
  upFwd: Kernel;
  sumRows: Kernel;
}

let simdDisabled = false;
const simdByMemory = new WeakMap<WebAssembly.Memory, SimdKernels | null>();

/** Turns the SIMD loops off (tests compare both paths); the JavaScript fallbacks are used instead. */
export function setWasmSimdKernelsEnabled(enabled: boolean): void {
  simdDisabled = !enabled;
}

function backendMemory(backend: WasmBackendLike): WebAssembly.Memory | null {
  const asm = (backend.wasm as unknown as { asm?: Record<string, unknown>; wasmMemory?: unknown }).asm;
  const direct = (backend.wasm as unknown as { wasmMemory?: unknown }).wasmMemory;
  if (direct instanceof WebAssembly.Memory) return direct;
  if (asm) {
    for (const v of Object.values(asm)) if (v instanceof WebAssembly.Memory) return v;
  }
  return null;
}

/** The module bytes of the generator above (kept only to compare the WAT build with it; issue 12). */
export function legacySimdModuleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  return assemble(
    [...Array.from({ length: OUTER_MAX_VECTORS }, (_, i) => outerFn(i + 1)), maxPoolGradFn(), maxPool2x2GradFn(), upGradFn(), upFwdFn(), sumRowsFn()],
    shared,
  );
}

const compiled = new Map<boolean, WebAssembly.Module | null>();

function simdModule(shared: boolean): WebAssembly.Module | null {
  if (compiled.has(shared)) return compiled.get(shared) ?? null;
  let mod: WebAssembly.Module | null = null;
  try {
    const bytes = assemble(
      [...Array.from({ length: OUTER_MAX_VECTORS }, (_, i) => outerFn(i + 1)), maxPoolGradFn(), maxPool2x2GradFn(), upGradFn(), upFwdFn(), sumRowsFn()],
      shared,
    );
    mod = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    mod = null;
  }
  compiled.set(shared, mod);
  return mod;
}

function simd(backend: WasmBackendLike): SimdKernels | null {
  if (simdDisabled) return null;
  const memory = backendMemory(backend);
  if (!memory) return null;
  if (simdByMemory.has(memory)) return simdByMemory.get(memory) ?? null;
  let kernels: SimdKernels | null = null;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const mod = simdModule(shared);
  let e: Record<string, Kernel> | null = null;
  try {
    if (mod) e = new WebAssembly.Instance(mod, { env: { memory } }).exports as Record<string, Kernel>;
  } catch {
    e = null; // an incompatible memory: the JavaScript loops are used
  }
  if (e) {
    kernels = {
      outer: [() => {}, ...Array.from({ length: OUTER_MAX_VECTORS }, (_, i) => e[`outer${i + 1}`])],
      maxPoolGrad: e.maxPoolGrad,
      maxPool2x2Grad: e.maxPool2x2Grad,
      upGrad: e.upGrad,
      upFwd: e.upFwd,
      sumRows: e.sumRows,
    };
  }
  simdByMemory.set(memory, kernels);
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
  return backend != null && simd(backend) != null;
}

// -------------------------------------------------------------------------------------------------------------
// Conv2DBackpropFilter

/** Attributes common to Conv2DBackpropFilter and Conv2DBackpropInput. */
interface ConvBackpropAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

interface BackpropFilterAttrs extends ConvBackpropAttrs {
  filterShape: [number, number, number, number];
}

export type FilterGradMethod = 'auto' | 'x-input' | 'dy-input' | 'im2col' | 'outer';

let forcedFilterMethod: FilterGradMethod = 'auto';

/** Forces one formulation of the filter gradient (tests and benchmarks); 'auto' picks by shape. */
export function setFilterGradMethod(method: FilterGradMethod): void {
  forcedFilterMethod = method;
}

function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as BackpropFilterAttrs;
  checkFloat('Conv2DBackpropFilter', x, dy);
  checkChannelsLast('Conv2DBackpropFilter', attrs.dataFormat);
  if (x.shape.length !== 4 || dy.shape.length !== 4) {
    throw new Error(`Conv2DBackpropFilter on wasm needs rank-4 x and dy, got shapes [${x.shape}] and [${dy.shape}]`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
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

  let method = forcedFilterMethod;
  const stride1 = SH === 1 && SW === 1;
  const kernels = simd(backend);
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

  if (method === 'outer') {
    return filterGradOuter(backend, kernels as SimdKernels, x, dy, { B, H, W, Ci, OH, OW, Co, FH, FW, SH, SW, pt, pl, pb, pr });
  }
  if (method === 'im2col') return filterGradIm2col(backend, x, dy, { B, H, W, Ci, OH, OW, Co, FH, FW, pt, pl });

  if (method === 'dy-input') {
    // out[co, a, b, ci] = Σ dyPadded[co, a+h, b+w, n] · x[h, w, n, ci], with dy padded by (FH−1−pt) on top: a = FH−1−i
    const dyT = run('Transpose', backend, { x: dy }, { perm: [3, 1, 2, 0] }); // [Co, OH, OW, B]
    const xT = run('Transpose', backend, { x }, { perm: [1, 2, 0, 3] }); // [H, W, B, Ci]
    const qt = FH - 1 - pt;
    const ql = FW - 1 - pl;
    // output height = OH + qt + qbot − H + 1 must be FH
    const qbot = FH - 1 - OH + H - qt;
    const qright = FW - 1 - OW + W - ql;
    if (qt < 0 || ql < 0 || qbot < 0 || qright < 0) {
      free(backend, dyT, xT);
      return filterGradXInput(backend, x, dy, { B, H, W, Ci, OH, OW, Co, FH, FW, SH, SW, pt, pl, pb, pr });
    }
    const r = run('Conv2D', backend, { x: dyT, filter: xT }, {
      strides: 1,
      pad: [[0, 0], [qt, qbot], [ql, qright], [0, 0]],
      dataFormat: 'NHWC',
      dilations: 1,
    }); // [Co, FH, FW, Ci], flipped
    free(backend, dyT, xT);
    const rev = run('Reverse', backend, { x: r }, { dims: [1, 2] });
    free(backend, r);
    const out = run('Transpose', backend, { x: rev }, { perm: [1, 2, 3, 0] }); // [FH, FW, Ci, Co]
    free(backend, rev);
    return out;
  }
  return filterGradXInput(backend, x, dy, { B, H, W, Ci, OH, OW, Co, FH, FW, SH, SW, pt, pl, pb, pr });
}

interface FilterDims {
  B: number; H: number; W: number; Ci: number; OH: number; OW: number; Co: number; FH: number; FW: number;
  SH: number; SW: number; pt: number; pl: number; pb: number; pr: number;
}

/** conv(xᵀ[Ci,H,W,B], dyᵀ[OH,OW,B,Co], dilation = stride) = dW as [Ci, FH, FW, Co]. */
function filterGradXInput(backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, d: FilterDims): TensorInfo {
  const { H, W, Ci, OH, OW, Co, FH, FW, SH, SW, pt, pl } = d;
  const xT = run('Transpose', backend, { x }, { perm: [3, 1, 2, 0] }); // [Ci, H, W, B]
  const dyT = run('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, B, Co]
  // output rows a = 0..FH−1 need input rows up to a + (OH−1)·SH − pt ≤ H − 1 + pbot
  const pbot = Math.max(0, FH - 1 + (OH - 1) * SH - pt - (H - 1));
  const pright = Math.max(0, FW - 1 + (OW - 1) * SW - pl - (W - 1));
  let r = run('Conv2D', backend, { x: xT, filter: dyT }, {
    strides: 1,
    pad: [[0, 0], [pt, pbot], [pl, pright], [0, 0]],
    dataFormat: 'NHWC',
    dilations: [SH, SW],
  }); // [Ci, ≥FH, ≥FW, Co]
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
  const xB = H * W * Ci * 4, xR = W * Ci * 4, xC = Ci * 4;
  const dB = OH * OW * Co * 4, dR = OW * Co * 4, dC = Co * 4;
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

// -------------------------------------------------------------------------------------------------------------
// Conv2D / FusedConv2D with one or two output channels

/**
 * XNNPACK computes a convolution with a single output channel at a fraction of its speed (its GEMM tiles are
 * 8 columns wide, so 7/8 of the work is wasted). Instead: Z = X[B·H·W, Ci] · F[Ci, FH·FW·Co] (one GEMM, FH·FW
 * times wider), then out[b,y,x,co] = Σ_taps Z[b, y·s+i−pt, x·s+j−pl, (i,j,co)] (+ bias, activation).
 */
function narrowConv2d(args: KernelArgs, fused: boolean): TensorInfo | null {
  const backend = args.backend as WasmBackendLike;
  const { x, filter, bias, preluActivationWeights } = args.inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
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
  const z = run('BatchMatMul', backend, { a: view(x, [1, B * H * W, Ci]), b: view(f, [1, Ci, T]) }, { transposeA: false, transposeB: false });
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

function conv2d(args: KernelArgs): TensorInfo {
  return narrowConv2d(args, false) ?? (kernel('Conv2D')(args) as TensorInfo);
}

function fusedConv2d(args: KernelArgs): TensorInfo {
  return narrowConv2d(args, true) ?? (kernel('FusedConv2D')(args) as TensorInfo);
}

// -------------------------------------------------------------------------------------------------------------
// Conv2DBackpropInput (stride 1 as a convolution)

interface BackpropInputAttrs extends ConvBackpropAttrs {
  inputShape: [number, number, number, number];
}

function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as BackpropInputAttrs;
  checkChannelsLast('Conv2DBackpropInput', attrs.dataFormat);
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32' || dy.shape.length !== 4) return kernel('Conv2DBackpropInput')(args as KernelArgs) as TensorInfo;
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
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
  const out = run('Conv2D', backend, { x: dy, filter: f }, {
    strides: 1,
    pad: [[0, 0], [qt, qb], [ql, qr], [0, 0]],
    dataFormat: 'NHWC',
    dilations: 1,
  });
  free(backend, f);
  return out;
}

// -------------------------------------------------------------------------------------------------------------
// MaxPoolGrad

function maxPoolGrad(args: KernelArgs): TensorInfo {
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
  const kernels = simd(backend);
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

// -------------------------------------------------------------------------------------------------------------
// ResizeNearestNeighborGrad

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
  dy: Float32Array, dyOff: number, dx: Float32Array, dxOff: number,
  B: number, H: number, W: number, C: number, OH: number, OW: number, rows: Int32Array, cols: Int32Array,
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

function resizeNearestNeighborGrad(args: KernelArgs): TensorInfo {
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
  const kernels = simd(backend);
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
function resizeNearestNeighbor(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { images } = args.inputs as { images: TensorInfo };
  const { alignCorners = false, halfPixelCenters = false, size } = args.attrs as unknown as {
    alignCorners?: boolean;
    halfPixelCenters?: boolean;
    size: [number, number];
  };
  const kernels = simd(backend);
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
function cpuResizeNearestNeighborGrad(args: KernelArgs): TensorInfo {
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
  if (out.length > 0) resizeNearestAdjoint(dyValues, 0, out, 0, B, H, W, C, OH, OW, nearestSources(H, OH, alignCorners, halfPixelCenters), nearestSources(W, OW, alignCorners, halfPixelCenters));
  return backend.makeTensorInfo(images.shape, 'float32', out);
}

let cpuFixed = false;
const cpuOriginals = new Map<string, KernelFunc>();

/**
 * Replaces the cpu backend's ResizeNearestNeighborGrad with a correct one (see {@link cpuResizeNearestNeighborGrad});
 * idempotent. Training an autoencoder calls it, whatever the backend.
 */
export function registerCpuTrainingKernelFixes(): void {
  if (cpuFixed) return;
  const existing = tf.getKernel('ResizeNearestNeighborGrad', 'cpu');
  if (existing) {
    cpuOriginals.set('ResizeNearestNeighborGrad', existing.kernelFunc);
    tf.unregisterKernel('ResizeNearestNeighborGrad', 'cpu');
  }
  tf.registerKernel({ kernelName: 'ResizeNearestNeighborGrad', backendName: 'cpu', kernelFunc: cpuResizeNearestNeighborGrad as KernelFunc });
  cpuFixed = true;
}

/** The original (buggy) cpu kernel is kept here only so that tests can demonstrate the bug. */
export function originalCpuKernel(name: string): KernelFunc | undefined {
  return cpuOriginals.get(name);
}

// -------------------------------------------------------------------------------------------------------------
// Sum over leading axes

const SUM_BLOCK_ROWS = 64;

function sum(args: KernelArgs): TensorInfo {
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
  const kernels = simd(backend);
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

// -------------------------------------------------------------------------------------------------------------
// Identity

/**
 * tfjs clones every tensor that a gradient will need (engine.clone → Identity), and the wasm Identity copies the
 * data (~3.5 ms per training step here). Tensors are immutable, so, as the cpu backend does, the clone shares
 * the data and only takes a reference.
 */
function identity(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  if (x.dtype === 'string') return kernel('Identity')(args) as TensorInfo;
  (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

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

/**
 * Registers the training kernels above for the 'wasm' backend (idempotent). Call it before the wasm backend
 * trains a convolutional model; it may be called before or after the backend is initialised.
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
    tf.registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc: fn, setupFunc: existing?.setupFunc, disposeFunc: existing?.disposeFunc });
  }
  registered = true;
}

/** Whether {@link registerWasmTrainingKernels} has run. */
export function wasmTrainingKernelsRegistered(): boolean {
  return registered;
}
