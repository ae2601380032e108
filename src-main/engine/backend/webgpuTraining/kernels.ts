/**
 * WGSL compute kernels of the fused training step, one generator per job. Each layer gets its own pipelines with
 * its shapes and weight offsets baked in as constants (so no per-layer uniforms to bind or write); the only value
 * that changes between steps — the batch's row count, and Adam's bias corrections — lives in one small uniform,
 * `step`, written once per step.
 *
 * Element-wise kernels loop with a grid stride over `rows × size` elements, so any batch size fits the dispatch
 * limit. Reductions (weight gradients, the loss) run one 256-thread workgroup per output value and add in a tree,
 * never with atomics: results do not depend on scheduling.
 *
 * The arithmetic follows tfjs's kernels operation by operation where rounding could matter (Adam, the clipped
 * binary cross-entropy, the sigmoid), so that a step matches `optimizer.minimize` to float32 rounding.
 */
import type { ConvLayer, PoolLayer } from './network';

export const WORKGROUP = 256;
/** Workgroups of the loss kernel (each writes one partial sum). */
export const LOSS_GROUPS = 64;

/** The per-step uniform: rows in the batch, the learning rate, and Adam's 1 − β^t for both moments. */
export const STEP_UNIFORM = /* wgsl */ `
struct Step { rows: u32, lr: f32, corr1: f32, corr2: f32 }
@group(0) @binding(0) var<uniform> step: Step;
`;

/** `for (i in rows × perRow)` with a grid stride: the body sees `i`. */
export function gridLoop(total: string, body: string): string {
  return /* wgsl */ `
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let total = ${total};
  for (var i = gid.x; i < total; i += groups.x * ${WORKGROUP}u) {
${body}
  }
}`;
}

/** A workgroup-wide sum of `partial` into `sums[0]` (all threads call it). */
export const TREE_SUM = /* wgsl */ `
var<workgroup> sums: array<f32, ${WORKGROUP}>;
fn treeSum(lid: u32, partial: f32) -> f32 {
  sums[lid] = partial;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { sums[lid] += sums[lid + s]; }
    workgroupBarrier();
  }
  return sums[0];
}`;

/** Reads the layer's input at up-sampled coordinates (Y, X) of image b, zero outside (the 'same' padding). */
function convInputReader(l: ConvLayer): string {
  const shift = l.up ? 1 : 0;
  return /* wgsl */ `
fn inputAt(b: u32, Y: i32, X: i32, ci: u32) -> f32 {
  if (Y < 0 || X < 0 || Y >= ${l.up ? 2 * l.inH : l.inH} || X >= ${l.up ? 2 * l.inW : l.inW}) { return 0.0; }
  return inp[((b * ${l.inH}u + u32(Y >> ${shift}u)) * ${l.inW}u + u32(X >> ${shift}u)) * ${l.cin}u + ci];
}`;
}

/** out = act(conv3×3(up?(in)) + bias): one thread per output value. */
export function convForwardKernel(l: ConvLayer): string {
  const act = l.act === 'relu' ? 'max(z, 0.0)' : '1.0 / (1.0 + exp(-z))';
  return /* wgsl */ `${STEP_UNIFORM}
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> params: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${gridLoop(
  `step.rows * ${l.outH * l.outW * l.cout}u`,
  `    let co = i % ${l.cout}u;
    let x = i32((i / ${l.cout}u) % ${l.outW}u);
    let y = i32((i / ${l.cout * l.outW}u) % ${l.outH}u);
    let b = i / ${l.cout * l.outW * l.outH}u;
    var s = 0.0;
    for (var kh = 0; kh < 3; kh++) {
      let Y = y + kh - ${l.pad};
      if (Y < 0 || Y >= ${l.up ? 2 * l.inH : l.inH}) { continue; }
      for (var kw = 0; kw < 3; kw++) {
        let X = x + kw - ${l.pad};
        if (X < 0 || X >= ${l.up ? 2 * l.inW : l.inW}) { continue; }
        let i0 = ((b * ${l.inH}u + u32(Y >> ${l.up ? 1 : 0}u)) * ${l.inW}u + u32(X >> ${l.up ? 1 : 0}u)) * ${l.cin}u;
        let w0 = ${l.kernelOffset}u + u32(kh * 3 + kw) * ${l.cin * l.cout}u + co;
        for (var ci = 0u; ci < ${l.cin}u; ci++) { s += inp[i0 + ci] * params[w0 + ci * ${l.cout}u]; }
      }
    }
    let z = s + params[${l.biasOffset}u + co];
    out[i] = ${act};`,
)}`;
}

/**
 * dZ = dA · relu'(A) for a hidden convolution, where dA is the gradient of its output A — or, when a max-pool
 * follows (`pool`), the pooled gradient routed to the first maximum of each window (tfjs's choice on ties).
 */
export function reluGradKernel(l: ConvLayer, pool: PoolLayer | undefined): string {
  const size = l.outH * l.outW * l.cout;
  const routed = pool
    ? `    let c = i % ${l.cout}u;
    let x = (i / ${l.cout}u) % ${l.outW}u;
    let y = (i / ${l.cout * l.outW}u) % ${l.outH}u;
    let b = i / ${size}u;
    let py = y / 2u;
    let px = x / 2u;
    var g = 0.0;
    if (py < ${pool.outH}u && px < ${pool.outW}u) {
      var best = -3.4e38;
      var at = 0u;
      for (var yy = 2u * py; yy < min(2u * py + 2u, ${l.outH}u); yy++) {
        for (var xx = 2u * px; xx < min(2u * px + 2u, ${l.outW}u); xx++) {
          let j = ((b * ${l.outH}u + yy) * ${l.outW}u + xx) * ${l.cout}u + c;
          if (act[j] > best) { best = act[j]; at = j; }
        }
      }
      if (at == i) { g = grad[((b * ${pool.outH}u + py) * ${pool.outW}u + px) * ${l.cout}u + c]; }
    }`
    : `    let g = grad[i];`;
  return /* wgsl */ `${STEP_UNIFORM}
@group(0) @binding(1) var<storage, read> act: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;
${gridLoop(
  `step.rows * ${size}u`,
  `${routed}
    dz[i] = select(0.0, g, act[i] > 0.0);`,
)}`;
}

/**
 * Weight and bias gradients: one workgroup per kernel weight [kh, kw, ci, co] (then one per bias), summing
 * input × dZ over every output position of the batch.
 */
export function convWeightGradKernel(l: ConvLayer): string {
  const kernelSize = 9 * l.cin * l.cout;
  const positions = l.outH * l.outW;
  return /* wgsl */ `${STEP_UNIFORM}
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> dz: array<f32>;
@group(0) @binding(3) var<storage, read_write> grads: array<f32>;
${convInputReader(l)}
${TREE_SUM}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = wg.x;
  let total = step.rows * ${positions}u;
  var s = 0.0;
  if (w < ${kernelSize}u) {
    let co = w % ${l.cout}u;
    let ci = (w / ${l.cout}u) % ${l.cin}u;
    let kw = i32((w / ${l.cout * l.cin}u) % 3u);
    let kh = i32(w / ${l.cout * l.cin * 3}u);
    for (var p = lid; p < total; p += ${WORKGROUP}u) {
      let x = i32(p % ${l.outW}u);
      let y = i32((p / ${l.outW}u) % ${l.outH}u);
      let b = p / ${positions}u;
      s += inputAt(b, y + kh - ${l.pad}, x + kw - ${l.pad}, ci) * dz[p * ${l.cout}u + co];
    }
  } else {
    let co = w - ${kernelSize}u;
    for (var p = lid; p < total; p += ${WORKGROUP}u) { s += dz[p * ${l.cout}u + co]; }
  }
  let sum = treeSum(lid, s);
  if (lid == 0u) { grads[${l.kernelOffset}u + w] = sum; }
}`;
}

/** Workgroups of {@link convWeightGradKernel}. */
export const weightGradGroups = (l: ConvLayer): number => 9 * l.cin * l.cout + l.cout;

/**
 * Input gradient: dIn[b, y, x, ci] = Σ dZ[b, Y − kh + pad, X − kw + pad, co] · W[kh, kw, ci, co], summed over the
 * 2×2 up-sampled positions (Y, X) that copy (y, x) when the input was up-sampled.
 */
export function convInputGradKernel(l: ConvLayer): string {
  const size = l.inH * l.inW * l.cin;
  const sub = l.up ? 2 : 1;
  return /* wgsl */ `${STEP_UNIFORM}
@group(0) @binding(1) var<storage, read> dz: array<f32>;
@group(0) @binding(2) var<storage, read> params: array<f32>;
@group(0) @binding(3) var<storage, read_write> dIn: array<f32>;
${gridLoop(
  `step.rows * ${size}u`,
  `    let ci = i % ${l.cin}u;
    let x = i32((i / ${l.cin}u) % ${l.inW}u);
    let y = i32((i / ${l.cin * l.inW}u) % ${l.inH}u);
    let b = i / ${size}u;
    var s = 0.0;
    for (var sy = 0; sy < ${sub}; sy++) {
      for (var sx = 0; sx < ${sub}; sx++) {
        for (var kh = 0; kh < 3; kh++) {
          let oy = y * ${sub} + sy - kh + ${l.pad};
          if (oy < 0 || oy >= ${l.outH}) { continue; }
          for (var kw = 0; kw < 3; kw++) {
            let ox = x * ${sub} + sx - kw + ${l.pad};
            if (ox < 0 || ox >= ${l.outW}) { continue; }
            let d0 = ((b * ${l.outH}u + u32(oy)) * ${l.outW}u + u32(ox)) * ${l.cout}u;
            let w0 = ${l.kernelOffset}u + (u32(kh * 3 + kw) * ${l.cin}u + ci) * ${l.cout}u;
            for (var co = 0u; co < ${l.cout}u; co++) { s += dz[d0 + co] * params[w0 + co]; }
          }
        }
      }
    }
    dIn[i] = s;`,
)}`;
}

/** 2×2 max-pool with stride 2; a 'same' pool's last window, past an odd edge, covers the pixels that exist. */
export function maxPoolKernel(p: PoolLayer): string {
  return /* wgsl */ `${STEP_UNIFORM}
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${gridLoop(
  `step.rows * ${p.outH * p.outW * p.c}u`,
  `    let c = i % ${p.c}u;
    let x = (i / ${p.c}u) % ${p.outW}u;
    let y = (i / ${p.c * p.outW}u) % ${p.outH}u;
    let b = i / ${p.c * p.outW * p.outH}u;
    var m = -3.4e38;
    for (var yy = 2u * y; yy < min(2u * y + 2u, ${p.inH}u); yy++) {
      for (var xx = 2u * x; xx < min(2u * x + 2u, ${p.inW}u); xx++) {
        m = max(m, inp[((b * ${p.inH}u + yy) * ${p.inW}u + xx) * ${p.c}u + c]);
      }
    }
    out[i] = m;`,
)}`;
}

/**
 * Binary cross-entropy of the sigmoid output against the input image, Keras-style (probabilities clipped to
 * [1e-7, 1 − 1e-7], mean over all values; the partial sums are of −[t·log p + (1−t)·log(1−p)]), and its gradient with respect to the sigmoid's input:
 * dz = dL/dp · [p inside the clip] · p(1 − p), as tfjs's autodiff chains it. Each workgroup writes the partial sum
 * of its losses; (p − p) keeps a NaN output visible in the loss, as the tfjs loss does.
 */
export function bceLossGradKernel(size: number): string {
  return /* wgsl */ `${STEP_UNIFORM}
@group(0) @binding(1) var<storage, read> image: array<f32>;
@group(0) @binding(2) var<storage, read> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;
${TREE_SUM}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3u) {
  let total = step.rows * ${size}u;
  let scale = -1.0 / f32(total);
  var s = 0.0;
  for (var i = gid.x; i < total; i += ${LOSS_GROUPS * WORKGROUP}u) {
    let t = image[i];
    let p = out[i];
    let pc = clamp(p, 1e-7, 0.9999999) + (p - p);
    s -= t * log(pc) + (1.0 - t) * log(1.0 - pc);
    let dp = scale * (t / pc - (1.0 - t) / (1.0 - pc));
    let inside = p >= 1e-7 && p <= 0.9999999;
    dz[i] = select(0.0, dp, inside) * p * (1.0 - p);
  }
  let sum = treeSum(lid, s);
  if (lid == 0u) { partials[wg.x] = sum; }
}`;
}

/** Adds the batch's mean loss × rows to the epoch's sum (read once per epoch), from the loss kernel's partials. */
export function lossAccumulateKernel(size: number): string {
  return /* wgsl */ `${STEP_UNIFORM}
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> epochSum: array<f32>;
${TREE_SUM}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) lid: u32) {
  var partial = 0.0;
  if (lid < ${LOSS_GROUPS}u) { partial = partials[lid]; }
  let sum = treeSum(lid, partial);
  if (lid == 0u) {
    let mean = sum / f32(step.rows * ${size}u);
    epochSum[0] += mean * f32(step.rows);
  }
}`;
}

/**
 * Adam over the whole flat weight buffer, as tfjs's AdamOptimizer computes it: m ← β1·m + (1−β1)·g,
 * v ← β2·v + (1−β2)·g², w ← w + (m / (1−β1^t)) / (√(v / (1−β2^t)) + ε) · (−lr); m and v interleaved in one buffer.
 */
export function adamKernel(paramCount: number, epsilon: number): string {
  return /* wgsl */ `${STEP_UNIFORM}
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read> grads: array<f32>;
@group(0) @binding(3) var<storage, read_write> moments: array<vec2f>;
${gridLoop(
  `${paramCount}u`,
  `    let g = grads[i];
    let mv = moments[i];
    let m = mv.x * 0.9 + g * 0.1;
    let v = mv.y * 0.999 + (g * g) * 0.001;
    moments[i] = vec2f(m, v);
    params[i] = (m / step.corr1) / (sqrt(v / step.corr2) + ${epsilon.toExponential()}) * (-step.lr) + params[i];`,
)}`;
}
