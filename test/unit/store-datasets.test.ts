import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetRecord } from '../../src-main/engine/data/dataset';
import { migrate, RunStore, SCHEMA_VERSION, StoreError, type NewDataset } from '../../src-main/engine/store';
import { importRunDatabase, openImportTarget } from '../../src-main/engine/store/import';
import type { DatasetInfo, NewRun, RunResult } from '../../src-main/engine/store/types';
import { evaluationOf } from '../helpers/run-fixtures';

// Issue 21: data sets are things in the history (schema 7): added by name, listed, removed; runs keep what they recorded.

let root: string;
let n = 0;
const open: RunStore[] = [];
const dbFile = (): string => {
  const file = join(root, `h${++n}`, 'runs.sqlite');
  mkdirSync(resolve(file, '..'), { recursive: true });
  return file;
};
function openStore(file: string, opts?: Parameters<typeof RunStore.open>[1]): RunStore {
  const s = RunStore.open(file, opts);
  open.push(s);
  return s;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cb-datasets-'));
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SHA = 'ab'.repeat(32);

const features = (over: Partial<NewDataset> = {}): NewDataset => ({
  name: 'codes-128',
  shape: { kind: 'features', dim: 128 },
  source: { format: 'npy', path: '/data/codes.npy', labels: '/data/labels.npy', testFraction: 0.2 },
  sha256: SHA,
  counts: { train: 800, test: 200 },
  classNames: ['a', 'b', 'c'],
  notes: ['read 1000 rows of float32'],
  ...over,
});

const images = (over: Partial<NewDataset> = {}): NewDataset => ({
  name: 'cifar-10',
  shape: { kind: 'images', height: 32, width: 32, channels: 3 },
  source: { format: 'folder', path: '/data/cifar', size: { height: 32, width: 32 }, channels: 3 },
  sha256: 'cd'.repeat(32),
  counts: { train: 50_000, test: 10_000 },
  classNames: null,
  notes: [],
  ...over,
});

const datasetInfo = (name: string, sha256?: string, format: DatasetInfo['format'] = 'idx'): DatasetInfo => ({
  name,
  dir: '/data/codes.npy',
  format,
  checksums: {},
  fitSize: 800,
  evalSize: 200,
  pixelStats: { min: 0, max: 1, mean: 0.5 },
  ...(sha256 ? { sha256 } : {}),
});

const newRun = (dataset?: DatasetInfo, seed = 0): NewRun => ({
  task: 'kmeans',
  params: { task: 'kmeans', k: 3, seed },
  seed,
  backend: 'cpu',
  dataset,
});

const result = (): RunResult => ({
  metrics: { accuracy: 0.5, nmi: 0.4, ari: 0.3 },
  evaluation: evaluationOf(0.5),
  assignments: Int32Array.from([0, 1, 2]),
  timings: { totalMs: 1 },
  artifacts: {},
});

function storeError(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    return e as StoreError;
  }
  throw new Error('expected a StoreError');
}

const names = (s: RunStore): string[] => s.listDatasets().records.map((r) => r.name);

describe('data sets in the history', () => {
  it('adds, gets, lists and removes a record, every field as written', () => {
    const s = openStore(dbFile());
    expect(s.schemaVersion).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(7);
    const before = Date.now();
    const added = s.addDataset(features());
    expect(added).toEqual({ ...features(), uid: expect.stringMatching(/^[0-9a-f]{32}$/), createdAt: expect.any(String) });
    expect(Date.parse(added.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(s.getDataset('codes-128')).toEqual(added);
    s.addDataset(images());
    expect(names(s)).toEqual(['cifar-10', 'codes-128']);
    expect(s.listDatasets().unreadable).toEqual([]);
    expect(s.getDataset('cifar-10')!.classNames).toBeNull();
    expect(s.getDataset('cifar-10')!.counts).toEqual({ train: 50_000, test: 10_000 });

    expect(s.removeDataset('codes-128')).toEqual({ runs: 0 });
    expect(s.getDataset('codes-128')).toBeUndefined();
    expect(names(s)).toEqual(['cifar-10']);
    expect(s.removeDataset('codes-128')).toBeNull();
  });

  it('keeps a given uid (an imported record) and a source option it does not know', () => {
    const s = openStore(dbFile());
    const uid = '0123456789abcdef'.repeat(2);
    const source = { format: 'csv', path: '/d/x.csv', later: { option: true } } as unknown as DatasetRecord['source'];
    const added = s.addDataset(features({ uid, source, counts: { train: 10, test: null } }));
    expect(added.uid).toBe(uid);
    expect(added.source).toEqual(source);
    expect(added.counts).toEqual({ train: 10, test: null });
  });

  it('refuses a name already taken, saying when it was added, and keeps the first', () => {
    const s = openStore(dbFile());
    const first = s.addDataset(features());
    const e = storeError(() => s.addDataset(features({ sha256: 'ef'.repeat(32) })));
    expect(e.code).toBe('INVALID');
    expect(e.message).toBe(
      `data set 'codes-128' already exists (added ${first.createdAt.replace('T', ' ').slice(0, 16)}); remove it first or choose another name`,
    );
    expect(s.getDataset('codes-128')!.sha256).toBe(SHA);
  });

  it('names are case-sensitive: two names that differ in case are two data sets', () => {
    const s = openStore(dbFile());
    s.addDataset(features({ name: 'Codes' }));
    s.addDataset(features({ name: 'codes' }));
    expect(names(s)).toEqual(['Codes', 'codes']);
    expect(s.getDataset('CODES')).toBeUndefined();
  });

  it('refuses hostile and malformed names in one line, storing nothing', () => {
    const s = openStore(dbFile());
    for (const name of ['../x', 'a b', '$(rm -rf /)', '', '-x', '.hidden', 'x/y', 'é', 'a\nb', 'x'.repeat(65)]) {
      const e = storeError(() => s.addDataset(features({ name })));
      expect(e.code).toBe('INVALID');
      expect(e.message).toMatch(/is not a data set name/);
      expect(e.message).not.toContain('\n');
    }
    expect(names(s)).toEqual([]);
    s.addDataset(features({ name: 'x'.repeat(64) }));
    s.addDataset(features({ name: 'A.b_c-9' }));
    expect(names(s)).toEqual(['A.b_c-9', 'x'.repeat(64)]);
  });

  it('the database itself refuses a hostile name written by hand', () => {
    const file = dbFile();
    openStore(file).close();
    const r = new Database(file);
    const insert = r.prepare(
      `INSERT INTO datasets (name, uid, shape, source, sha256, counts, notes, created_at) VALUES (?, ?, '{}', '{}', 'x', '{}', '[]', 'now')`,
    );
    for (const name of ['../x', 'a b', '$(rm -rf /)', '-x']) expect(() => insert.run(name, name)).toThrow(/CHECK constraint/);
    expect(() => insert.run(null, 'u')).toThrow(/NOT NULL/);
    r.close();
  });

  it('the built-in data set can be neither added nor removed, whatever the case', () => {
    const s = openStore(dbFile());
    for (const name of ['fashion-mnist', 'Fashion-MNIST']) {
      expect(storeError(() => s.addDataset(features({ name }))).message).toBe(
        `'${name}' is the built-in data set's name; it cannot be added or removed`,
      );
      expect(storeError(() => s.removeDataset(name)).message).toMatch(/built-in data set's name; it cannot be added or removed/);
    }
    expect(names(s)).toEqual([]);
  });

  it('refuses a record it would not read back the same, in one line naming the field', () => {
    const s = openStore(dbFile());
    const bad: [Partial<NewDataset>, RegExp][] = [
      [{ sha256: 'xyz' }, /^data set sha256: must be 64 lowercase hex digits$/],
      [{ source: { format: 'npy', path: 'relative/x.npy' } }, /^data set source\.path: must be an absolute path$/],
      [{ source: { format: 'zip' as 'npy', path: '/x' } }, /^data set source\.format/],
      [{ shape: { kind: 'images', height: 0, width: 28, channels: 1 } }, /^data set shape\.height/],
      [{ shape: { kind: 'images', height: 28, width: 28, channels: 2 as 1 } }, /^data set shape\.channels/],
      [{ counts: { train: -1, test: null } }, /^data set counts\.train/],
      [{ classNames: [] }, /^data set classNames/],
      [{ uid: 'not-hex' }, /^data set uid/],
    ];
    for (const [over, message] of bad) {
      const e = storeError(() => s.addDataset(features(over)));
      expect(e.code).toBe('INVALID');
      expect(e.message).toMatch(message);
    }
    expect(names(s)).toEqual([]);
  });

  it('removing a data set says how many runs recorded it; the runs keep what they recorded', () => {
    const s = openStore(dbFile());
    s.addDataset(features());
    const used = [s.createRun(newRun(datasetInfo('codes-128', SHA), 0)), s.createRun(newRun(datasetInfo('codes-128'), 1))];
    for (const run of used) s.completeRun(run.id, result());
    s.createRun(newRun(datasetInfo('codes-128', 'ef'.repeat(32)), 2)); // an earlier data set of that name, other rows
    s.createRun(newRun(datasetInfo('other', SHA), 3));
    s.createRun(newRun(undefined, 4));
    expect(s.datasetRunCount('codes-128', SHA)).toBe(2);
    expect(s.datasetRunCount('codes-128')).toBe(3);
    expect(s.removeDataset('codes-128')).toEqual({ runs: 2 });
    expect(s.getRun(used[0].id)!.dataset).toEqual(datasetInfo('codes-128', SHA));
    expect(s.getRun(used[1].id)!.status).toBe('completed');
    expect(s.listRuns()).toHaveLength(5);
  });

  it('a damaged row is listed apart with why; getting it is one line', () => {
    const file = dbFile();
    const s = openStore(file);
    s.addDataset(features());
    s.addDataset(images());
    const r = new Database(file);
    r.prepare(`UPDATE datasets SET shape = '{"kind":"images","height":99999,"width":1,"channels":1}' WHERE name = 'cifar-10'`).run();
    r.close();
    const listed = s.listDatasets();
    expect(listed.records.map((d) => d.name)).toEqual(['codes-128']);
    expect(listed.unreadable).toEqual([{ name: 'cifar-10', problem: expect.stringMatching(/^shape\.height: /) }]);
    const e = storeError(() => s.getDataset('cifar-10'));
    expect(e.message).toMatch(/^data set 'cifar-10' in .*runs\.sqlite cannot be read \(shape\.height: /);
    expect(s.removeDataset('cifar-10')).toEqual({ runs: 0 }); // a damaged one can still be removed
  });
});

describe('schema 7 (data sets) and older histories', () => {
  /** A history at schema 6 with one completed run, as the previous version left it. */
  function v6History(): string {
    const file = dbFile();
    const r = new Database(file);
    expect(migrate(r, 6)).toEqual([1, 2, 3, 4, 5, 6]);
    r.prepare(
      `INSERT INTO runs (task, params, seed, dataset, backend, status, started_at, ended_at, metrics, uid)
       VALUES ('kmeans', '{"k":10}', 0, ?, 'cpu', 'completed', '2024-01-01T00:00:00.000Z', '2024-01-01T00:01:00.000Z',
               '{"accuracy":0.5,"nmi":0.4,"ari":0.3}', ?)`,
    ).run(JSON.stringify(datasetInfo('fashion-mnist')), 'c'.repeat(32));
    r.prepare("INSERT INTO run_series (run_id, key, step, value) VALUES (1, 'trainLoss', 0, 0.25)").run();
    r.close();
    return file;
  }

  it('migrates a v6 history: its runs are kept as they were, and data sets can be added', () => {
    const file = v6History();
    const readOnly = openStore(file, { readOnly: true });
    expect(readOnly.schemaVersion).toBe(6);
    expect(readOnly.listDatasets()).toEqual({ records: [], unreadable: [] });
    expect(readOnly.getDataset('codes-128')).toBeUndefined();
    const before = readOnly.getRun(1);
    readOnly.close();

    const s = openStore(file);
    expect(s.schemaVersion).toBe(7);
    expect(s.getRun(1)).toEqual(before);
    expect(s.getRun(1)!.losses).toEqual([{ epoch: 0, trainLoss: 0.25, valLoss: null }]);
    expect(s.listDatasets().records).toEqual([]);
    expect(s.datasetRunCount('fashion-mnist')).toBe(1);
    s.addDataset(features());
    expect(names(s)).toEqual(['codes-128']);
  });

  it('a read-only history cannot add or remove data sets (one line)', () => {
    const file = dbFile();
    openStore(file).addDataset(features());
    const s = openStore(file, { readOnly: true });
    expect(s.getDataset('codes-128')!.name).toBe('codes-128');
    for (const fn of [() => s.addDataset(images()), () => s.removeDataset('codes-128')]) {
      const e = storeError(fn);
      expect(e.code).toBe('READ_ONLY');
    }
  });

  it('runs import: a v7 history into a v7 one, and a v6 one into it; data sets stay where they were added', () => {
    const source = dbFile();
    const src = openStore(source);
    src.addDataset(features());
    // a run on an added data set of another container than Fashion-MNIST's: read back and imported as recorded
    const onNpy = {
      ...datasetInfo('codes-128', SHA, 'npy'),
      shape: { kind: 'features' as const, dim: 128 },
      labelled: true,
      singleSplit: false,
    };
    const recorded = src.createRun(newRun(onNpy, 5));
    src.completeRun(recorded.id, result());
    expect(src.getRun(recorded.id)!.dataset).toEqual(onNpy);
    src.close();

    const dest = dbFile();
    const d = openStore(dest);
    d.addDataset(images());
    d.close();

    const imported = (file: string): number[] => {
      const db = openImportTarget(dest);
      try {
        return importRunDatabase(db, dest, file).runIds;
      } finally {
        db.close();
      }
    };
    expect(imported(source)).toEqual([1]);
    expect(imported(v6History())).toEqual([2]);

    const after = openStore(dest);
    expect(after.schemaVersion).toBe(7);
    expect(names(after)).toEqual(['cifar-10']); // the file's data sets are not imported: runs carry what they recorded
    expect(after.getRun(1)!.dataset).toMatchObject({
      name: 'codes-128',
      format: 'npy',
      sha256: SHA,
      shape: { kind: 'features', dim: 128 },
    });
    expect(after.getRun(2)!.metrics?.accuracy).toBe(0.5);
    expect(after.datasetRunCount('codes-128', SHA)).toBe(1);
  });
});
