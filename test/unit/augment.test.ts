import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src-main/engine/math/rng';
import { affineAugmenter, affineTransformImage, type AffineStep } from '../../src-main/engine/models/augment';
import { SYSTEM_PYTHON, skipUnless } from '../helpers/prereqs';

const H = 28;
const W = 28;

function randomImage(seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: H * W }, () => rng.random());
}

function transformed(src: Float32Array, step: AffineStep): Float32Array {
  const out = new Float32Array(H * W);
  affineTransformImage(src, out, H, W, step);
  return out;
}

// scipy's affine_transform maps output (row, col) to input M·o + offset; ours is src = R(o − c − t) + c.
const SCIPY = `
import sys, json, numpy as np
from scipy.ndimage import affine_transform
cases = json.loads(sys.stdin.read())
out = []
for c in cases:
    img = np.array(c['img'], dtype=np.float64).reshape(${H}, ${W})
    a, dx, dy = c['angle'], c['dx'], c['dy']
    M = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    ctr = np.array([(${H} - 1) / 2, (${W} - 1) / 2])
    offset = ctr - M @ (ctr + np.array([dy, dx]))
    res = affine_transform(img, M, offset=offset, order=1, mode='grid-constant', cval=0.0)
    out.append(res.ravel().tolist())
print(json.dumps(out))
`;

describe('affine augmentation', () => {
  it('is the identity at angle 0 and no shift, and moves by whole pixels exactly', () => {
    const img = randomImage(1);
    expect(Array.from(transformed(img, { angle: 0, dx: 0, dy: 0 }))).toEqual(Array.from(img));
    const moved = transformed(img, { angle: 0, dx: 2, dy: -1 });
    // out(y, x) = src(y + 1, x − 2): row 0..26 read rows 1..27; the last row and the first two columns are empty
    expect(moved[5 * W + 7]).toBeCloseTo(img[6 * W + 5], 6);
    expect(moved[27 * W + 10]).toBe(0);
    expect(moved[3 * W + 1]).toBe(0);
  });

  it('a quarter turn of a square image is a permutation of its pixels', () => {
    const img = randomImage(2);
    const turned = transformed(img, { angle: Math.PI / 2, dx: 0, dy: 0 });
    expect(Float32Array.from(turned).sort()).toEqual(Float32Array.from(img).sort());
    expect(Array.from(turned)).not.toEqual(Array.from(img));
  });

  it('draws the same transforms for the same seed, within the given ranges', () => {
    const img = randomImage(3);
    const batch = new Float32Array(4 * H * W);
    for (let i = 0; i < 4; i++) batch.set(img, i * H * W);
    const a = affineAugmenter({ rotation: 10, shift: 0.1 }, 7, H, W)(batch, 4);
    const b = affineAugmenter({ rotation: 10, shift: 0.1 }, 7, H, W)(batch, 4);
    const c = affineAugmenter({ rotation: 10, shift: 0.1 }, 8, H, W)(batch, 4);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    // four copies of one image, four different transforms
    expect(Array.from(a.subarray(0, H * W))).not.toEqual(Array.from(a.subarray(H * W, 2 * H * W)));
    expect(Array.from(batch.subarray(0, H * W))).toEqual(Array.from(img)); // the input is left alone
    const none = affineAugmenter({ rotation: 0, shift: 0 }, 7, H, W)(batch, 4);
    expect(Array.from(none)).toEqual(Array.from(batch));
  });

  it.skipIf(skipUnless('sklearn'))('matches scipy.ndimage.affine_transform (bilinear, zeros outside)', () => {
    const rng = new Rng(11);
    const cases = Array.from({ length: 12 }, (_, i) => ({
      img: Array.from(randomImage(100 + i)),
      angle: rng.uniform(-0.6, 0.6),
      dx: rng.uniform(-4, 4),
      dy: rng.uniform(-4, 4),
    }));
    const r = spawnSync(SYSTEM_PYTHON, ['-c', SCIPY], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`scipy reference failed: ${r.stderr}`);
    const expected = JSON.parse(r.stdout) as number[][];
    for (const [i, c] of cases.entries()) {
      const ours = transformed(Float32Array.from(c.img), c);
      const worst = Math.max(...expected[i].map((v, j) => Math.abs(v - ours[j])));
      expect(worst).toBeLessThan(1e-5);
    }
  });
});
