import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, loadFashionMnist, parseIdxImages, parseIdxLabels, pixelStats, readDataFile, subset } from '../../src-main/engine/data';
import type { ImageSet } from '../../src-main/engine/types';
import {
  IDX_NAMES,
  cleanupTmpDirs,
  expectedFloats,
  idxImagesBuffer,
  idxLabelsBuffer,
  makeTmpDir,
  syntheticLabels,
  syntheticPixels,
  writeFixture,
  writeIdxDataset,
} from '../helpers/data-fixtures';

afterAll(cleanupTmpDirs);

/** Loads only from `dir` (no env, no system folders). */
const load = (dir: string, extra: { trainLimit?: number; testLimit?: number } = {}) =>
  loadFashionMnist({ dir, env: {}, systemDirs: [], ...extra });

async function loadError(dir: string): Promise<DataError> {
  try {
    await load(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    return err as DataError;
  }
  throw new Error('expected the load to fail');
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('IDX reading', () => {
  it.each([false, true])('loads a valid dataset (gzip: %s) and normalises pixels to [0,1] Float32', async (gzip) => {
    const dir = await makeTmpDir();
    const ds = await writeIdxDataset(dir, { trainCount: 12, testCount: 5, gzip });
    const { train, test, info } = await load(dir);

    expect(train.count).toBe(12);
    expect(test.count).toBe(5);
    expect([train.height, train.width]).toEqual([28, 28]);
    expect(train.images).toBeInstanceOf(Float32Array);
    expect(train.images.length).toBe(12 * 784);
    expect(train.images).toEqual(expectedFloats(ds.train.pixels));
    expect(test.images).toEqual(expectedFloats(ds.test.pixels));
    expect(Array.from(train.labels)).toEqual(Array.from(ds.train.labels));
    expect(Array.from(test.labels)).toEqual(Array.from(ds.test.labels));

    expect(info.name).toBe('fashion-mnist');
    expect(info.format).toBe('idx');
    expect(info.dir).toBe(dir);
    // checksums of the decompressed content, keyed without .gz, identical for gz and plain files
    expect(Object.keys(info.checksums).sort()).toEqual(Object.values(IDX_NAMES).sort());
    expect(info.checksums[IDX_NAMES.trainImages]).toBe(sha(idxImagesBuffer(ds.train.pixels)));
    expect(info.checksums[IDX_NAMES.testLabels]).toBe(sha(idxLabelsBuffer(ds.test.labels)));

    const stats = pixelStats(train);
    expect(stats.min).toBe(0);
    expect(stats.max).toBe(1);
  });

  it('applies trainLimit/testLimit after validating the whole files', async () => {
    const dir = await makeTmpDir();
    const ds = await writeIdxDataset(dir, { trainCount: 12, testCount: 5 });
    const { train, test } = await load(dir, { trainLimit: 4, testLimit: 2 });
    expect(train.count).toBe(4);
    expect(train.images.length).toBe(4 * 784);
    expect(train.labels.length).toBe(4);
    expect(train.images).toEqual(expectedFloats(ds.train.pixels.subarray(0, 4 * 784)));
    expect(test.count).toBe(2);
    // a limit beyond the count keeps everything
    expect((await load(dir, { trainLimit: 1000 })).train.count).toBe(12);
    await expect(load(dir, { trainLimit: -1 })).rejects.toThrow(RangeError);
    await expect(load(dir, { testLimit: 1.5 })).rejects.toThrow(RangeError);

    // a bad label after the limit is still an error: limits never hide a broken file
    const labels = syntheticLabels(12);
    labels[10] = 12;
    await writeFixture(dir, IDX_NAMES.trainLabels, idxLabelsBuffer(labels));
    await expect(load(dir, { trainLimit: 4 })).rejects.toThrow(/label 12 of item 10 is out of range/);
  });

  describe('bad input gives a DataError naming the file and the problem', () => {
    async function withBroken(name: string, content: Buffer, opts: { gzip?: boolean; gzipDataset?: boolean } = {}) {
      const dir = await makeTmpDir();
      await writeIdxDataset(dir, { trainCount: 12, testCount: 5, gzip: opts.gzipDataset ?? opts.gzip });
      const path = await writeFixture(dir, name, content, { gzip: opts.gzip });
      const err = await loadError(dir);
      expect(err.file).toBe(path);
      expect(err.message).toContain(path);
      return err;
    }
    const px = syntheticPixels(12);

    it('truncated images file', async () => {
      const err = await withBroken(IDX_NAMES.trainImages, idxImagesBuffer(px, { truncateBy: 100 }));
      expect(err.message).toMatch(
        /truncated IDX images file: the header announces 12 images \(9424 bytes\) but the file has 9324 bytes \(11 whole images\)/,
      );
    });

    it('images file shorter than its header', async () => {
      const err = await withBroken(IDX_NAMES.testImages, idxImagesBuffer(px).subarray(0, 10));
      expect(err.message).toMatch(/truncated.*shorter than the 16-byte header/);
    });

    it('truncated labels file', async () => {
      const err = await withBroken(IDX_NAMES.trainLabels, idxLabelsBuffer(syntheticLabels(12), { truncateBy: 3 }));
      expect(err.message).toMatch(/truncated IDX labels file: the header announces 12 labels but the file holds 9/);
    });

    it('extra bytes after the data', async () => {
      const err = await withBroken(IDX_NAMES.trainImages, idxImagesBuffer(px, { extraBytes: 5 }));
      expect(err.message).toMatch(/5 unexpected bytes after the 12 images/);
    });

    it('wrong magic number (images)', async () => {
      const err = await withBroken(IDX_NAMES.trainImages, idxImagesBuffer(px, { magic: 2049 }));
      expect(err.message).toMatch(/wrong magic number 2049 \(0x00000801\), expected 2051 \(0x00000803\).*looks like a labels file/);
    });

    it('wrong magic number (labels)', async () => {
      const err = await withBroken(IDX_NAMES.testLabels, idxLabelsBuffer(syntheticLabels(5), { magic: 1234 }));
      expect(err.message).toMatch(/wrong magic number 1234 .*expected 2049/);
    });

    it('image/label count mismatch', async () => {
      const dir = await makeTmpDir();
      await writeIdxDataset(dir, { trainCount: 12 });
      await writeFixture(dir, IDX_NAMES.trainLabels, idxLabelsBuffer(syntheticLabels(11)));
      const err = await loadError(dir);
      expect(err.file).toBe(join(dir, IDX_NAMES.trainImages));
      expect(err.message).toMatch(/image\/label count mismatch: 12 images but 11 labels/);
      expect(err.message).toContain(join(dir, IDX_NAMES.trainLabels));
    });

    it('wrong image size', async () => {
      const err = await withBroken(IDX_NAMES.trainImages, idxImagesBuffer(syntheticPixels(3, 1, 32 * 32), { rows: 32, cols: 32 }));
      expect(err.message).toMatch(/wrong image size 32×32, expected 28×28/);
    });

    it('label out of range', async () => {
      const labels = syntheticLabels(12);
      labels[7] = 10;
      const err = await withBroken(IDX_NAMES.trainLabels, idxLabelsBuffer(labels), { gzip: true });
      expect(err.message).toMatch(/label 10 of item 7 is out of range \(expected 0\.\.9\)/);
    });

    it('empty file', async () => {
      const err = await withBroken(IDX_NAMES.testImages, Buffer.alloc(0));
      expect(err.message).toMatch(/file is empty/);
    });

    it('empty gzipped file', async () => {
      const err = await withBroken(IDX_NAMES.testLabels, Buffer.alloc(0), { gzip: true });
      expect(err.message).toMatch(/file is empty \(after decompression\)/);
    });

    it('corrupt gzip: truncated', async () => {
      const dir = await makeTmpDir();
      await writeIdxDataset(dir, { gzip: true });
      const path = join(dir, `${IDX_NAMES.trainImages}.gz`);
      const gz = await readFile(path);
      await writeFile(path, gz.subarray(0, Math.floor(gz.length / 2)));
      const err = await loadError(dir);
      expect(err.file).toBe(path);
      expect(err.message).toMatch(/corrupt gzip data: .*unexpected end of file.*truncated/);
    });

    it('corrupt gzip: damaged bytes', async () => {
      const dir = await makeTmpDir();
      await writeIdxDataset(dir, { gzip: true });
      const path = join(dir, `${IDX_NAMES.trainImages}.gz`);
      const gz = Buffer.from(await readFile(path));
      for (let i = 20; i < gz.length - 8; i += 7) gz[i] ^= 0x5a;
      await writeFile(path, gz);
      const err = await loadError(dir);
      expect(err.file).toBe(path);
      expect(err.message).toMatch(/corrupt gzip data/);
    });

    it('corrupt gzip: a .gz file that is not gzip data', async () => {
      const dir = await makeTmpDir();
      await writeIdxDataset(dir, { gzip: true });
      const path = join(dir, `${IDX_NAMES.testLabels}.gz`);
      await writeFile(path, 'this is not gzip');
      const err = await loadError(dir);
      expect(err.file).toBe(path);
      expect(err.message).toMatch(/corrupt gzip data: the file does not start with the gzip signature/);
    });
  });

  it('decompresses gzip data even without the .gz suffix', async () => {
    const dir = await makeTmpDir();
    const path = await writeFixture(dir, 'x', gzipSync(idxLabelsBuffer([1, 2, 3])));
    const content = await readDataFile(path);
    expect(content.gzipped).toBe(true);
    expect(Array.from(parseIdxLabels(content.data, path))).toEqual([1, 2, 3]);
  });

  it('parseIdxImages returns a view of the buffer', () => {
    const buf = idxImagesBuffer(syntheticPixels(2));
    const raw = parseIdxImages(buf, 'mem');
    expect(raw.count).toBe(2);
    expect(raw.pixels.buffer).toBe(buf.buffer);
  });
});

describe('helpers', () => {
  const set: ImageSet = {
    images: Float32Array.from([0, 0.5, 1, 0.25, 0.25, 0.5, 0, 0]),
    labels: Uint8Array.from([3, 7]),
    count: 2,
    height: 2,
    width: 2,
  };

  it('pixelStats gives min, max and mean', () => {
    expect(pixelStats(set)).toEqual({ min: 0, max: 1, mean: 2.5 / 8 });
    expect(pixelStats({ ...set, images: new Float32Array(0), labels: new Uint8Array(0), count: 0 })).toEqual({ min: 0, max: 0, mean: 0 });
  });

  it('subset takes the first N items without copying', () => {
    const s = subset(set, 1);
    expect(s.count).toBe(1);
    expect(Array.from(s.images)).toEqual([0, 0.5, 1, 0.25]);
    expect(Array.from(s.labels)).toEqual([3]);
    expect(s.images.buffer).toBe(set.images.buffer);
    expect(s.labels.buffer).toBe(set.labels.buffer);
    expect(subset(set, 2)).toBe(set);
    expect(subset(set, undefined)).toBe(set);
    expect(subset(set, 0).count).toBe(0);
    expect(() => subset(set, -1)).toThrow(RangeError);
  });
});
