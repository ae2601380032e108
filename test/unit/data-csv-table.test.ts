/**
 * Numeric CSV tables read by readCsvTable: headers and label columns, any decimal number, pixels with an image
 * shape, names as labels, gzip, a test file, and one line for every bad input; numpy.savetxt's output read exactly.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DatasetSource } from '../../src-main/engine/data/dataset';
import { DataError } from '../../src-main/engine/data/errors';
import { readCsvTable } from '../../src-main/engine/data/formats/csv-table';
import { parseCsvImages } from '../../src-main/engine/data/csv';
import { normalisePixels } from '../../src-main/engine/data/fashion-mnist';
import {
  cleanupTmpDirs,
  csvRows,
  csvText,
  makeTmpDir,
  sameTypedArray,
  syntheticLabels,
  syntheticPixels,
  writeFixture,
} from '../helpers/data-fixtures';
import { SYSTEM_PYTHON, missingPrereq } from '../helpers/prereqs';

afterAll(cleanupTmpDirs);

const hasNumpy = existsSync(SYSTEM_PYTHON) && spawnSync(SYSTEM_PYTHON, ['-c', 'import numpy'], { timeout: 60_000 }).status === 0;

/** Writes `text` as a CSV (gzipped when asked) in a fresh folder; returns its path. */
async function csv(text: string, opts: { name?: string; gzip?: boolean } = {}): Promise<string> {
  return writeFixture(await makeTmpDir('cb-csv-table-'), opts.name ?? 'table.csv', text, { gzip: opts.gzip });
}

const source = (path: string, extra: Partial<DatasetSource> = {}): DatasetSource => ({ format: 'csv', path, ...extra });

/** The DataError a read throws, as its one-line message. */
async function errorOf(read: Promise<unknown>): Promise<string> {
  try {
    await read;
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    const message = (err as DataError).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a DataError');
}

describe('readCsvTable', () => {
  it('reads a header naming the label first, and any decimal number as a feature', async () => {
    const path = await csv('Label,a,b,c\n2,-1.5e-3,.5,+2\n0,1E3, "3.25" ,-0\n1,7,-8.125,1e-45\n');
    const read = await readCsvTable(source(path));
    expect(read.shape).toEqual({ kind: 'features', dim: 3 });
    expect(read.train.count).toBe(3);
    expect(read.train.values).toEqual(Float32Array.from([-1.5e-3, 0.5, 2, 1000, 3.25, -0, 7, -8.125, 1e-45]));
    expect(Array.from(read.train.labels!)).toEqual([2, 0, 1]);
    expect(read.classNames).toEqual(['class 0', 'class 1', 'class 2']);
    expect(read.test).toBeUndefined();
    expect(read.notes).toEqual(['the header names the first column as the label']);
  });

  it('reads every column as a feature without a header, or under a header that names no label', async () => {
    for (const text of ['1,2,3\n4,5,6\n', 'x,y,z\n1,2,3\n4,5,6\n', 'target2,y1,y2\n1,2,3\n4,5,6']) {
      const read = await readCsvTable(source(await csv(text)));
      expect(read.shape).toEqual({ kind: 'features', dim: 3 });
      expect(read.train.values).toEqual(Float32Array.from([1, 2, 3, 4, 5, 6]));
      expect(read.train.labels).toBeUndefined();
      expect(read.classNames).toBeUndefined();
    }
    // one column: a header is a name, not a number
    const single = await readCsvTable(source(await csv('value\n0.25\n-4\n')));
    expect(single.shape).toEqual({ kind: 'features', dim: 1 });
    expect(single.train.values).toEqual(Float32Array.from([0.25, -4]));
  });

  it('reads every decimal spelling as Number() reads it, rounded to float32', async () => {
    // seeded spellings: 1..18 digits, a point anywhere or none, leading zeros, signs, powers of ten within and beyond ±22
    let seed = 12345;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const texts = Array.from({ length: 4000 }, () => {
      const digits = Array.from({ length: 1 + random(18) }, () => String(random(10))).join('');
      const point = random(digits.length + 2);
      let text = point > digits.length ? digits : `${digits.slice(0, point)}.${digits.slice(point)}`;
      if (text === '.') text = '0.';
      const sign = ['', '-', '+'][random(3)];
      // positive exponents stay within float32's range (18 digits × 1e19 < 3.4e38)
      const exponent = random(3) === 0 ? `${'eE'[random(2)]}${random(2) ? `-${random(40)}` : `${['', '+'][random(2)]}${random(20)}`}` : '';
      return `${sign}${text}${exponent}`;
    });
    const rows = Array.from({ length: texts.length / 4 }, (_, r) => texts.slice(r * 4, r * 4 + 4).join(','));
    const read = await readCsvTable(source(await csv(`${rows.join('\n')}\n`)));
    expect(read.train.values).toEqual(Float32Array.from(texts, Number));
  });

  it('takes the label column from the source, whatever the header', async () => {
    const read = await readCsvTable(source(await csv('3,0.5,1\n1,2,3\n'), { labelColumn: 'first' }));
    expect(Array.from(read.train.labels!)).toEqual([3, 1]);
    expect(read.shape).toEqual({ kind: 'features', dim: 2 });
    const none = await readCsvTable(source(await csv('label,a\n1,2\n'), { labelColumn: 'none' }));
    expect(none.shape).toEqual({ kind: 'features', dim: 2 });
    expect(none.train.labels).toBeUndefined();
  });

  it('maps names in the label column to classes in sorted order, across the training and test files', async () => {
    const train = await csv('class,w\ncat,1\ndog,2\n"ant",3\ncat,4\n');
    const test = await csv('class,w\nemu,5\ndog,6\n', { name: 'test.csv' });
    const read = await readCsvTable(source(train, { test }));
    expect(read.classNames).toEqual(['ant', 'cat', 'dog', 'emu']);
    expect(Array.from(read.train.labels!)).toEqual([1, 2, 0, 1]);
    expect(Array.from(read.test!.labels!)).toEqual([3, 2]);
    expect(read.notes).toEqual([
      'the label column holds names: 4 classes in sorted order (ant = 0, cat = 1, dog = 2, emu = 3)',
      'the header names the first column as the label',
    ]);
  });

  it('reads pixels 0..255 as images with an image shape: the same values as the Fashion-MNIST CSV parser', async () => {
    const pixels = syntheticPixels(6, 3);
    const labels = syntheticLabels(6);
    const text = csvText(csvRows(pixels, labels), { eol: '\r\n' });
    const expected = parseCsvImages(Buffer.from(text), 'x.csv');
    for (const gzip of [false, true]) {
      const path = await csv(`\ufeff${text}`, { gzip, name: 'fmnist.csv' });
      const read = await readCsvTable(source(path, { imageShape: { height: 28, width: 28, channels: 1 } }));
      expect(read.shape).toEqual({ kind: 'images', height: 28, width: 28, channels: 1 });
      expect(sameTypedArray(read.train.values, normalisePixels(expected.pixels))).toBe(true);
      expect(Array.from(read.train.labels!)).toEqual(Array.from(labels));
    }
    const rgb = await readCsvTable(
      source(await csv('0,0,255,51,102\n\n  \n1,1,2,3,4'), { labelColumn: 'first', imageShape: { height: 2, width: 2, channels: 1 } }),
    );
    expect(rgb.train.values).toEqual(Float32Array.from([0, 255, 51, 102, 1, 2, 3, 4], (v) => v / 255));
  });

  it('hashes the decompressed content: a gzipped copy reads the same, another file differently', async () => {
    const text = 'label,a\n1,2.5\n0,3\n';
    const plain = await readCsvTable(source(await csv(text)));
    const gzipped = await readCsvTable(source(await csv(text, { gzip: true })));
    const other = await readCsvTable(source(await csv(text.replace('3', '4'))));
    expect(gzipped.sha256).toBe(plain.sha256);
    expect(other.sha256).not.toBe(plain.sha256);
    const withTest = await readCsvTable(source(await csv(text), { test: await csv(text) }));
    expect(withTest.sha256).not.toBe(plain.sha256);
  });

  it('gives the event loop turns while it parses a large table, and reports progress up to the total', async () => {
    const rows = Array.from({ length: 120_000 }, (_, i) => `${i % 7},${(i * 0.001).toFixed(3)},${-i},${i / 8},1e-3,2,3,4`);
    const path = await csv(`label,a,b,c,d,e,f,g\n${rows.join('\n')}\n`);
    // turns of the event loop counted from the first progress report, which comes once the parsing has begun
    let turns = 0;
    let reading = true;
    const tick = (): void => {
      turns++;
      if (reading) setImmediate(tick);
    };
    setImmediate(tick);
    const progress: [number, number][] = [];
    let turnsWhenParsing = -1;
    const read = await readCsvTable(source(path), {
      onProgress: (done, total) => {
        if (turnsWhenParsing < 0) turnsWhenParsing = turns;
        progress.push([done, total]);
      },
    });
    reading = false;
    expect(read.train.count).toBe(120_000);
    expect(read.train.values[7 * 1000 + 2]).toBe(Math.fround(1000 / 8));
    expect(turns).toBeGreaterThan(turnsWhenParsing);
    expect(progress.length).toBeGreaterThan(1);
    const [lastDone, lastTotal] = progress[progress.length - 1];
    expect(lastDone).toBe(lastTotal);
  });

  it('stops when its signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await expect(readCsvTable(source(await csv('1,2\n')), { signal: controller.signal })).rejects.toThrow('cancelled');
  });

  it('refuses each bad input with one line naming the file, the line and the column', async () => {
    const cases: [string, string, Partial<DatasetSource>?][] = [
      ['label,a,b\n1,2,3\n0,4\n', 'line 3 has 2 columns, the header has 3'],
      ['1,2,3\n4,5,6,7\n', 'line 2 has 4 columns, expected 3 as on the first line'],
      ['label,a,b\n1,2,NaN\n', 'line 2, column 3 (b): NaN is not a finite number'],
      ['a,b\n1,-inf\n', 'line 2, column 2 (b): -inf is not a finite number'],
      ['a,b\n1,\n', 'line 2, column 2 (b): empty cell'],
      ['a,b\n1,2\n3,abc\n', 'line 3, column 2 (b): "abc" is not a number'],
      ['a,b\n1,0x10\n', 'line 2, column 2 (b): "0x10" is not a number'],
      ['a,b\n1,1e39\n', "line 2, column 2 (b): 1e39 is beyond float32's range"],
      ['1;2;3\n4;5;6\n', 'line 2, column 1 (1;2;3): "4;5;6" is not a number (the separator must be a comma)'],
      ['cat,1,2\n', 'line 1, column 1: "cat" is not a number (if the first column holds the labels, set the label column to first)'],
      ['label,a\n300,1\n', 'line 2, column 1 (label): label 300 is not an integer in 0..255'],
      ['label,a\n2.5,1\n', 'line 2, column 1 (label): label 2.5 is not an integer in 0..255'],
      ['label,a\n-1,1\n', 'line 2, column 1 (label): label -1 is not an integer in 0..255'],
      ['label,a\n,1\n', 'line 2, column 1 (label): empty label'],
      [
        'label,a\n1,1\ncat,2\n',
        'line 3, column 1 (label): label "cat" is a name but the label 1 (line 2) is a number: the label column must hold numbers only or names only',
      ],
      ['label\n1\n', 'line 1 has only the label column: no features'],
      ['label,a,b\n', 'the CSV file has a header row but no data rows'],
      ['\n \n\n', 'the CSV file holds no rows'],
      [
        'label,a,b,c\n1,0,255,256\n',
        'line 2, column 4 (c): pixel value 256 is outside 0..255',
        { imageShape: { height: 1, width: 3, channels: 1 } },
      ],
      [
        'label,a,b\n1,0,255\n',
        '2 pixel columns cannot be 2×2×1 images (4 pixels each)',
        { imageShape: { height: 2, width: 2, channels: 1 } },
      ],
    ];
    for (const [text, problem, extra] of cases) {
      const path = await csv(text);
      expect(await errorOf(readCsvTable(source(path, extra)))).toBe(`${path}: ${problem}`);
    }
  });

  it('refuses an empty file, more than 256 label names, a test file laid out otherwise, and a labels file', async () => {
    const empty = await csv('');
    expect(await errorOf(readCsvTable(source(empty)))).toBe(`${empty}: file is empty`);

    const names = Array.from({ length: 257 }, (_, i) => `n${i},1`).join('\n');
    const many = await csv(`label,a\n${names}\n`);
    expect(await errorOf(readCsvTable(source(many)))).toBe(
      `${many}: line 258, column 1 (label): label "n256" is the 257th distinct name: at most 256 classes`,
    );

    const train = await csv('label,a,b\n1,2,3\n');
    const test = await csv('label,a\n1,2\n', { name: 'test.csv' });
    expect(await errorOf(readCsvTable(source(train, { test })))).toBe(`${test}: line 1 has 2 columns, the training file 3`);
    expect(await errorOf(readCsvTable(source(train, { labels: '/tmp/labels.npy' })))).toBe(
      "/tmp/labels.npy: a CSV table's labels are its first column: no separate labels file may be given",
    );
  });
});

describe.skipIf(hasNumpy ? false : missingPrereq(`numpy for ${SYSTEM_PYTHON}`, 'apt-get install python3-numpy'))(
  'numpy.savetxt tables',
  () => {
    it('reads the floats numpy writes (%.18e) exactly as float32', async () => {
      const dir = await makeTmpDir('cb-csv-table-np-');
      const path = join(dir, 'savetxt.csv');
      const values = JSON.parse(
        execFileSync(
          SYSTEM_PYTHON,
          [
            '-c',
            `import json, sys, numpy as np
rng = np.random.default_rng(3)
x = rng.standard_normal((50, 6)) * np.array([1e-8, 1e-3, 1, 10, 1e5, 1e20])
y = rng.integers(0, 10, 50)
np.savetxt(sys.argv[1], np.column_stack([y, x]), delimiter=',', header='label,' + ','.join('f%d' % i for i in range(6)), comments='')
print(json.dumps({'x': x.ravel().tolist(), 'y': y.tolist()}))`,
            path,
          ],
          { encoding: 'utf8' },
        ),
      ) as { x: number[]; y: number[] };
      const read = await readCsvTable(source(path));
      expect(read.shape).toEqual({ kind: 'features', dim: 6 });
      expect(read.train.values).toEqual(Float32Array.from(values.x));
      expect(Array.from(read.train.labels!)).toEqual(values.y);
    });
  },
);
