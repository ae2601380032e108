/**
 * WGSL kernels of the fused step for Dense layers and for the losses on a linear output (see kernels.ts for the
 * shared conventions: the `step` uniform at binding 0, grid-stride loops, tree sums). Rows are flat: activations
 * [rows, size], kernels [inSize, outSize] as in tfjs.
 */
import type { DenseLayer } from './network';
import { gridLoop, LOSS_GROUPS, STEP_UNIFORM, TREE_SUM, WORKGROUP } from './kernels';

/** out = act(in · W + b); the output layer keeps its pre-activation (the losses take it). One thread per output. */
export function denseForwardKernel(l: DenseLayer, applyActivation: boolean): string {
  const act = !applyActivation || l.act === 'linear' ? 'z' : l.act === 'relu' ? 'max(z, 0.0)' : '1.0 / (1.0 + exp(-z))';
  return /* wgsl */ `${STEP_UNIFORM}
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> params: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${gridLoop(
  `step.rows * ${l.outSize}u`,
  `    let j = i % ${l.outSize}u;
    let row = (i / ${l.outSize}u) * ${l.inSize}u;
    var s = 0.0;
    for (var k = 0u; k < ${l.inSize}u; k++) { s += inp[row + k] * params[${l.kernelOffset}u + k * ${l.outSize}u + j]; }
    let z = s + params[${l.biasOffset}u + j];
    out[i] = ${act};`,
)}`;
}

/** dZ = dA · act'(A) for a hidden Dense layer (relu: A > 0; sigmoid: A(1 − A); linear: 1). */
export function denseActGradKernel(l: DenseLayer): string {
  const d = l.act === 'relu' ? 'select(0.0, g, a > 0.0)' : l.act === 'sigmoid' ? 'g * a * (1.0 - a)' : 'g';
  return /* wgsl */ `${STEP_UNIFORM}
@group(0) @binding(1) var<storage, read> act: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;
${gridLoop(
  `step.rows * ${l.outSize}u`,
  `    let a = act[i];
    let g = grad[i];
    dz[i] = ${d};`,
)}`;
}

/** Kernel gradient inᵀ · dZ (one thread per weight, summing over the batch), then the bias gradient Σ dZ. */
export function denseWeightGradKernel(l: DenseLayer): string {
  const kernelSize = l.inSize * l.outSize;
  return /* wgsl */ `${STEP_UNIFORM}
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> dz: array<f32>;
@group(0) @binding(3) var<storage, read_write> grads: array<f32>;
${gridLoop(
  `${kernelSize + l.outSize}u`,
  `    var s = 0.0;
    if (i < ${kernelSize}u) {
      let k = i / ${l.outSize}u;
      let j = i % ${l.outSize}u;
      for (var b = 0u; b < step.rows; b++) { s += inp[b * ${l.inSize}u + k] * dz[b * ${l.outSize}u + j]; }
    } else {
      let j = i - ${kernelSize}u;
      for (var b = 0u; b < step.rows; b++) { s += dz[b * ${l.outSize}u + j]; }
    }
    grads[${l.kernelOffset}u + i] = s;`,
)}`;
}

/** Input gradient dZ · Wᵀ: one thread per input value. */
export function denseInputGradKernel(l: DenseLayer): string {
  return /* wgsl */ `${STEP_UNIFORM}
@group(0) @binding(1) var<storage, read> dz: array<f32>;
@group(0) @binding(2) var<storage, read> params: array<f32>;
@group(0) @binding(3) var<storage, read_write> dIn: array<f32>;
${gridLoop(
  `step.rows * ${l.inSize}u`,
  `    let k = i % ${l.inSize}u;
    let row = (i / ${l.inSize}u) * ${l.outSize}u;
    let w0 = ${l.kernelOffset}u + k * ${l.outSize}u;
    var s = 0.0;
    for (var j = 0u; j < ${l.outSize}u; j++) { s += dz[row + j] * params[w0 + j]; }
    dIn[i] = s;`,
)}`;
}

/**
 * The loss on the output's pre-activation z and its gradient dL/dz, as tfjs's autodiff of the dense AE's loss
 * gives it: 'mse' mean((z − t)²), dz = 2(z − t)/N; 'bce-logits' mean(max(z, 0) − z·t + log(1 + e^−|z|)),
 * dz = (step(z) − t − sign(z)·e^−|z| / (1 + e^−|z|)) / N. Partial sums per workgroup, as bceLossGradKernel.
 */
export function linearOutputLossKernel(size: number, loss: 'mse' | 'bce-logits'): string {
  const body =
    loss === 'mse'
      ? `    let d = z - t;
    s += d * d;
    dz[i] = d * (2.0 / n);`
      : `    let e = exp(-abs(z));
    s += max(z, 0.0) - z * t + log(1.0 + e);
    dz[i] = (select(0.0, 1.0, z > 0.0) - t - sign(z) * e / (1.0 + e)) / n;`;
  return /* wgsl */ `${STEP_UNIFORM}
@group(0) @binding(1) var<storage, read> image: array<f32>;
@group(0) @binding(2) var<storage, read> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;
${TREE_SUM}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3u) {
  let total = step.rows * ${size}u;
  let n = f32(total);
  var s = 0.0;
  for (var i = gid.x; i < total; i += ${LOSS_GROUPS * WORKGROUP}u) {
    let t = image[i];
    let z = out[i];
${body}
  }
  let sum = treeSum(lid, s);
  if (lid == 0u) { partials[wg.x] = sum; }
}`;
}
