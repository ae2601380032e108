/**
 * The conv autoencoder on colour images (issue 21): a seeded set of 32×32 RGB pictures — a circle, a square or a
 * triangle of one of five colours, at a random place and size on a dark, noisy background — labelled by colour. The
 * generalised network (`conv-ae-v2:32x32x3`) trains a few epochs on the wasm backend, k-means clusters its codes,
 * and the clusters must match the colours far better than chance. Measured (2026-12): accuracy 0.58, 0.64 and 0.57
 * for seeds 0, 1, 2 (chance 0.2; k-means on the raw pixels: 0.78). At the study's learning rate (0.01) most of the
 * code's relu units die on these mostly dark images (72 of 128 dimensions constant) and the accuracy is 0.39: 0.003 here.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from '../../src-main/engine/backend/wasm-kernels';
import { KMeans } from '../../src-main/engine/cluster/kmeans';
import { Rng } from '../../src-main/engine/math/rng';
import { accuracy } from '../../src-main/engine/metrics/index';
import { convArchitecture } from '../../src-main/engine/models/conv-autoencoder';
import type { ImageSet } from '../../src-main/engine/types';

const SIDE = 32;
const COLOURS: [number, number, number][] = [
  [1, 0.15, 0.1], // red
  [0.15, 0.9, 0.2], // green
  [0.2, 0.3, 1], // blue
  [1, 0.9, 0.1], // yellow
  [0.9, 0.2, 0.9], // magenta
];
const SHAPES = ['circle', 'square', 'triangle'] as const;

/** Whether pixel (x, y) is inside the shape centred at (cx, cy) with half-size r. */
function inside(shape: (typeof SHAPES)[number], x: number, y: number, cx: number, cy: number, r: number): boolean {
  const dx = x - cx;
  const dy = y - cy;
  if (shape === 'circle') return dx * dx + dy * dy <= r * r;
  if (shape === 'square') return Math.abs(dx) <= r && Math.abs(dy) <= r;
  // an upright triangle: apex at the top, base at the bottom, as wide as it is tall
  return dy >= -r && dy <= r && Math.abs(dx) <= (dy + r) / 2;
}

/**
 * `count` pictures labelled by colour (0..4), colours and shapes in turn (picture i: colour i mod 5, shape ⌊i/5⌋ mod 3),
 * so that the held-out last tenth has them all; sizes, places, shades and the background's noise seeded.
 */
function colourShapes(count: number, seed: number): ImageSet {
  const rng = new Rng(seed);
  const size = SIDE * SIDE * 3;
  const images = new Float32Array(count * size);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const colour = i % COLOURS.length;
    const shape = SHAPES[Math.floor(i / COLOURS.length) % SHAPES.length];
    labels[i] = colour;
    // half-size 6..11 around a centre within 5 pixels of the middle (the AE's code is a 4×4 map: shapes anywhere
    // make k-means on it group by place more than by colour — 0.32 accuracy with centres anywhere, seed 0)
    const r = 6 + rng.int(6);
    const [cx, cy] = [SIDE / 2 - 5 + rng.int(11), SIDE / 2 - 5 + rng.int(11)];
    const shade = rng.uniform(0.7, 1);
    const image = images.subarray(i * size, (i + 1) * size);
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const on = inside(shape, x, y, cx, cy, r);
        for (let c = 0; c < 3; c++) image[(y * SIDE + x) * 3 + c] = on ? COLOURS[colour][c] * shade : 0.1 * rng.random();
      }
    }
  }
  return { images, labels, count, height: SIDE, width: SIDE, channels: 3 };
}

beforeAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
  await tf.ready();
});

describe('conv autoencoder on 32×32 RGB images', () => {
  it('trains, and k-means on its codes finds the five colours far above chance', async () => {
    const data = colourShapes(1500, 21);
    const config = convArchitecture.configOf({}, { kind: 'images', height: SIDE, width: SIDE, channels: 3 });
    expect(convArchitecture.architectureId(config)).toBe('conv-ae-v2:32x32x3');
    const model = convArchitecture.build(config, 0);
    let codes: Float32Array;
    try {
      const result = await model.train(data, { epochs: 5, batchSize: 32, learningRate: 0.003, valSplit: 0.1, patience: null, seed: 0 });
      const losses = result.losses.map((l) => l.trainLoss);
      expect(losses.at(-1)!).toBeLessThan(losses[0]);
      codes = await model.encode(data);
      expect(codes).toHaveLength(1500 * 128);
      expect(await model.reconstruct(data, [0, 1])).toHaveLength(2 * SIDE * SIDE * 3);
    } finally {
      model.dispose();
    }
    const kmeans = await new KMeans({ k: COLOURS.length, nInit: 4, seed: 0 }).fit({ data: codes, rows: 1500, cols: 128 });
    const acc = accuracy(kmeans.labels!, data.labels);
    console.log(`conv-ae-v2:32x32x3 + k-means on 1,500 colour shapes: Hungarian accuracy ${acc.toFixed(3)} (chance 0.2)`);
    expect(acc).toBeGreaterThanOrEqual(2 * (1 / COLOURS.length));
  });
});
