/**
 * The MNIST family in IDX files, read by readIdxSet: Fashion-MNIST's real files give what the built-in loader gives;
 * images of other sizes and RGB, folders named as MNIST, Kaggle and EMNIST name them, unlabelled sets, and one line
 * for every bad input.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { DatasetSource } from '../../src-main/engine/data/dataset';
import { DataError } from '../../src-main/engine/data/errors';
import { loadFashionMnist } from '../../src-main/engine/data/fashion-mnist';
import { idxRoleOf, parseIdx, readIdxSet } from '../../src-main/engine/data/formats/idx-set';
import { DEBIAN_DATA_DIR } from '../../src-main/engine/data/locate';
import { cleanupTmpDirs, expectedFloats, makeTmpDir, sameTypedArray, syntheticPixels } from '../helpers/data-fixtures';
import { skipUnless } from '../helpers/prereqs';

afterAll(cleanupTmpDirs);

/** An IDX file: the magic (type 0x08 unless given), the sizes, then the bytes. */
function idx(dims: number[], values: ArrayLike<number>, type = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, k) => header.writeUInt32BE(d, 4 + 4 * k));
  return Buffer.concat([header, Buffer.from(Array.from(values))]);
}

/** Writes `files` (name → content, gzipped when the name ends in .gz) into a fresh folder. */
async function folder(files: Record<string, Buffer>): Promise<string> {
  const dir = await makeTmpDir('cb-idx-set-');
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), name.endsWith('.gz') ? gzipSync(content) : content);
  return dir;
}

const source = (path: string, extra: Partial<DatasetSource> = {}): DatasetSource => ({ format: 'idx', path, ...extra });

async function errorOf(read: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof read === 'function' ? read() : read);
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    const message = (err as DataError).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a DataError');
}

// 5 training and 3 test images of 7×9 pixels: not MNIST's 28×28
const H = 7;
const W = 9;
const trainPixels = syntheticPixels(5, 11, H * W);
const testPixels = syntheticPixels(3, 12, H * W);
const trainLabels = [0, 4, 2, 4, 1];
const testLabels = [3, 0, 5];
const small = {
  trainImages: idx([5, H, W], trainPixels),
  trainLabels: idx([5], trainLabels),
  testImages: idx([3, H, W], testPixels),
  testLabels: idx([3], testLabels),
};

describe.skipIf(skipUnless('fashionMnist'))("Fashion-MNIST's real IDX files", () => {
  it('read by readIdxSet give the values and labels of the built-in loader', async () => {
    const builtIn = await loadFashionMnist({ dir: DEBIAN_DATA_DIR, env: {}, systemDirs: [] });
    const t10k = await readIdxSet(
      source(join(DEBIAN_DATA_DIR, 't10k-images-idx3-ubyte.gz'), { labels: join(DEBIAN_DATA_DIR, 't10k-labels-idx1-ubyte.gz') }),
    );
    expect(t10k.shape).toEqual({ kind: 'images', height: 28, width: 28, channels: 1 });
    expect(t10k.train.count).toBe(10_000);
    expect(sameTypedArray(t10k.train.values, builtIn.test.images)).toBe(true);
    expect(sameTypedArray(t10k.train.labels!, builtIn.test.labels)).toBe(true);
    expect(t10k.classNames).toEqual(Array.from({ length: 10 }, (_, i) => `class ${i}`));
    expect(t10k.test).toBeUndefined();

    const whole = await readIdxSet(source(DEBIAN_DATA_DIR));
    expect(whole.train.count).toBe(60_000);
    expect(whole.test!.count).toBe(10_000);
    expect(sameTypedArray(whole.train.values, builtIn.train.images)).toBe(true);
    expect(sameTypedArray(whole.train.labels!, builtIn.train.labels)).toBe(true);
    expect(sameTypedArray(whole.test!.values, builtIn.test.images)).toBe(true);
    expect(sameTypedArray(whole.test!.labels!, builtIn.test.labels)).toBe(true);
    expect(whole.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(whole.sha256).not.toBe(t10k.sha256);
    expect(whole.notes).toEqual([]);
  });
});

describe('readIdxSet', () => {
  it('reads a folder of 7×9 images under MNIST names, gzipped or not', async () => {
    for (const gz of ['', '.gz']) {
      const dir = await folder({
        [`train-images-idx3-ubyte${gz}`]: small.trainImages,
        [`train-labels-idx1-ubyte${gz}`]: small.trainLabels,
        [`t10k-images-idx3-ubyte${gz}`]: small.testImages,
        [`t10k-labels-idx1-ubyte${gz}`]: small.testLabels,
        'README.md': Buffer.from('not an IDX file'),
      });
      const read = await readIdxSet(source(dir));
      expect(read.shape).toEqual({ kind: 'images', height: H, width: W, channels: 1 });
      expect(read.train.count).toBe(5);
      expect(read.train.values).toEqual(expectedFloats(trainPixels));
      expect(Array.from(read.train.labels!)).toEqual(trainLabels);
      expect(read.test!.values).toEqual(expectedFloats(testPixels));
      expect(Array.from(read.test!.labels!)).toEqual(testLabels);
      expect(read.classNames).toEqual(['class 0', 'class 1', 'class 2', 'class 3', 'class 4', 'class 5']);
    }
  });

  it('hashes the decompressed content by role: gzip changes nothing, swapping the splits changes it', async () => {
    const files = (gz: string, swap = false) => ({
      [`train-images-idx3-ubyte${gz}`]: swap ? small.testImages : small.trainImages,
      [`train-labels-idx1-ubyte${gz}`]: swap ? small.testLabels : small.trainLabels,
      [`t10k-images-idx3-ubyte${gz}`]: swap ? small.trainImages : small.testImages,
      [`t10k-labels-idx1-ubyte${gz}`]: swap ? small.trainLabels : small.testLabels,
    });
    const plain = await readIdxSet(source(await folder(files(''))));
    const gzipped = await readIdxSet(source(await folder(files('.gz'))));
    const swapped = await readIdxSet(source(await folder(files('', true))));
    expect(gzipped.sha256).toBe(plain.sha256);
    expect(swapped.sha256).not.toBe(plain.sha256);
  });

  it("finds Kaggle's and EMNIST's names, prefers the uncompressed copy, and notes EMNIST's transposed images", async () => {
    const kaggle = await folder({
      'train-images.idx3-ubyte': small.trainImages,
      'train-images.idx3-ubyte.gz': idx([1, 2, 2], [0, 0, 0, 0]), // a different copy: the uncompressed one is read
      'train-labels.idx1-ubyte': small.trainLabels,
    });
    const read = await readIdxSet(source(kaggle));
    expect(read.train.count).toBe(5);
    expect(read.test).toBeUndefined();

    const emnist = await folder({
      'emnist-letters-train-images-idx3-ubyte.gz': small.trainImages,
      'emnist-letters-train-labels-idx1-ubyte.gz': small.trainLabels,
      'emnist-letters-test-images-idx3-ubyte.gz': small.testImages,
      'emnist-letters-test-labels-idx1-ubyte.gz': small.testLabels,
      'emnist-letters-mapping.txt': Buffer.from('1 65 97\n'),
    });
    const letters = await readIdxSet(source(emnist));
    expect(letters.test!.count).toBe(3);
    expect(letters.notes).toEqual([
      "EMNIST's IDX files store each image transposed (column by column): they are read as stored, so they show mirrored along the diagonal",
    ]);

    expect(idxRoleOf('emnist-byclass-test-labels-idx1-ubyte.gz')).toEqual({ split: 'test', kind: 'labels' });
    expect(idxRoleOf('T10K-IMAGES-IDX3-UBYTE')).toEqual({ split: 'test', kind: 'images' });
    expect(idxRoleOf('train_images_idx3_ubyte')).toEqual({ split: 'train', kind: 'images' });
    expect(idxRoleOf('mytrain-images-idx3-ubyte')).toBeUndefined();
    expect(idxRoleOf('train-images-idx3-ubyte.csv')).toBeUndefined();
  });

  it('reads one file of images, unlabelled or with separate labels and test files, and RGB images', async () => {
    const dir = await folder({ 'a.idx': small.trainImages, 'a-labels.idx': small.trainLabels, 'b.idx.gz': small.testImages });
    const unlabelled = await readIdxSet(source(join(dir, 'a.idx'), { test: join(dir, 'b.idx.gz') }));
    expect(unlabelled.train.labels).toBeUndefined();
    expect(unlabelled.test!.labels).toBeUndefined();
    expect(unlabelled.classNames).toBeUndefined();
    expect(unlabelled.test!.values).toEqual(expectedFloats(testPixels));

    const labelled = await readIdxSet(source(join(dir, 'a.idx'), { labels: join(dir, 'a-labels.idx') }));
    expect(Array.from(labelled.train.labels!)).toEqual(trainLabels);

    const onlyImages = await readIdxSet(source(await folder({ 'train-images-idx3-ubyte': small.trainImages })));
    expect(onlyImages.train.labels).toBeUndefined();

    const rgbPixels = syntheticPixels(2, 5, 3 * 4 * 3);
    const rgbDir = await folder({ 'rgb.idx': idx([2, 3, 4, 3], rgbPixels) });
    const rgb = await readIdxSet(source(join(rgbDir, 'rgb.idx')));
    expect(rgb.shape).toEqual({ kind: 'images', height: 3, width: 4, channels: 3 });
    expect(rgb.train.values).toEqual(expectedFloats(rgbPixels));
  });

  it('refuses each bad file with one line naming it', async () => {
    const cases: [Buffer, string, 'images' | 'labels'][] = [
      [Buffer.from([0, 0, 8]), 'truncated IDX images file: 3 bytes, shorter than its magic number', 'images'],
      [Buffer.from('PK\x03\x04abcdefghijkl'), 'not an IDX file: wrong magic number 50 4b 03 04, expected 00 00 08 03 for images', 'images'],
      [small.trainLabels, 'this is an IDX labels file (1 dimension), expected images (3 dimensions: N×H×W)', 'images'],
      [small.trainImages, 'this is an IDX images file (3 dimensions), expected labels (1 dimension)', 'labels'],
      [
        idx([2, 2, 2], new Array(32).fill(0), 0x0d),
        'the IDX file holds float32 values: only unsigned bytes (type 0x08, as in MNIST) are read',
        'images',
      ],
      [idx([2, 2], [1, 2, 3, 4]), 'IDX images file with 2 dimensions, expected 3 (N×H×W) or 4 (N×H×W×C)', 'images'],
      [small.trainImages.subarray(0, 10), 'truncated IDX images file: 10 bytes, shorter than the 16-byte header', 'images'],
      [
        small.trainImages.subarray(0, small.trainImages.length - 70),
        'truncated IDX images file: the header announces 5 images (331 bytes) but the file has 261 bytes (3 whole images)',
        'images',
      ],
      [
        Buffer.concat([small.trainLabels, Buffer.from([1])]),
        'IDX labels file has 1 unexpected bytes after the 5 labels the header announces',
        'labels',
      ],
      [idx([1, 2000, 2], []), 'images of 2000×2 pixels: each side must be 1..1024', 'images'],
      [idx([1, 2, 2, 4], new Array(16).fill(0)), 'images with 4 channels: expected 1 (grayscale) or 3 (RGB)', 'images'],
      [idx([20_000_000, 1, 1], []), 'the header announces 20000000 images, more than the 10000000 a data set may have', 'images'],
    ];
    for (const [bytes, problem, what] of cases) expect(await errorOf(() => parseIdx(bytes, 'f.idx', what))).toBe(`f.idx: ${problem}`);

    const dir = await folder({
      'a.idx': small.trainImages,
      'few-labels.idx': idx([4], [0, 1, 2, 3]),
      'empty.idx': idx([0, 2, 2], []),
      'other-size.idx': idx([1, 3, 3], new Array(9).fill(0)),
      'labels.idx': small.trainLabels,
      'nothing.idx': Buffer.alloc(0),
    });
    const at = (name: string): string => join(dir, name);
    expect(await errorOf(readIdxSet(source(at('a.idx'), { labels: at('few-labels.idx') })))).toBe(
      `${at('few-labels.idx')}: 4 labels but a.idx holds 5 images`,
    );
    expect(await errorOf(readIdxSet(source(at('empty.idx'))))).toBe(`${at('empty.idx')}: holds no images`);
    expect(await errorOf(readIdxSet(source(at('nothing.idx'))))).toBe(`${at('nothing.idx')}: file is empty`);
    expect(await errorOf(readIdxSet(source(at('missing.idx'))))).toBe(`${at('missing.idx')}: file not found`);
    expect(await errorOf(readIdxSet(source(at('a.idx'), { test: at('other-size.idx') })))).toBe(
      `${at('other-size.idx')}: the test rows are 3×3×1 but the training rows 7×9×1`,
    );
    expect(await errorOf(readIdxSet(source(at('a.idx'), { labels: at('labels.idx'), test: at('a.idx') })))).toBe(
      `${at('a.idx')}: the test split has no labels while the training split (${at('a.idx')}) has: give both or neither`,
    );
    expect(await errorOf(readIdxSet(source(at('a.idx'), { testLabels: at('labels.idx') })))).toBe(
      `${at('labels.idx')}: test labels were given without test images`,
    );
  });

  it('refuses a folder without training images, with several candidates for one, or with stray test labels', async () => {
    const none = await folder({ 'README.md': Buffer.from('hi'), 't10k-images-idx3-ubyte': small.testImages });
    expect(await errorOf(readIdxSet(source(none)))).toBe(
      `${none}: holds no IDX training images (a file named like train-images-idx3-ubyte[.gz]); its files: README.md, t10k-images-idx3-ubyte`,
    );
    const emnist = await folder({
      'emnist-digits-train-images-idx3-ubyte.gz': small.trainImages,
      'emnist-letters-train-images-idx3-ubyte.gz': small.trainImages,
    });
    expect(await errorOf(readIdxSet(source(emnist)))).toBe(
      `${emnist}: several files could be the training images: emnist-digits-train-images-idx3-ubyte, emnist-letters-train-images-idx3-ubyte: give one images file as the path (with its labels and test files)`,
    );
    const stray = await folder({ 'train-images-idx3-ubyte': small.trainImages, 't10k-labels-idx1-ubyte': small.testLabels });
    expect(await errorOf(readIdxSet(source(stray)))).toBe(`${stray}: holds test labels (t10k-labels-idx1-ubyte) but no test images`);
    const labelledOnlyTrain = await folder({
      'train-images-idx3-ubyte': small.trainImages,
      'train-labels-idx1-ubyte': small.trainLabels,
      't10k-images-idx3-ubyte': small.testImages,
    });
    expect(await errorOf(readIdxSet(source(labelledOnlyTrain)))).toBe(
      `${join(labelledOnlyTrain, 't10k-images-idx3-ubyte')}: the test split has no labels while the training split (${join(labelledOnlyTrain, 'train-images-idx3-ubyte')}) has: give both or neither`,
    );
    expect(await errorOf(readIdxSet(source(labelledOnlyTrain, { labels: '/x' })))).toBe(
      `${labelledOnlyTrain}: a folder's IDX files are found by their names: no separate labels or test file (/x) may be given with it`,
    );
    // a link to a folder named like an images file is not a file
    const linked = await folder({});
    await mkdir(join(linked, 'sub'));
    await symlink(join(linked, 'sub'), join(linked, 'train-images-idx3-ubyte'));
    expect(await errorOf(readIdxSet(source(linked)))).toBe(`${join(linked, 'train-images-idx3-ubyte')}: is a folder, not a file`);
  });
});
