import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { validateRequest, type Events } from '../../src-main/contract/index';
import { encodeNpy } from '../../src-main/engine/data/formats/npy-codec';
import { imageShapeArg, sizeArg, testFractionArg } from '../../src-main/cli/commands/datasets';
import { RunStore } from '../../src-main/engine/store';
import { datasetQueryHandlers as ops } from '../../src-main/service/datasets';
import { runCli, tempHome, type CliResult } from '../helpers/cli';
import { writeIdxDataset } from '../helpers/data-fixtures';

// Issue 21 through the CLI: `datasets add | list | show | remove` on a history of its own.

const home = tempHome('cb-cli-datasets-');
afterAll(() => rmSync(home, { recursive: true, force: true }));
const env = { CLUSTERBENCH_HOME: home, CLUSTERBENCH_DATA: '' };
const cli = (...args: string[]): Promise<CliResult> => runCli(args, env);

interface Entry {
  name: string;
  builtIn: boolean;
  record: {
    name: string;
    shape: Record<string, unknown>;
    source: Record<string, unknown>;
    sha256: string;
    counts: { train: number; test: number | null };
    classNames: string[] | null;
    notes: string[];
  } | null;
  problem?: string;
}

async function list(): Promise<Entry[]> {
  const out = await cli('datasets', 'list', '--json');
  expect(out.code, out.stderr).toBe(0);
  return JSON.parse(out.stdout) as Entry[];
}
const addedNames = async (): Promise<string[]> => (await list()).filter((e) => !e.builtIn).map((e) => e.name);

/** One line on stderr, starting as the CLI's errors do, and a non-zero exit. */
function refused(out: CliResult, message: RegExp): void {
  expect(out.code, out.stdout).not.toBe(0);
  const lines = out.stderr.trim().split('\n');
  expect(lines[0]).toMatch(/^clusterbench: /);
  expect(lines[0]).toMatch(message);
  // a usage error adds where the options are listed; anything else is the one line
  expect(lines.slice(1).every((l) => /^Run `clusterbench datasets \w+ --help` for the options\.$/.test(l))).toBe(true);
}

/** A float32 .npy of `rows × dim` values (row r, column c holds r + c / 10) and a uint8 labels .npy. */
function writeFeatures(dir: string, rows: number, dim: number, name = 'codes'): { x: string; y: string } {
  mkdirSync(dir, { recursive: true });
  const values = Float32Array.from({ length: rows * dim }, (_, i) => Math.floor(i / dim) + (i % dim) / 10);
  const labels = Uint8Array.from({ length: rows }, (_, i) => i % 3);
  const x = join(dir, `${name}.npy`);
  const y = join(dir, `${name}-labels.npy`);
  writeFileSync(x, encodeNpy(values, [rows, dim]));
  writeFileSync(y, encodeNpy(labels, [rows]));
  return { x, y };
}

describe('datasets add | list | show | remove', () => {
  it('lists the built-in data set first, described from its files or as not found here', async () => {
    const entries = await list();
    expect(entries[0]).toMatchObject({ name: 'fashion-mnist', builtIn: true });
    if (entries[0].record) {
      expect(entries[0].record.shape).toEqual({ kind: 'images', height: 28, width: 28, channels: 1 });
      expect(entries[0].record.classNames).toHaveLength(10);
    }
    const nowhere = await cli('--data', join(home, 'nowhere'), 'datasets', 'list', '--json');
    expect(nowhere.code, nowhere.stderr).toBe(0);
    const [builtIn] = JSON.parse(nowhere.stdout) as Entry[];
    expect(builtIn).toMatchObject({
      name: 'fashion-mnist',
      builtIn: true,
      record: null,
      problem: expect.stringMatching(/^not found here: /),
    });
    const text = await cli('--data', join(home, 'nowhere'), 'datasets', 'list');
    expect(text.stdout).toMatch(/^name +shape/);
    expect(text.stdout.split('\n')[1]).toMatch(/^fashion-mnist \(built-in\) .*not found here/);
  }, 300_000);

  it('adds an IDX folder (its format told from its files), shows it, lists it after the built-in, removes it', async () => {
    const dir = join(home, 'idx-small');
    await writeIdxDataset(dir, { trainCount: 12, testCount: 5, gzip: true });
    const added = await cli('datasets', 'add', 'small', dir, '--json');
    expect(added.code, added.stderr).toBe(0);
    const entry = JSON.parse(added.stdout) as Entry;
    expect(entry).toMatchObject({ name: 'small', builtIn: false });
    expect(entry.record).toMatchObject({
      shape: { kind: 'images', height: 28, width: 28, channels: 1 },
      source: { format: 'idx', path: dir },
      counts: { train: 12, test: 5 },
    });
    expect(entry.record!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(entry.record!.classNames!.length).toBeGreaterThan(0);

    const entries = await list();
    expect(entries.map((e) => e.name)).toEqual(['fashion-mnist', 'small']);
    expect(entries[1]).toEqual(entry);

    const shown = await cli('datasets', 'show', 'small');
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('small: images 28×28×1');
    expect(shown.stdout).toMatch(/rows +12 train \+ 5 test rows/);
    expect(shown.stdout).toContain(`sha256     ${entry.record!.sha256.slice(0, 16)}…`);
    expect(shown.stdout).toMatch(/runs +0/);
    const json = await cli('datasets', 'show', 'small', '--json');
    expect(JSON.parse(json.stdout)).toEqual({ ...entry, runs: 0 });

    const removed = await cli('datasets', 'remove', 'small');
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe("Removed data set 'small': no run used it\n");
    expect(await addedNames()).toEqual([]);
    refused(await cli('datasets', 'show', 'small'), /^clusterbench: no data set named 'small' \(see clusterbench datasets list\)$/);
    refused(await cli('datasets', 'remove', 'small'), /no data set named 'small'/);
  }, 300_000);

  it('adds .npy feature rows with their labels and a held-out fraction, printing a summary', async () => {
    const { x, y } = writeFeatures(join(home, 'npy'), 50, 4);
    const added = await cli('datasets', 'add', 'feats', x, '--labels', y, '--test-fraction', '0.2');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^Added data set feats: features d=4\n/);
    expect(added.stdout).toContain(`read from  npy ${x}`);
    expect(added.stdout).toMatch(/rows +40 train \+ 10 test rows \(test fraction 0\.2\)/);
    expect(added.stdout).toMatch(/labels +3 classes: /);
    const record = (await list()).find((e) => e.name === 'feats')!.record!;
    expect(record.source).toEqual({ format: 'npy', path: x, labels: y, testFraction: 0.2 });
    expect(record.counts).toEqual({ train: 40, test: 10 });

    refused(
      await cli('datasets', 'add', 'feats', x),
      /^clusterbench: data set 'feats' already exists \(added .*\); remove it first or choose another name$/,
    );
    const unlabelled = await cli('datasets', 'add', 'feats-nolabels', x);
    expect(unlabelled.code, unlabelled.stderr).toBe(0);
    expect(unlabelled.stdout).toMatch(/rows +50 rows \(one split: runs fit on and score them all\)/);
    expect(unlabelled.stdout).toMatch(/labels +unlabelled/);
    expect((await cli('datasets', 'remove', 'feats-nolabels')).code).toBe(0);
  }, 300_000);

  it('--images-of: feature rows of an images data set must have its rows, split the same way', async () => {
    const dir = join(home, 'idx-of');
    await writeIdxDataset(dir, { trainCount: 12, testCount: 5 });
    expect((await cli('datasets', 'add', 'pics', dir)).code).toBe(0);
    const train = writeFeatures(join(home, 'of'), 12, 3, 'train');
    const test = writeFeatures(join(home, 'of'), 5, 3, 'test');
    const ok = await cli('datasets', 'add', 'pics-codes', train.x, '--test', test.x, '--images-of', 'pics', '--json');
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as Entry).record!.source).toMatchObject({ imagesOf: 'pics', test: test.x });

    const before = await addedNames();
    refused(
      await cli('datasets', 'add', 'pics-wrong', train.x, '--images-of', 'pics'),
      /has 12 rows, but 'pics' has 12 \+ 5 test rows: row i must be the features of image i$/,
    );
    refused(await cli('datasets', 'add', 'pics-none', train.x, '--images-of', 'nothing'), /no data set named 'nothing'/);
    refused(await cli('datasets', 'add', 'pics-of-codes', train.x, '--images-of', 'pics-codes'), /holds feature rows .*not images/);
    expect(await addedNames()).toEqual(before);
  }, 300_000);

  it('refuses hostile names and the built-in one before reading anything, storing nothing', async () => {
    const before = await addedNames();
    const missing = join(home, 'does-not-exist');
    const outs = await Promise.all(['../x', 'a b', '$(rm -rf /)'].map((name) => cli('datasets', 'add', name, missing)));
    for (const out of outs) {
      refused(out, /is not a data set name \(1 to 64 letters, digits/);
      expect(out.stderr).not.toContain('does-not-exist'); // refused before the path was looked at
    }
    const [builtIn, removeBuiltIn] = await Promise.all([
      cli('datasets', 'add', 'fashion-mnist', missing),
      cli('datasets', 'remove', 'fashion-mnist'),
    ]);
    refused(builtIn, /'fashion-mnist' is the built-in data set's name; it cannot be added or removed/);
    refused(removeBuiltIn, /'fashion-mnist' is the built-in data set; it cannot be removed/);
    expect(await addedNames()).toEqual(before);
  }, 300_000);

  it('refuses contradicting or out-of-bounds flags in one line before reading anything', async () => {
    const missing = join(home, 'does-not-exist');
    const [both, size, testLabels, nothing] = await Promise.all([
      cli('datasets', 'add', 'x', missing, '--test', missing, '--test-fraction', '0.2'),
      cli('datasets', 'add', 'x', missing, '--size', '0x5'),
      cli('datasets', 'add', 'x', missing, '--test-labels', missing),
      cli('datasets', 'add', 'x', missing),
    ]);
    refused(both, /^clusterbench: option '--test <path>' cannot be used with option '--test-fraction <f>'$/);
    refused(size, /--size takes sides of 1 to 1024 pixels, got "0x5"$/);
    refused(testLabels, /^clusterbench: test labels need a test split \(test\)$/);
    refused(nothing, /does-not-exist: no such file or folder$/);
    // the same parsers, in this process: each bad value is its one line
    const message = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(message(() => testFractionArg('1.5'))).toBe('--test-fraction takes a fraction strictly between 0 and 1, got "1.5"');
    expect(message(() => testFractionArg('0'))).toMatch(/strictly between 0 and 1/);
    expect(message(() => testFractionArg('ten'))).toMatch(/expected a number/);
    expect(message(() => sizeArg('2000x2000'))).toBe('--size takes sides of 1 to 1024 pixels, got "2000x2000"');
    expect(message(() => sizeArg('big'))).toBe('--size takes HxW, e.g. 32x32, got "big"');
    expect(message(() => imageShapeArg('28x28x2'))).toBe('--image-shape takes 1 or 3 channels, got "28x28x2"');
    expect(sizeArg('32x24')).toEqual({ height: 32, width: 24 });
    expect(imageShapeArg('28x28')).toEqual({ height: 28, width: 28, channels: 1 });
    expect(imageShapeArg('32×32×3')).toEqual({ height: 32, width: 32, channels: 3 });
    expect(testFractionArg('0.25')).toBe(0.25);
  }, 300_000);

  it('a bad input stores nothing: the list is unchanged', async () => {
    const before = await list();
    const dir = join(home, 'bad');
    mkdirSync(dir, { recursive: true });
    const notIdx = join(dir, 'notes.bin');
    writeFileSync(notIdx, 'these are notes, not data\n');
    const truncated = join(dir, 'x.npy');
    writeFileSync(truncated, encodeNpy(new Float32Array(40), [10, 4]).subarray(0, 100));
    const one = writeFeatures(join(dir, 'one'), 1, 4);
    const outs = await Promise.all([
      cli('datasets', 'add', 'bad1', notIdx),
      cli('datasets', 'add', 'bad2', truncated),
      cli('datasets', 'add', 'bad3', one.x),
    ]);
    refused(outs[0], /notes\.bin: cannot tell its format/);
    refused(outs[1], /x\.npy/);
    refused(outs[2], /1 row to fit on; a data set needs at least 2/);
    expect(await list()).toEqual(before);
  }, 300_000);
});

describe('the datasets.* operations, as the engine worker answers them', () => {
  const db = join(home, 'ops.sqlite');
  const store = RunStore.open(db);
  afterAll(() => store.close());
  const events: Events['datasets.addProgress'][] = [];
  const ctx = {
    dataDir: undefined,
    emit: (_event: 'datasets.addProgress', payload: Events['datasets.addProgress']) => events.push(payload),
  };

  it("add reports its progress under the client's id, and the record is what list and show give", async () => {
    const dir = join(home, 'ops-idx');
    await writeIdxDataset(dir, { trainCount: 30, testCount: 10 });
    const entry = await ops['datasets.add']({ name: 'ops-small', path: dir, addId: 'a1' }, store, ctx);
    expect(entry.record).toMatchObject({ counts: { train: 30, test: 10 }, source: { format: 'idx', path: dir } });
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.addId === 'a1' && e.name === 'ops-small')).toBe(true);
    const last = events.at(-1)!;
    expect(last.done).toBe(last.total);
    expect((await ops['datasets.list']({}, store, ctx)).find((e) => e.name === 'ops-small')).toEqual(entry);
    expect(await ops['datasets.show']({ name: 'ops-small' }, store, ctx)).toEqual({ ...entry, runs: 0 });
    expect(ops['datasets.remove']({ name: 'ops-small' }, store, ctx)).toEqual({ name: 'ops-small', runs: 0 });
  });

  it('cancelAdd stops an add under way: it fails as cancelled and stores nothing', async () => {
    const dir = join(home, 'ops-cancel');
    await writeIdxDataset(dir, { trainCount: 30, testCount: 10 });
    const adding = ops['datasets.add']({ name: 'ops-cancelled', path: dir, addId: 'c1' }, store, ctx);
    expect(ops['datasets.cancelAdd']({ addId: 'c1' }, store, ctx)).toEqual({ cancelled: true });
    await expect(adding).rejects.toMatchObject({
      name: 'CancelledError',
      message: "adding 'ops-cancelled' was cancelled; nothing was stored",
    });
    expect(store.getDataset('ops-cancelled')).toBeUndefined();
    expect(ops['datasets.cancelAdd']({ addId: 'c1' }, store, ctx)).toEqual({ cancelled: false });
  });

  it('show and remove of an unknown name are not-found, in one line', async () => {
    await expect(ops['datasets.show']({ name: 'nothing' }, store, ctx)).rejects.toMatchObject({
      name: 'NotFoundError',
      message: "no data set named 'nothing' (see clusterbench datasets list)",
    });
    expect(() => ops['datasets.remove']({ name: 'nothing' }, store, ctx)).toThrow("no data set named 'nothing'");
  });

  it('requests are checked against the contract first', () => {
    expect(validateRequest('datasets.add', { name: 'x', path: '/x', testFraction: 1.5 })).toMatchObject({
      ok: false,
      error: { code: 'invalid-request' },
    });
    expect(validateRequest('datasets.add', { name: 'x', path: '/x', size: { height: 2000, width: 2 } })).toMatchObject({ ok: false });
    expect(validateRequest('datasets.preview', { path: '' })).toMatchObject({ ok: false });
    expect(validateRequest('datasets.add', { name: 'x', path: '/x', format: 'npy', addId: 'z' })).toMatchObject({ ok: true });
  });

  it("preview: an IDX folder's headers, an .npy header, a CSV's first lines, an image folder's classes and thumbnails", async () => {
    const idx = join(home, 'ops-preview-idx');
    await writeIdxDataset(idx, { trainCount: 12, testCount: 5, gzip: true });
    const idxLook = await ops['datasets.preview']({ path: idx }, store, ctx);
    expect(idxLook).toEqual({
      path: idx,
      format: 'idx',
      summary: [
        't10k-images-idx3-ubyte.gz: 5 × 28 × 28 (bytes)',
        't10k-labels-idx1-ubyte.gz: 5 (bytes)',
        'train-images-idx3-ubyte.gz: 12 × 28 × 28 (bytes)',
        'train-labels-idx1-ubyte.gz: 12 (bytes)',
      ],
    });

    const { x } = writeFeatures(join(home, 'ops-preview-npy'), 7, 5);
    expect((await ops['datasets.preview']({ path: x }, store, ctx)).summary).toEqual([`codes.npy: shape (7, 5), dtype <f4`]);

    const csv = join(home, 'ops-preview.csv');
    writeFileSync(csv, 'label,a,b\n1,0.5,2\n0,1,3\n');
    expect(await ops['datasets.preview']({ path: csv }, store, ctx)).toMatchObject({
      format: 'csv',
      summary: ['ops-preview.csv: 3 columns in its first line', 'label,a,b', '1,0.5,2', '0,1,3'],
    });

    const folder = join(home, 'ops-preview-folder');
    for (const [cls, shade] of [
      ['cat', 40],
      ['dog', 200],
    ] as const) {
      mkdirSync(join(folder, cls), { recursive: true });
      for (const i of [0, 1]) {
        const pixels = Buffer.alloc(6 * 4 * 3, shade + i);
        await sharp(pixels, { raw: { width: 4, height: 6, channels: 3 } })
          .png()
          .toFile(join(folder, cls, `${i}.png`));
      }
    }
    writeFileSync(join(folder, 'cat', 'readme.txt'), 'not an image');
    const look = await ops['datasets.preview']({ path: folder, channels: 1 }, store, ctx);
    expect(look.format).toBe('folder');
    expect(look.summary).toEqual([
      '4 images, 2 class folders',
      'read at 6×4×1 (4 sampled)',
      `1 file not named as images (e.g. ${join(folder, 'cat', 'readme.txt')})`,
    ]);
    expect(look.folder).toMatchObject({ classNames: ['cat', 'dog'], trainCounts: [2, 2], size: { height: 6, width: 4 }, channels: 1 });
    expect(look.folder!.thumbnails).toHaveLength(4);
    const first = look.folder!.thumbnails[0];
    expect(Buffer.from(first.pixelsBase64, 'base64')).toHaveLength(first.height * first.width * first.channels);

    await expect(ops['datasets.preview']({ path: join(home, 'nope') }, store, ctx)).rejects.toThrow(/nope: no such file or folder$/);
  });
});
