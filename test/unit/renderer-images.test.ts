/**
 * The renderer's one image helper (pure, no browser): a batch of grey or RGB images of any size read as RGBA pixels,
 * and the size an image is shown at.
 */
import { describe, expect, it } from 'vitest';
import { channelsOf, displaySize, imageBytes, rgbaOf, runImageShape } from '../../src-renderer/src/lib/images';

describe('rgbaOf', () => {
  it('repeats a grey image on R, G and B, opaque, picking the batch’s image by index', () => {
    // Two 2×1 grey images: [10, 20] and [30, 40].
    const bytes = Uint8Array.from([10, 20, 30, 40]);
    expect([...rgbaOf(bytes, 1, { width: 2, height: 1 })]).toEqual([30, 30, 30, 255, 40, 40, 40, 255]);
    expect([...rgbaOf(bytes, 0, { width: 2, height: 1, channels: 1 })]).toEqual([10, 10, 10, 255, 20, 20, 20, 255]);
  });

  it('copies RGB channels-last, row by row, for a non-square image', () => {
    // One 1×2 (height 2, width 1) RGB image, then a second one.
    const bytes = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const shape = { width: 1, height: 2, channels: 3 };
    expect(imageBytes(shape)).toBe(6);
    expect([...rgbaOf(bytes, 0, shape)]).toEqual([1, 2, 3, 255, 4, 5, 6, 255]);
    expect([...rgbaOf(bytes, 1, shape)]).toEqual([7, 8, 9, 255, 10, 11, 12, 255]);
  });

  it('draws a short batch as black instead of throwing', () => {
    expect([...rgbaOf(Uint8Array.from([200]), 0, { width: 2, height: 1, channels: 3 })]).toEqual([200, 0, 0, 255, 0, 0, 0, 255]);
  });

  it('reads an unknown channel count as grey', () => {
    expect(channelsOf({ width: 1, height: 1, channels: 4 })).toBe(1);
    expect(channelsOf({ width: 1, height: 1 })).toBe(1);
  });
});

describe('displaySize', () => {
  it('keeps the aspect ratio, the longer side filling the box', () => {
    expect(displaySize({ width: 28, height: 28 }, 48)).toEqual({ width: 48, height: 48, pixelated: true });
    expect(displaySize({ width: 64, height: 32, channels: 3 }, 48)).toEqual({ width: 48, height: 24, pixelated: false });
    expect(displaySize({ width: 10, height: 40 }, 80)).toEqual({ width: 20, height: 80, pixelated: true });
  });
});

describe('runImageShape', () => {
  it('is Fashion-MNIST’s for an older run, the recorded one for images, none for features', () => {
    expect(runImageShape({})).toEqual({ width: 28, height: 28, channels: 1 });
    expect(runImageShape({ shape: { kind: 'images', height: 32, width: 24, channels: 3 } })).toEqual({
      width: 24,
      height: 32,
      channels: 3,
    });
    expect(runImageShape({ shape: { kind: 'features', dim: 128 } as never })).toBeNull();
  });
});
