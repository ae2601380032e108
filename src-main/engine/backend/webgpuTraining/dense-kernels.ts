/**
 * WGSL kernels of the fused step for Dense layers and for the losses on a linear output (see kernels.ts for the
 * shared conventions: the `step` uniform at binding 0, grid-stride loops, tree sums). Rows are flat: activations
 * [rows, size], kernels [inSize, outSize] as in tfjs.
 */
import type { DenseLayer } from './network';
import { gridLoop, LOSS_GROUPS, STEP_UNIFORM, TREE_SUM, WORKGROUP } from './kernels';

/** Side of the square tiles the Dense kernels multiply through workgroup memory. */
export const TILE = 16;

/** Workgroups of a tiled product with an m × n result. */
export const matmulGroups = (m: number, n: number): number => Math.ceil(m / TILE) * Math.ceil(n / TILE);

interface Product {
  /** WGSL u32 expressions: rows and columns of the result, and the length of the sums (they may use step.rows). */
  m: string;
  n: string;
  k: string;
  /** WGSL expressions of A[r, k] and B[k, c], read only inside the bounds. */
  a: (r: string, k: string) => string;
  b: (k: string, c: string) => string;
  /** WGSL statements storing `s`, the sum at (row, col). */
  store: string;
}

/**
 * C = A · B, one TILE × TILE block of C per workgroup (one value per thread): A's and B's tiles pass through
 * workgroup memory, so each value is read from the buffers once per tile rather than once per output.
 */
function tiledProduct(p: Product): string {
  return /* wgsl */ `
var<workgroup> tileA: array<f32, ${TILE * TILE}>;
var<workgroup> tileB: array<f32, ${TILE * TILE}>;
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let M = ${p.m};
  let N = ${p.n};
  let K = ${p.k};
  let tilesN = (N + ${TILE - 1}u) / ${TILE}u;
  let row = (wg.x / tilesN) * ${TILE}u + lid.y;
  let col = (wg.x % tilesN) * ${TILE}u + lid.x;
  var s = 0.0;
  for (var k0 = 0u; k0 < K; k0 += ${TILE}u) {
    let ka = k0 + lid.x;
    var av = 0.0;
    if (row < M && ka < K) { av = ${p.a('row', 'ka')}; }
    tileA[lid.y * ${TILE}u + lid.x] = av;
    let kb = k0 + lid.y;
    var bv = 0.0;
    if (kb < K && col < N) { bv = ${p.b('kb', 'col')}; }
    tileB[lid.y * ${TILE}u + lid.x] = bv;
    workgroupBarrier();
    for (var t = 0u; t < ${TILE}u; t++) { s += tileA[lid.y * ${TILE}u + t] * tileB[t * ${TILE}u + lid.x]; }
    workgroupBarrier();
  }
  if (row < M && col < N) {
${p.store}
  }
}`;
}

/** out = act(in · W + b); the output layer keeps its pre-activation (the losses take it). */
export function denseForwardKernel(l: DenseLayer, applyActivation: boolean): string {
  const act = !applyActivation || l.act === 'linear' ? 'z' : l.act === 'relu' ? 'max(z, 0.0)' : '1.0 / (1.0 + exp(-z))';
  return /* wgsl */ `${STEP_UNIFORM}
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> params: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${tiledProduct({
  m: 'step.rows',
  n: `${l.outSize}u`,
  k: `${l.inSize}u`,
  a: (r, k) => `inp[${r} * ${l.inSize}u + ${k}]`,
  b: (k, c) => `params[${l.kernelOffset}u + ${k} * ${l.outSize}u + ${c}]`,
  store: `    let z = s + params[${l.biasOffset}u + col];
    out[row * ${l.outSize}u + col] = ${act};`,
})}`;
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

/**
 * Kernel gradient inᵀ · dZ [inSize, outSize], and the bias gradient Σ dZ as one more row (a row of ones in inᵀ):
 * the bias follows the kernel in the flat buffer, so both land in place.
 */
export function denseWeightGradKernel(l: DenseLayer): string {
  return /* wgsl */ `${STEP_UNIFORM}
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> dz: array<f32>;
@group(0) @binding(3) var<storage, read_write> grads: array<f32>;
${tiledProduct({
  m: `${l.inSize + 1}u`,
  n: `${l.outSize}u`,
  k: 'step.rows',
  a: (r, b) => `select(1.0, inp[${b} * ${l.inSize}u + min(${r}, ${l.inSize - 1}u)], ${r} < ${l.inSize}u)`,
  b: (b, c) => `dz[${b} * ${l.outSize}u + ${c}]`,
  store: `    grads[${l.kernelOffset}u + row * ${l.outSize}u + col] = s;`,
})}`;
}

/** Input gradient dZ · Wᵀ [rows, inSize]. */
export function denseInputGradKernel(l: DenseLayer): string {
  return /* wgsl */ `${STEP_UNIFORM}
@group(0) @binding(1) var<storage, read> dz: array<f32>;
@group(0) @binding(2) var<storage, read> params: array<f32>;
@group(0) @binding(3) var<storage, read_write> dIn: array<f32>;
${tiledProduct({
  m: 'step.rows',
  n: `${l.inSize}u`,
  k: `${l.outSize}u`,
  a: (r, j) => `dz[${r} * ${l.outSize}u + ${j}]`,
  b: (j, c) => `params[${l.kernelOffset}u + ${c} * ${l.outSize}u + ${j}]`,
  store: `    dIn[row * ${l.inSize}u + col] = s;`,
})}`;
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
