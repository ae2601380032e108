/** Tests against the real Fashion-MNIST (Debian's dataset-fashion-mnist in /usr/share/datasets/fashion-mnist). */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEBIAN_DATA_DIR,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_SHA256,
  loadFashionMnist,
  pixelStats,
  subset,
  type FashionMnist,
} from '../../src-main/engine/data';
import { skipUnless } from '../helpers/prereqs';

describe.skipIf(skipUnless('fashionMnist'))('real Fashion-MNIST', () => {
  let data: FashionMnist;
  beforeAll(async () => {
    data = await loadFashionMnist({ dir: DEBIAN_DATA_DIR });
  });

  it('has 60000 training and 10000 test images of 28×28', () => {
    const { train, test } = data;
    expect(train.count).toBe(60000);
    expect(test.count).toBe(10000);
    for (const s of [train, test]) {
      expect([s.height, s.width]).toEqual([28, 28]);
      expect(s.images).toBeInstanceOf(Float32Array);
      expect(s.images.length).toBe(s.count * 784);
      expect(s.labels).toBeInstanceOf(Uint8Array);
      expect(s.labels.length).toBe(s.count);
    }
  });

  it('labels are 0..9, every class present (6000 each in train, 1000 each in test)', () => {
    for (const [set, per] of [
      [data.train, 6000],
      [data.test, 1000],
    ] as const) {
      const counts = new Array<number>(FASHION_MNIST_CLASSES.length).fill(0);
      for (const l of set.labels) counts[l]++;
      expect(counts).toEqual(new Array(10).fill(per));
    }
  });

  it('pixels are normalised to [0,1]: train min 0, max 1, mean ≈ 0.286', () => {
    const stats = pixelStats(data.train);
    expect(stats.min).toBe(0);
    expect(stats.max).toBe(1);
    expect(stats.mean).toBeCloseTo(0.286, 3);
    const t = pixelStats(data.test);
    expect(t.min).toBe(0);
    expect(t.max).toBe(1);
  });

  it("the checksums of Debian's files (decompressed) are the official ones", () => {
    expect(data.info).toMatchObject({ name: 'fashion-mnist', dir: DEBIAN_DATA_DIR, format: 'idx' });
    expect(data.info.checksums).toEqual({ ...FASHION_MNIST_SHA256 });
    expect(data.info.checksums).toEqual({
      'train-images-idx3-ubyte': 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
      'train-labels-idx1-ubyte': 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
      't10k-images-idx3-ubyte': '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
      't10k-labels-idx1-ubyte': '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
    });
  });

  it('limits keep the first images, identical to subset() of the full load', async () => {
    const small = await loadFashionMnist({ dir: DEBIAN_DATA_DIR, trainLimit: 5000, testLimit: 1000 });
    expect(small.train.count).toBe(5000);
    expect(small.test.count).toBe(1000);
    expect(small.info.checksums).toEqual(data.info.checksums);
    const ref = subset(data.train, 5000);
    expect(ref.images.buffer).toBe(data.train.images.buffer); // a view, no copy
    expect(Buffer.from(small.train.images.buffer).equals(Buffer.from(ref.images.buffer, 0, ref.images.byteLength))).toBe(true);
    expect(Array.from(small.test.labels)).toEqual(Array.from(data.test.labels.subarray(0, 1000)));
    // the first training image is an ankle boot (label 9)
    expect(FASHION_MNIST_CLASSES[small.train.labels[0]]).toBe('Ankle boot');
  });
});
