import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from '../../src-main/engine/backend/wasm-kernels';
import { loadFashionMnist } from '../../src-main/engine/data/index';
import { buildConvAutoencoder, saveConvAutoencoder } from '../../src-main/engine/models/conv-autoencoder';
import {
  MAX_DENSE_PARAMS,
  N2D_AE_CONFIG,
  buildDenseAutoencoder,
  denseArchitecture,
  denseArchitectureId,
  denseParamCount,
  denseReconstructionLoss,
  encodeDense,
  evaluateDenseLoss,
  loadDenseAutoencoder,
  parseDenseArchitectureId,
  reconstructDense,
  saveDenseAutoencoder,
  trainDenseAutoencoder,
  type AutoencoderTrainParams,
} from '../../src-main/engine/models/dense-autoencoder';
import { Rng } from '../../src-main/engine/math/rng';
import type { Images, Matrix } from '../../src-main/engine/types';

let real: Matrix;
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'cb-dense-'));
  dirs.push(d);
  return d;
};
const rows = (m: Matrix, from: number, count: number): Matrix => ({
  data: m.data.subarray(from * m.cols, (from + count) * m.cols),
  rows: count,
  cols: m.cols,
});
const params = (p: Partial<AutoencoderTrainParams>): AutoencoderTrainParams => ({
  epochs: 2,
  batchSize: 64,
  learningRate: 1e-3,
  valSplit: 0,
  patience: null,
  seed: 0,
  ...p,
});
const small = { layers: [64, 32], codeSize: 4 };

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
  await tf.ready();
  const { train } = await loadFashionMnist({ trainLimit: 768, testLimit: 0 });
  real = { data: train.images, rows: train.count, cols: 784 };
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('buildDenseAutoencoder', () => {
  it("has N2D's architecture by default: 784-500-500-2000-10, mirrored decoder, 3,330,794 parameters", async () => {
    const m = buildDenseAutoencoder();
    expect(m.config).toEqual({ inputSize: 784, layers: [500, 500, 2000], codeSize: 10, loss: 'mse' });
    expect(m.autoencoder.countParams()).toBe(3_330_794);
    expect(denseParamCount(N2D_AE_CONFIG)).toBe(3_330_794);
    // encoder: 784·500+500 + 500·500+500 + 500·2000+2000 + 2000·10+10
    expect(m.encoder.countParams()).toBe(392_500 + 250_500 + 1_002_000 + 20_010);
    expect(m.architecture).toBe('dense-ae-v1:784-500-500-2000-10:mse');
    expect(m.encoder.outputs[0].shape).toEqual([null, 10]);
    expect(m.autoencoder.outputs[0].shape).toEqual([null, 784]);
    const acts = m.autoencoder.layers.filter((l) => l.trainableWeights.length).map((l) => l.getConfig().activation);
    expect(acts).toEqual(['relu', 'relu', 'relu', 'linear', 'relu', 'relu', 'relu', 'linear']);
    const codes = await encodeDense(m, rows(real, 0, 5), 2);
    expect(codes).toHaveLength(50);
    m.autoencoder.dispose();
  });

  it('encodes layer sizes and loss in the architecture id, which parses back', () => {
    const cfg = { inputSize: 784, layers: [256, 64], codeSize: 8, loss: 'bce' as const };
    expect(denseArchitectureId(cfg)).toBe('dense-ae-v1:784-256-64-8:bce');
    expect(parseDenseArchitectureId('dense-ae-v1:784-256-64-8:bce')).toEqual(cfg);
    expect(parseDenseArchitectureId('conv-ae-study-v1')).toBeUndefined();
    expect(parseDenseArchitectureId('dense-ae-v1:784-0-8:mse')).toBeUndefined();
  });

  it('bce uses a sigmoid output; bad configurations are rejected', async () => {
    const m = buildDenseAutoencoder({ ...small, loss: 'bce' }, 1);
    const out = await reconstructDense(m, real, [0, 1]);
    expect(out.every((v) => v > 0 && v < 1)).toBe(true);
    m.autoencoder.dispose();
    expect(() => buildDenseAutoencoder({ layers: [0] })).toThrow(/layers/);
    expect(() => buildDenseAutoencoder({ codeSize: 1.5 })).toThrow(/codeSize/);
    expect(() => buildDenseAutoencoder({ loss: 'l1' as never })).toThrow(/loss/);
  });

  it('is reproducible from its seed', () => {
    const weights = (seed: number) => {
      const m = buildDenseAutoencoder(small, seed);
      const w = m.autoencoder.getWeights().map((t) => Array.from(t.dataSync()));
      m.autoencoder.dispose();
      return w;
    };
    expect(weights(3)).toEqual(weights(3));
    expect(weights(3)[0]).not.toEqual(weights(4)[0]);
  });
});

describe('custom-gradient forward pass', () => {
  for (const loss of ['mse', 'bce'] as const) {
    it(`gives the same ${loss} loss and gradients as the layers' own autodiff`, () => {
      const m = buildDenseAutoencoder({ ...small, loss }, 2);
      const x = tf.tensor2d(real.data.subarray(0, 16 * 784), [16, 784]);
      const ours = tf.variableGrads(() => denseReconstructionLoss(m, x));
      const reference = tf.variableGrads(() =>
        tf.tidy(() => {
          const y = m.autoencoder.apply(x) as tf.Tensor2D;
          if (loss === 'mse') return tf.mean(tf.squaredDifference(y, x)) as tf.Scalar;
          const p = tf.clipByValue(y, 1e-7, 1 - 1e-7);
          return tf.neg(tf.mean(tf.add(tf.mul(x, tf.log(p)), tf.mul(tf.sub(1, x), tf.log(tf.sub(1, p)))))) as tf.Scalar;
        }),
      );
      expect(ours.value.dataSync()[0]).toBeCloseTo(reference.value.dataSync()[0], 4);
      const names = Object.keys(reference.grads);
      expect(names).toHaveLength(12); // 6 Dense layers: kernels and biases
      expect(Object.keys(ours.grads).sort()).toEqual([...names].sort());
      for (const name of names) {
        const a = ours.grads[name].dataSync();
        const b = reference.grads[name].dataSync();
        let maxDiff = 0;
        let maxAbs = 0;
        for (let i = 0; i < a.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
          maxAbs = Math.max(maxAbs, Math.abs(b[i]));
        }
        expect(maxDiff, name).toBeLessThanOrEqual(1e-4 * Math.max(maxAbs, 1e-3));
      }
      tf.dispose([x, ours.value, reference.value, ...Object.values(ours.grads), ...Object.values(reference.grads)]);
      m.autoencoder.dispose();
    });
  }
});

describe('trainDenseAutoencoder', () => {
  it("N2D's autoencoder: the loss decreases from epoch to epoch, read once per epoch", async () => {
    const m = buildDenseAutoencoder({}, 0);
    const before = await evaluateDenseLoss(m, rows(real, 0, 512));
    const epochs: number[] = [];
    let batches = 0;
    const result = await trainDenseAutoencoder(m, rows(real, 0, 512), params({ epochs: 3, batchSize: 128 }), {
      onBatch: () => batches++,
      onEpoch: (e) => epochs.push(e.trainLoss),
    });
    expect(batches).toBe(12);
    expect(result.losses.map((l) => l.epoch)).toEqual([1, 2, 3]);
    expect(result.losses.every((l) => l.valLoss === null)).toBe(true);
    expect(epochs[1]).toBeLessThan(epochs[0]);
    expect(epochs[2]).toBeLessThan(epochs[1]);
    expect(await evaluateDenseLoss(m, rows(real, 0, 512))).toBeLessThan(before / 2);
    expect(result.imagesPerSec).toBeGreaterThan(0);
    m.autoencoder.dispose();
  });

  it('holds out the last rows for a validation loss and stops early with patience, restoring the best weights', async () => {
    const m = buildDenseAutoencoder({ ...small, loss: 'bce' }, 0);
    const result = await trainDenseAutoencoder(m, real, params({ epochs: 30, valSplit: 0.25, patience: 1, learningRate: 0.05 }));
    expect(result.losses.every((l) => l.valLoss !== null && l.valLoss > 0)).toBe(true);
    if (result.stoppedEarly) {
      const best = Math.min(...result.losses.map((l) => l.valLoss!));
      const val = await evaluateDenseLoss(m, rows(real, 576, 192), 64);
      expect(val).toBeCloseTo(best, 4);
    }
    m.autoencoder.dispose();
  });

  it('is reproducible for a seed', async () => {
    const run = async () => {
      const m = buildDenseAutoencoder(small, 5);
      const r = await trainDenseAutoencoder(m, rows(real, 0, 256), params({ seed: 5 }));
      const codes = await encodeDense(m, rows(real, 0, 8));
      m.autoencoder.dispose();
      return { losses: r.losses, codes: Array.from(codes) };
    };
    expect(await run()).toEqual(await run());
  });

  it('stops with the epoch when the loss diverges, and on abort', async () => {
    const m = buildDenseAutoencoder(small, 0);
    // Inputs of 1e20 square past float32's range in the MSE (the learning rate is bounded by its schema).
    const huge = rows(real, 0, 256);
    await expect(trainDenseAutoencoder(m, { ...huge, data: huge.data.map((v) => v * 1e20 + 1e20) }, params({ epochs: 5 }))).rejects.toThrow(
      /loss became (NaN|infinite) at epoch \d/,
    );
    const controller = new AbortController();
    const aborted = trainDenseAutoencoder(m, rows(real, 0, 256), params({ epochs: 50 }), {
      onBatch: (e) => e.batch === 2 && controller.abort(),
      signal: controller.signal,
    });
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    await expect(trainDenseAutoencoder(m, { data: new Float32Array(10 * 100), rows: 10, cols: 100 }, params({}))).rejects.toThrow(
      /784 values per row/,
    );
    await expect(trainDenseAutoencoder(m, rows(real, 0, 64), params({ batchSize: 0 }))).rejects.toThrow(/batchSize/);
    m.autoencoder.dispose();
  });
});

describe('save / load', () => {
  it('round-trips the model and its architecture id; a different architecture is refused', async () => {
    const m = buildDenseAutoencoder({ layers: [32], codeSize: 3, loss: 'bce' }, 9);
    await trainDenseAutoencoder(m, rows(real, 0, 128), params({ epochs: 1 }));
    const dir = tempDir();
    await saveDenseAutoencoder(m, dir);
    const loaded = await loadDenseAutoencoder(dir, m.architecture);
    expect(loaded.architecture).toBe('dense-ae-v1:784-32-3:bce');
    expect(loaded.config).toEqual(m.config);
    expect(Array.from(await encodeDense(loaded, rows(real, 0, 4)))).toEqual(Array.from(await encodeDense(m, rows(real, 0, 4))));
    expect(Array.from(await reconstructDense(loaded, real, [3]))).toEqual(Array.from(await reconstructDense(m, real, [3])));
    await expect(loadDenseAutoencoder(dir, 'dense-ae-v1:784-500-500-2000-10:mse')).rejects.toThrow(
      /expected 'dense-ae-v1:784-500-500-2000-10:mse'/,
    );
    const convDir = tempDir();
    const conv = buildConvAutoencoder(0);
    await saveConvAutoencoder(conv, convDir);
    await expect(loadDenseAutoencoder(convDir)).rejects.toThrow(/not a dense one/);
    for (const x of [m, loaded, conv]) x.autoencoder.dispose();
  });
});

describe('input shapes (issue 21)', () => {
  const features = { kind: 'features' as const, dim: 64 };
  /** 64-d rows of four noisy prototypes, as the pipeline passes rows to an autoencoder: 1 × d "images". */
  function featureRows(count: number, seed: number): Images {
    const rng = new Rng(seed);
    const protos = Array.from({ length: 4 }, () => Float32Array.from({ length: 64 }, () => rng.random()));
    const values = new Float32Array(count * 64);
    for (let i = 0; i < count; i++) for (let j = 0; j < 64; j++) values[i * 64 + j] = protos[i % 4][j] + 0.05 * rng.normal();
    return { images: values, count, height: 1, width: 64 };
  }

  it('takes its input size from the shape: d for features, H·W·C for images, 784 for the older call', () => {
    const config = denseArchitecture.configOf({ layers: [32], codeSize: 4 }, features);
    expect(config).toEqual({ inputSize: 64, layers: [32], codeSize: 4, loss: 'mse' });
    expect(denseArchitecture.architectureId(config)).toBe('dense-ae-v1:64-32-4:mse');
    expect(denseArchitecture.configOf({}, { kind: 'images', height: 32, width: 32, channels: 3 }).inputSize).toBe(3072);
    expect(denseArchitecture.configOf({}, 784)).toEqual(N2D_AE_CONFIG);
    expect(denseArchitecture.describeInput(N2D_AE_CONFIG)).toBe(
      'dense-ae-v1:784-500-500-2000-10:mse for rows of 784 values: code 10-d, 3,330,794 parameters',
    );
    // the id names the input size: an encoder of 64-d rows is not reused on 784-d ones, nor the reverse
    expect(denseArchitecture.architectureId(denseArchitecture.configOf({ layers: [32], codeSize: 4 }, 784))).toBe(
      'dense-ae-v1:784-32-4:mse',
    );
  });

  it('refuses, in one line, a network too large to allocate', () => {
    const huge = { kind: 'images' as const, height: 1024, width: 1024, channels: 3 as const };
    expect(() => denseArchitecture.configOf({ layers: [500] }, huge)).toThrow(
      new RangeError(
        `the dense autoencoder 3145728-500-10 would have 3,148,884,738 parameters, more than ${MAX_DENSE_PARAMS.toLocaleString('en-US')}: use smaller --layers`,
      ),
    );
  });

  it('trains on d=64 features, encodes them and reconstructs 64 values a row, and reloads under its id', async () => {
    const config = denseArchitecture.configOf({ layers: [32], codeSize: 4 }, features);
    const model = denseArchitecture.build(config, 1);
    const rowsOf = featureRows(256, 2);
    const dir = tempDir();
    let codes: Float32Array;
    try {
      expect(model.paramCount).toBe(denseParamCount(config));
      const result = await model.train(rowsOf, { ...params({ epochs: 3, learningRate: 0.01 }) });
      expect(result.losses[2].trainLoss).toBeLessThan(result.losses[0].trainLoss);
      codes = await model.encode(rowsOf);
      expect(codes).toHaveLength(256 * 4);
      expect(await model.reconstruct(rowsOf, [0, 9, 255])).toHaveLength(3 * 64);
      await expect(model.train({ ...rowsOf, width: 63 }, params({}))).rejects.toThrow(/takes 64 values per row, got 63/);
      await model.save(dir);
    } finally {
      model.dispose();
    }
    const loaded = await denseArchitecture.load(dir, 'dense-ae-v1:64-32-4:mse');
    expect(Array.from(await loaded.encode(rowsOf))).toEqual(Array.from(codes));
    loaded.dispose();
    await expect(denseArchitecture.load(dir, 'dense-ae-v1:784-32-4:mse')).rejects.toThrow(/expected 'dense-ae-v1:784-32-4:mse'/);
  });
});
