/**
 * Affine augmentation of colour images (issue 21): every channel of a channels-last image moves by the same
 * transform, exactly as a grey image would; grey images are unchanged by the channels parameter.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src-main/engine/math/rng';
import { affineAugmenter, affineTransformImage, type AffineStep } from '../../src-main/engine/models/augment';

const H = 12;
const W = 9;

const plane = (rng: Rng): Float32Array => Float32Array.from({ length: H * W }, () => rng.random());

/** Three grey planes interleaved into one channels-last image. */
function interleave(planes: Float32Array[]): Float32Array {
  const out = new Float32Array(H * W * planes.length);
  planes.forEach((p, c) => p.forEach((v, i) => (out[i * planes.length + c] = v)));
  return out;
}

function grey(src: Float32Array, step: AffineStep): Float32Array {
  const out = new Float32Array(H * W);
  affineTransformImage(src, out, H, W, step);
  return out;
}

describe('affine augmentation of colour images', () => {
  it('moves each channel as the grey transform moves that plane', () => {
    const rng = new Rng(3);
    const planes = [plane(rng), plane(rng), plane(rng)];
    const step = { angle: 0.3, dx: 1.25, dy: -2.5 };
    const out = new Float32Array(H * W * 3);
    affineTransformImage(interleave(planes), out, H, W, step, 3);
    expect(Array.from(out)).toEqual(Array.from(interleave(planes.map((p) => grey(p, step)))));
  });

  it('an RGB augmenter draws the same transforms as a grey one of the same seed, applied to every channel', () => {
    const rng = new Rng(4);
    const n = 4;
    const greyRows = new Float32Array(n * H * W);
    const colourPlanes = Array.from({ length: n }, () => [plane(rng), plane(rng), plane(rng)]);
    const rgbRows = new Float32Array(n * H * W * 3);
    colourPlanes.forEach((planes, i) => rgbRows.set(interleave(planes), i * H * W * 3));
    const params = { rotation: 10, shift: 0.1 };
    const rgb = affineAugmenter(params, 7, H, W, 3)(rgbRows, n);
    // channel c of every image, through the grey augmenter with the same seed
    for (let c = 0; c < 3; c++) {
      colourPlanes.forEach((planes, i) => greyRows.set(planes[c], i * H * W));
      const expected = affineAugmenter(params, 7, H, W)(greyRows, n);
      for (let i = 0; i < n * H * W; i++) expect(rgb[i * 3 + c]).toBe(expected[i]);
    }
    expect(() => affineAugmenter(params, 7, H, W, 0)).toThrow(/channels must be an integer ≥ 1, got 0/);
  });
});
