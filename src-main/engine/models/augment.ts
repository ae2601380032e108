/**
 * Random affine augmentation of training images (DEC-DA / ASPC-DA on Fashion-MNIST: rotations within ±10°, shifts
 * within ±10 % of the width): each image of a batch is rotated about its centre by an angle drawn uniformly from
 * [−rotation, rotation] degrees and shifted by whole-or-fractional pixels drawn uniformly from [−shift, shift] × its
 * size, resampled bilinearly with zeros outside the image (scipy.ndimage.affine_transform, order 1,
 * mode 'grid-constant': the reference of test/unit/augment.test.ts). Seeded: the same seed gives the same stream of
 * transforms, so a training run is repeatable. Colour images (channels last) move as one: every channel of an image
 * by the same transform.
 */
import { Rng } from '../math/rng';
import type { AugmentParams } from './training-params';

export type { AugmentParams };

/** One image's transform: a rotation (radians, counter-clockwise on screen) and a shift (pixels, +x right, +y down). */
export interface AffineStep {
  angle: number;
  dx: number;
  dy: number;
}

/** Rows of images (row-major, `n` × height × width × channels) → a new array of their transformed copies. */
export type BatchAugmenter = (rows: Float32Array, n: number) => Float32Array;

export const isAugmenting = (p: AugmentParams): boolean => p.rotation > 0 || p.shift > 0;

/**
 * Writes into `out` the image `src` (height × width × channels, channels last) rotated by `angle` about its centre,
 * then shifted by (dx, dy): out(y, x, c) samples channel c of src at the inverse transform of (y, x), bilinearly,
 * reading 0 outside the image.
 */
export function affineTransformImage(
  src: Float32Array,
  out: Float32Array,
  height: number,
  width: number,
  step: AffineStep,
  channels = 1,
): void {
  if (channels !== 1) {
    transformChannels(src, out, height, width, step, channels);
    return;
  }
  const cy = (height - 1) / 2;
  const cx = (width - 1) / 2;
  const cos = Math.cos(step.angle);
  const sin = Math.sin(step.angle);
  const at = (y: number, x: number): number => (y >= 0 && y < height && x >= 0 && x < width ? src[y * width + x] : 0);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // undo the shift, then the rotation (on screen y points down, so a counter-clockwise turn is R(−angle) here)
      const u = x - step.dx - cx;
      const v = y - step.dy - cy;
      const sx = cos * u - sin * v + cx;
      const sy = sin * u + cos * v + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx;
      const bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx;
      out[y * width + x] = top * (1 - fy) + bottom * fy;
    }
  }
}

/** Each channel of a channels-last image through the grey transform (one plane at a time), then interleaved again. */
function transformChannels(src: Float32Array, out: Float32Array, height: number, width: number, step: AffineStep, channels: number): void {
  const pixels = height * width;
  const plane = new Float32Array(pixels);
  const moved = new Float32Array(pixels);
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < pixels; p++) plane[p] = src[p * channels + c];
    affineTransformImage(plane, moved, height, width, step);
    for (let p = 0; p < pixels; p++) out[p * channels + c] = moved[p];
  }
}

/**
 * An augmenter drawing each image's transform from `params` with a generator seeded by `seed`, for images of
 * height × width × channels (channels last; grey by default).
 */
export function affineAugmenter(params: AugmentParams, seed: number, height: number, width: number, channels = 1): BatchAugmenter {
  if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`channels must be an integer ≥ 1, got ${channels}`);
  const rng = new Rng(seed);
  const maxAngle = (params.rotation * Math.PI) / 180;
  const size = height * width * channels;
  return (rows, n) => {
    const out = new Float32Array(n * size);
    for (let i = 0; i < n; i++) {
      const step = {
        angle: rng.uniform(-maxAngle, maxAngle),
        dx: rng.uniform(-params.shift, params.shift) * width,
        dy: rng.uniform(-params.shift, params.shift) * height,
      };
      affineTransformImage(rows.subarray(i * size, (i + 1) * size), out.subarray(i * size, (i + 1) * size), height, width, step, channels);
    }
    return out;
  };
}
