/// <reference types="@webgpu/types" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countGpuWork } from '../../bench/gpu-counters';
import { initBackend, probeBackends, shutdownBackends, tf } from '../../src-main/engine/backend/index';
import { fusedAutoencoderTrainer, fusedTrainingEnabled } from '../../src-main/engine/backend/webgpuTraining/index';
import { planNetwork, type ConvLayer, type Network, type PoolLayer } from '../../src-main/engine/backend/webgpuTraining/network';
import { FusedStep } from '../../src-main/engine/backend/webgpuTraining/recorder';
import { networkOf, readWeights } from '../../src-main/engine/backend/webgpuTraining/tfjs-model';
import { binaryCrossEntropy, buildConvAutoencoder, trainConvAutoencoder } from '../../src-main/engine/models/conv-autoencoder';
import { affineAugmenter, type BatchAugmenter } from '../../src-main/engine/models/augment';
import { buildDenseAutoencoder, denseReconstructionLoss, trainDenseAutoencoder } from '../../src-main/engine/models/dense-autoencoder';
import { Rng } from '../../src-main/engine/math/rng';
import { registerCpuTrainingKernelFixes } from '../../src-main/engine/backend/wasm-kernels';
import { recordSkip } from '../helpers/prereqs';

// The fused WebGPU training step (src-main/engine/backend/webgpuTraining) against tfjs's cpu and wasm backends, on
// whatever adapter Dawn finds (Mesa's llvmpipe on GPU-less machines: slow, so tiny images and batches).

afterAll(() => shutdownBackends());

/** The layers of a convolutional network (the tests' own networks have no Dense layer). */
function imageLayers(net: Network): (ConvLayer | PoolLayer)[] {
  return net.layers.map((l) => {
    if (l.kind === 'dense') throw new Error('a Dense layer in a convolutional network');
    return l;
  });
}

function randoms(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.random());
}

/** max |a − e| ≤ rel · max |e| (a scale-relative bound: values near zero are held to the tensor's scale). */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  expect(scale, `${what}: an all-zero reference tests nothing`).toBeGreaterThan(0);
  expect(worst / scale, `${what}: max error ${worst} at scale ${scale}`).toBeLessThanOrEqual(rel);
}

describe('fused WebGPU training: network plan (no device)', () => {
  beforeAll(async () => void (await initBackend('cpu')));

  it('plans the conv AE with 32 dispatches worth of layers, and names what it cannot fuse', () => {
    const net = networkOf(buildConvAutoencoder(1).autoencoder);
    if (typeof net === 'string') throw new Error(net);
    expect(net.paramCount).toBe(12_785);
    expect(imageLayers(net).map((l) => (l.kind === 'conv' ? `${l.name}${l.up ? '^' : ''}:${l.outH}` : `pool:${l.outH}`))).toEqual([
      'enc_conv1:28',
      'pool:14',
      'enc_conv2:14',
      'pool:7',
      'enc_conv3:7',
      'pool:4',
      'dec_conv1:4',
      'dec_conv2^:8',
      'dec_conv3^:14',
      'dec_out^:28',
    ]);
    const dense = networkOf(buildDenseAutoencoder({ inputSize: 16, layers: [8], codeSize: 2 }, 1).autoencoder);
    expect(typeof dense !== 'string' && dense.layers.map((l) => l.kind === 'dense' && `${l.inSize}→${l.outSize} ${l.act}`)).toEqual([
      '16→8 relu',
      '8→2 linear',
      '2→8 relu',
      '8→16 linear',
    ]);
    const fiveByFive = tf.sequential({ layers: [tf.layers.conv2d({ filters: 1, kernelSize: 5, padding: 'same', inputShape: [8, 8, 1] })] });
    expect(networkOf(fiveByFive)).toMatch(/not a 3×3 stride-1 convolution$/);
    expect(() => planNetwork({ height: 4, width: 4, channels: 1 }, [{ kind: 'pool', padding: 'valid' }])).toThrow(
      'a max-pool must follow a convolution',
    );
    expect(fusedTrainingEnabled({ CLUSTERBENCH_WEBGPU_FUSED: '0' })).toBe(false);
    expect(fusedTrainingEnabled({})).toBe(true);
  });
});

describe('fused WebGPU training on the device', () => {
  let device: GPUDevice | undefined;
  let skipReason = '';

  beforeAll(async () => {
    const gpu = (await probeBackends()).find((b) => b.name === 'webgpu')!;
    if (!gpu.available) {
      skipReason = recordSkip(`no WebGPU adapter for the fused training tests (${gpu.reason})`);
      return;
    }
    await initBackend('webgpu');
    device = (tf.backend() as unknown as { device: GPUDevice }).device;
    // references on the cpu backend (with its up-sampling gradient fixed); the webgpu device stays alive
    await initBackend('cpu');
    registerCpuTrainingKernelFixes();
  });

  /**
   * A small chain with every layer kind: conv 'same' → pool 'valid' → conv → pool 'same' over an odd size → conv
   * → up → conv → up → conv 'valid' → conv (relu straight into a conv) → sigmoid conv. Random biases.
   */
  function tinyModel(): tf.LayersModel {
    const conv = (filters: number, activation: 'relu' | 'sigmoid', padding: 'same' | 'valid', seed: number, input?: number[]) =>
      tf.layers.conv2d({
        filters,
        kernelSize: 3,
        activation,
        padding,
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
        biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: seed + 100 }),
        ...(input ? { inputShape: input } : {}),
      });
    return tf.sequential({
      layers: [
        conv(4, 'relu', 'same', 1, [6, 6, 2]),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        conv(3, 'relu', 'same', 2),
        tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
        conv(2, 'relu', 'same', 3),
        tf.layers.upSampling2d({ size: [2, 2] }),
        conv(3, 'relu', 'same', 4),
        tf.layers.upSampling2d({ size: [2, 2] }),
        conv(3, 'relu', 'valid', 5),
        conv(2, 'relu', 'same', 6),
        conv(2, 'sigmoid', 'same', 7),
      ],
    });
  }

  // what tfjs-layers' UpSampling2D runs
  const up2 = (x: tf.Tensor4D): tf.Tensor4D => tf.image.resizeNearestNeighbor(x, [2 * x.shape[1], 2 * x.shape[2]]);

  it('computes every kernel as the cpu backend does: conv, pool, up-sampling, relu, loss, their gradients, Adam', async (ctx) => {
    if (!device) return ctx.skip(skipReason);
    const model = tinyModel();
    const plan = networkOf(model);
    if (typeof plan === 'string') throw new Error(plan);
    const net = { ...plan, layers: imageLayers(plan) };
    const rows = 3;
    const lr = 0.01;
    const step = await FusedStep.create(device, net, 4, lr);
    try {
      const weights = await readWeights(model, net);
      step.writeParams(weights);
      step.resetLossSum();
      const batch = randoms(rows * 72, 5);
      step.step(batch, rows);

      const shapeOf = (l: ConvLayer | PoolLayer, n = rows): [number, number, number, number] => [
        n,
        l.outH,
        l.outW,
        l.kind === 'conv' ? l.cout : l.c,
      ];
      const read = async (name: string, shape: [number, number, number, number]) =>
        tf.tensor4d(
          await step.read(
            name,
            shape.reduce((a, b) => a * b),
          ),
          shape,
        );
      const x = tf.tensor4d(batch, [rows, 6, 6, 2]);
      const acts = await Promise.all(net.layers.map((l, i) => read(`act${i}`, shapeOf(l))));
      const grads = await step.read('grads', net.paramCount);
      const inputOf = (i: number): tf.Tensor4D => (i === 0 ? x : acts[i - 1]);
      const w = (l: ConvLayer) =>
        [
          tf.tensor4d(weights.subarray(l.kernelOffset, l.biasOffset), [3, 3, l.cin, l.cout]),
          tf.tensor1d(weights.subarray(l.biasOffset, l.biasOffset + l.cout)),
        ] as const;
      const convOf = (l: ConvLayer, input: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D) =>
        tf.add(tf.conv2d(l.up ? up2(input) : input, kernel, 1, l.pad ? 'same' : 'valid'), bias) as tf.Tensor4D;

      for (const [i, l] of net.layers.entries()) {
        const what = `layer ${i} (${l.kind === 'conv' ? l.name : 'pool'})`;
        if (l.kind === 'pool') {
          const ref = tf.maxPool(acts[i - 1], 2, 2, l.outH * 2 > l.inH ? 'same' : 'valid');
          expectClose(await acts[i].data(), await ref.data(), 1e-6, `${what} forward`);
          continue;
        }
        const [kernel, bias] = w(l);
        const z = convOf(l, inputOf(i), kernel, bias);
        const ref = l.act === 'relu' ? tf.relu(z) : tf.sigmoid(z);
        expectClose(await acts[i].data(), await ref.data(), 1e-5, `${what} forward`);

        // dZ: from the loss (output), or the next layer's input gradient through relu and a pool
        const dz = await read(`dz${i}`, shapeOf(l));
        if (i === net.layers.length - 1) {
          const p = acts[i];
          const dp = tf.grad((q: tf.Tensor) => binaryCrossEntropy(x, q))(p);
          expectClose(await dz.data(), await tf.mul(dp, tf.mul(p, tf.sub(1, p))).data(), 1e-5, `${what} loss gradient`);
          const lossSum = await step.lossSum();
          expect(lossSum / rows).toBeCloseTo((await binaryCrossEntropy(x, p).data())[0], 6);
        } else {
          const pool = net.layers[i + 1].kind === 'pool';
          const g = await read(`dIn${pool ? i + 2 : i + 1}`, shapeOf(net.layers[pool ? i + 1 : i]));
          const padding = pool && net.layers[i + 1].outH * 2 > l.outH ? 'same' : 'valid';
          const route = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pool ? tf.maxPool(a as tf.Tensor4D, 2, 2, padding) : a, g)))(acts[i]);
          const ref = tf.mul(route, tf.step(acts[i]));
          expectClose(await dz.data(), await ref.data(), 1e-5, `${what} relu${pool ? ' + pool' : ''} gradient`);
        }
        // dW, db and dX (through the up-sampling) of sum(conv(x) · dZ)
        const [dX, dW, db] = tf.grads((xx: tf.Tensor, kk: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(tf.mul(convOf(l, xx as tf.Tensor4D, kk as tf.Tensor4D, bb as tf.Tensor1D), dz)),
        )([inputOf(i), kernel, bias]);
        expectClose(grads.subarray(l.kernelOffset, l.biasOffset), await dW.data(), 1e-5, `${what} weight gradient`);
        expectClose(grads.subarray(l.biasOffset, l.biasOffset + l.cout), await db.data(), 1e-5, `${what} bias gradient`);
        if (i > 0) expectClose(await step.read(`dIn${i}`, dX.size), await dX.data(), 1e-5, `${what} input gradient`);
      }

      // Adam: tfjs's optimizer applied to the device's gradients
      const vars = net.layers.filter((l): l is ConvLayer => l.kind === 'conv').flatMap((l) => w(l).map((t) => tf.variable(t)));
      const gradTensors = net.layers
        .filter((l): l is ConvLayer => l.kind === 'conv')
        .flatMap((l) => [
          tf.tensor(grads.subarray(l.kernelOffset, l.biasOffset)),
          tf.tensor(grads.subarray(l.biasOffset, l.biasOffset + l.cout)),
        ]);
      const adam = tf.train.adam(lr, 0.9, 0.999, 1e-7);
      adam.applyGradients(vars.map((v, k) => ({ name: v.name, tensor: tf.reshape(gradTensors[k], v.shape) })));
      const expected = Float32Array.from((await Promise.all(vars.map((v) => v.data()))).flatMap((d) => Array.from(d)));
      expectClose(await step.readParams(), expected, 1e-6, 'Adam update');
      adam.dispose();
    } finally {
      step.dispose();
      model.dispose();
    }
  });

  it('takes the same two training steps as optimizer.minimize on the cpu backend, in one submit and 32 dispatches each', async (ctx) => {
    if (!device) return ctx.skip(skipReason);
    const { autoencoder: ae } = buildConvAutoencoder(3);
    const net = networkOf(ae);
    if (typeof net === 'string') throw new Error(net);
    const rows = 2;
    const lr = 1e-3;
    const step = await FusedStep.create(device, net, rows, lr);
    const adam = tf.train.adam(lr, 0.9, 0.999, 1e-7);
    try {
      const before = await readWeights(ae, net);
      step.writeParams(before);
      step.resetLossSum();
      const vars = ae.trainableWeights.map((w) => w.read() as tf.Variable);
      let cpuLossSum = 0;
      for (const seed of [11, 12]) {
        const batch = randoms(rows * 784, seed);
        const counter = countGpuWork(device);
        step.step(batch, rows);
        const counts = counter.stop();
        expect(counts).toMatchObject({
          dispatches: step.dispatchesPerStep,
          submits: 1,
          readbacks: 0,
          bufferCreations: 0,
          bindGroupCreations: 0,
          pipelineCreations: 0,
        });
        const x = tf.tensor4d(batch, [rows, 28, 28, 1]);
        const cost = adam.minimize(() => binaryCrossEntropy(x, ae.apply(x, { training: true }) as tf.Tensor), true, vars)!;
        cpuLossSum += (await cost.data())[0] * rows;
        tf.dispose([x, cost]);
      }
      expect(step.dispatchesPerStep).toBe(32);
      const lossSum = await step.lossSum();
      expect(Math.abs(lossSum - cpuLossSum) / cpuLossSum).toBeLessThan(1e-4);
      // the updates (after − before) of every weight, to the scale of the largest update
      const after = await step.readParams();
      const cpuAfter = await readWeights(ae, net);
      const delta = after.map((w, i) => w - before[i]);
      const cpuDelta = cpuAfter.map((w, i) => w - before[i]);
      expectClose(delta, cpuDelta, 1e-3, 'weight updates of two steps');
      expectClose(after, cpuAfter, 1e-5, 'weights after two steps');
    } finally {
      adam.dispose();
      step.dispose();
      ae.dispose();
    }
  });

  it('trains one epoch to the loss and validation loss the wasm backend reaches, through the app’s training loop', async (ctx) => {
    if (!device) return ctx.skip(skipReason);
    const n = 40;
    const images = { images: randoms(n * 784, 21), labels: new Uint8Array(n), count: n, height: 28, width: 28 };
    const params = { epochs: 1, batchSize: 8, learningRate: 1e-3, valSplit: 0.2, patience: null, seed: 4 };
    await initBackend('wasm');
    const onWasm = buildConvAutoencoder(5);
    const initial = await Promise.all(onWasm.autoencoder.getWeights().map((w) => w.data()));
    const shapes = onWasm.autoencoder.getWeights().map((w) => w.shape);
    const wasm = await trainConvAutoencoder(onWasm, images, params);
    onWasm.autoencoder.dispose();

    await initBackend('webgpu');
    const onGpu = buildConvAutoencoder(5);
    onGpu.autoencoder.setWeights(initial.map((d, i) => tf.tensor(d, shapes[i])));
    const batches: number[] = [];
    const counter = countGpuWork(device);
    let gpu;
    try {
      gpu = await trainConvAutoencoder(onGpu, images, params, { onBatch: (e) => batches.push(e.batch) });
    } finally {
      const counts = counter.stop();
      // the fused path ran: one Adam dispatch per batch (tfjs's Adam has no pipeline labelled 'adam')
      expect(counts.byProgram.adam).toBe(4);
      onGpu.autoencoder.dispose();
      await initBackend('cpu');
    }
    expect(batches).toEqual([1, 2, 3, 4]);
    const [w] = wasm.losses;
    const [g] = gpu.losses;
    expect(Math.abs(g.trainLoss - w.trainLoss) / w.trainLoss).toBeLessThan(1e-3);
    expect(Math.abs(g.valLoss! - w.valLoss!) / w.valLoss!).toBeLessThan(1e-3);
  });

  it('is used only on webgpu, and not under CLUSTERBENCH_WEBGPU_FUSED=0', async (ctx) => {
    if (!device) return ctx.skip(skipReason);
    const { autoencoder: ae } = buildConvAutoencoder(1);
    const rows = () => new Float32Array(784);
    const saved = process.env.CLUSTERBENCH_WEBGPU_FUSED;
    try {
      expect(await fusedAutoencoderTrainer(ae, rows, 4, 1e-3)).toBeNull(); // the cpu backend
      await initBackend('webgpu');
      process.env.CLUSTERBENCH_WEBGPU_FUSED = '0';
      expect(await fusedAutoencoderTrainer(ae, rows, 4, 1e-3)).toBeNull();
      delete process.env.CLUSTERBENCH_WEBGPU_FUSED;
      const fused = await fusedAutoencoderTrainer(ae, rows, 4, 1e-3);
      expect(fused?.dispatchesPerStep).toBe(32);
      fused?.dispose();
    } finally {
      if (saved === undefined) delete process.env.CLUSTERBENCH_WEBGPU_FUSED;
      else process.env.CLUSTERBENCH_WEBGPU_FUSED = saved;
      ae.dispose();
      await initBackend('cpu');
    }
  });

  it.for(['mse', 'bce'] as const)(
    'computes the dense autoencoder’s loss (%s), gradients and Adam step as the cpu backend does',
    async (loss, ctx) => {
      if (!device) return ctx.skip(skipReason);
      const model = buildDenseAutoencoder({ inputSize: 12, layers: [8], codeSize: 3, loss }, 2);
      const net = networkOf(model.autoencoder, loss === 'bce' ? 'bce-logits' : 'mse');
      if (typeof net === 'string') throw new Error(net);
      const rows = 3;
      const lr = 0.01;
      const step = await FusedStep.create(device, net, 4, lr);
      const adam = tf.train.adam(lr, 0.9, 0.999, 1e-7);
      try {
        // 4 forward, 2 loss, 4 weight, 3 activation and 3 input gradients, 1 Adam
        expect(step.dispatchesPerStep).toBe(17);
        step.writeParams(await readWeights(model.autoencoder, net));
        step.resetLossSum();
        const batch = randoms(rows * 12, 8);
        step.step(batch, rows);
        const x = tf.tensor2d(batch, [rows, 12]);
        const vars = model.autoencoder.trainableWeights.map((w) => w.read() as tf.Variable);
        const { value, grads } = tf.variableGrads(() => denseReconstructionLoss(model, x), vars);
        expect((await step.lossSum()) / rows).toBeCloseTo((await value.data())[0], 6);
        const expected = (await Promise.all(vars.map((v) => grads[v.name].data()))).flatMap((d) => Array.from(d));
        expectClose(await step.read('grads', net.paramCount), expected, 1e-5, 'dense gradients');
        adam.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name] })));
        expectClose(await step.readParams(), await readWeights(model.autoencoder, net), 1e-6, 'dense Adam update');
      } finally {
        adam.dispose();
        step.dispose();
        model.autoencoder.dispose();
      }
    },
  );

  /** One epoch of a small dense autoencoder from the same weights on wasm and on the fused path: their losses. */
  async function denseOnBoth(augment?: () => BatchAugmenter) {
    const rows = 40;
    const data = { data: randoms(rows * 64, 31), rows, cols: 64 };
    const config = { inputSize: 64, layers: [32, 16], codeSize: 4 };
    const params = { epochs: 1, batchSize: 8, learningRate: 1e-3, valSplit: 0.2, patience: null, seed: 6 };
    await initBackend('wasm');
    const onWasm = buildDenseAutoencoder(config, 9);
    const initial = await Promise.all(onWasm.autoencoder.getWeights().map((w) => w.data()));
    const shapes = onWasm.autoencoder.getWeights().map((w) => w.shape);
    const wasm = await trainDenseAutoencoder(onWasm, data, params, { augment: augment?.() });
    onWasm.autoencoder.dispose();

    await initBackend('webgpu');
    const onGpu = buildDenseAutoencoder(config, 9);
    onGpu.autoencoder.setWeights(initial.map((d, i) => tf.tensor(d, shapes[i])));
    const counter = countGpuWork(device!);
    let gpu;
    try {
      gpu = await trainDenseAutoencoder(onGpu, data, params, { augment: augment?.() });
    } finally {
      expect(counter.stop().byProgram.adam).toBe(4); // the fused path ran, one step per batch
      onGpu.autoencoder.dispose();
      await initBackend('cpu');
    }
    return { wasm: wasm.losses[0], gpu: gpu.losses[0] };
  }

  it('trains the dense autoencoder one epoch to the losses the wasm backend reaches', async (ctx) => {
    if (!device) return ctx.skip(skipReason);
    const { wasm: w, gpu: g } = await denseOnBoth();
    expect(Math.abs(g.trainLoss - w.trainLoss) / w.trainLoss).toBeLessThan(1e-3);
    expect(Math.abs(g.valLoss! - w.valLoss!) / w.valLoss!).toBeLessThan(1e-3);
  });

  it('trains on the same augmented batches as the wasm backend (n2d-aug)', async (ctx) => {
    if (!device) return ctx.skip(skipReason);
    const plain = await denseOnBoth();
    // the 64 values of a row as an 8 × 8 image, rotated and shifted by the same seeded stream on both paths
    const { wasm: w, gpu: g } = await denseOnBoth(() => affineAugmenter({ rotation: 10, shift: 0.1 }, 5, 8, 8));
    expect(Math.abs(g.trainLoss - w.trainLoss) / w.trainLoss).toBeLessThan(1e-3);
    expect(Math.abs(w.trainLoss - plain.wasm.trainLoss) / plain.wasm.trainLoss).toBeGreaterThan(1e-2);
  });

  it('keeps the trainer’s early stopping and cancellation on the fused path', async (ctx) => {
    if (!device) return ctx.skip(skipReason);
    const rows = 40;
    const data = { data: randoms(rows * 64, 41), rows, cols: 64 };
    const config = { inputSize: 64, layers: [32], codeSize: 4 };
    await initBackend('webgpu');
    try {
      // a large learning rate makes the validation loss jump about (here: it rises in epoch 6, and training stops);
      // the weights at the end must be those of the best epoch, restored from the trainer's copy
      const model = buildDenseAutoencoder(config, 3);
      const perEpoch: { valLoss: number; weights: tf.Tensor[] }[] = [];
      const params = { epochs: 6, batchSize: 8, learningRate: 0.5, valSplit: 0.25, patience: 1, seed: 2 };
      const counter = countGpuWork(device);
      const result = await trainDenseAutoencoder(model, data, params, {
        // (webgpu tensors read asynchronously: copies now, values below)
        onEpoch: (e) => perEpoch.push({ valLoss: e.valLoss!, weights: model.autoencoder.getWeights().map((w) => tf.clone(w)) }),
      });
      expect(counter.stop().byProgram.adam).toBe(4 * perEpoch.length); // 30 training rows: 4 fused steps an epoch
      const best = perEpoch.reduce((b, e, i) => (e.valLoss < perEpoch[b].valLoss ? i : b), 0);
      expect(result.stoppedEarly).toBe(true);
      expect(best).toBeLessThan(perEpoch.length - 1);
      const expected = perEpoch[best];
      const values = (ts: tf.Tensor[]) => Promise.all(ts.map(async (t) => Array.from(await t.data())));
      expect(await values(model.autoencoder.getWeights())).toEqual(await values(expected.weights));
      tf.dispose(perEpoch.flatMap((e) => e.weights));
      model.autoencoder.dispose();

      const aborting = buildDenseAutoencoder(config, 3);
      const abort = new AbortController();
      const run = trainDenseAutoencoder(
        aborting,
        data,
        { ...params, patience: null },
        { onBatch: (e) => e.batch === 2 && abort.abort(), signal: abort.signal },
      );
      await expect(run).rejects.toMatchObject({ name: 'AbortError' });
      aborting.autoencoder.dispose();
    } finally {
      await initBackend('cpu');
    }
  });
});
