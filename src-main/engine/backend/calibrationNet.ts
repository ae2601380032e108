import * as tf from '@tensorflow/tfjs';

/**
 * A small, self-contained convolutional autoencoder used to check that backends agree numerically (what
 * `--backend auto` times is in calibrationTraining.ts; both share the seeds, PRNG and synthetic images here). It is deliberately independent of the study's model code so that the
 * backend layer has no dependency on it, but it uses the same kernels a Fashion-MNIST conv autoencoder
 * trains with: strided Conv2D (+ its input/filter gradients), dense layers, Conv2DTranspose, ReLU, sigmoid,
 * MSE and Adam.
 *
 *   28×28×1 → conv3×3/2 (f1, relu) → conv3×3/2 (f2, relu) → dense (latent) → dense (7·7·f2, relu)
 *           → deconv3×3/2 (f1, relu) → deconv3×3/2 (1, sigmoid) → 28×28×1
 *
 * Weights come from a seeded JS PRNG (not tf.random*), so every backend starts from bit-identical weights.
 */
export interface TinyNetConfig {
  filters1: number;
  filters2: number;
  latent: number;
  seed: number;
  learningRate: number;
}

/** Seeds and learning rate of the calibration (calibrationTraining.ts); the filters and latent size are this net's. */
export const CALIBRATION_NET: TinyNetConfig = { filters1: 32, filters2: 64, latent: 10, seed: 20240917, learningRate: 1e-3 };
/** Bump whenever what calibration times changes (cached calibrations are then measured again). 2: the study-shaped AE, fused on webgpu. */
export const CALIBRATION_NET_VERSION = 2;

export const IMAGE_SIZE = 28;
const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

/** mulberry32: small, fast, seedable; good enough for weights and synthetic images. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` synthetic 28×28 images in [0, 1] (NHWC, one channel): a few soft rectangles and a blob each, so the
 * reconstruction loss has structure to learn and every backend sees exactly the same bytes.
 */
export function syntheticImages(count: number, seed: number): Float32Array {
  const rnd = mulberry32(seed);
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

interface WeightSpec {
  name: string;
  shape: number[];
  fanIn: number;
  fanOut: number;
  bias?: boolean;
}

function weightSpecs(c: TinyNetConfig): WeightSpec[] {
  const flat = 7 * 7 * c.filters2;
  return [
    { name: 'enc1/kernel', shape: [3, 3, 1, c.filters1], fanIn: 9, fanOut: 9 * c.filters1 },
    { name: 'enc1/bias', shape: [c.filters1], fanIn: 0, fanOut: 0, bias: true },
    { name: 'enc2/kernel', shape: [3, 3, c.filters1, c.filters2], fanIn: 9 * c.filters1, fanOut: 9 * c.filters2 },
    { name: 'enc2/bias', shape: [c.filters2], fanIn: 0, fanOut: 0, bias: true },
    { name: 'code/kernel', shape: [flat, c.latent], fanIn: flat, fanOut: c.latent },
    { name: 'code/bias', shape: [c.latent], fanIn: 0, fanOut: 0, bias: true },
    { name: 'dec0/kernel', shape: [c.latent, flat], fanIn: c.latent, fanOut: flat },
    { name: 'dec0/bias', shape: [flat], fanIn: 0, fanOut: 0, bias: true },
    // conv2dTranspose filters are [h, w, outChannels, inChannels].
    { name: 'dec1/kernel', shape: [3, 3, c.filters1, c.filters2], fanIn: 9 * c.filters2, fanOut: 9 * c.filters1 },
    { name: 'dec1/bias', shape: [c.filters1], fanIn: 0, fanOut: 0, bias: true },
    { name: 'dec2/kernel', shape: [3, 3, 1, c.filters1], fanIn: 9 * c.filters1, fanOut: 9 },
    { name: 'dec2/bias', shape: [1], fanIn: 0, fanOut: 0, bias: true },
  ];
}

/** Glorot-uniform kernels and zero biases from the config's seed, as plain arrays (backend-independent). */
export function initialWeights(c: TinyNetConfig): { name: string; shape: number[]; values: Float32Array }[] {
  const rnd = mulberry32(c.seed);
  return weightSpecs(c).map((s) => {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (!s.bias) {
      const limit = Math.sqrt(6 / (s.fanIn + s.fanOut));
      for (let i = 0; i < size; i++) values[i] = (2 * rnd() - 1) * limit;
    }
    return { name: s.name, shape: s.shape, values };
  });
}

/** The calibration autoencoder on the active tfjs backend. Dispose when done. */
export class TinyConvAutoencoder {
  readonly vars: tf.Variable[];
  private readonly optimizer: tf.Optimizer;

  constructor(readonly config: TinyNetConfig = CALIBRATION_NET) {
    this.vars = initialWeights(config).map((w) => tf.variable(tf.tensor(w.values, w.shape, 'float32'), true, undefined, 'float32'));
    this.optimizer = tf.train.adam(config.learningRate);
  }

  /** Reconstruction of a [n, 28, 28, 1] batch. */
  predict(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [k1, b1, k2, b2, kc, bc, k0, b0, kd1, bd1, kd2, bd2] = this.vars;
      const n = x.shape[0];
      const c = this.config;
      let h: tf.Tensor = tf.relu(tf.add(tf.conv2d(x, k1 as tf.Tensor4D, 2, 'same'), b1));
      h = tf.relu(tf.add(tf.conv2d(h as tf.Tensor4D, k2 as tf.Tensor4D, 2, 'same'), b2));
      const code = tf.add(tf.matMul(tf.reshape(h, [n, 7 * 7 * c.filters2]), kc as tf.Tensor2D), bc);
      h = tf.relu(tf.add(tf.matMul(code as tf.Tensor2D, k0 as tf.Tensor2D), b0));
      h = tf.reshape(h, [n, 7, 7, c.filters2]);
      h = tf.relu(tf.add(tf.conv2dTranspose(h as tf.Tensor4D, kd1 as tf.Tensor4D, [n, 14, 14, c.filters1], 2, 'same'), bd1));
      return tf.sigmoid(
        tf.add(tf.conv2dTranspose(h as tf.Tensor4D, kd2 as tf.Tensor4D, [n, IMAGE_SIZE, IMAGE_SIZE, 1], 2, 'same'), bd2),
      ) as tf.Tensor4D;
    });
  }

  /** One Adam step on the batch; resolves to the batch's loss before the update. */
  async step(batch: Float32Array, n: number): Promise<number> {
    const x = tf.tensor4d(batch, [n, IMAGE_SIZE, IMAGE_SIZE, 1]);
    try {
      const cost = this.optimizer.minimize(() => tf.losses.meanSquaredError(x, this.predict(x)) as tf.Scalar, true, this.vars);
      if (!cost) throw new Error('optimizer returned no loss');
      const [loss] = await cost.data();
      cost.dispose();
      return loss;
    } finally {
      x.dispose();
    }
  }

  dispose(): void {
    this.optimizer.dispose();
    for (const v of this.vars) v.dispose();
  }
}

/**
 * Trains the tiny net for `steps` Adam steps on fixed synthetic batches on the ACTIVE backend and returns the
 * loss of every step. The same config gives the same weights and batches on every backend, so the sequences
 * can be compared across backends.
 */
export async function trainLossSequence(steps: number, batchSize: number, config: TinyNetConfig = CALIBRATION_NET): Promise<number[]> {
  const data = syntheticImages(steps * batchSize, config.seed + 1);
  const net = new TinyConvAutoencoder(config);
  try {
    const losses: number[] = [];
    for (let s = 0; s < steps; s++)
      losses.push(await net.step(data.subarray(s * batchSize * PIXELS, (s + 1) * batchSize * PIXELS), batchSize));
    return losses;
  } finally {
    net.dispose();
  }
}
