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
import type { Images } from '../../src-main/engine/types';

const temp = mkdtempSync(join(tmpdir(), 'cb-registry-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Images of bright rectangles in random places: something to reconstruct. */
function rectangles(count: number, seed: number): Images {
  const rng = new Rng(seed);
  const images = new Float32Array(count * 784);
  for (let i = 0; i < count; i++) {
    const [top, left] = [rng.int(20), rng.int(20)];
    for (let y = top; y < top + 8; y++) for (let x = left; x < left + 8; x++) images[i * 784 + y * 28 + x] = 1;
  }
  return { images, count, height: 28, width: 28 };
}

const training = { epochs: 1, batchSize: 32, learningRate: 0.01, valSplit: 0, patience: null, seed: 3 };
/** Small settings of each architecture's own parameters, so the test trains in a second. */
const SMALL: Record<AutoencoderKind, Record<string, unknown>> = { conv: {}, dense: { layers: [32], codeSize: 4, loss: 'bce' } };

describe('autoencoder registry', () => {
  it("holds every encoder the pipeline offers (the table's choices but none)", () => {
    expect(Object.keys(AUTOENCODERS).sort()).toEqual(ENCODERS.filter((e) => e !== 'none').sort());
  });

  for (const kind of Object.keys(AUTOENCODERS) as AutoencoderKind[]) {
    it(`${kind}: build → train → encode → save → load by its id → the same codes`, async () => {
      const architecture = autoencoderArchitecture(kind);
      const config = architecture.configOf(SMALL[kind], 784);
      const id = architecture.architectureId(config);
      expect(architecture.owns(id)).toBe(true);
      expect(architectureOfId(id)).toBe(architecture);

      const images = rectangles(64, 1);
      const model = architecture.build(config, 3);
      const dir = join(temp, kind);
      let codes: Float32Array;
      try {
        expect(model.architecture).toBe(id);
        expect(model.codeSize).toBe(architecture.codeSize(config));
        const result = await model.train(images, training);
        expect(result.losses).toHaveLength(1);
        codes = await model.encode(images);
        expect(codes).toHaveLength(64 * model.codeSize);
        expect((await model.reconstruct(images, [0, 5])).length).toBe(2 * 784);
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
    });
  }

  it('a stored id of no known architecture has none; runs from before ids were recorded had the conv one', () => {
    expect(architectureOfId('vae-v9')).toBeUndefined();
    expect(architectureOfId(undefined)).toBe(AUTOENCODERS.conv);
  });
});
