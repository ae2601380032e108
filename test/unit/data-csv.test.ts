import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CsvImageParser,
  DataError,
  DEBIAN_DATA_DIR,
  loadFashionMnist,
  parseCsvImages,
  parseIdxImages,
  parseIdxLabels,
  readDataFile,
} from '../../src-main/engine/data';
import {
  CSV_NAMES,
  IDX_NAMES,
  PIXELS,
  cleanupTmpDirs,
  sameTypedArray,
  csvRows,
  csvText,
  expectedFloats,
  idxImagesBuffer,
  idxLabelsBuffer,
  makeTmpDir,
  syntheticLabels,
  syntheticPixels,
  writeCsvDataset,
  writeFixture,
  writeIdxDataset,
} from '../helpers/data-fixtures';
import { skipUnless } from '../helpers/prereqs';

afterAll(cleanupTmpDirs);

const load = (dir: string, extra: { trainLimit?: number; testLimit?: number } = {}) =>
  loadFashionMnist({ dir, env: {}, systemDirs: [], ...extra });

const zeros = (n = PIXELS) => new Array<number>(n).fill(0);

/** Parses CSV text in memory and returns the error. */
function csvError(text: string): DataError {
  try {
    parseCsvImages(Buffer.from(text), 'mem.csv');
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).message.startsWith('mem.csv: ')).toBe(true);
    return err as DataError;
  }
  throw new Error('expected the parse to fail');
}

describe('CSV reading', () => {
  it.each([
    { header: true, gzip: false },
    { header: false, gzip: false },
    { header: true, gzip: true },
  ])('loads a valid Kaggle-style dataset (%o)', async ({ header, gzip }) => {
    const dir = await makeTmpDir();
    const ds = await writeCsvDataset(dir, { trainCount: 9, testCount: 4, header, gzip });
    const { train, test, info } = await load(dir);
    expect(info.format).toBe('csv');
    expect(Object.keys(info.checksums).sort()).toEqual([CSV_NAMES.train, CSV_NAMES.test].sort());
    expect(train.count).toBe(9);
    expect(test.count).toBe(4);
    expect([train.height, train.width]).toEqual([28, 28]);
    expect(train.images).toEqual(expectedFloats(ds.train.pixels));
    expect(test.images).toEqual(expectedFloats(ds.test.pixels));
    expect(Array.from(train.labels)).toEqual(Array.from(ds.train.labels));
  });

  it('accepts CRLF, no trailing newline, blank lines, spaces and quoted numbers', () => {
    const px = syntheticPixels(3, 5);
    const labels = syntheticLabels(3);
    const rows = csvRows(px, labels);
    const variants = [
      csvText(rows, { eol: '\r\n' }),
      csvText(rows, { trailingNewline: false, header: false }),
      `\n\n${csvText(rows)}\n\n   \n`,
      csvText(rows.map((r) => ({ label: `"${r.label}"`, pixels: Array.from(r.pixels, (v) => ` ${v} `) }))),
      `\ufeff${csvText(rows)}`, // UTF-8 byte order mark
    ];
    for (const text of variants) {
      const raw = parseCsvImages(Buffer.from(text), 'mem.csv');
      expect(raw.count).toBe(3);
      expect(Array.from(raw.labels)).toEqual(Array.from(labels));
      expect(raw.pixels).toEqual(px);
    }
  });

  it('the streaming parser gives the same result whatever the chunk boundaries', () => {
    const px = syntheticPixels(4, 9);
    const labels = syntheticLabels(4);
    const buf = Buffer.from(csvText(csvRows(px, labels), { eol: '\r\n' }));
    for (const step of [1, 7, 1000, buf.length]) {
      const parser = new CsvImageParser('mem.csv', 1); // capacity 1: exercises growth
      for (let off = 0; off < buf.length; off += step) parser.push(buf.subarray(off, off + step));
      const raw = parser.end();
      expect(raw.hasHeader).toBe(true);
      expect(raw.count).toBe(4);
      expect(raw.pixels).toEqual(px);
      expect(Array.from(raw.labels)).toEqual(Array.from(labels));
    }
  });

  describe('bad input gives a DataError naming the file, line and problem', () => {
    const row = (label: number | string, pixels: (number | string)[]) => csvText([{ label, pixels }], { header: true });

    it('non-numeric cell', () => {
      const p = zeros() as (number | string)[];
      p[4] = 'abc';
      expect(csvError(row(1, p)).message).toMatch(/line 2, column 6 \(pixel 5\): "abc" is not an integer in 0\.\.255/);
    });

    it('non-integer and negative cells', () => {
      const p = zeros() as (number | string)[];
      p[0] = '12.5';
      expect(csvError(row(1, p)).message).toMatch(/line 2, column 2 \(pixel 1\): "12.5" is not an integer/);
      p[0] = '-1';
      expect(csvError(row(1, p)).message).toMatch(/"-1" is not an integer in 0\.\.255/);
      p[0] = '1 2';
      expect(csvError(row(1, p)).message).toMatch(/"1 2" is not an integer/);
      expect(csvError(row('x', zeros())).message).toMatch(/line 2, column 1 \(label\): "x" is not an integer in 0\.\.9/);
    });

    it('pixel out of range', () => {
      const p = zeros();
      p[783] = 256;
      expect(csvError(row(1, p)).message).toMatch(
        /line 2, column 785 \(pixel 784\): pixel value 256 is out of range \(expected 0\.\.255\)/,
      );
    });

    it('label out of range', () => {
      expect(csvError(row(10, zeros())).message).toMatch(/line 2, column 1 \(label\): label 10 is out of range \(expected 0\.\.9\)/);
    });

    it('wrong column count', () => {
      expect(csvError(row(1, zeros(783))).message).toMatch(/line 2: wrong column count: 784 columns, expected 785/);
      expect(csvError(row(1, zeros(785))).message).toMatch(/line 2: wrong column count: 786 columns, expected 785/);
      const good = csvText([{ label: 1, pixels: zeros() }], { header: false });
      const text = `${good}${good}3,4,5\n${good}`;
      expect(csvError(text).message).toMatch(/line 3: wrong column count: 3 columns/);
    });

    it('header with the wrong column count', () => {
      expect(csvError('label,pixel1,pixel2\n').message).toMatch(/line 1: header row has 3 columns, expected 785/);
    });

    it('empty cell', () => {
      const p = zeros() as (number | string)[];
      p[10] = '';
      expect(csvError(row(1, p)).message).toMatch(/line 2, column 12 \(pixel 11\): empty cell/);
    });

    it('empty file and header-only file', async () => {
      expect(csvError('  \n\n').message).toMatch(/no data rows/);
      expect(csvError(csvText([], { header: true })).message).toMatch(/header row but no data rows/);
      const dir = await makeTmpDir();
      await writeCsvDataset(dir);
      const path = await writeFixture(dir, CSV_NAMES.test, '');
      await expect(load(dir)).rejects.toThrow(`${path}: file is empty`);
    });

    it('corrupt gzip', async () => {
      const dir = await makeTmpDir();
      await writeCsvDataset(dir, { gzip: true });
      const path = join(dir, `${CSV_NAMES.train}.gz`);
      const gz = await readFile(path);
      await writeFile(path, gz.subarray(0, gz.length - 20));
      const err = await load(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as DataError).file).toBe(path);
      expect((err as DataError).message).toMatch(/corrupt gzip data/);
    });

    it('a broken file in a folder fails the whole load (never a partial load)', async () => {
      const dir = await makeTmpDir();
      await writeCsvDataset(dir, { trainCount: 5 });
      const good = csvText(csvRows(syntheticPixels(5), syntheticLabels(5)));
      await writeFile(join(dir, CSV_NAMES.train), `${good}1,2,3`);
      await expect(load(dir, { trainLimit: 2 })).rejects.toThrow(/line 7: wrong column count: 3 columns/);
    });
  });

  it('CSV and IDX give identical arrays for the same content', async () => {
    const idxDir = await makeTmpDir();
    const csvDir = await makeTmpDir();
    const ds = await writeIdxDataset(idxDir, { trainCount: 20, testCount: 6, gzip: true });
    await writeFixture(csvDir, CSV_NAMES.train, csvText(csvRows(ds.train.pixels, ds.train.labels)));
    await writeFixture(csvDir, CSV_NAMES.test, csvText(csvRows(ds.test.pixels, ds.test.labels), { header: false }));
    const a = await load(idxDir);
    const b = await load(csvDir);
    expect(b.train.images).toEqual(a.train.images);
    expect(b.train.labels).toEqual(a.train.labels);
    expect(b.test.images).toEqual(a.test.images);
    expect(b.test.labels).toEqual(a.test.labels);
  });

  it.skipIf(skipUnless('fashionMnist'))('CSV and IDX give identical arrays for real Fashion-MNIST images', async () => {
    const n = 500;
    const m = 200;
    const read = async (name: string) => (await readDataFile(join(DEBIAN_DATA_DIR, `${name}.gz`))).data;
    const trainRaw = parseIdxImages(await read(IDX_NAMES.trainImages), 'train');
    const trainLabels = parseIdxLabels(await read(IDX_NAMES.trainLabels), 'train-labels');
    const testRaw = parseIdxImages(await read(IDX_NAMES.testImages), 'test');
    const testLabels = parseIdxLabels(await read(IDX_NAMES.testLabels), 'test-labels');
    const trainPx = trainRaw.pixels.subarray(0, n * PIXELS);
    const testPx = testRaw.pixels.subarray(0, m * PIXELS);

    const idxDir = await makeTmpDir();
    await writeFixture(idxDir, IDX_NAMES.trainImages, idxImagesBuffer(trainPx), { gzip: true });
    await writeFixture(idxDir, IDX_NAMES.trainLabels, idxLabelsBuffer(trainLabels.subarray(0, n)), { gzip: true });
    await writeFixture(idxDir, IDX_NAMES.testImages, idxImagesBuffer(testPx));
    await writeFixture(idxDir, IDX_NAMES.testLabels, idxLabelsBuffer(testLabels.subarray(0, m)));
    const csvDir = await makeTmpDir();
    await writeFixture(csvDir, CSV_NAMES.train, csvText(csvRows(trainPx, trainLabels.subarray(0, n))));
    await writeFixture(csvDir, CSV_NAMES.test, csvText(csvRows(testPx, testLabels.subarray(0, m))), { gzip: true });

    const fromIdx = await load(idxDir);
    const fromCsv = await load(csvDir);
    expect(fromIdx.info.format).toBe('idx');
    expect(fromCsv.info.format).toBe('csv');
    expect(fromCsv.train.count).toBe(n);
    expect(fromCsv.test.count).toBe(m);
    expect(sameTypedArray(fromCsv.train.images, fromIdx.train.images)).toBe(true);
    expect(sameTypedArray(fromCsv.train.labels, fromIdx.train.labels)).toBe(true);
    expect(sameTypedArray(fromCsv.test.images, fromIdx.test.images)).toBe(true);
    expect(sameTypedArray(fromCsv.test.labels, fromIdx.test.labels)).toBe(true);

    // and both equal the first images of the real dataset loaded directly
    const real = await loadFashionMnist({ dir: DEBIAN_DATA_DIR, trainLimit: n, testLimit: m });
    expect(sameTypedArray(fromCsv.train.images, real.train.images)).toBe(true);
    expect(sameTypedArray(fromCsv.test.labels, real.test.labels)).toBe(true);
  });
});
