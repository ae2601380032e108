import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from '../../src-main/engine/backend/wasm-kernels';
import { loadFashionMnist } from '../../src-main/engine/data/index';
import {
  CONV_AE_ARCHITECTURE,
  buildConvAutoencoder,
  encodeConv,
  loadConvAutoencoder,
  reconstructConv,
  saveConvAutoencoder,
  trainConvAutoencoder,
  type AutoencoderTrainParams,
} from '../../src-main/engine/models/conv-autoencoder';
import type { ImageSet } from '../../src-main/engine/types';

let real: ImageSet;
const dirs: string[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cb-ae-'));
  dirs.push(d);
  return d;
}

function slice(set: ImageSet, from: number, count: number): ImageSet {
  return {
    images: set.images.subarray(from * 784, (from + count) * 784),
    labels: set.labels.subarray(from, from + count),
    count,
    height: 28,
    width: 28,
  };
}

function blank(count: number): ImageSet {
  return { images: new Float32Array(count * 784), labels: new Uint8Array(count), count, height: 28, width: 28 };
}

const params = (p: Partial<AutoencoderTrainParams>): AutoencoderTrainParams => ({
  epochs: 2,
  batchSize: 64,
  learningRate: 0.01,
  valSplit: 0.1,
  patience: null,
  seed: 0,
  ...p,
});

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
  await tf.ready();
  real = (await loadFashionMnist({ trainLimit: 512, testLimit: 0 })).train;
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('buildConvAutoencoder', () => {
  it('has the study architecture: 12,785 parameters, 128-d codes, 28×28×1 reconstructions', async () => {
    const m = buildConvAutoencoder(0);
    expect(m.autoencoder.countParams()).toBe(12_785);
    expect(m.encoder.countParams()).toBe(320 + 4624 + 1160);
    expect(m.codeSize).toBe(128);
    expect(m.architecture).toBe(CONV_AE_ARCHITECTURE);
    expect(m.autoencoder.outputs[0].shape).toEqual([null, 28, 28, 1]);
    expect(m.encoder.outputs[0].shape).toEqual([null, 128]);
    const images = slice(real, 0, 5);
    const codes = await encodeConv(m.encoder, images, 2);
    expect(codes).toHaveLength(5 * 128);
    const recon = await reconstructConv(m, images, [4, 0]);
    expect(recon).toHaveLength(2 * 784);
    expect(recon.every((v) => v > 0 && v < 1)).toBe(true);
    // reconstructConv(…, [4, 0]) is the autoencoder output of images 4 and 0
    const all = tf.tidy(() => (m.autoencoder.predict(tf.tensor4d(images.images, [5, 28, 28, 1])) as tf.Tensor).dataSync());
    expect(Array.from(recon.subarray(0, 784))).toEqual(Array.from(all.subarray(4 * 784, 5 * 784)));
    m.autoencoder.dispose();
  });

  it('is reproducible for a seed', () => {
    const weights = (seed: number) => {
      const m = buildConvAutoencoder(seed);
      const w = m.autoencoder.getWeights().map((t) => Array.from(t.dataSync()));
      m.autoencoder.dispose();
      return w;
    };
    const a = weights(7);
    expect(weights(7)).toEqual(a);
    expect(weights(8)).not.toEqual(a);
  });
});

describe('trainConvAutoencoder', () => {
  it('lowers the loss on 512 real images in 2 epochs (wasm), without leaking tensors', async () => {
    const m = buildConvAutoencoder(1);
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const epochs: number[] = [];
    let batchEvents = 0;
    const res = await trainConvAutoencoder(m, real, params({ epochs: 3 }), {
      onEpoch: (e) => {
        counts.push(tf.memory().numTensors);
        epochs.push(e.epoch);
        expect(e.epochs).toBe(3);
        expect(e.imagesPerSec).toBeGreaterThan(0);
      },
      onBatch: (e) => {
        batchEvents++;
        expect(e.batches).toBe(Math.ceil(461 / 64));
      },
    });
    expect(epochs).toEqual([1, 2, 3]);
    expect(batchEvents).toBe(3 * 8);
    expect(res.losses).toHaveLength(3);
    expect(res.stoppedEarly).toBe(false);
    expect(res.imagesPerSec).toBeGreaterThan(0);
    const [l1, l2, l3] = res.losses;
    expect(l1.trainLoss).toBeGreaterThan(0);
    expect(l2.trainLoss).toBeLessThan(l1.trainLoss);
    expect(l3.trainLoss).toBeLessThan(l2.trainLoss);
    expect(l2.valLoss).not.toBeNull();
    expect(l3.valLoss!).toBeLessThan(l1.valLoss!);
    // the optimizer's slots appear during epoch 1; after that the count is flat, and all is released at the end
    expect(counts[2]).toBe(counts[1]);
    expect(tf.memory().numTensors).toBe(before);
    m.autoencoder.dispose();
  });

  it('is deterministic for a seed on one backend', async () => {
    const run = async () => {
      const m = buildConvAutoencoder(2);
      const res = await trainConvAutoencoder(m, slice(real, 0, 128), params({ epochs: 1, batchSize: 32, seed: 5 }));
      m.autoencoder.dispose();
      return res.losses;
    };
    expect(await run()).toEqual(await run());
  });

  it('stops early after `patience` epochs without improvement and restores the best weights', async () => {
    // trained on white images, validated on real ones (mostly black): the validation loss gets worse every epoch
    const data: ImageSet = {
      images: new Float32Array([...blank(90).images.fill(1), ...slice(real, 0, 10).images]),
      labels: new Uint8Array(100),
      count: 100,
      height: 28,
      width: 28,
    };
    const m = buildConvAutoencoder(3);
    let snapshot: Float32Array[] = [];
    let lastWeights: Float32Array[] = [];
    const res = await trainConvAutoencoder(m, data, params({ epochs: 20, batchSize: 30, learningRate: 0.05, patience: 2 }), {
      onEpoch: (e) => {
        const w = m.autoencoder.getWeights().map((t) => t.dataSync().slice() as Float32Array);
        if (e.epoch === 1) snapshot = w;
        lastWeights = w;
      },
    });
    expect(res.stoppedEarly).toBe(true);
    expect(res.losses.map((l) => l.epoch)).toEqual([1, 2, 3]);
    const v = res.losses.map((l) => l.valLoss!);
    expect(v[1]).toBeGreaterThanOrEqual(v[0]);
    expect(v[2]).toBeGreaterThanOrEqual(v[0]);
    const restored = m.autoencoder.getWeights().map((t) => t.dataSync());
    expect(Array.from(restored[0])).not.toEqual(Array.from(lastWeights[0]));
    restored.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(snapshot[i])));
    m.autoencoder.dispose();
  });

  it('reports the epoch where the loss becomes NaN', async () => {
    const m = buildConvAutoencoder(4);
    const run = trainConvAutoencoder(m, slice(real, 0, 64), params({ epochs: 5, batchSize: 32, valSplit: 0 }), {
      onEpoch: (e) => {
        if (e.epoch === 2) {
          // a diverged output layer: every later prediction is NaN
          const out = m.autoencoder.getLayer('dec_out');
          out.setWeights(out.getWeights().map((w) => tf.fill(w.shape, NaN)));
        }
      },
    });
    await expect(run).rejects.toThrow(/loss became NaN at epoch 3/);
    m.autoencoder.dispose();
  });

  it('detects NaN inputs', async () => {
    const m = buildConvAutoencoder(4);
    const data = slice(real, 0, 64);
    const images = data.images.slice();
    images.fill(NaN, 0, 784);
    await expect(trainConvAutoencoder(m, { ...data, images }, params({ epochs: 2, batchSize: 32 }))).rejects.toThrow(/NaN at epoch 1/);
    m.autoencoder.dispose();
  });

  it('can be aborted between batches, with an AbortError, without leaking tensors', async () => {
    const m = buildConvAutoencoder(5);
    const before = tf.memory().numTensors;
    const ctrl = new AbortController();
    let batches = 0;
    const run = trainConvAutoencoder(m, slice(real, 0, 256), params({ epochs: 3, batchSize: 32 }), {
      signal: ctrl.signal,
      onBatch: () => {
        if (++batches === 2) ctrl.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(batches).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    await expect(trainConvAutoencoder(m, slice(real, 0, 64), params({}), { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    m.autoencoder.dispose();
  });

  it('stays responsive: abort from a timer interrupts training at the next batch', async () => {
    const m = buildConvAutoencoder(6);
    const ctrl = new AbortController();
    // The timer can only fire if training yields to the event loop between batches.
    setTimeout(() => ctrl.abort(), 50);
    let batchesAfterAbort = 0;
    let epochs = 0;
    const training = trainConvAutoencoder(m, real, params({ epochs: 50, batchSize: 32 }), {
      signal: ctrl.signal,
      onBatch: () => void (ctrl.signal.aborted && batchesAfterAbort++),
      onEpoch: () => void epochs++,
    });
    await expect(training).rejects.toMatchObject({ name: 'AbortError' });
    expect(ctrl.signal.aborted).toBe(true);
    expect(batchesAfterAbort).toBeLessThanOrEqual(1);
    expect(epochs).toBeLessThan(50);
    m.autoencoder.dispose();
  });

  it('validates its parameters', async () => {
    const m = buildConvAutoencoder(0);
    await expect(trainConvAutoencoder(m, real, params({ epochs: 0 }))).rejects.toThrow(/epochs/);
    await expect(trainConvAutoencoder(m, real, params({ valSplit: 1 }))).rejects.toThrow(/valSplit/);
    await expect(trainConvAutoencoder(m, real, params({ learningRate: -1 }))).rejects.toThrow(/learningRate/);
    await expect(trainConvAutoencoder(m, { ...real, width: 32, height: 32 }, params({}))).rejects.toThrow(/28×28/);
    m.autoencoder.dispose();
  });
});

describe('saveConvAutoencoder / loadConvAutoencoder', () => {
  it('round-trips: the loaded encoder gives identical codes', async () => {
    const m = buildConvAutoencoder(9);
    await trainConvAutoencoder(m, slice(real, 0, 64), params({ epochs: 1, batchSize: 32 }));
    const dir = join(tempDir(), 'model');
    await saveConvAutoencoder(m, dir);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.userDefinedMetadata.architecture).toBe(CONV_AE_ARCHITECTURE);
    expect(json.weightsManifest[0].paths).toEqual(['./weights.bin']);
    expect(readFileSync(join(dir, 'weights.bin')).byteLength).toBe(12_785 * 4);

    const loaded = await loadConvAutoencoder(dir);
    expect(loaded.architecture).toBe(CONV_AE_ARCHITECTURE);
    expect(loaded.autoencoder.countParams()).toBe(12_785);
    const images = slice(real, 100, 50);
    const a = await encodeConv(m.encoder, images);
    const b = await encodeConv(loaded.encoder, images);
    expect(Array.from(b)).toEqual(Array.from(a));
    const ra = await reconstructConv(m, images, [0, 7]);
    const rb = await reconstructConv(loaded, images, [0, 7]);
    expect(Array.from(rb)).toEqual(Array.from(ra));
    // saving again over it replaces the files atomically (no temporary files left)
    await saveConvAutoencoder(loaded, dir);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    m.autoencoder.dispose();
    loaded.autoencoder.dispose();
  });

  it('refuses a missing model and another architecture', async () => {
    await expect(loadConvAutoencoder(join(tempDir(), 'nothing'))).rejects.toThrow(/no saved model/);
    const m = buildConvAutoencoder(0);
    const dir = tempDir();
    await saveConvAutoencoder(m, dir);
    const path = join(dir, 'model.json');
    const json = JSON.parse(readFileSync(path, 'utf8'));
    json.userDefinedMetadata.architecture = 'something-else';
    writeFileSync(path, JSON.stringify(json));
    await expect(loadConvAutoencoder(dir)).rejects.toThrow(/something-else/);
    expect(existsSync(path)).toBe(true);
    m.autoencoder.dispose();
  });
});
