import { Rng } from '../math/rng';

/**
 * What `--backend auto` trains to time each backend (calibration-training.ts): the study's conv autoencoder, built by
 * its own builder (models/conv-autoencoder.ts) from this seed, on synthetic images from the engine's Rng, so that
 * every backend starts from the same weights and sees exactly the same bytes.
 */
export interface CalibrationConfig {
  seed: number;
  learningRate: number;
}

export const CALIBRATION_NET: CalibrationConfig = { seed: 20240917, learningRate: 1e-3 };
/**
 * Bump whenever what calibration times changes (cached calibrations are then measured again). 2: the study-shaped
 * AE, fused on webgpu. 3: the study's own network from its builder (its Flatten/Reshape and initialisation), images
 * from the engine's Rng.
 */
export const CALIBRATION_NET_VERSION = 3;

export const IMAGE_SIZE = 28;
const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

/**
 * `count` synthetic 28×28 images in [0, 1] (NHWC, one channel): a few soft rectangles and a blob each, so the
 * reconstruction loss has structure to learn and every backend sees exactly the same bytes.
 */
export function syntheticImages(count: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const rnd = () => rng.random();
  const out = new Float32Array(count * PIXELS);
  for (let n = 0; n < count; n++) {
    const img = out.subarray(n * PIXELS, (n + 1) * PIXELS);
    const rects = 1 + Math.floor(rnd() * 3);
    for (let r = 0; r < rects; r++) {
      const x0 = Math.floor(rnd() * 20),
        y0 = Math.floor(rnd() * 20);
      const w = 3 + Math.floor(rnd() * (IMAGE_SIZE - x0 - 3)),
        h = 3 + Math.floor(rnd() * (IMAGE_SIZE - y0 - 3));
      const v = 0.3 + 0.7 * rnd();
      for (let y = y0; y < Math.min(IMAGE_SIZE, y0 + h); y++) {
        for (let x = x0; x < Math.min(IMAGE_SIZE, x0 + w); x++) img[y * IMAGE_SIZE + x] = Math.max(img[y * IMAGE_SIZE + x], v);
      }
    }
    const cx = rnd() * IMAGE_SIZE,
      cy = rnd() * IMAGE_SIZE,
      s = 2 + rnd() * 5;
    for (let y = 0; y < IMAGE_SIZE; y++) {
      for (let x = 0; x < IMAGE_SIZE; x++) {
        const g = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s));
        img[y * IMAGE_SIZE + x] = Math.min(1, img[y * IMAGE_SIZE + x] + 0.8 * g);
      }
    }
  }
  return out;
}
