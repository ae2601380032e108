/**
 * NumPy data sets: `.npy` and `.npz` files written by numpy itself (np.save, np.savez, np.savez_compressed, every
 * dtype and byte order a data set may come in) read by readNpy/readNpz, and encodeNpy's files read back by numpy.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import type { DatasetSource } from '../../src-main/engine/data/dataset';
import { DataError } from '../../src-main/engine/data/errors';
import { encodeNpy, parseNpy, readNpy, readNpz } from '../../src-main/engine/data/formats/numpy';
import { cleanupTmpDirs, makeTmpDir, sameTypedArray } from '../helpers/data-fixtures';
import { SYSTEM_PYTHON, missingPrereq } from '../helpers/prereqs';

const hasNumpy = existsSync(SYSTEM_PYTHON) && spawnSync(SYSTEM_PYTHON, ['-c', 'import numpy'], { timeout: 60_000 }).status === 0;
const noNumpy = hasNumpy ? false : missingPrereq(`numpy for ${SYSTEM_PYTHON}`, 'apt-get install python3-numpy');

/** Runs a Python script (no shell) with `args`; returns its standard output. */
const python = (script: string, ...args: string[]): string =>
  execFileSync(SYSTEM_PYTHON, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });

/** Writes every fixture into argv[1] with numpy, and prints the arrays' values as JSON (flattened, C order). */
const FIXTURES = String.raw`
import json, os, sys
import numpy as np
d = sys.argv[1]
p = lambda name: os.path.join(d, name)
rng = np.random.default_rng(7)
out = {}
def keep(name, arr):
    out[name] = arr.ravel().tolist()
    return arr

feat32 = keep('feat32', (rng.standard_normal((7, 5)) * 3).astype(np.float32))
feat64 = keep('feat64', rng.standard_normal((6, 4)) * 1e-3)
labels7 = keep('labels7', np.array([0, 3, 1, 2, 3, 0, 1], dtype=np.int64))
labels6 = keep('labels6', np.array([4, 0, 4, 1, 2, 2], dtype='>i2'))
imgs = keep('imgs', rng.integers(0, 256, (5, 4, 3), dtype=np.uint8))
imgs[0, 0, 0] = 255
out['imgs'] = imgs.ravel().tolist()
rgb = keep('rgb', rng.integers(0, 256, (3, 4, 5, 3), dtype=np.uint8))
fimgs = keep('fimgs', rng.random((4, 3, 3), dtype=np.float32))
f16 = keep('f16', rng.standard_normal((4, 3)).astype(np.float16))
fortran = keep('fortran', np.asfortranarray(rng.standard_normal((3, 4, 5)).astype(np.float32)))

np.save(p('feat32.npy'), feat32)
np.save(p('feat64.npy'), feat64)
np.save(p('big.npy'), feat32.astype('>f4'))
np.save(p('big64.npy'), feat64.astype('>f8'))
np.save(p('labels7.npy'), labels7)
np.save(p('labels7u1.npy'), labels7.astype(np.uint8))
np.save(p('labels7col.npy'), labels7.reshape(7, 1).astype(np.int32))
np.save(p('labels6.npy'), labels6)
np.save(p('imgs.npy'), imgs)
np.save(p('imgs-flat.npy'), imgs.reshape(5, 12))
np.save(p('rgb.npy'), rgb)
np.save(p('fimgs.npy'), fimgs)
np.save(p('f16.npy'), f16)
np.save(p('fortran.npy'), fortran)
np.save(p('fortran2d.npy'), np.asfortranarray(feat32))
assert np.load(p('fortran.npy')).flags.f_contiguous
with open(p('v2.npy'), 'wb') as f: np.lib.format.write_array(f, feat32, version=(2, 0))
with open(p('v3.npy'), 'wb') as f: np.lib.format.write_array(f, feat32, version=(3, 0))

np.savez(p('stored.npz'), x=feat32, y=labels7)
np.savez_compressed(p('split.npz'), x_train=imgs, y_train=labels7[:5], x_test=imgs[:2], y_test=labels7[5:])
# compresses well and is over 512 kB: fflate inflates it on a worker thread
keras = keep('keras', (np.arange(3000 * 28 * 28) % 7).astype(np.uint8).reshape(3000, 28, 28))
np.savez_compressed(p('keras.npz'), x_train=keras, y_train=(np.arange(3000) % 10).astype(np.uint8))
np.savez_compressed(p('kmnist-imgs.npz'), imgs)
np.savez_compressed(p('kmnist-labels.npz'), labels7[:5])
np.savez(p('ambiguous.npz'), x=feat32, features=feat32)
np.savez(p('unnamed.npz'), a=feat32, b=labels7)
np.savez(p('two-labels.npz'), x=feat32, y=labels7, labels=labels7)

bad = feat32.copy(); bad[2, 3] = np.nan; np.save(p('nan.npy'), bad)
bad = feat64.copy(); bad[1, 0] = -np.inf; np.save(p('inf.npy'), bad)
np.save(p('huge.npy'), np.array([[1.0, 1e300]]))
np.save(p('labels-out-of-range.npy'), np.array([0, 1, 300, 2, 0, 1, 1], dtype=np.int16))
np.save(p('labels-float.npy'), labels7.astype(np.float32))
np.save(p('labels-2d.npy'), np.zeros((7, 2), dtype=np.int64))
np.save(p('imgs255.npy'), imgs.astype(np.float32))
np.save(p('chw.npy'), np.zeros((2, 3, 8, 8), dtype=np.uint8))
np.save(p('complex.npy'), np.zeros((3, 2), dtype=np.complex64))
np.save(p('structured.npy'), np.zeros(3, dtype=[('a', '<f4'), ('b', '<i4')]))
np.save(p('flat.npy'), np.arange(5, dtype=np.float32))
np.save(p('empty-rows.npy'), np.zeros((0, 3), dtype=np.float32))
print(json.dumps(out))
`;

let dir = '';
let expected: Record<string, number[]> = {};
const at = (name: string): string => join(dir, name);
const npy = (path: string, extra: Partial<DatasetSource> = {}): DatasetSource => ({ format: 'npy', path: at(path), ...extra });
const npz = (path: string, extra: Partial<DatasetSource> = {}): DatasetSource => ({ format: 'npz', path: at(path), ...extra });
const f32 = (values: number[]): Float32Array => Float32Array.from(values);
const unit = (bytes: number[]): Float32Array => Float32Array.from(bytes, (b) => b / 255);

/** The DataError a read throws; its message must be one line. */
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

afterAll(cleanupTmpDirs);

describe.skipIf(noNumpy)('.npy files written by numpy', () => {
  beforeAll(async () => {
    dir = await makeTmpDir('cb-numpy-');
    expected = JSON.parse(python(FIXTURES, dir)) as Record<string, number[]>;
  });

  const parse = async (name: string) => parseNpy(await readFile(at(name)), at(name));

  it('parses every dtype and both byte orders exactly', async () => {
    const feat32 = await parse('feat32.npy');
    expect(feat32).toMatchObject({ dtype: 'float32', shape: [7, 5], fortranOrder: false });
    expect(feat32.data).toEqual(f32(expected.feat32));
    expect((await parse('big.npy')).data).toEqual(f32(expected.feat32));
    expect(await parse('feat64.npy')).toMatchObject({ dtype: 'float64', shape: [6, 4], data: Float64Array.from(expected.feat64) });
    expect((await parse('big64.npy')).data).toEqual(Float64Array.from(expected.feat64));
    expect(await parse('labels7.npy')).toMatchObject({ dtype: 'int64', shape: [7], data: BigInt64Array.from(expected.labels7, BigInt) });
    expect(await parse('labels6.npy')).toMatchObject({ dtype: 'int16', shape: [6], data: Int16Array.from(expected.labels6) });
    expect(await parse('imgs.npy')).toMatchObject({ dtype: 'uint8', shape: [5, 4, 3], data: Uint8Array.from(expected.imgs) });
    expect(await parse('f16.npy')).toMatchObject({ dtype: 'float16', shape: [4, 3], data: f32(expected.f16) });
  });

  it('reads format versions 2.0 and 3.0', async () => {
    for (const name of ['v2.npy', 'v3.npy']) {
      const bytes = await readFile(at(name));
      expect(bytes[6]).toBe(name === 'v2.npy' ? 2 : 3);
      expect(parseNpy(bytes, name)).toMatchObject({ dtype: 'float32', shape: [7, 5], data: f32(expected.feat32) });
    }
  });

  it('transposes an array stored in Fortran order to C order', async () => {
    const fortran = await parse('fortran.npy');
    expect(fortran).toMatchObject({ dtype: 'float32', shape: [3, 4, 5], fortranOrder: true });
    expect(fortran.data).toEqual(f32(expected.fortran));
  });

  it('reads feature rows with labels, and images (bytes / 255, RGB channels last)', async () => {
    const features = await readNpy(npy('feat32.npy', { labels: at('labels7.npy') }));
    expect(features.shape).toEqual({ kind: 'features', dim: 5 });
    expect(features.train.count).toBe(7);
    expect(features.train.values).toEqual(f32(expected.feat32));
    expect(Array.from(features.train.labels!)).toEqual(expected.labels7);
    expect(features.classNames).toEqual(['class 0', 'class 1', 'class 2', 'class 3']);
    expect(features.test).toBeUndefined();
    expect(features.sha256).toMatch(/^[0-9a-f]{64}$/);

    const gray = await readNpy(npy('imgs.npy'));
    expect(gray.shape).toEqual({ kind: 'images', height: 4, width: 3, channels: 1 });
    expect(gray.train.values).toEqual(unit(expected.imgs));
    expect(gray.train.labels).toBeUndefined();
    expect(gray.classNames).toBeUndefined();

    const rgb = await readNpy(npy('rgb.npy'));
    expect(rgb.shape).toEqual({ kind: 'images', height: 4, width: 5, channels: 3 });
    expect(rgb.train.values).toEqual(unit(expected.rgb));

    const floats = await readNpy(npy('fimgs.npy'));
    expect(floats.shape).toEqual({ kind: 'images', height: 3, width: 3, channels: 1 });
    expect(floats.train.values).toEqual(f32(expected.fimgs));

    const flat = await readNpy(npy('imgs-flat.npy', { imageShape: { height: 4, width: 3, channels: 1 } }));
    expect(flat.shape).toEqual({ kind: 'images', height: 4, width: 3, channels: 1 });
    expect(flat.train.values).toEqual(gray.train.values);
  });

  it('reads float64, big-endian and float16 features as float32, and labels of any integer width', async () => {
    const read = await readNpy(npy('big64.npy', { labels: at('labels6.npy') }));
    expect(read.train.values).toEqual(f32(expected.feat64));
    expect(Array.from(read.train.labels!)).toEqual(expected.labels6);
    expect(read.classNames).toHaveLength(5);
    expect((await readNpy(npy('f16.npy'))).train.values).toEqual(f32(expected.f16));
    for (const labels of ['labels7u1.npy', 'labels7col.npy']) {
      expect(Array.from((await readNpy(npy('feat32.npy', { labels: at(labels) }))).train.labels!)).toEqual(expected.labels7);
    }
    const bytes = await readNpy(npy('imgs-flat.npy'));
    expect(bytes.shape).toEqual({ kind: 'features', dim: 12 });
    expect(bytes.notes).toEqual([
      'imgs-flat.npy: rows of bytes read as features 0..255 as they are; give an image shape to read them as images',
    ]);
  });

  it('reads a separate test split, and notes a Fortran-ordered array', async () => {
    const read = await readNpy(npy('feat32.npy', { labels: at('labels7.npy'), test: at('fortran2d.npy'), testLabels: at('labels7.npy') }));
    expect(read.test!.count).toBe(7);
    expect(read.test!.values).toEqual(f32(expected.feat32));
    expect(read.notes).toEqual(['fortran2d.npy: stored in Fortran (column-major) order, transposed to rows']);
  });

  it("hashes every byte read with each file's role: the same files give the same hash, swapped ones another", async () => {
    const a = await readNpy(npy('feat32.npy', { test: at('big.npy') }));
    const b = await readNpy(npy('feat32.npy', { test: at('big.npy') }));
    const swapped = await readNpy(npy('big.npy', { test: at('feat32.npy') }));
    const trainOnly = await readNpy(npy('feat32.npy'));
    expect(a.sha256).toBe(b.sha256);
    expect(swapped.sha256).not.toBe(a.sha256);
    expect(trainOnly.sha256).not.toBe(a.sha256);
    expect(a.train.values).toEqual(swapped.train.values); // same values, other bytes (big-endian)
  });

  it('refuses each bad input with one line naming the file', async () => {
    const read = (name: string, extra: Partial<DatasetSource> = {}) => errorOf(readNpy(npy(name, extra)));
    expect(await read('nan.npy')).toBe(`${at('nan.npy')}: NaN at row 2, column 3 (0-based): features must be finite numbers`);
    expect(await read('inf.npy')).toBe(`${at('inf.npy')}: -Infinity at row 1, column 0 (0-based): features must be finite numbers`);
    expect(await read('huge.npy')).toBe(
      `${at('huge.npy')}: value 1e+300 (beyond float32's range) at row 0, column 1 (0-based): features must be finite numbers`,
    );
    expect(await read('feat32.npy', { labels: at('labels6.npy') })).toBe(
      `${at('labels6.npy')}: 6 labels but ${at('feat32.npy')} has 7 rows`,
    );
    expect(await read('feat32.npy', { labels: at('labels-out-of-range.npy') })).toBe(
      `${at('labels-out-of-range.npy')}: label 300 at row 2 (0-based) is out of range 0..255`,
    );
    expect(await read('feat32.npy', { labels: at('labels-float.npy') })).toBe(
      `${at('labels-float.npy')}: labels are float32: expected integers (cast them with y.astype(int))`,
    );
    expect(await read('feat32.npy', { labels: at('labels-2d.npy') })).toBe(
      `${at('labels-2d.npy')}: labels of shape (7, 2): expected one label per row, shape (N,)`,
    );
    expect(await read('imgs255.npy')).toBe(
      `${at('imgs255.npy')}: value ${expected.imgs[0]} at row 0, column 0 (0-based) is outside [0, 1]: float images must be scaled to [0, 1] (divide them by 255)`,
    );
    expect(await read('chw.npy')).toBe(
      `${at('chw.npy')}: images of shape (2, 3, 8, 8) have 8 channels: expected 1 (grayscale) or 3 (RGB) (channels first? transpose to (N, H, W, C))`,
    );
    expect(await read('complex.npy')).toBe(
      `${at('complex.npy')}: unsupported dtype '<c8': expected integers (b1, i1…i8, u1…u8) or floats (f2, f4, f8)`,
    );
    expect(await read('structured.npy')).toMatch(
      /: unsupported dtype: structured arrays \(records with named fields\) are not read: \{'descr': \[/,
    );
    expect(await read('flat.npy')).toBe(
      `${at('flat.npy')}: shape (5,) is not rows: expected feature rows (N, d) or images (N, H, W) or (N, H, W, C); reshape one value per row to (N, 1)`,
    );
    expect(await read('empty-rows.npy')).toBe(`${at('empty-rows.npy')}: holds no rows (shape (0, 3))`);
    expect(await read('imgs-flat.npy', { imageShape: { height: 5, width: 3, channels: 1 } })).toBe(
      `${at('imgs-flat.npy')}: rows of 12 values cannot be 5×3×1 images (15 values each)`,
    );
    expect(await read('feat32.npy', { test: at('feat64.npy') })).toBe(
      `${at('feat64.npy')}: the test rows are d=4 but the training rows d=5`,
    );
    expect(await read('feat32.npy', { labels: at('labels7.npy'), test: at('feat32.npy') })).toBe(
      `${at('feat32.npy')}: the test split has no labels while the training split (${at('feat32.npy')}) has: give both or neither`,
    );
    expect(await read('stored.npz')).toBe(`${at('stored.npz')}: is an .npz (zip) archive, not an .npy file: read it as npz`);
    expect(await read('missing.npy')).toBe(`${at('missing.npy')}: file not found`);
  });

  it('refuses broken .npy bytes: empty, truncated, wrong magic, a shape larger than the data, trailing bytes', async () => {
    const good = await readFile(at('feat32.npy'));
    const cases: [string, Uint8Array, string][] = [
      ['empty.npy', new Uint8Array(0), 'file is empty'],
      ['short.npy', good.subarray(0, 8), 'truncated .npy file: 8 bytes, shorter than the smallest header'],
      ['cut-header.npy', good.subarray(0, 40), 'truncated .npy file: the header announces 118 bytes but the file ends after 30'],
      [
        'truncated.npy',
        good.subarray(0, good.length - 4),
        "truncated .npy file: shape (7, 5) of '<f4' needs more than the 136 bytes of data the file holds",
      ],
      ['trailing.npy', Buffer.concat([good, Buffer.from([1, 2, 3])]), "3 unexpected bytes after the (7, 5) array of '<f4'"],
      [
        'magic.npy',
        Buffer.concat([Buffer.from('NUMPY!'), good.subarray(6)]),
        'not a .npy file: it does not start with the magic \\x93NUMPY',
      ],
      [
        'version.npy',
        Buffer.concat([good.subarray(0, 6), Buffer.from([4, 0]), good.subarray(8)]),
        'unsupported .npy format version 4.0 (expected 1.0, 2.0 or 3.0)',
      ],
      [
        'rows.npy',
        replaceHeader(good, "{'descr': '<f4', 'fortran_order': False, 'shape': (20000000, 5), }"),
        'shape (20000000, 5) has more than 10000000 rows',
      ],
      [
        'bigshape.npy',
        replaceHeader(good, "{'descr': '<f4', 'fortran_order': False, 'shape': (7, 5000000000), }"),
        "truncated .npy file: shape (7, 5000000000) of '<f4' needs more than the 140 bytes of data the file holds",
      ],
      [
        'noshape.npy',
        replaceHeader(good, "{'descr': '<f4', 'fortran_order': False, }"),
        "malformed .npy header (no 'shape'): {'descr': '<f4', 'fortran_order': False, }",
      ],
    ];
    for (const [name, bytes, problem] of cases) {
      await writeFile(at(name), bytes);
      expect(await errorOf(readNpy(npy(name)))).toBe(`${at(name)}: ${problem}`);
    }
    expect(await errorOf(() => parseNpy(good.subarray(0, 40), 'x.npy'))).toBe(
      'x.npy: truncated .npy file: the header announces 118 bytes but the file ends after 30',
    );
  });
});

/** `bytes` (a version 1.0 .npy) with its header replaced by `dict`, padded as numpy pads it. */
function replaceHeader(bytes: Uint8Array, dict: string): Uint8Array {
  const headerLength = bytes[8] | (bytes[9] << 8);
  const data = bytes.subarray(10 + headerLength);
  const padded = `${dict}${' '.repeat((64 - ((10 + dict.length + 1) % 64)) % 64)}\n`;
  return Buffer.concat([
    bytes.subarray(0, 8),
    Buffer.from([padded.length & 0xff, padded.length >> 8]),
    Buffer.from(padded, 'latin1'),
    data,
  ]);
}

describe.skipIf(noNumpy)('.npz archives written by numpy', () => {
  beforeAll(async () => {
    if (!dir) {
      dir = await makeTmpDir('cb-numpy-');
      expected = JSON.parse(python(FIXTURES, dir)) as Record<string, number[]>;
    }
  });

  it('reads a stored archive (np.savez): x and y', async () => {
    const read = await readNpz(npz('stored.npz'));
    expect(read.shape).toEqual({ kind: 'features', dim: 5 });
    expect(read.train.values).toEqual(f32(expected.feat32));
    expect(Array.from(read.train.labels!)).toEqual(expected.labels7);
    expect(read.test).toBeUndefined();
    expect(read.classNames).toHaveLength(4);
  });

  it('reads a compressed archive (np.savez_compressed) with its own test split', async () => {
    const read = await readNpz(npz('split.npz'));
    expect(read.shape).toEqual({ kind: 'images', height: 4, width: 3, channels: 1 });
    expect(read.train.values).toEqual(unit(expected.imgs));
    expect(Array.from(read.train.labels!)).toEqual(expected.labels7.slice(0, 5));
    expect(read.test!.values).toEqual(unit(expected.imgs.slice(0, 24)));
    expect(Array.from(read.test!.labels!)).toEqual(expected.labels7.slice(5));
    expect(read.classNames).toHaveLength(4);
  });

  it('reads a large deflated member (inflated off the event loop) exactly', async () => {
    const read = await readNpz(npz('keras.npz'));
    expect(read.shape).toEqual({ kind: 'images', height: 28, width: 28, channels: 1 });
    expect(read.train.count).toBe(3000);
    expect(sameTypedArray(read.train.values, unit(expected.keras))).toBe(true); // toEqual is slow on millions of values
    expect(read.classNames).toHaveLength(10);
  });

  it("reads KMNIST's one-array archives (arr_0) as rows, labels and test files", async () => {
    const kmnist = { labels: at('kmnist-labels.npz'), test: at('kmnist-imgs.npz'), testLabels: at('kmnist-labels.npz') };
    const read = await readNpz(npz('kmnist-imgs.npz', kmnist));
    expect(read.train.values).toEqual(unit(expected.imgs));
    expect(Array.from(read.train.labels!)).toEqual(expected.labels7.slice(0, 5));
    expect(read.test!.count).toBe(5);
    expect(read.test!.labels).toEqual(read.train.labels);
    expect(read.notes).toContain("kmnist-imgs.npz: read its only array, 'arr_0', as the rows");
    // .npy labels for .npz rows, and .npz labels for .npy rows
    expect((await readNpy(npy('imgs.npy', { labels: at('kmnist-labels.npz') }))).train.labels).toEqual(read.train.labels);
  });

  it('hashes the members it reads by role and name', async () => {
    const a = await readNpz(npz('stored.npz'));
    const b = await readNpz(npz('stored.npz'));
    expect(a.sha256).toBe(b.sha256);
    const same = await readNpy(npy('feat32.npy', { labels: at('labels7.npy') }));
    expect(same.sha256).not.toBe(a.sha256); // the same bytes, but as members x and y
  });

  it('refuses an ambiguous or incomplete archive with one line listing its arrays', async () => {
    const read = (name: string, extra: Partial<DatasetSource> = {}) => errorOf(readNpz(npz(name, extra)));
    expect(await read('ambiguous.npz')).toBe(
      `${at('ambiguous.npz')}: holds several arrays that could be the rows: x, features (its arrays: x, features)`,
    );
    expect(await read('unnamed.npz')).toBe(
      `${at('unnamed.npz')}: holds no array named x, X, images, data, features, embeddings, x_train, X_train for the rows (its arrays: a, b)`,
    );
    expect(await read('two-labels.npz')).toBe(
      `${at('two-labels.npz')}: holds several arrays that could be the labels: y, labels (its arrays: x, y, labels)`,
    );
    expect(await read('stored.npz', { labels: at('labels7.npy') })).toBe(
      `${at('stored.npz')}: holds its labels ('y'), and a labels file was given too: give one`,
    );
    expect(await read('split.npz', { test: at('split.npz') })).toBe(
      `${at('split.npz')}: holds its own test split ('x_test'): a separate test file cannot be given too`,
    );
    expect(await read('feat32.npy')).toBe(`${at('feat32.npy')}: is an .npy file, not an .npz archive: read it as npy`);
    await writeFile(at('cut.npz'), (await readFile(at('stored.npz'))).subarray(0, 300));
    expect(await read('cut.npz')).toBe(`${at('cut.npz')}: corrupt .npz (zip) archive: invalid zip data`);
    const garbled = Buffer.from(await readFile(at('keras.npz')));
    for (let i = 100; i < 150; i++) garbled[i] ^= 0x5a; // inside x_train's deflated bytes
    await writeFile(at('garbled.npz'), garbled);
    expect(await read('garbled.npz')).toMatch(/: corrupt \.npz \(zip\) archive: [a-z ]+$/);
    const nan = await readFile(at('nan.npy'));
    await writeFile(at('nan.npz'), zipSync({ 'x.npy': nan }, { level: 0 }));
    expect(await read('nan.npz')).toBe(`${at('nan.npz')}: array 'x': NaN at row 2, column 3 (0-based): features must be finite numbers`);
  });
});

describe.skipIf(noNumpy)('encodeNpy', () => {
  it('writes version 1.0 files that numpy.load reads back exactly', async () => {
    const out = await makeTmpDir('cb-npy-out-');
    const arrays = {
      'f4.npy': { data: Float32Array.from([0.1, -2.5, 3e-7, 1e30, 0, 7]), shape: [2, 3] },
      'f8.npy': { data: Float64Array.from([Math.PI, -1e-300, 2 ** 60]), shape: [3] },
      'i4.npy': { data: Int32Array.from([-2147483648, 2147483647, 0, 5]), shape: [2, 1, 2] },
      'u1.npy': { data: Uint8Array.from([0, 1, 254, 255]), shape: [4, 1] },
    };
    for (const [name, { data, shape }] of Object.entries(arrays)) {
      const bytes = encodeNpy(data, shape);
      const headerEnd = 10 + (bytes[8] | (bytes[9] << 8));
      expect(headerEnd % 64).toBe(0);
      expect(bytes[headerEnd - 1]).toBe(0x0a);
      await writeFile(join(out, name), bytes);
      expect(parseNpy(bytes, name).data).toEqual(data);
    }
    const loaded = JSON.parse(
      python(
        `import json, sys, numpy as np
print(json.dumps({n: {'dtype': np.load(sys.argv[1] + '/' + n).dtype.str, 'shape': list(np.load(sys.argv[1] + '/' + n).shape), 'values': np.load(sys.argv[1] + '/' + n).ravel().tolist()} for n in sys.argv[2:]}))`,
        out,
        ...Object.keys(arrays),
      ),
    ) as Record<string, { dtype: string; shape: number[]; values: number[] }>;
    expect(loaded['f4.npy']).toEqual({ dtype: '<f4', shape: [2, 3], values: Array.from(arrays['f4.npy'].data) });
    expect(loaded['f8.npy']).toEqual({ dtype: '<f8', shape: [3], values: Array.from(arrays['f8.npy'].data) });
    expect(loaded['i4.npy']).toEqual({ dtype: '<i4', shape: [2, 1, 2], values: Array.from(arrays['i4.npy'].data) });
    expect(loaded['u1.npy']).toEqual({ dtype: '|u1', shape: [4, 1], values: [0, 1, 254, 255] });
  });

  it('refuses a shape that does not hold the data', () => {
    expect(() => encodeNpy(new Float32Array(6), [4, 2])).toThrow('encodeNpy: shape (4, 2) holds 8 values, the data 6');
  });
});
