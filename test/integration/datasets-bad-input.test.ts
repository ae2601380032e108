/**
 * Issue 21's bad inputs as a user meets them through the CLI: each is refused (or, where the reader decides
 * without failing, noted) in one line on stderr, and nothing is stored: `datasets list --json` and `runs list --json`
 * read the same after as before. What the readers refuse in process is tested in test/unit/data-*.test.ts, and the
 * flags and names `datasets add` refuses before reading in cli-datasets.test.ts; here is what those leave out.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src-main/engine/data/formats/npy-codec';
import { loadDataset } from '../../src-main/engine/data/load';
import { runCli, tempHome, type CliResult } from '../helpers/cli';

const home = tempHome('cb-datasets-bad-');
afterAll(() => rmSync(home, { recursive: true, force: true }));
const env = { CLUSTERBENCH_HOME: home, CLUSTERBENCH_DATA: '' };
const cli = (...args: string[]): Promise<CliResult> => runCli(args, env);

/** The command's stdout, or the test fails with its stderr. */
async function ok(...args: string[]): Promise<string> {
  const out = await cli(...args);
  expect(out.code, `clusterbench ${args.join(' ')}: ${out.stderr}`).toBe(0);
  return out.stdout;
}

/** What the history holds: its data sets (the built-in one first) and its runs, as the CLI lists them. */
async function stored(): Promise<{ datasets: unknown; runs: unknown }> {
  const [datasets, runs] = await Promise.all([ok('datasets', 'list', '--json'), ok('runs', 'list', '--json')]);
  return { datasets: JSON.parse(datasets), runs: JSON.parse(runs) };
}

/**
 * A non-zero exit with one line on stderr, the CLI's error line, matching `message`. A usage error (a flag's value
 * refused by its parser) adds only where the options are listed.
 */
function refused(out: CliResult, message: RegExp): void {
  expect(out.code, out.stdout).not.toBe(0);
  const [line, ...rest] = out.stderr.trimEnd().split('\n');
  expect(line).toMatch(/^clusterbench: /);
  expect(line).toMatch(message);
  expect(
    rest.every((l) => /^Run `clusterbench [\w ]+ --help` for the options\.$/.test(l)),
    out.stderr,
  ).toBe(true);
}

/** Feature rows `rows × dim` (row r, column c: r + c / 10) as a float32 .npy. */
function writeFeatures(path: string, rows: number, dim: number, edit?: (values: Float32Array) => void): string {
  const values = Float32Array.from({ length: rows * dim }, (_, i) => Math.floor(i / dim) + (i % dim) / 10);
  edit?.(values);
  writeFileSync(path, encodeNpy(values, [rows, dim]));
  return path;
}

function writeLabels(path: string, count: number): string {
  writeFileSync(
    path,
    encodeNpy(
      Uint8Array.from({ length: count }, (_, i) => i % 3),
      [count],
    ),
  );
  return path;
}

/** A 6×5 PNG of one colour: grey (one channel) or RGB. */
function png(path: string, colour: number | [number, number, number]): Promise<unknown> {
  const channels = typeof colour === 'number' ? 1 : 3;
  const pixels = Buffer.alloc(6 * 5 * channels);
  for (let i = 0; i < pixels.length; i++) pixels[i] = typeof colour === 'number' ? colour : colour[i % 3];
  const image = sharp(pixels, { raw: { width: 5, height: 6, channels } });
  return (channels === 1 ? image.toColourspace('b-w') : image).png().toFile(path);
}

interface Entry {
  record: { shape: Record<string, unknown>; notes: string[]; sha256: string; source: Record<string, unknown> } | null;
}

beforeAll(() => mkdirSync(join(home, 'files'), { recursive: true }));
const file = (name: string): string => join(home, 'files', name);

describe('a data set whose files went away after it was added', () => {
  it('an .npy file: the run names the data set and the path in one line, and stores no run', async () => {
    const path = writeFeatures(file('gone.npy'), 30, 4);
    await ok('datasets', 'add', 'gone-npy', path);
    rmSync(path);
    const before = await stored();
    refused(
      await cli('run', '--task', 'kmeans', '--dataset', 'gone-npy', '--k', '3'),
      /^clusterbench: data set 'gone-npy': .*gone\.npy: file not found$/,
    );
    expect(await stored()).toEqual(before);
  }, 300_000);

  it('an image folder: the same, naming the folder', async () => {
    const dir = file('gone-folder');
    mkdirSync(dir);
    await Promise.all([0, 1, 2, 3].map((i) => png(join(dir, `${i}.png`), 40 * i)));
    await ok('datasets', 'add', 'gone-folder', dir);
    rmSync(dir, { recursive: true });
    const before = await stored();
    const out = await cli('run', '--task', 'kmeans', '--dataset', 'gone-folder', '--k', '2');
    refused(out, /^clusterbench: data set 'gone-folder': /);
    expect(out.stderr).toContain(dir);
    expect(await stored()).toEqual(before);
  }, 300_000);
});

describe('a run asking for more clusters than the data set has rows', () => {
  it('is a ParamError line before any run exists, counting rows (not test images) of a one-split features set', async () => {
    await ok('datasets', 'add', 'twenty', writeFeatures(file('twenty.npy'), 20, 4));
    const before = await stored();
    refused(
      await cli('run', '--task', 'kmeans', '--dataset', 'twenty', '--k', '50'),
      /^clusterbench: Invalid parameters: --k 50 clusters for only 20 rows to evaluate on$/,
    );
    expect(await stored()).toEqual(before);
  }, 300_000);

  it('says test rows when the data set has a test split', async () => {
    const x = writeFeatures(file('split.npy'), 20, 4);
    await ok('datasets', 'add', 'split', x, '--test-fraction', '0.25');
    const before = await stored();
    refused(
      await cli('run', '--task', 'kmeans', '--dataset', 'split', '--k', '8'),
      /^clusterbench: Invalid parameters: --k 8 clusters for only 5 test rows to evaluate on$/,
    );
    expect(await stored()).toEqual(before);
  }, 300_000);
});

describe('bad .npy files through datasets add: one line naming the file, nothing stored', () => {
  it('labels of the wrong length, for the rows and for the test split', async () => {
    const x = writeFeatures(file('rows.npy'), 20, 3);
    const test = writeFeatures(file('rows-test.npy'), 6, 3);
    const short = writeLabels(file('labels-19.npy'), 19);
    const long = writeLabels(file('labels-7.npy'), 7);
    const right = writeLabels(file('labels-20.npy'), 20);
    const before = await stored();
    const [train, testSplit] = await Promise.all([
      cli('datasets', 'add', 'bad-labels', x, '--labels', short),
      cli('datasets', 'add', 'bad-test-labels', x, '--labels', right, '--test', test, '--test-labels', long),
    ]);
    refused(train, /labels-19\.npy: 19 labels but .*rows\.npy has 20 rows$/);
    refused(testSplit, /labels-7\.npy: 7 labels but .*rows-test\.npy has 6 rows$/);
    expect(await stored()).toEqual(before);
  }, 300_000);

  it('NaN and ±Infinity among the features, by row and column', async () => {
    const nan = writeFeatures(file('nan.npy'), 10, 4, (v) => (v[3 * 4 + 2] = Number.NaN));
    const inf = writeFeatures(file('inf.npy'), 10, 4, (v) => (v[7 * 4 + 0] = Number.POSITIVE_INFINITY));
    const negInf = writeFeatures(file('neg-inf.npy'), 10, 4, (v) => (v[9 * 4 + 3] = Number.NEGATIVE_INFINITY));
    const before = await stored();
    const outs = await Promise.all([nan, inf, negInf].map((path, i) => cli('datasets', 'add', `bad-values-${i}`, path)));
    refused(outs[0], /nan\.npy: NaN at row 3, column 2 \(0-based\): features must be finite numbers$/);
    refused(outs[1], /inf\.npy: Infinity at row 7, column 0 \(0-based\): features must be finite numbers$/);
    refused(outs[2], /neg-inf\.npy: -Infinity at row 9, column 3 \(0-based\): features must be finite numbers$/);
    expect(await stored()).toEqual(before);
  }, 300_000);
});

describe('image folders through datasets add', () => {
  it('an empty folder, and one holding only other files, are refused in one line', async () => {
    const empty = file('empty');
    const notes = file('only-notes');
    mkdirSync(empty);
    mkdirSync(notes);
    writeFileSync(join(notes, 'README.txt'), 'not an image');
    const before = await stored();
    const [a, b] = await Promise.all([
      cli('datasets', 'add', 'empty', empty),
      cli('datasets', 'add', 'only-notes', notes, '--format', 'folder'),
    ]);
    refused(a, /empty: has no PNG, JPEG or WebP images$/);
    refused(b, /only-notes: has no PNG, JPEG or WebP images$/);
    expect(await stored()).toEqual(before);
  }, 300_000);

  it('a file that is no image is skipped, and datasets add prints the note with the count', async () => {
    const dir = file('with-notes');
    mkdirSync(dir);
    await Promise.all([0, 1, 2].map((i) => png(join(dir, `${i}.png`), 60 * i)));
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    writeFileSync(join(dir, 'Thumbs.db'), Buffer.from([0, 1, 2, 3]));
    const text = await ok('datasets', 'add', 'with-notes', dir);
    expect(text).toMatch(/^Added data set with-notes: images 6×5×1\n/);
    expect(text).toMatch(/rows +3 rows/);
    expect(text).toMatch(/\n {2}note {7}skipped 2 files that are not PNG, JPEG or WebP images: Thumbs\.db, notes\.txt\n/);
    const shown = await ok('datasets', 'show', 'with-notes');
    expect(shown).toContain('note       skipped 2 files');
  }, 300_000);

  it('grey and colour images: colour wins (grey as r = g = b) with a note; --grayscale forces one channel', async () => {
    const dir = file('mixed');
    mkdirSync(dir);
    await Promise.all([
      png(join(dir, 'a.png'), 10),
      png(join(dir, 'b.png'), 200),
      png(join(dir, 'c.png'), [255, 0, 0]),
      png(join(dir, 'd.png'), [0, 0, 255]),
      png(join(dir, 'e.png'), [30, 60, 90]),
    ]);
    const [colour, grey] = await Promise.all([
      ok('datasets', 'add', 'mixed', dir, '--json'),
      ok('datasets', 'add', 'mixed-grey', dir, '--grayscale', '--json'),
    ]);
    const colourRecord = (JSON.parse(colour) as Entry).record!;
    const greyRecord = (JSON.parse(grey) as Entry).record!;
    expect(colourRecord.shape).toEqual({ kind: 'images', height: 6, width: 5, channels: 3 });
    expect(colourRecord.notes).toEqual(['converted 2 grayscale images to colour (r = g = b): 3 images have colour']);
    expect(greyRecord.shape).toEqual({ kind: 'images', height: 6, width: 5, channels: 1 });
    expect(greyRecord.notes).toEqual(['converted 3 colour images to grayscale: grayscale was asked for']);
    expect(greyRecord.source).toMatchObject({ format: 'folder', channels: 1 });
    // the same files read another way are another data set's rows, but the same bytes: the same content hash
    expect(greyRecord.sha256).toBe(colourRecord.sha256);

    // the pixels: a grey image keeps its value in every channel; a colour one becomes its luminance with --grayscale
    const [rgb, gray] = await Promise.all([
      loadDataset('mixed', { format: 'folder', path: dir }),
      loadDataset('mixed-grey', { format: 'folder', path: dir, channels: 1 }),
    ]);
    const pixel = (values: Float32Array, row: number, size: number): number[] => [...values.subarray(row * size, row * size + 3)];
    const unit = (byte: number): number => Math.fround(byte / 255);
    expect(pixel(rgb.train.values, 0, 90)).toEqual([unit(10), unit(10), unit(10)]);
    expect(pixel(rgb.train.values, 2, 90)).toEqual([1, 0, 0]);
    expect(gray.train.values[0]).toBe(unit(10));
    expect(gray.train.values[30]).toBe(unit(200));
    // sharp's grey of pure red and pure blue: darker than the grey of 200, red brighter than blue (luminance weights)
    const red = gray.train.values[2 * 30];
    const blue = gray.train.values[3 * 30];
    expect(red).toBeGreaterThan(blue);
    expect(red).toBeLessThan(200 / 255);
    expect(blue).toBeGreaterThan(0);
  }, 300_000);
});

describe('names and flags', () => {
  it('a taken name is refused whatever the path, and the first record is kept as it was', async () => {
    const first = writeFeatures(file('first.npy'), 12, 2);
    const other = writeFeatures(file('other.npy'), 15, 3);
    const added = JSON.parse(await ok('datasets', 'add', 'taken', first, '--json')) as Entry;
    const before = await stored();
    refused(
      await cli('datasets', 'add', 'taken', other, '--test-fraction', '0.2'),
      /^clusterbench: data set 'taken' already exists \(added /,
    );
    expect(await stored()).toEqual(before);
    expect((JSON.parse(await ok('datasets', 'show', 'taken', '--json')) as Entry).record).toEqual(added.record);
  }, 300_000);

  it('hostile names are refused by datasets add, run --dataset, --images-of and sweep --grid dataset=…', async () => {
    const x = writeFeatures(file('hostile.npy'), 12, 2);
    const before = await stored();
    const long = 'a'.repeat(65);
    const outs = await Promise.all([
      cli('datasets', 'add', '.hidden', x),
      cli('datasets', 'add', long, x),
      cli('datasets', 'add', 'naïve', x),
      cli('datasets', 'add', 'ok-name', x, '--images-of', '../etc'),
      cli('run', '--task', 'kmeans', '--dataset', '../etc', '--k', '2'),
      cli('run', '--task', 'kmeans', '--dataset', 'x;rm -rf ~', '--k', '2'),
      cli('sweep', '--task', 'kmeans', '--grid', 'dataset=twenty,../etc', '--k', '2'),
    ]);
    for (const out of outs.slice(0, 3)) refused(out, /is not a data set name \(1 to 64 letters, digits/);
    refused(outs[3], /'\.\.\/etc'/);
    refused(outs[4], /^clusterbench: Invalid parameters: --dataset must be a data set name/);
    refused(outs[5], /^clusterbench: Invalid parameters: --dataset must be a data set name/);
    refused(outs[6], /^clusterbench: dataset: must be a data set name .*\(grid dataset=\.\.\/etc\)$/);
    expect(await stored()).toEqual(before);
  }, 300_000);

  it('--test-fraction out of (0, 1), and one that leaves a split empty, store nothing', async () => {
    const x = writeFeatures(file('fraction.npy'), 20, 2);
    const before = await stored();
    const outs = await Promise.all([
      cli('datasets', 'add', 'frac', x, '--test-fraction', '1.5'),
      cli('datasets', 'add', 'frac', x, '--test-fraction', '-0.1'),
      cli('datasets', 'add', 'frac', x, '--test-fraction', '0.01'),
      cli('datasets', 'add', 'frac', x, '--test-fraction', '0.2', '--test', x),
    ]);
    refused(outs[0], /--test-fraction takes a fraction strictly between 0 and 1, got "1\.5"$/);
    refused(outs[1], /--test-fraction takes a fraction strictly between 0 and 1, got "-0\.1"$/);
    refused(outs[2], /a test fraction of 0\.01 leaves 0 of 20 rows for the test split: choose another fraction$/);
    refused(outs[3], /^clusterbench: option '--test <path>' cannot be used with option '--test-fraction <f>'|give either a test split/);
    expect(await stored()).toEqual(before);
  }, 300_000);
});
