/**
 * The autoencoder registry (models/registry.ts): every architecture the pipeline can choose is there, and each one
 * goes through the common interface the same way — build, train, encode, save, load by its id, encode the same.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENCODERS } from '../../src-main/engine/schema/params';
import { architectureOfId, AUTOENCODERS, autoencoderArchitecture, type AutoencoderKind } from '../../src-main/engine/models/registry';
import { Rng } from '../../src-main/engine/math/rng';
import type { DatasetShape } from '../../src-main/engine/data/dataset';
import { valuesPerImage, type Images } from '../../src-main/engine/types';

const temp = mkdtempSync(join(tmpdir(), 'cb-registry-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Images of bright rectangles in random places (in every channel): something to reconstruct. */
function rectangles(count: number, seed: number, height = 28, width = 28, channels = 1): Images {
  const rng = new Rng(seed);
  const size = valuesPerImage({ height, width, channels });
  const images = new Float32Array(count * size);
  for (let i = 0; i < count; i++) {
    const [top, left] = [rng.int(height - 8), rng.int(width - 8)];
    for (let y = top; y < top + 8; y++) {
      for (let x = left; x < left + 8; x++)
        images.fill(1, i * size + (y * width + x) * channels, i * size + (y * width + x + 1) * channels);
    }
  }
  return { images, count, height, width, channels };
}

const STUDY: DatasetShape = { kind: 'images', height: 28, width: 28, channels: 1 };
const RGB: DatasetShape = { kind: 'images', height: 24, width: 20, channels: 3 };

const training = { epochs: 1, batchSize: 32, learningRate: 0.01, valSplit: 0, patience: null, seed: 3 };
/** Small settings of each architecture's own parameters, so the test trains in a second. */
const SMALL: Record<AutoencoderKind, Record<string, unknown>> = { conv: {}, dense: { layers: [32], codeSize: 4, loss: 'bce' } };

describe('autoencoder registry', () => {
  it("holds every encoder the pipeline offers (the table's choices but none)", () => {
    expect(Object.keys(AUTOENCODERS).sort()).toEqual(ENCODERS.filter((e) => e !== 'none').sort());
  });

  const cases = (Object.keys(AUTOENCODERS) as AutoencoderKind[]).flatMap((kind) => [
    { kind, shape: STUDY },
    { kind, shape: RGB },
  ]);
  for (const { kind, shape } of cases) {
    const name = shape === STUDY ? '28×28×1' : '24×20×3';
    it(`${kind} on ${name}: build → train → encode → save → load by its id → the same codes`, async () => {
      const architecture = autoencoderArchitecture(kind);
      const config = architecture.configOf(SMALL[kind], shape);
      const id = architecture.architectureId(config);
      expect(architecture.owns(id)).toBe(true);
      expect(architectureOfId(id)).toBe(architecture);
      expect(architecture.describeInput(config)).toContain(id);

      const images = shape === STUDY ? rectangles(64, 1) : rectangles(64, 1, 24, 20, 3);
      const values = valuesPerImage(images);
      const model = architecture.build(config, 3);
      const dir = join(temp, `${kind}-${name}`);
      let codes: Float32Array;
      try {
        expect(model.architecture).toBe(id);
        expect(model.codeSize).toBe(architecture.codeSize(config));
        const result = await model.train(images, training);
        expect(result.losses).toHaveLength(1);
        codes = await model.encode(images);
        expect(codes).toHaveLength(64 * model.codeSize);
        expect((await model.reconstruct(images, [0, 5])).length).toBe(2 * values);
        await model.save(dir);
      } finally {
        model.dispose();
      }
      const loaded = await architecture.load(dir, id);
      try {
        expect(loaded.paramCount).toBe(model.paramCount);
        expect(Array.from(await loaded.encode(images))).toEqual(Array.from(codes));
      } finally {
        loaded.dispose();
      }
      const other = Object.values(AUTOENCODERS).find((a) => a !== architecture)!;
      await expect(other.load(dir)).rejects.toThrow(/architecture/);
      // the same architecture for the other shape has another id: a reused encoder must match the data set's shape
      const otherShape = architecture.architectureId(architecture.configOf(SMALL[kind], shape === STUDY ? RGB : STUDY));
      expect(otherShape).not.toBe(id);
      await expect(architecture.load(dir, otherShape)).rejects.toThrow(`expected '${otherShape}'`);
    });
  }

  it('each architecture says what it makes of a data set of features; the conv one refuses it in one line', () => {
    const features: DatasetShape = { kind: 'features', dim: 64 };
    expect(() => AUTOENCODERS.conv.configOf({}, features)).toThrow(
      /^the conv autoencoder needs images; data set is features d=64 — use --encoder dense$/,
    );
    const dense = AUTOENCODERS.dense.configOf(SMALL.dense, features);
    expect(AUTOENCODERS.dense.describeInput(dense)).toBe('dense-ae-v1:64-32-4:bce for rows of 64 values: code 4-d, 4,484 parameters');
  });

  it('a stored id of no known architecture has none; runs from before ids were recorded had the conv one', () => {
    expect(architectureOfId('vae-v9')).toBeUndefined();
    expect(architectureOfId(undefined)).toBe(AUTOENCODERS.conv);
  });
});
