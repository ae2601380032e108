import Database from 'better-sqlite3';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  INTERRUPTED,
  MIGRATIONS,
  RunStore,
  SCHEMA_VERSION,
  StoreError,
  isProcessAlive,
  migrate,
  runArtifactsDir,
} from '../../src-main/engine/store';
import type { EvaluationReport } from '../../src-main/engine/metrics/types';
import type { NewRun, RunResult } from '../../src-main/engine/store/types';
import { startRunOwner } from '../helpers/run-owner';

let root: string;
let n = 0;
const open: RunStore[] = [];
const dbFile = () => join(root, `db-${++n}`, 'runs.sqlite');
function openStore(file?: string, opts?: Parameters<typeof RunStore.open>[1]): RunStore {
  const s = RunStore.open(file, opts);
  open.push(s);
  return s;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cb-store-'));
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const newRun = (over: Partial<NewRun> = {}): NewRun => ({
  task: 'kmeans',
  params: { k: 10, nInit: 3, maxIter: 300, seed: 7 },
  seed: 7,
  backend: 'cpu',
  ...over,
});

const evaluation = (): EvaluationReport => ({
  accuracy: 0.5512345678901234,
  nmi: 0.5,
  ari: 0.375,
  mapping: [9, 0, -1, 3, 4, 5, 6, 7, 8, 1, 2],
  clusterSizes: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 0],
  confusion: Array.from({ length: 10 }, (_, i) => Array.from({ length: 10 }, (_, j) => i * 10 + j)),
  classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  perClass: [{ label: 0, name: 'T-shirt/top', precision: 1 / 3, recall: 2 / 3, f1: 0.1 + 0.2, support: 1000 }],
  macroAvg: { precision: 0.1, recall: 0.2, f1: 0.3, support: 10000 },
  weightedAvg: { precision: 0.4, recall: 0.5, f1: 0.6, support: 10000 },
});

const result = (over: Partial<RunResult> = {}): RunResult => ({
  metrics: { accuracy: 0.5512345678901234, nmi: 0.5, ari: 0.375, inertia: 1.2345678901234567e6 },
  evaluation: evaluation(),
  assignments: Int32Array.from([0, 1, 2, 3]),
  timings: { fitMs: 1234.5, evalMs: 0.25 },
  artifacts: { figure: '/tmp/fig.png' },
  ...over,
});

function raw(file: string): Database.Database {
  return new Database(file);
}

function expectStoreError(fn: () => unknown, code: StoreError['code'], message?: RegExp | string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a StoreError').toBeInstanceOf(StoreError);
  expect((caught as StoreError).code).toBe(code);
  if (message) expect((caught as StoreError).message).toMatch(message);
}

describe('RunStore basics', () => {
  it('opens at the default path, creating the folder, in WAL mode at the current schema version', () => {
    const prev = process.env.CLUSTERBENCH_HOME;
    const home = join(root, 'home', 'nested');
    process.env.CLUSTERBENCH_HOME = home;
    try {
      const s = openStore();
      expect(s.path).toBe(resolve(home, 'runs.sqlite'));
      expect(existsSync(s.path)).toBe(true);
      expect(s.schemaVersion).toBe(SCHEMA_VERSION);
      const r = raw(s.path);
      expect(r.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(r.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      r.close();
    } finally {
      if (prev === undefined) delete process.env.CLUSTERBENCH_HOME;
      else process.env.CLUSTERBENCH_HOME = prev;
    }
  });

  it('creates, completes and gets a run, JSON round-tripping exactly', () => {
    const s = openStore(dbFile());
    const params = {
      k: 10,
      lr: 0.1 + 0.2,
      tiny: 1e-300,
      big: Number.MAX_SAFE_INTEGER,
      nested: [[1, 2, [3.5, -4]], [], [{ a: null, b: 'x' }]],
      flags: { whiten: false, name: 'ünïcødé ✓' },
      weird: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0],
    };
    const dataset = {
      name: 'fashion-mnist',
      dir: '/data/fm',
      format: 'idx' as const,
      checksums: { 'train-images-idx3-ubyte': 'ab'.repeat(32) },
      fitSize: 60000,
      evalSize: 10000,
      pixelStats: { min: 0, max: 1, mean: 0.2860405969887955 },
    };
    const created = s.createRun(newRun({ params, dataset }));
    expect(created.id).toBeGreaterThan(0);
    expect(created.status).toBe('running');
    expect(created.endedAt).toBeNull();
    expect(new Date(created.startedAt).toISOString()).toBe(created.startedAt);
    expect(created.params).toEqual(params);
    expect(Object.is((created.params.weird as number[])[3], -0)).toBe(true);
    expect(created.dataset).toEqual(dataset);
    expect(created.losses).toEqual([]);
    expect(created.artifacts).toEqual({});

    s.setBackend(created.id, 'tensorflow');
    s.setArtifacts(created.id, { model: '/tmp/model.json', figure: '/tmp/old.png' });
    const res = result({ metrics: { accuracy: 0.5, nmi: 0.4, ari: 0.3, logLikelihood: Number.NEGATIVE_INFINITY } });
    const done = s.completeRun(created.id, res);
    expect(done.status).toBe('completed');
    expect(done.endedAt).not.toBeNull();
    expect(done.error).toBeNull();
    expect(done.backend).toBe('tensorflow');
    expect(done.metrics).toEqual(res.metrics);
    expect(done.evaluation).toEqual(res.evaluation);
    expect(done.timings).toEqual(res.timings);
    expect(done.artifacts).toEqual({ model: '/tmp/model.json', figure: '/tmp/fig.png' }); // merged, result wins
    expect(done.assignments).toBeUndefined();

    const got = s.getRun(created.id, { withAssignments: true })!;
    expect(got.assignments).toBeInstanceOf(Int32Array);
    expect(Array.from(got.assignments!)).toEqual([0, 1, 2, 3]);
    expect(s.getRun(created.id)!.assignments).toBeUndefined();
    expect(s.getRun(9999)).toBeUndefined();
  });

  it('round-trips 10k Int32 assignments as a little-endian BLOB', () => {
    const file = dbFile();
    const s = openStore(file);
    const a = new Int32Array(10_000);
    for (let i = 0; i < a.length; i++) a[i] = (i * 2654435761) | 0;
    a[0] = -2147483648;
    a[1] = 2147483647;
    a[2] = -1;
    // A view at an offset into a bigger buffer must be stored as just the view.
    const big = new Int32Array(10_002);
    big.set(a, 1);
    const view = big.subarray(1, 10_001);
    const { id } = s.createRun(newRun());
    s.completeRun(id, result({ assignments: view }));
    const back = s.getRun(id, { withAssignments: true })!.assignments!;
    expect(back.length).toBe(10_000);
    expect(Buffer.from(back.buffer).equals(Buffer.from(a.buffer))).toBe(true);

    const r = raw(file);
    const blob = (r.prepare('SELECT data FROM run_assignments WHERE run_id = ?').get(id) as { data: Buffer }).data;
    r.close();
    expect(blob.length).toBe(40_000);
    expect(blob.readInt32LE(0)).toBe(-2147483648);
    expect(blob.readInt32LE(4)).toBe(2147483647);
    expect(blob.readInt32LE(8)).toBe(-1);
    expect(blob.readInt32LE(4 * 9999)).toBe(a[9999]);
  });

  it('lists runs with filters, order and limit, without assignments', () => {
    const s = openStore(dbFile());
    const ids = [
      s.createRun(newRun({ task: 'kmeans' })).id,
      s.createRun(newRun({ task: 'ae-kmeans' })).id,
      s.createRun(newRun({ task: 'kmeans' })).id,
      s.createRun(newRun({ task: 'ae-gmm' })).id,
    ];
    s.completeRun(ids[0], result());
    s.failRun(ids[1], 'boom');
    s.appendLoss(ids[3], { epoch: 0, trainLoss: 1, valLoss: 2 });

    expect(s.listRuns().map((r) => r.id)).toEqual([...ids].reverse());
    expect(s.listRuns({ order: 'oldest' }).map((r) => r.id)).toEqual(ids);
    expect(s.listRuns({ task: 'kmeans' }).map((r) => r.id)).toEqual([ids[2], ids[0]]);
    expect(s.listRuns({ status: 'completed' }).map((r) => r.id)).toEqual([ids[0]]);
    expect(s.listRuns({ status: 'failed', task: 'ae-kmeans' }).map((r) => r.id)).toEqual([ids[1]]);
    expect(s.listRuns({ status: 'running' }).map((r) => r.id)).toEqual([ids[3], ids[2]]);
    expect(s.listRuns({ limit: 2 }).map((r) => r.id)).toEqual([ids[3], ids[2]]);
    expect(s.listRuns({ limit: 2, offset: 1, order: 'oldest' }).map((r) => r.id)).toEqual([ids[1], ids[2]]);
    expect(s.listRuns({ task: 'nope' })).toEqual([]);
    const listed = s.listRuns();
    expect(listed.every((r) => r.assignments === undefined)).toBe(true);
    expect(listed.find((r) => r.id === ids[3])!.losses).toEqual([{ epoch: 0, trainLoss: 1, valLoss: 2 }]);
    expect(listed.find((r) => r.id === ids[0])!.metrics).toEqual(result().metrics);
    expectStoreError(() => s.listRuns({ status: 'done' }), 'INVALID');
    expectStoreError(() => s.listRuns({ limit: -5 }), 'INVALID');
  });

  it('keeps losses in epoch order, replaces a re-reported epoch, keeps NaN/Infinity, and cascades on delete', () => {
    const file = dbFile();
    const s = openStore(file);
    const { id } = s.createRun(newRun({ task: 'ae-kmeans' }));
    const other = s.createRun(newRun({ task: 'ae-gmm' })).id;
    s.appendLoss(id, { epoch: 2, trainLoss: 0.3, valLoss: 0.35 });
    s.appendLoss(id, { epoch: 0, trainLoss: 0.9, valLoss: null });
    s.appendLoss(id, { epoch: 1, trainLoss: 0.5, valLoss: 0.55 });
    s.appendLoss(id, { epoch: 1, trainLoss: 0.45, valLoss: 0.5 });
    s.appendLoss(id, { epoch: 3, trainLoss: Number.NaN, valLoss: Number.NaN });
    s.appendLoss(id, { epoch: 4, trainLoss: Number.POSITIVE_INFINITY, valLoss: null });
    s.appendLoss(other, { epoch: 0, trainLoss: 1, valLoss: 1 });
    const losses = s.getRun(id)!.losses;
    expect(losses.map((l) => l.epoch)).toEqual([0, 1, 2, 3, 4]);
    expect(losses[0]).toEqual({ epoch: 0, trainLoss: 0.9, valLoss: null });
    expect(losses[1]).toEqual({ epoch: 1, trainLoss: 0.45, valLoss: 0.5 });
    expect(Number.isNaN(losses[3].trainLoss)).toBe(true);
    expect(Number.isNaN(losses[3].valLoss as number)).toBe(true);
    expect(losses[4]).toEqual({ epoch: 4, trainLoss: Number.POSITIVE_INFINITY, valLoss: null });
    expectStoreError(() => s.appendLoss(id, { epoch: -1, trainLoss: 1, valLoss: null }), 'INVALID');
    expectStoreError(() => s.appendLoss(9999, { epoch: 0, trainLoss: 1, valLoss: null }), 'NOT_FOUND');

    s.completeRun(id, result());
    expect(s.deleteRun(id)).toBe(true);
    expect(s.deleteRun(id)).toBe(false);
    expect(s.getRun(id)).toBeUndefined();
    const r = raw(file);
    expect(r.prepare('SELECT count(*) AS n FROM run_series WHERE run_id = ?').get(id)).toEqual({ n: 0 });
    expect(r.prepare('SELECT count(*) AS n FROM run_assignments WHERE run_id = ?').get(id)).toEqual({ n: 0 });
    expect(r.prepare('SELECT count(*) AS n FROM run_series WHERE run_id = ?').get(other)).toEqual({ n: 2 }); // trainLoss, valLoss
    r.close();
  });

  it('keeps any per-step series by key, step and value, apart from the losses', () => {
    const s = openStore(dbFile());
    const { id } = s.createRun(newRun({ task: 'ae-kmeans' }));
    s.appendLoss(id, { epoch: 0, trainLoss: 0.9, valLoss: 0.95 });
    s.appendSeries(id, 'learningRate', 1, 0.01);
    s.appendSeries(id, 'learningRate', 0, 0.1);
    s.appendSeries(id, 'learningRate', 1, Number.NaN); // the same step again replaces it
    s.appendSeries(id, 'valLoss', 1, 0.7); // a validation loss alone: its epoch's training loss reads as NaN
    const series = s.getSeries(id, 'learningRate');
    expect(series.map((p) => p.step)).toEqual([0, 1]);
    expect(series[0].value).toBe(0.1);
    expect(Number.isNaN(series[1].value)).toBe(true);
    expect(s.getSeries(id, 'trainLoss')).toEqual([{ step: 0, value: 0.9 }]);
    const losses = s.getRun(id)!.losses;
    expect(losses[0]).toEqual({ epoch: 0, trainLoss: 0.9, valLoss: 0.95 });
    expect(losses[1].epoch).toBe(1);
    expect(Number.isNaN(losses[1].trainLoss)).toBe(true);
    expect(losses[1].valLoss).toBe(0.7);
    // Reporting an epoch again without a validation loss removes the earlier one, as the loss columns did.
    s.appendLoss(id, { epoch: 0, trainLoss: 0.8, valLoss: null });
    expect(s.getRun(id)!.losses[0]).toEqual({ epoch: 0, trainLoss: 0.8, valLoss: null });
    expectStoreError(() => s.appendSeries(id, 'bad key', 0, 1), 'INVALID', /series key "bad key" is not a name/);
    expectStoreError(() => s.appendSeries(id, 'x'.repeat(65), 0, 1), 'INVALID');
    expectStoreError(() => s.appendSeries(id, 'lr', -1, 1), 'INVALID', 'step must be >= 0, got -1');
    expectStoreError(() => s.appendSeries(id, 'lr', 0, '1' as unknown as number), 'INVALID');
    s.completeRun(id, result());
    expectStoreError(() => s.appendSeries(id, 'lr', 2, 1), 'RUN_ENDED', `run ${id} is already completed; cannot append series lr`);
  });

  it('deletes a run with its folder and nothing else: a link in the folder’s place is removed, never followed', () => {
    const file = dbFile();
    const s = openStore(file);
    const [a, b, bare] = [0, 1, 2].map(() => s.createRun(newRun()).id);
    for (const id of [a, b]) {
      mkdirSync(join(runArtifactsDir(file, id), 'autoencoder'), { recursive: true });
      writeFileSync(join(runArtifactsDir(file, id), 'codes-fit.f32'), 'codes');
    }
    for (const id of [a, b, bare]) s.completeRun(id, result());
    expect(s.deleteRun(a)).toBe(true);
    expect(existsSync(runArtifactsDir(file, a))).toBe(false);
    expect(existsSync(join(runArtifactsDir(file, b), 'codes-fit.f32'))).toBe(true);
    expect(s.deleteRun(bare)).toBe(true); // a run that wrote no files

    const outside = join(root, `outside-${++n}`);
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep'), 'not the run’s');
    rmSync(runArtifactsDir(file, b), { recursive: true });
    symlinkSync(outside, runArtifactsDir(file, b));
    expect(s.deleteRun(b)).toBe(true);
    expect(lstatSync(runArtifactsDir(file, b), { throwIfNoEntry: false })).toBeUndefined();
    expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('not the run’s');
  });

  it('refuses data that JSON would not store faithfully', () => {
    const s = openStore(dbFile());
    expectStoreError(() => s.createRun(newRun({ params: { w: new Float32Array(2) } })), 'INVALID', /params\.w: Float32Array/);
    expectStoreError(() => s.createRun(newRun({ params: { d: new Date() } })), 'INVALID', /params\.d/);
    expectStoreError(() => s.createRun(newRun({ params: { a: [1, undefined] } })), 'INVALID', /params\.a\[1\]/);
    expectStoreError(() => s.createRun(newRun({ params: { f: () => 1 } })), 'INVALID');
    expectStoreError(() => s.createRun(newRun({ seed: 1.5 })), 'INVALID');
    const { id } = s.createRun(newRun());
    expectStoreError(() => s.completeRun(id, result({ assignments: [1, 2] as unknown as Int32Array })), 'INVALID');
    expect(s.listRuns()).toHaveLength(1);
    expect(s.getRun(id)!.status).toBe('running');
  });
});

describe('run state rules', () => {
  it('completeRun on an unknown id is a clear error', () => {
    const s = openStore(dbFile());
    expectStoreError(() => s.completeRun(4242, result()), 'NOT_FOUND', /run 4242/);
  });

  it('a failed or cancelled run cannot be completed; a completed run cannot be failed or cancelled', () => {
    const s = openStore(dbFile());
    const a = s.createRun(newRun()).id;
    expect(s.failRun(a, 'out of memory')).toBe(true);
    const failed = s.getRun(a)!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe('out of memory');
    expect(failed.endedAt).not.toBeNull();
    expectStoreError(() => s.completeRun(a, result()), 'RUN_ENDED', /already failed/);
    expect(s.cancelRun(a, 'user')).toBe(false);
    expect(s.failRun(a, 'again')).toBe(false);
    expect(s.getRun(a)).toEqual(failed);
    expect(s.getRun(a, { withAssignments: true })!.assignments).toBeNull();
    expectStoreError(() => s.appendLoss(a, { epoch: 0, trainLoss: 1, valLoss: null }), 'RUN_ENDED');

    const b = s.createRun(newRun()).id;
    expect(s.cancelRun(b, 'stopped by user')).toBe(true);
    expect(s.getRun(b)!).toMatchObject({ status: 'cancelled', error: 'stopped by user' });
    expectStoreError(() => s.completeRun(b, result()), 'RUN_ENDED', /already cancelled/);
    const c2 = s.createRun(newRun()).id;
    expect(s.cancelRun(c2)).toBe(true);
    expect(s.getRun(c2)!.error).toBeNull();

    const c = s.createRun(newRun()).id;
    const completed = s.completeRun(c, result());
    expect(s.failRun(c, 'late error')).toBe(false);
    expect(s.cancelRun(c)).toBe(false);
    expectStoreError(() => s.completeRun(c, result()), 'RUN_ENDED');
    expect(s.getRun(c)).toEqual(completed);
    // Artifacts may still be added to an ended run (figures made later).
    s.setArtifacts(c, { report: '/tmp/r.html' });
    expect(s.getRun(c)!.artifacts).toEqual({ figure: '/tmp/fig.png', report: '/tmp/r.html' });

    expect(s.failRun(9999, 'x')).toBe(false);
    expectStoreError(() => s.setArtifacts(9999, {}), 'NOT_FOUND');
  });

  it('queued runs can start, be cancelled, or complete', () => {
    const s = openStore(dbFile());
    const q = s.createRun(newRun(), { status: 'queued' });
    expect(q.status).toBe('queued');
    s.startRun(q.id);
    expect(s.getRun(q.id)!.status).toBe('running');
    const q2 = s.createRun(newRun(), { status: 'queued' }).id;
    expect(s.cancelRun(q2)).toBe(true);
    expectStoreError(() => s.startRun(q2), 'RUN_ENDED');
  });

  it('completeRun is one transaction: a failure part-way leaves no trace', () => {
    const file = dbFile();
    const s = openStore(file);
    const { id } = s.createRun(newRun());
    const r = raw(file);
    r.exec(`CREATE TRIGGER no_complete BEFORE UPDATE OF status ON runs WHEN NEW.status = 'completed'
            BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;`);
    expect(() => s.completeRun(id, result())).toThrow(/simulated failure/);
    expect(r.prepare('SELECT count(*) AS n FROM run_assignments').get()).toEqual({ n: 0 });
    const after = s.getRun(id)!;
    expect(after).toMatchObject({ status: 'running', metrics: null, evaluation: null, endedAt: null });
    r.exec('DROP TRIGGER no_complete');
    r.close();
    expect(s.completeRun(id, result()).status).toBe('completed');
  });
});

describe('schema and files', () => {
  it('reopening is idempotent', () => {
    const file = dbFile();
    const a = RunStore.open(file);
    const id = a.createRun(newRun()).id;
    a.completeRun(id, result());
    a.close();
    a.close(); // twice is fine
    expectStoreError(() => a.listRuns(), 'CLOSED');
    const b = openStore(file);
    expect(b.schemaVersion).toBe(SCHEMA_VERSION);
    expect(b.getRun(id)!.status).toBe('completed');
    const r = raw(file);
    expect(migrate(r)).toEqual([]);
    r.close();
  });

  it('migrates a v1 database: keeps its runs, fails its ownerless active runs', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBeGreaterThan(1);
    const file = dbFile();
    const dir = resolve(file, '..');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const r = raw(file);
    expect(migrate(r, 1)).toEqual([1]);
    expect(r.pragma('user_version', { simple: true })).toBe(1);
    const ins = r.prepare(
      `INSERT INTO runs (task, params, seed, backend, status, started_at, ended_at, metrics)
       VALUES (?, ?, 1, 'cpu', ?, '2024-01-01T00:00:00.000Z', ?, ?)`,
    );
    const done = Number(
      ins.run('kmeans', '{"k":10}', 'completed', '2024-01-01T00:01:00.000Z', '{"accuracy":0.5,"nmi":0.4,"ari":0.3}').lastInsertRowid,
    );
    const running = Number(ins.run('ae-kmeans', '{"k":10}', 'running', null, null).lastInsertRowid);
    r.prepare('INSERT INTO run_losses (run_id, epoch, train_loss, val_loss) VALUES (?, 0, 0.5, NULL)').run(running);
    r.close();

    const s = openStore(file);
    expect(s.schemaVersion).toBe(SCHEMA_VERSION);
    expect(s.recoveredRunIds).toEqual([running]);
    expect(s.getRun(done)!).toMatchObject({ status: 'completed', params: { k: 10 }, metrics: { accuracy: 0.5, nmi: 0.4, ari: 0.3 } });
    expect(s.getRun(running)!).toMatchObject({
      status: 'failed',
      error: INTERRUPTED,
      losses: [{ epoch: 0, trainLoss: 0.5, valLoss: null }],
    });
    const fresh = s.createRun(newRun()).id;
    const r2 = raw(file);
    expect(r2.prepare('SELECT owner_pid, owner_host FROM runs WHERE id = ?').get(fresh)).toMatchObject({ owner_pid: process.pid });
    r2.close();
  });

  it('migrates a v3 database to v4 (sweeps): keeps its runs, gives each a distinct uid, links nothing', () => {
    const file = dbFile();
    mkdirSync(resolve(file, '..'), { recursive: true });
    const r = raw(file);
    expect(migrate(r, 3)).toEqual([1, 2, 3]);
    const ins = r.prepare(
      `INSERT INTO runs (task, params, seed, backend, status, started_at, ended_at, metrics)
       VALUES ('kmeans', '{"k":10}', ?, 'cpu', 'completed', '2024-01-01T00:00:00.000Z', '2024-01-01T00:01:00.000Z', '{"accuracy":0.5,"nmi":0.4,"ari":0.3}')`,
    );
    const ids = [0, 1, 2].map((seed) => Number(ins.run(seed).lastInsertRowid));
    r.close();

    const s = openStore(file);
    expect(s.schemaVersion).toBe(SCHEMA_VERSION); // through v4 (sweeps) to the current version
    const runs = ids.map((id) => s.getRun(id)!);
    expect(runs.map((run) => [run.seed, run.status, run.metrics?.accuracy, run.sweepId, run.sweepChild])).toEqual([
      [0, 'completed', 0.5, null, null],
      [1, 'completed', 0.5, null, null],
      [2, 'completed', 0.5, null, null],
    ]);
    for (const run of runs) expect(run.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(runs.map((run) => run.uid)).size).toBe(3);
    expect(s.listSweeps()).toEqual([]);
    // uids stay unique: a second row with the same uid is refused by the database
    const r2 = raw(file);
    expect(() => r2.prepare('UPDATE runs SET uid = ? WHERE id = ?').run(runs[0].uid, ids[1])).toThrow(/UNIQUE/);
    r2.close();
  });

  it('reads a v3 history opened read-only, without the sweep columns', () => {
    const file = dbFile();
    mkdirSync(resolve(file, '..'), { recursive: true });
    const r = raw(file);
    migrate(r, 3);
    r.prepare(
      `INSERT INTO runs (task, params, seed, backend, status, started_at) VALUES ('kmeans', '{}', 0, 'cpu', 'failed', '2024-01-01T00:00:00.000Z')`,
    ).run();
    r.close();
    const s = openStore(file, { readOnly: true });
    expect(s.listRuns()).toMatchObject([{ task: 'kmeans', uid: null, sweepId: null, sweepChild: null }]);
    expect(s.listSweeps()).toEqual([]);
  });

  it('migrates a v5 database to v6 (series): each loss column becomes a series, losses read as before', () => {
    const file = dbFile();
    mkdirSync(resolve(file, '..'), { recursive: true });
    const r = raw(file);
    migrate(r, 5);
    const id = Number(
      r
        .prepare(
          `INSERT INTO runs (task, params, seed, backend, status, started_at, ended_at, uid) VALUES ('ae-kmeans', '{}', 0, 'cpu', 'failed', '2024-01-01T00:00:00.000Z', '2024-01-01T00:01:00.000Z', ?)`,
        )
        .run('b'.repeat(32)).lastInsertRowid,
    );
    const loss = r.prepare('INSERT INTO run_losses (run_id, epoch, train_loss, val_loss) VALUES (?, ?, ?, ?)');
    loss.run(id, 0, 0.9, null);
    loss.run(id, 1, 'NaN', 0.5);
    loss.run(id, 2, null, 'NaN'); // an older version's missing training loss
    r.close();
    const readOnly = openStore(file, { readOnly: true }); // an older history read in place: its loss columns
    const before = readOnly.getRun(id)!.losses;
    readOnly.close();

    const s = openStore(file);
    expect(s.schemaVersion).toBe(SCHEMA_VERSION);
    const after = s.getRun(id)!.losses;
    expect(after).toEqual(before);
    expect(after.map((l) => l.epoch)).toEqual([0, 1, 2]);
    expect(after[0]).toEqual({ epoch: 0, trainLoss: 0.9, valLoss: null });
    expect([after[1].trainLoss, after[2].trainLoss, after[2].valLoss].every(Number.isNaN)).toBe(true);
    expect(s.getSeries(id, 'valLoss').map((p) => p.step)).toEqual([1, 2]);
    const r2 = raw(file);
    expect(r2.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'run_losses'").get()).toEqual({ n: 0 });
    r2.close();
  });

  it('refuses a database from a newer version without modifying it', () => {
    const file = join(root, 'future.sqlite');
    const r = raw(file);
    r.exec('CREATE TABLE runs (id INTEGER PRIMARY KEY, whatever TEXT)');
    r.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    r.close();
    const before = readFileSync(file);
    expectStoreError(() => RunStore.open(file), 'FUTURE_VERSION', new RegExp(`future\\.sqlite.*schema version ${SCHEMA_VERSION + 5}`));
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it('refuses a file that is not an SQLite database, naming it', () => {
    const file = join(root, 'notes.sqlite');
    writeFileSync(file, 'these are my notes, not a database\n'.repeat(200));
    const before = readFileSync(file);
    expectStoreError(() => RunStore.open(file), 'NOT_A_DATABASE', /notes\.sqlite/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses a damaged database, naming it', () => {
    const file = dbFile();
    const s = RunStore.open(file);
    s.createRun(newRun());
    s.close();
    const bytes = readFileSync(file);
    bytes.fill(0x5a, 100); // keep the 100-byte header, garble every page
    const bad = join(root, 'damaged.sqlite');
    writeFileSync(bad, bytes);
    expectStoreError(() => RunStore.open(bad), 'NOT_A_DATABASE', /damaged\.sqlite/);
  });

  it("refuses another application's SQLite database", () => {
    const file = join(root, 'other-app.sqlite');
    const r = raw(file);
    r.exec('CREATE TABLE contacts (name TEXT)');
    r.close();
    expectStoreError(() => RunStore.open(file), 'FOREIGN_DATABASE', /other-app\.sqlite/);
  });
});

describe('processes and concurrency', () => {
  it('recovers runs of a killed process, but not of live ones', async () => {
    const file = dbFile();
    const mine = openStore(file);
    const ownRun = mine.createRun(newRun()).id;

    const owner = await startRunOwner(file);
    const info = { id: owner.runId, pid: owner.pid };
    try {
      // While the child lives, another process opening the database leaves its run alone.
      const whileAlive = openStore(file);
      expect(whileAlive.recoveredRunIds).toEqual([]);
      expect(whileAlive.getRun(info.id)!.status).toBe('running');
      whileAlive.close();

      await owner.kill();
      expect(isProcessAlive(info.pid)).toBe(false);

      const after = openStore(file);
      expect(after.recoveredRunIds).toEqual([info.id]);
      const run = after.getRun(info.id)!;
      expect(run).toMatchObject({ status: 'failed', error: INTERRUPTED, losses: [{ epoch: 0, trainLoss: 0.7, valLoss: 0.8 }] });
      expect(run.endedAt).not.toBeNull();
      // Our own run (this process is alive) is untouched and can still complete.
      expect(after.getRun(ownRun)!.status).toBe('running');
      expect(mine.completeRun(ownRun, result()).status).toBe('completed');
    } finally {
      await owner.kill();
    }
  });

  it('leaves runs owned by other hosts alone', () => {
    const file = dbFile();
    const s = openStore(file);
    const id = s.createRun(newRun()).id;
    const r = raw(file);
    r.prepare("UPDATE runs SET owner_pid = 2147483646, owner_host = 'some-other-machine' WHERE id = ?").run(id);
    const deadHere = s.createRun(newRun()).id;
    r.prepare('UPDATE runs SET owner_pid = 2147483646 WHERE id = ?').run(deadHere);
    r.close();
    expect(s.recoverStaleRuns()).toEqual([deadHere]);
    expect(s.getRun(id)!.status).toBe('running');
    expect(s.getRun(deadHere)!).toMatchObject({ status: 'failed', error: INTERRUPTED });
  });

  it('two stores on one file: one writes while the other reads', () => {
    const file = dbFile();
    const writer = openStore(file);
    const reader = openStore(file);
    const { id } = writer.createRun(newRun({ task: 'ae-kmeans' }));
    expect(reader.getRun(id)!.status).toBe('running');
    for (let e = 0; e < 5; e++) {
      writer.appendLoss(id, { epoch: e, trainLoss: 1 / (e + 1), valLoss: null });
      expect(reader.getRun(id)!.losses).toHaveLength(e + 1);
    }
    const readerId = reader.createRun(newRun()).id;
    expect(readerId).not.toBe(id);
    expect(writer.listRuns().map((r) => r.id)).toEqual([readerId, id]);

    // A long read snapshot (WAL) neither blocks the writer nor sees its later commits.
    const snap = raw(file);
    snap.exec('BEGIN');
    expect(snap.prepare("SELECT count(*) AS n FROM run_series WHERE key = 'trainLoss'").get()).toEqual({ n: 5 });
    writer.completeRun(id, result());
    expect(snap.prepare('SELECT status FROM runs WHERE id = ?').get(id)).toEqual({ status: 'running' });
    snap.exec('COMMIT');
    expect(snap.prepare('SELECT status FROM runs WHERE id = ?').get(id)).toEqual({ status: 'completed' });
    expect(reader.getRun(id)!.status).toBe('completed');

    // An open write transaction elsewhere: readers go on; writers wait for the busy timeout, then fail.
    const impatient = openStore(file, { busyTimeoutMs: 50 });
    snap.exec('BEGIN IMMEDIATE');
    snap.prepare("UPDATE runs SET backend = 'x' WHERE id = ?").run(id);
    expect(reader.getRun(id)!.backend).toBe('cpu');
    expect(() => impatient.createRun(newRun())).toThrow(/locked|busy/i);
    snap.exec('COMMIT');
    expect(reader.getRun(id)!.backend).toBe('x');
    expect(impatient.createRun(newRun()).status).toBe('running');
    snap.close();
  });
});

describe('sweeps', () => {
  const sweep = {
    task: 'kmeans' as const,
    base: { task: 'kmeans', k: 10 },
    grid: [['k', [5, 10]]] as [string, unknown[]][],
    seeds: [0, 1],
  };

  it('creates, lists, updates and reads a sweep; runs link to it by sweep id and child index', () => {
    const s = openStore(dbFile());
    const created = s.createSweep({ ...sweep, name: 'k sweep' });
    expect(created).toMatchObject({ ...sweep, name: 'k sweep', status: 'queued', endedAt: null });
    expect(created.uid).toMatch(/^[0-9a-f]{32}$/);
    const a = s.createRun(newRun({ sweep: { sweepId: created.id, child: 1 } }));
    const b = s.createRun(newRun({ sweep: { sweepId: created.id, child: 0 } }));
    const own = s.createRun(newRun());
    expect([a.sweepId, a.sweepChild, own.sweepId, own.sweepChild]).toEqual([created.id, 1, null, null]);
    expect(a.uid).not.toBe(b.uid);
    expect(s.sweepRuns(created.id).map((r) => r.id)).toEqual([b.id, a.id]);
    s.setSweepStatus(created.id, 'running');
    expect(s.getSweep(created.id)).toMatchObject({ status: 'running', endedAt: null });
    s.setSweepStatus(created.id, 'partial');
    expect(s.getSweep(created.id)!.endedAt).not.toBeNull();
    expect(s.getSweepByUid(created.uid)!.id).toBe(created.id);
    const second = s.createSweep(sweep);
    expect(s.listSweeps().map((x) => x.id)).toEqual([second.id, created.id]);
    expectStoreError(() => s.setSweepStatus(999, 'running'), 'NOT_FOUND');
    expectStoreError(() => s.createRun(newRun({ sweep: { sweepId: 999, child: 0 } })), 'INVALID');
  });

  it('deletes a sweep with its runs and their files, or keeps the runs unlinked; refuses while a child is running', () => {
    const s = openStore(dbFile());
    const one = s.createSweep(sweep);
    const done = s.createRun(newRun({ sweep: { sweepId: one.id, child: 0 } })).id;
    s.completeRun(done, result());
    const live = s.createRun(newRun({ sweep: { sweepId: one.id, child: 1 } })).id;
    expectStoreError(() => s.deleteSweep(one.id), 'RUN_ACTIVE', /sweep \d+ is still running/);
    s.failRun(live, 'boom');
    for (const id of [done, live]) mkdirSync(runArtifactsDir(s.path, id), { recursive: true });
    expect(s.deleteSweep(one.id)).toEqual([done, live]);
    expect(s.getSweep(one.id)).toBeUndefined();
    expect(s.getRun(done)).toBeUndefined();
    expect([done, live].map((id) => existsSync(runArtifactsDir(s.path, id)))).toEqual([false, false]); // with their files

    const two = s.createSweep(sweep);
    const kept = s.createRun(newRun({ sweep: { sweepId: two.id, child: 0 } })).id;
    s.failRun(kept, 'x');
    mkdirSync(runArtifactsDir(s.path, kept), { recursive: true });
    expect(s.deleteSweep(two.id, { deleteRuns: false })).toEqual([]);
    expect(s.getRun(kept)).toMatchObject({ sweepId: null, status: 'failed' });
    expect(existsSync(runArtifactsDir(s.path, kept))).toBe(true);
    expect(s.deleteSweep(two.id)).toBeNull();
  });
});
