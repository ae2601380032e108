/** The image-folder reader and its preview, on folders of real PNG, JPEG and WebP files written here with sharp. */
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import sharp, { type PngOptions } from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DatasetSource, ReadData } from '../../src-main/engine/data/dataset';
import { DEBIAN_DATA_DIR, FASHION_MNIST_CLASSES, readIdxSplit } from '../../src-main/engine/data/index';
import { decodeImage } from '../../src-main/engine/data/formats/image-file';
import { previewImageFolder, readImageFolder } from '../../src-main/engine/data/formats/image-folder';
import { compareNames } from '../../src-main/engine/data/formats/image-folder-scan';
import { decodeSimplePng, simplePngHeader } from '../../src-main/engine/data/formats/png-fast';
import { cleanupTmpDirs, makeTmpDir } from '../helpers/data-fixtures';
import { skipUnless } from '../helpers/prereqs';

afterAll(cleanupTmpDirs);

type Format = 'png' | 'jpeg' | 'webp';

/** Writes `pixels` (bytes, channels last) as an image file; 1 and 2 channels are stored as gray (+ alpha) where the format can. */
async function writeImage(
  path: string,
  pixels: ArrayLike<number>,
  height: number,
  width: number,
  channels: 1 | 2 | 3 | 4,
  format: Format = 'png',
) {
  await mkdir(join(path, '..'), { recursive: true });
  let image = sharp(Buffer.from(Array.from(pixels)), { raw: { height, width, channels } });
  if (channels <= 2) image = image.toColourspace('b-w');
  const encoded = format === 'png' ? image.png() : format === 'jpeg' ? image.jpeg({ quality: 95 }) : image.webp({ quality: 95 });
  await encoded.toFile(path);
}

/** A constant image of `value` (one entry per channel). */
const solid = (path: string, height: number, width: number, value: number[], format: Format = 'png') =>
  writeImage(path, Array.from({ length: height * width }, () => value).flat(), height, width, value.length as 1 | 3, format);

const folder = (path: string, extra: Partial<DatasetSource> = {}): DatasetSource => ({ format: 'folder', path, ...extra });
const read = (path: string, extra: Partial<DatasetSource> = {}, options = {}) => readImageFolder(folder(path, extra), options);

/** One row's values, as bytes again. */
const rowBytes = (data: ReadData, row: number, split: 'train' | 'test' = 'train'): number[] => {
  const size = data.shape.kind === 'images' ? data.shape.height * data.shape.width * data.shape.channels : 0;
  return Array.from(data[split]!.values.subarray(row * size, (row + 1) * size), (v) => Math.round(v * 255));
};

describe.skipIf(skipUnless('fashionMnist'))('a class folder of real Fashion-MNIST test images', () => {
  const COUNT = 300;
  const folderName = (label: number): string => FASHION_MNIST_CLASSES[label].replace('/', '_');
  let dir: string;
  let idx: Awaited<ReturnType<typeof readIdxSplit>>['set'];

  beforeAll(async () => {
    idx = (
      await readIdxSplit(join(DEBIAN_DATA_DIR, 't10k-images-idx3-ubyte.gz'), join(DEBIAN_DATA_DIR, 't10k-labels-idx1-ubyte.gz'), COUNT)
    ).set;
    dir = await makeTmpDir('cb-folder-fm-');
    for (let i = 0; i < COUNT; i++) {
      const pixels = Array.from(idx.images.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255));
      await writeImage(join(dir, folderName(idx.labels[i]), `${String(i).padStart(4, '0')}.png`), pixels, 28, 28, 1);
    }
  });

  it('gives exactly the IDX pixel values and labels, class folders by name then files by name', async () => {
    const data = await read(dir);
    const classNames = [...FASHION_MNIST_CLASSES].map((_, l) => folderName(l)).sort(compareNames);
    expect(data.classNames).toEqual(classNames);
    expect(data.shape).toEqual({ kind: 'images', height: 28, width: 28, channels: 1 });
    expect(data.train.count).toBe(COUNT);
    expect(data.test).toBeUndefined();
    expect(data.notes).toEqual([]);
    // The expected order: images grouped by class folder (sorted by name), each group in file (= IDX) order.
    const order = Array.from({ length: COUNT }, (_, i) => i).sort(
      (a, b) => compareNames(folderName(idx.labels[a]), folderName(idx.labels[b])) || a - b,
    );
    order.forEach((i, row) => {
      expect(data.train.values.subarray(row * 784, (row + 1) * 784)).toEqual(idx.images.subarray(i * 784, (i + 1) * 784));
      expect(classNames[data.train.labels![row]]).toBe(folderName(idx.labels[i]));
    });
  });

  it('reads the same images as lossy JPEG and WebP close to the originals', async () => {
    for (const format of ['jpeg', 'webp'] as const) {
      const lossy = await makeTmpDir(`cb-folder-${format}-`);
      for (let i = 0; i < 40; i++) {
        const pixels = Array.from(idx.images.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255));
        await writeImage(join(lossy, `${String(i).padStart(2, '0')}.${format === 'jpeg' ? 'jpg' : 'webp'}`), pixels, 28, 28, 1, format);
      }
      // WebP has no grayscale mode: its images are stored as colour, so gray is asked for here.
      const data = await read(lossy, format === 'webp' ? { channels: 1 } : {});
      expect(data.shape).toEqual({ kind: 'images', height: 28, width: 28, channels: 1 });
      expect(data.train.count).toBe(40);
      expect(data.classNames).toBeUndefined();
      let absError = 0;
      for (let k = 0; k < 40 * 784; k++) absError += Math.abs(data.train.values[k] - idx.images[k]);
      expect(absError / (40 * 784)).toBeLessThan(0.02);
    }
  });
});

describe('pixels', () => {
  it('an RGB class folder gives 3 channels and the exact colours', async () => {
    const dir = await makeTmpDir('cb-folder-rgb-');
    const colours: Record<string, number[]> = { blue: [0, 0, 255], green: [0, 200, 0], red: [255, 0, 0], yellow: [250, 240, 10] };
    for (const [name, colour] of Object.entries(colours)) {
      for (let i = 0; i < 3; i++) await solid(join(dir, name, `${i}.png`), 16, 16, colour);
    }
    const data = await read(dir);
    expect(data.shape).toEqual({ kind: 'images', height: 16, width: 16, channels: 3 });
    expect(data.classNames).toEqual(['blue', 'green', 'red', 'yellow']);
    expect(Array.from(data.train.labels!)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    for (let row = 0; row < 12; row++) {
      const expected = colours[data.classNames![data.train.labels![row]]];
      expect(rowBytes(data, row)).toEqual(Array.from({ length: 256 }, () => expected).flat());
    }
  });

  it('a grayscale image among colour ones becomes r = g = b, and the note says so', async () => {
    const dir = await makeTmpDir('cb-folder-mixed-colour-');
    await solid(join(dir, 'a.png'), 4, 4, [10, 20, 30]);
    await solid(join(dir, 'b.png'), 4, 4, [77]);
    const data = await read(dir);
    expect(data.shape).toEqual({ kind: 'images', height: 4, width: 4, channels: 3 });
    expect(rowBytes(data, 1)).toEqual(new Array(48).fill(77));
    expect(data.notes).toEqual(['converted 1 grayscale image to colour (r = g = b): 1 image has colour']);
    const gray = await read(dir, { channels: 1 });
    expect(gray.shape).toMatchObject({ channels: 1 });
    expect(rowBytes(gray, 1)).toEqual(new Array(16).fill(77));
    expect(gray.notes).toEqual(['converted 1 colour image to grayscale: grayscale was asked for']);
  });

  it('a folder of gray PNGs gives 1 channel', async () => {
    const dir = await makeTmpDir('cb-folder-gray-');
    await solid(join(dir, 'a.png'), 5, 3, [0]);
    await solid(join(dir, 'b.png'), 5, 3, [255]);
    const data = await read(dir);
    expect(data.shape).toEqual({ kind: 'images', height: 5, width: 3, channels: 1 });
    expect(Array.from(data.train.values)).toEqual([...new Array(15).fill(0), ...new Array(15).fill(1)]);
  });

  it('transparency is flattened onto black', async () => {
    const dir = await makeTmpDir('cb-folder-alpha-');
    await writeImage(join(dir, 'a.png'), [200, 100, 50, 255, 200, 100, 50, 0], 1, 2, 4);
    const data = await read(dir);
    expect(rowBytes(data, 0)).toEqual([200, 100, 50, 0, 0, 0]);
    expect(data.notes).toEqual(['flattened 1 image with transparency onto black']);
  });

  it('images of other sizes are stretched to the most common size, with a note', async () => {
    const dir = await makeTmpDir('cb-folder-sizes-');
    for (let i = 0; i < 5; i++) await solid(join(dir, `a${i}.png`), 8, 8, [40]);
    await solid(join(dir, 'b0.png'), 12, 10, [90]);
    await solid(join(dir, 'b1.png'), 3, 20, [90]);
    const data = await read(dir);
    expect(data.shape).toEqual({ kind: 'images', height: 8, width: 8, channels: 1 });
    expect(data.train.count).toBe(7);
    expect(rowBytes(data, 6)).toEqual(new Array(64).fill(90));
    expect(data.notes).toEqual([
      'resized 2 images of other sizes to 8×8 (the most common size, 5 of 7 images; stretched to fill, the aspect ratio not kept)',
    ]);
    const asked = await read(dir, { size: { height: 6, width: 4 } });
    expect(asked.shape).toEqual({ kind: 'images', height: 6, width: 4, channels: 1 });
    expect(asked.notes).toEqual([
      'resized 7 images of other sizes to 6×4 (the size asked for; stretched to fill, the aspect ratio not kept)',
    ]);
  });

  it('a tie between sizes goes to the one with more pixels', async () => {
    const dir = await makeTmpDir('cb-folder-tie-');
    await solid(join(dir, 'a.png'), 4, 4, [1]);
    await solid(join(dir, 'b.png'), 6, 5, [1]);
    expect((await read(dir)).shape).toMatchObject({ height: 6, width: 5 });
  });
});

describe('layout', () => {
  it('train/ and test/ give two splits; test classes map to the training classes by name', async () => {
    const dir = await makeTmpDir('cb-folder-splits-');
    for (const cls of ['cat', 'dog', 'eel']) await solid(join(dir, 'train', cls, '1.png'), 2, 2, [cls.charCodeAt(0)]);
    await solid(join(dir, 'test', 'eel', '1.png'), 2, 2, [1]);
    await solid(join(dir, 'test', 'cat', '1.png'), 2, 2, [2]);
    const data = await read(dir);
    expect(data.classNames).toEqual(['cat', 'dog', 'eel']);
    expect(Array.from(data.train.labels!)).toEqual([0, 1, 2]);
    expect(data.test!.count).toBe(2);
    expect(Array.from(data.test!.labels!)).toEqual([0, 2]);
    expect(rowBytes(data, 1, 'test')).toEqual([1, 1, 1, 1]);
  });

  it('source.test names another folder for the test split, hashed like a test/ folder', async () => {
    const dir = await makeTmpDir('cb-folder-test-path-');
    await solid(join(dir, 'train', 'a', '1.png'), 2, 2, [5]);
    await solid(join(dir, 'train', 'b', '1.png'), 2, 2, [6]);
    await solid(join(dir, 'test', 'b', '1.png'), 2, 2, [7]);
    const together = await read(dir);
    const apart = await read(join(dir, 'train'), { test: join(dir, 'test') });
    expect(apart.test!.count).toBe(1);
    expect(Array.from(apart.test!.labels!)).toEqual([1]);
    expect(apart.sha256).toBe(together.sha256);
  });

  it('flat train/ and test/ folders are two unlabelled splits', async () => {
    const dir = await makeTmpDir('cb-folder-flat-splits-');
    await solid(join(dir, 'train', 'x.png'), 2, 2, [1]);
    await solid(join(dir, 'test', 'y.png'), 2, 2, [2]);
    const data = await read(dir);
    expect(data.classNames).toBeUndefined();
    expect(data.train.labels).toBeUndefined();
    expect(data.test!.count).toBe(1);
  });

  it('hidden files and folders are ignored; other files are skipped with a note; links leaving the folder are not followed', async () => {
    const dir = await makeTmpDir('cb-folder-other-files-');
    const outside = await makeTmpDir('cb-folder-outside-');
    await solid(join(outside, 'secret.png'), 2, 2, [9]);
    await solid(join(dir, 'a', '1.png'), 2, 2, [1]);
    await solid(join(dir, 'b', '1.png'), 2, 2, [2]);
    await solid(join(dir, '.cache', '1.png'), 2, 2, [3]);
    await solid(join(dir, 'a', '.hidden.png'), 2, 2, [3]);
    await writeFile(join(dir, '.DS_Store'), 'junk');
    await writeFile(join(dir, 'a', 'Thumbs.db'), 'junk');
    await writeFile(join(dir, 'README.txt'), 'about the images');
    await writeFile(join(dir, 'b', 'desktop.ini'), '[.ShellClassInfo]');
    await writeFile(join(dir, 'b', 'labels'), '');
    await symlink(join(outside, 'secret.png'), join(dir, 'b', 'leak.png'));
    await symlink(join(dir, 'a', '1.png'), join(dir, 'b', 'same-as-a.png'));
    await solid(join(dir, 'a', 'nested', '1.png'), 2, 2, [4]);
    const data = await read(dir);
    expect(data.classNames).toEqual(['a', 'b']);
    expect(data.train.count).toBe(3); // a/1, b/1 and the link inside the folder
    expect(rowBytes(data, 2)).toEqual([1, 1, 1, 1]);
    expect(data.notes).toEqual([
      'skipped 4 files that are not PNG, JPEG or WebP images: a/Thumbs.db, b/desktop.ini, b/labels (and 1 more)',
      'did not read 1 folder inside class folders (only one level of class folders is read): a/nested',
      'skipped 1 link leading out of the folder (or nowhere) or entries that are not files: b/leak.png',
    ]);
  });
});

describe('bad input: one line naming the file', () => {
  const expectError = async (promise: Promise<unknown>, message: string | RegExp) => {
    const error = await promise.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('DataError');
    if (typeof message === 'string') expect((error as Error).message).toBe(message);
    else expect((error as Error).message).toMatch(message);
  };

  it('a truncated image', async () => {
    const dir = await makeTmpDir('cb-folder-truncated-');
    await solid(join(dir, 'a.png'), 8, 8, [1, 2, 3]);
    const whole = await sharp(Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251)), {
      raw: { height: 64, width: 64, channels: 3 },
    })
      .png()
      .toBuffer();
    await writeFile(join(dir, 'b.png'), whole.subarray(0, whole.length - 300));
    // libvips's own words vary with what else decodes at the same time ("vipspng: libpng read error", "Unknown error").
    const prefix = `${join(dir, 'b.png')}: cannot decode the image (broken or truncated?): `;
    await expectError(read(dir), new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[^\n]+$`));
  });

  it('text named .png, an empty .jpg, a GIF', async () => {
    const dir = await makeTmpDir('cb-folder-broken-');
    await solid(join(dir, 'a.png'), 2, 2, [1]);
    await writeFile(join(dir, 'b.png'), 'not an image at all');
    await expectError(read(dir), `${join(dir, 'b.png')}: is named .png but is not a PNG, JPEG or WebP image`);
    await writeFile(join(dir, 'b.png'), '');
    await expectError(read(dir), `${join(dir, 'b.png')}: image file is empty`);
    await rename(join(dir, 'b.png'), join(dir, 'b.gif'));
    await writeFile(
      join(dir, 'b.gif'),
      await sharp({ create: { width: 2, height: 2, channels: 3, background: '#fff' } })
        .gif()
        .toBuffer(),
    );
    await expectError(
      read(dir),
      `${join(dir, 'b.gif')}: is a GIF image: only PNG, JPEG or WebP images are read (convert it, or move it out of the folder)`,
    );
  });

  it('the first broken file in row order is the one named, every time', async () => {
    const dir = await makeTmpDir('cb-folder-first-broken-');
    for (let i = 0; i < 20; i++) await solid(join(dir, `${String(i).padStart(2, '0')}.png`), 2, 2, [i]);
    await writeFile(join(dir, '13.png'), 'broken');
    await writeFile(join(dir, '17.png'), 'broken');
    await expectError(read(dir), `${join(dir, '13.png')}: is named .png but is not a PNG, JPEG or WebP image`);
  });

  it('an image larger than MAX_IMAGE_SIDE, before decoding', async () => {
    const dir = await makeTmpDir('cb-folder-large-');
    await solid(join(dir, 'wide.png'), 1, 1025, [0]);
    await expectError(read(dir), `${join(dir, 'wide.png')}: is 1×1025 pixels, larger than 1024 on a side: make the images smaller first`);
  });

  it('class folders beside image files', async () => {
    const dir = await makeTmpDir('cb-folder-mix-');
    await solid(join(dir, 'cat', '1.png'), 2, 2, [1]);
    await solid(join(dir, 'loose.png'), 2, 2, [1]);
    await expectError(
      read(dir),
      `${join(dir, 'loose.png')}: an image directly in a folder of class folders (cat): move it into its class folder, or the class folders out`,
    );
  });

  it('an empty folder, a folder of other files, an empty class folder, a missing folder, a file', async () => {
    const dir = await makeTmpDir('cb-folder-empty-');
    await expectError(read(dir), `${dir}: has no PNG, JPEG or WebP images`);
    await writeFile(join(dir, 'notes.txt'), 'no images here');
    await expectError(read(dir), `${dir}: has no PNG, JPEG or WebP images`);
    await solid(join(dir, 'cat', '1.png'), 2, 2, [1]);
    await mkdir(join(dir, 'dog'));
    await expectError(read(dir), `${join(dir, 'dog')}: class folder has no PNG, JPEG or WebP images`);
    await expectError(read(join(dir, 'nowhere')), `${join(dir, 'nowhere')}: folder not found`);
    await expectError(read(join(dir, 'notes.txt')), `${join(dir, 'notes.txt')}: is a file, not a folder of images`);
  });

  it('splits that do not fit together', async () => {
    const dir = await makeTmpDir('cb-folder-bad-splits-');
    await solid(join(dir, 'test', 'cat', '1.png'), 2, 2, [1]);
    await expectError(read(dir), `${dir}: has a test/ folder but no train/ folder beside it`);
    await solid(join(dir, 'train', 'dog', '1.png'), 2, 2, [1]);
    await expectError(
      read(dir),
      `${join(dir, 'test')}: has class folders that the training split lacks (cat): the test classes must be training classes`,
    );
    await solid(join(dir, 'train', 'cat', '1.png'), 2, 2, [1]);
    await solid(join(dir, 'extra', '1.png'), 2, 2, [1]);
    await expectError(
      read(dir),
      `${dir}: has train/ and test/ folders beside other folders (extra): put the class folders inside train/ (and test/)`,
    );
    const flatTest = await makeTmpDir('cb-folder-flat-test-');
    await solid(join(flatTest, '1.png'), 2, 2, [1]);
    await expectError(
      read(join(dir, 'train'), { test: flatTest }),
      `${join(dir, 'train')}: has class folders but ${flatTest} has none: both splits must be labelled, or neither`,
    );
  });

  it('bad size and channels', async () => {
    const dir = await makeTmpDir('cb-folder-options-');
    await expectError(read(dir, { size: { height: 0, width: 28 } }), 'size must be whole numbers of pixels from 1 to 1024, got 0×28');
    await expectError(read(dir, { channels: 2 as 1 }), 'channels must be 1 (grayscale) or 3 (colour), got 2');
  });

  it('more files than MAX_ROWS, before any is opened', async () => {
    vi.resetModules();
    vi.doMock('../../src-main/engine/data/dataset', async (importOriginal) => ({
      ...(await importOriginal<typeof import('../../src-main/engine/data/dataset')>()),
      MAX_ROWS: 5,
    }));
    try {
      const { readImageFolder: readLimited } = await import('../../src-main/engine/data/formats/image-folder');
      const dir = await makeTmpDir('cb-folder-max-rows-');
      for (let i = 0; i < 6; i++) await writeFile(join(dir, `${i}.png`), 'never opened');
      await expectError(readLimited(folder(dir)), `${dir}: holds more than 5 files, more than a data set may have`);
    } finally {
      vi.doUnmock('../../src-main/engine/data/dataset');
      vi.resetModules();
    }
  });
});

describe('content hash', () => {
  it('is the same for the same folder, and changes with one pixel or a renamed class folder (not with a skipped file)', async () => {
    const dir = await makeTmpDir('cb-folder-hash-');
    for (const cls of ['a', 'b']) for (let i = 0; i < 3; i++) await solid(join(dir, cls, `${i}.png`), 4, 4, [i * 10]);
    const first = (await read(dir)).sha256;
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect((await read(dir)).sha256).toBe(first);

    await writeFile(join(dir, 'notes.txt'), 'skipped');
    expect((await read(dir)).sha256).toBe(first);

    await writeImage(join(dir, 'b', '1.png'), [10, 10, 10, 10, 10, 10, 10, 11, 10, 10, 10, 10, 10, 10, 10, 10], 4, 4, 1);
    const onePixel = (await read(dir)).sha256;
    expect(onePixel).not.toBe(first);

    await rename(join(dir, 'b'), join(dir, 'c'));
    const renamed = await read(dir);
    expect(renamed.classNames).toEqual(['a', 'c']);
    expect(renamed.sha256).not.toBe(onePixel);
  });
});

describe('cancellation and progress', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTmpDir('cb-folder-abort-');
    for (let i = 0; i < 60; i++) await solid(join(dir, `${String(i).padStart(2, '0')}.png`), 8, 8, [i]);
  });

  it('counts every file twice and ends at the total', async () => {
    const calls: [number, number][] = [];
    await read(dir, {}, { onProgress: (done: number, total: number) => calls.push([done, total]) });
    expect(calls.length).toBe(120);
    expect(calls.at(-1)).toEqual([120, 120]);
    expect(calls.every(([done], i) => done === i + 1)).toBe(true);
  });

  it('an AbortSignal stops the read', async () => {
    const controller = new AbortController();
    let last = 0;
    const error = await read(
      dir,
      {},
      {
        signal: controller.signal,
        onProgress: (done: number) => {
          last = done;
          if (done === 70) controller.abort();
        },
      },
    ).catch((err: unknown) => err);
    expect((error as Error).name).toBe('AbortError');
    expect(last).toBeLessThan(80); // the files in flight finish, no new one starts

    const before = new AbortController();
    before.abort();
    await expect(read(dir, {}, { signal: before.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('preview', () => {
  it('gives classes, counts, other files, sizes, channels and thumbnails decoded as the read decodes them', async () => {
    const dir = await makeTmpDir('cb-folder-preview-');
    for (let i = 0; i < 6; i++) await solid(join(dir, 'train', 'dog', `${i}.png`), 10, 10, [i * 40, 0, 0]);
    for (let i = 0; i < 2; i++) await solid(join(dir, 'train', 'cat', `${i}.jpg`), 10, 10, [100], 'jpeg');
    await solid(join(dir, 'train', 'cat', 'odd.png'), 20, 10, [100]);
    await solid(join(dir, 'test', 'cat', '0.png'), 10, 10, [100]);
    await writeFile(join(dir, 'train', 'dog', 'notes.txt'), 'x');
    const preview = await previewImageFolder(dir, { perClass: 2 });
    expect(preview).toMatchObject({
      path: dir,
      classNames: ['cat', 'dog'],
      trainCounts: [3, 6],
      testCounts: [1, 0],
      otherFiles: { count: 1, examples: [join(dir, 'train', 'dog', 'notes.txt')] },
      sizes: [
        { height: 10, width: 10, count: 8 },
        { height: 20, width: 10, count: 1 },
      ],
      sampled: 9,
      size: { height: 10, width: 10 },
      channels: 3,
    });
    expect(preview.thumbnails.map((t) => [t.label, t.name])).toEqual([
      [0, 'cat/0.jpg'],
      [0, 'cat/1.jpg'],
      [1, 'dog/0.png'],
      [1, 'dog/1.png'],
    ]);
    const data = await read(dir);
    const thumbnail = preview.thumbnails[3];
    expect(thumbnail).toMatchObject({ height: 10, width: 10, channels: 3 });
    expect(Array.from(thumbnail.pixels)).toEqual(rowBytes(data, 4)); // dog/1.png: after cat's 3 rows and dog/0
  });

  it('shrinks thumbnails of large images and keeps their aspect ratio', async () => {
    const dir = await makeTmpDir('cb-folder-preview-large-');
    await solid(join(dir, 'a.png'), 512, 256, [7]);
    const preview = await previewImageFolder(dir);
    expect(preview.classNames).toBeNull();
    expect(preview.thumbnails).toHaveLength(1);
    expect(preview.thumbnails[0]).toMatchObject({ height: 128, width: 64, channels: 1 });
    expect(new Set(preview.thumbnails[0].pixels)).toEqual(new Set([7]));
  });
});

describe('the PNG fast path (png-fast.ts)', () => {
  /** Deterministic pixels: smooth gradients with some noise, so that libpng's adaptive filtering uses every filter. */
  const pixelsOf = (height: number, width: number, channels: number, seed: number): Buffer => {
    let state = seed;
    const noise = (): number => ((state = (state * 1103515245 + 12345) >>> 0) >>> 24) % 9;
    return Buffer.from(
      Array.from({ length: height * width * channels }, (_, i) => {
        const [y, x, c] = [Math.floor(i / (width * channels)), Math.floor(i / channels) % width, i % channels];
        return seed % 2 === 0 ? (y * 7 + x * 3 + c * 50 + noise()) & 255 : (state = (state * 69069 + 1) >>> 0) >>> 24;
      }),
    );
  };
  const png = (pixels: Buffer, height: number, width: number, channels: 1 | 3 | 4, options: PngOptions = {}): Promise<Buffer> => {
    const image = sharp(pixels, { raw: { height, width, channels } });
    return (channels === 1 ? image.toColourspace('b-w') : image).png(options).toBuffer();
  };
  /** The filter type of each row, read from the file's zlib stream. */
  const filtersOf = (bytes: Buffer, height: number, stride: number): number[] => {
    const idat: Buffer[] = [];
    for (let pos = 8; pos < bytes.length; pos += 12 + bytes.readUInt32BE(pos)) {
      if (bytes.toString('latin1', pos + 4, pos + 8) === 'IDAT') idat.push(bytes.subarray(pos + 8, pos + 8 + bytes.readUInt32BE(pos)));
    }
    const raw = inflateSync(Buffer.concat(idat));
    return Array.from({ length: height }, (_, y) => raw[y * (stride + 1)]);
  };

  it('decodes small gray and RGB PNGs bit for bit as sharp does, with every filter, and gray as r = g = b', async () => {
    const filters = new Set<number>();
    let seed = 0;
    for (const channels of [1, 3] as const) {
      for (const options of [
        { compressionLevel: 0 },
        { compressionLevel: 9, adaptiveFiltering: true },
        { compressionLevel: 6, adaptiveFiltering: false },
      ]) {
        for (const [height, width] of [
          [17, 23],
          [1, 40],
          [40, 1],
        ]) {
          const bytes = await png(pixelsOf(height, width, channels, seed++), height, width, channels, options);
          filtersOf(bytes, height, width * channels).forEach((f) => filters.add(f));
          const header = simplePngHeader(bytes);
          expect(header).toEqual({ height, width, colour: channels === 3, alpha: false });
          for (const targetChannels of channels === 1 ? ([1, 3] as const) : ([3] as const)) {
            const target = { height, width, channels: targetChannels };
            const fast = decodeSimplePng(bytes, target);
            expect(fast).toBeDefined();
            expect(Buffer.from(fast!).equals(await decodeImage(bytes, header!, target, 'x.png'))).toBe(true);
          }
        }
      }
    }
    expect([...filters].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('leaves every other PNG to sharp', async () => {
    const gray = pixelsOf(8, 8, 1, 2);
    const rgb = pixelsOf(8, 8, 3, 4);
    const cases: [string, Buffer, 1 | 3][] = [
      ['palette', await png(rgb, 8, 8, 3, { palette: true }), 3],
      ['interlaced', await png(gray, 8, 8, 1, { progressive: true }), 1],
      ['alpha', await png(pixelsOf(8, 8, 4, 6), 8, 8, 4), 3],
      [
        '16 bits',
        await sharp(gray, { raw: { height: 8, width: 8, channels: 1 } })
          .toColourspace('grey16')
          .png()
          .toBuffer(),
        1,
      ],
      [
        'a colour profile',
        await sharp(rgb, { raw: { height: 8, width: 8, channels: 3 } })
          .withIccProfile('p3')
          .png()
          .toBuffer(),
        3,
      ],
    ];
    for (const [what, bytes, channels] of cases) {
      expect([what, simplePngHeader(bytes)]).toEqual([what, undefined]);
      expect([what, decodeSimplePng(bytes, { height: 8, width: 8, channels })]).toEqual([what, undefined]);
    }
    const plain = await png(rgb, 8, 8, 3);
    expect(decodeSimplePng(plain, { height: 8, width: 8, channels: 3 })).toBeDefined();
    expect(decodeSimplePng(plain, { height: 8, width: 8, channels: 1 })).toBeUndefined(); // sharp's luminance, not ours
    expect(decodeSimplePng(plain, { height: 4, width: 8, channels: 3 })).toBeUndefined(); // resized by sharp
    const badCrc = Buffer.from(plain);
    badCrc[badCrc.indexOf('IDAT', 0, 'latin1') + 6] ^= 0xff;
    expect(decodeSimplePng(badCrc, { height: 8, width: 8, channels: 3 })).toBeUndefined();
    expect(decodeSimplePng(Buffer.concat([plain, Buffer.from('trailing')]), { height: 8, width: 8, channels: 3 })).toBeUndefined();
  });

  /** An 8-bit gray PNG around `zlib` (the image data as written, right or wrong), every chunk's CRC right. */
  const grayPngAround = (height: number, width: number, zlib: Buffer): Buffer => {
    const chunk = (type: string, data: Buffer): Buffer => {
      const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(data.length);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(typed));
      return Buffer.concat([length, typed, crc]);
    };
    const ihdr = Buffer.from([0, 0, 0, width, 0, 0, 0, height, 8, 0, 0, 0, 0]);
    const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', zlib), chunk('IEND', Buffer.alloc(0))]);
  };

  it('refuses, as sharp does, a PNG whose chunks are sound but whose image data is short or fails its Adler-32', async () => {
    const rows = Buffer.alloc(8 * 9); // 8 rows, each a filter byte (None) and 8 pixels
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) rows[y * 9 + 1 + x] = 100 + 8 * y + x;
    const target = { height: 8, width: 8, channels: 1 } as const;
    const sound = grayPngAround(8, 8, deflateSync(rows));
    expect(Array.from(decodeSimplePng(sound, target)!)).toEqual(Array.from({ length: 64 }, (_, i) => 100 + i));
    const wrongAdler = deflateSync(rows);
    wrongAdler[wrongAdler.length - 1] ^= 1;
    const cases: [string, Buffer][] = [
      ['short by 3 bytes', grayPngAround(8, 8, deflateSync(rows.subarray(0, rows.length - 3)))],
      ['a wrong Adler-32', grayPngAround(8, 8, wrongAdler)],
    ];
    for (const [what, bytes] of cases) {
      expect([what, simplePngHeader(bytes)]).toEqual([what, { height: 8, width: 8, colour: false, alpha: false }]);
      expect([what, decodeSimplePng(bytes, target)]).toEqual([what, undefined]);
      const dir = await makeTmpDir('cb-folder-bad-stream-');
      await writeFile(join(dir, 'a.png'), sound);
      await writeFile(join(dir, 'b.png'), bytes);
      const error = await read(dir).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect([what, error?.name, error?.message.split('\n').length]).toEqual([what, 'DataError', 1]);
      expect(error?.message.startsWith(`${join(dir, 'b.png')}: cannot decode the image (broken or truncated?): `)).toBe(true);
    }
  });
});
