/**
 * The conv autoencoder on other image shapes (issue 21): the study's network stays exactly what it was on 28×28×1,
 * and any other H×W×C gets the same layers generalised, under an id that names its shape.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from '../../src-main/engine/backend/wasm-kernels';
import type { DatasetShape } from '../../src-main/engine/data/dataset';
import { Rng } from '../../src-main/engine/math/rng';
import {
  CONV_AE_ARCHITECTURE,
  buildConvAutoencoder,
  convArchitecture,
  encodeConv,
  loadConvAutoencoder,
  reconstructConv,
  saveConvAutoencoder,
  trainConvAutoencoder,
} from '../../src-main/engine/models/conv-autoencoder';
import { convParamCount, parseConvArchitectureId, type ConvAutoencoderConfig } from '../../src-main/engine/models/conv-input';
import type { Images } from '../../src-main/engine/types';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'cb-conv-shapes-'));
  dirs.push(d);
  return d;
};
const images = (height: number, width: number, channels: number): DatasetShape =>
  ({ kind: 'images', height, width, channels }) as DatasetShape;
/** sha256 of the study network's initial weights for seed 7 (float32, layer by layer) from the builder before issue 21. */
const STUDY_SEED7_WEIGHTS_SHA256 = 'cff1e3c1669093d6998a86f6cd78986df5d83aba4c2f59adb5e731901ff40568';
const RGB32: ConvAutoencoderConfig = { height: 32, width: 32, channels: 3 };

/** Random sparse images of a shape, seeded. */
function randomImages(count: number, c: ConvAutoencoderConfig, seed: number): Images {
  const rng = new Rng(seed);
  const values = Float32Array.from({ length: count * c.height * c.width * c.channels }, () => (rng.random() < 0.3 ? rng.random() : 0));
  return { images: values, count, height: c.height, width: c.width, channels: c.channels };
}

const training = { epochs: 1, batchSize: 16, learningRate: 0.01, valSplit: 0.25, patience: null, seed: 2 };

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
  await tf.ready();
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the study network on 28×28×1', () => {
  it('is what configOf gives for 28×28×1 (and for the older call with 784 pixels): same id, 12,785 parameters', () => {
    const config = convArchitecture.configOf({}, images(28, 28, 1));
    expect(config).toEqual({ height: 28, width: 28, channels: 1 });
    expect(convArchitecture.configOf({}, 784)).toEqual(config);
    expect(convArchitecture.architectureId(config)).toBe(CONV_AE_ARCHITECTURE);
    expect(convArchitecture.codeSize(config)).toBe(128);
    expect(convParamCount(config)).toBe(12_785);
    expect(convArchitecture.describeInput(config)).toBe(
      "conv-ae-study-v1 for 28×28×1: code 128-d, 12,785 parameters (the study's architecture)",
    );
  });

  it('builds through the registry with the same initial weights as the study builder, and those weights are the ones it always had', async () => {
    const model = convArchitecture.build(convArchitecture.configOf({}, images(28, 28, 1)), 7);
    const study = buildConvAutoencoder(7);
    expect(model.paramCount).toBe(12_785);
    expect(model.architecture).toBe(CONV_AE_ARCHITECTURE);
    const weights = study.autoencoder.getWeights().map((w) => w.dataSync());
    expect(study.autoencoder.layers.map((l) => l.name)).toEqual([
      'image',
      'enc_conv1',
      'enc_pool1',
      'enc_conv2',
      'enc_pool2',
      'enc_conv3',
      'enc_pool3',
      'code',
      'dec_reshape',
      'dec_conv1',
      'dec_up1',
      'dec_conv2',
      'dec_up2',
      'dec_conv3',
      'dec_up3',
      'dec_out',
    ]);
    // every bit of every weight as the builder made them before issue 21
    const hash = createHash('sha256');
    for (const w of weights) hash.update(Buffer.from(w.buffer, w.byteOffset, w.byteLength));
    expect(hash.digest('hex')).toBe(STUDY_SEED7_WEIGHTS_SHA256);
    // the registry's network saves to the same files, byte for byte
    const [a, b] = [tempDir(), tempDir()];
    await model.save(a);
    await saveConvAutoencoder(study, b);
    for (const file of ['model.json', 'weights.bin']) expect(readFileSync(join(a, file)).equals(readFileSync(join(b, file)))).toBe(true);
    study.autoencoder.dispose();
    model.dispose();
  });
});

describe('other shapes', () => {
  it('32×32×3: a 128-d code, 13,939 parameters by hand, RGB reconstructions of the right size', async () => {
    const config = convArchitecture.configOf({}, images(32, 32, 3));
    expect(config).toEqual(RGB32);
    expect(convArchitecture.architectureId(config)).toBe('conv-ae-v2:32x32x3');
    // 3·32·9+32 = 896, 32·16·9+16 = 4,624, 16·8·9+8 = 1,160, 8·8·9+8 = 584, 8·16·9+16 = 1,168, 16·32·9+32 = 4,640, 32·3·9+3 = 867
    const byHand = 896 + 4624 + 1160 + 584 + 1168 + 4640 + 867;
    expect(byHand).toBe(13_939);
    expect(convParamCount(config)).toBe(byHand);
    expect(convArchitecture.codeSize(config)).toBe(4 * 4 * 8);
    expect(convArchitecture.describeInput(config)).toBe(
      "conv-ae-v2:32x32x3 for 32×32×3: code 128-d, 13,939 parameters (the study's architecture is for 28×28×1; here every " +
        'pooling pads and the decoder keeps its sizes; trained through tfjs layers, not the fused WebGPU step)',
    );

    const m = buildConvAutoencoder(3, config);
    expect(m.autoencoder.countParams()).toBe(byHand);
    expect(m.architecture).toBe('conv-ae-v2:32x32x3');
    expect(m.autoencoder.outputs[0].shape).toEqual([null, 32, 32, 3]);
    expect(m.encoder.outputs[0].shape).toEqual([null, 128]);
    expect(m.autoencoder.layers.some((l) => l.name === 'dec_crop')).toBe(false); // 8·4 = 32: nothing to crop

    const set = randomImages(5, config, 1);
    const codes = await encodeConv(m.encoder, set, 2);
    expect(codes).toHaveLength(5 * 128);
    const recon = await reconstructConv(m, set, [4, 0]);
    expect(recon).toHaveLength(2 * 32 * 32 * 3);
    expect(recon.every((v) => v > 0 && v < 1)).toBe(true);
    const all = tf.tidy(() => (m.autoencoder.predict(tf.tensor4d(set.images, [5, 32, 32, 3])) as tf.Tensor).dataSync());
    expect(Array.from(recon.subarray(0, 3072))).toEqual(Array.from(all.subarray(4 * 3072, 5 * 3072)));
    m.autoencoder.dispose();
  });

  it('30×20×1: pads every pooling (code 4×3×8) and crops the decoder 32×24 → 30×20; it trains (wasm) without leaking tensors', async () => {
    const config = convArchitecture.configOf({}, images(30, 20, 1));
    expect(convArchitecture.codeSize(config)).toBe(96);
    expect(convArchitecture.describeInput(config)).toContain('its 32×24 output cropped to 30×20');
    const m = buildConvAutoencoder(4, config);
    expect(m.autoencoder.countParams()).toBe(12_785); // one channel: the study's counts, whatever the size
    const crop = m.autoencoder.getLayer('dec_crop');
    expect(crop.getConfig().cropping).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(m.autoencoder.outputs[0].shape).toEqual([null, 30, 20, 1]);
    const set = randomImages(64, config, 2);
    const before = tf.memory().numTensors;
    const result = await trainConvAutoencoder(m, set, { ...training, epochs: 2 });
    expect(result.losses).toHaveLength(2);
    expect(result.losses[1].trainLoss).toBeLessThan(result.losses[0].trainLoss);
    expect(tf.memory().numTensors).toBe(before);
    expect(await reconstructConv(m, set, [1])).toHaveLength(600);
    m.autoencoder.dispose();
  });

  it('trains, encodes and reconstructs only images of its own shape, channels included', async () => {
    const m = buildConvAutoencoder(5, RGB32);
    const grey = { ...randomImages(8, RGB32, 3), channels: undefined };
    await expect(trainConvAutoencoder(m, grey, training)).rejects.toThrow('the autoencoder needs 32×32×3 images, got 32×32×1');
    await expect(encodeConv(m.encoder, { ...randomImages(8, RGB32, 3), width: 28 })).rejects.toThrow(/needs 32×32×3 images, got 32×28×3/);
    const study = buildConvAutoencoder(5);
    await expect(encodeConv(study.encoder, randomImages(2, { height: 28, width: 28, channels: 3 }, 4))).rejects.toThrow(
      /needs 28×28×1 images, got 28×28×3/,
    );
    for (const x of [m, study]) x.autoencoder.dispose();
  });
});

describe('shapes it refuses', () => {
  it('features, sides under 8 or over the bound, and other channel counts: one line each', () => {
    expect(() => convArchitecture.configOf({}, { kind: 'features', dim: 128 })).toThrow(
      new RangeError('the conv autoencoder needs images; data set is features d=128 — use --encoder dense'),
    );
    expect(() => convArchitecture.configOf({}, 100)).toThrow(/needs images; data set is features d=100/);
    expect(() => convArchitecture.configOf({}, images(4, 28, 1))).toThrow(/needs images from 8×8 to 1024×1024; data set is 4×28×1/);
    expect(() => convArchitecture.configOf({}, images(28, 2048, 1))).toThrow(/data set is 28×2048×1/);
    expect(() => convArchitecture.configOf({}, images(28, 28, 2))).toThrow(/needs 1 or 3 channels; data set is 28×28×2/);
    expect(() => buildConvAutoencoder(0, { height: 7, width: 7, channels: 1 })).toThrow(RangeError);
  });
});

describe('architecture ids', () => {
  it('name the shape, parse back, and differ between shapes, so an encoder is reused only on its own shape', () => {
    const ids = [images(28, 28, 1), images(28, 28, 3), images(32, 32, 3), images(32, 32, 1), images(32, 28, 3)].map((s) =>
      convArchitecture.architectureId(convArchitecture.configOf({}, s)),
    );
    expect(ids).toEqual(['conv-ae-study-v1', 'conv-ae-v2:28x28x3', 'conv-ae-v2:32x32x3', 'conv-ae-v2:32x32x1', 'conv-ae-v2:32x28x3']);
    for (const id of ids) expect(convArchitecture.owns(id)).toBe(true);
    expect(parseConvArchitectureId('conv-ae-v2:32x28x3')).toEqual({ height: 32, width: 28, channels: 3 });
    expect(parseConvArchitectureId('conv-ae-study-v1')).toEqual({ height: 28, width: 28, channels: 1 });
    // one id per shape, and only shapes it can build
    for (const id of [
      'conv-ae-v2:28x28x1',
      'conv-ae-v2:4x4x1',
      'conv-ae-v2:32x32x2',
      'conv-ae-v2:032x32x3',
      'conv-ae-v2:2000x32x3',
      'conv-ae-v3:32x32x3',
    ]) {
      expect(convArchitecture.owns(id)).toBe(false);
    }
  });
});

describe('save / load on another shape', () => {
  it('round-trips a 32×32×3 network under its id; loading it as another id, or a file whose id names another shape, is refused', async () => {
    const m = buildConvAutoencoder(9, RGB32);
    const set = randomImages(32, RGB32, 5);
    await trainConvAutoencoder(m, set, training);
    const dir = join(tempDir(), 'model');
    await saveConvAutoencoder(m, dir);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.userDefinedMetadata).toMatchObject({ architecture: 'conv-ae-v2:32x32x3', codeSize: 128, params: 13_939 });
    expect(readFileSync(join(dir, 'weights.bin')).byteLength).toBe(13_939 * 4);

    const loaded = await convArchitecture.load(dir, 'conv-ae-v2:32x32x3');
    expect(loaded.architecture).toBe('conv-ae-v2:32x32x3');
    expect(loaded.codeSize).toBe(128);
    expect(loaded.paramCount).toBe(13_939);
    expect(Array.from(await loaded.encode(set))).toEqual(Array.from(await encodeConv(m.encoder, set)));
    expect(Array.from(await loaded.reconstruct(set, [2, 30]))).toEqual(Array.from(await reconstructConv(m, set, [2, 30])));
    loaded.dispose();

    await expect(convArchitecture.load(dir, CONV_AE_ARCHITECTURE)).rejects.toThrow(
      `${dir} holds an autoencoder of architecture 'conv-ae-v2:32x32x3', expected 'conv-ae-study-v1'`,
    );
    json.userDefinedMetadata.architecture = 'conv-ae-v2:16x16x3';
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    await expect(loadConvAutoencoder(dir)).rejects.toThrow(/not the 16×16×3 one its architecture 'conv-ae-v2:16x16x3' names/);
    m.autoencoder.dispose();
  });
});
