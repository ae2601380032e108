import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPLICATION_ID, migrate, RunStore, runArtifactsDir, SCHEMA_VERSION } from '../../src-main/engine/store';
import { importRunDatabase, openImportTarget, type ImportResult } from '../../src-main/engine/store/import';
import { IMPORT_LIMITS } from '../../src-main/engine/store/import-checks';
import { settledSweepStatus as settledStatus } from '../../src-main/engine/schema/sweep-summary';
import { rewritePath } from '../../src-main/engine/store/import-artifacts';
import type { NewRun, RunResult } from '../../src-main/engine/store/types';
import { evaluationOf } from '../helpers/run-fixtures';

let root: string;
let n = 0;
const dbFile = () => join(root, `h${++n}`, 'runs.sqlite');

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cb-import-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const run = (over: Partial<NewRun> = {}): NewRun => ({
  task: 'kmeans',
  params: { task: 'kmeans', k: 10, seed: 0 },
  seed: 0,
  backend: 'cpu',
  ...over,
});

const result = (accuracy: number, artifacts: RunResult['artifacts'] = {}): RunResult => ({
  metrics: { accuracy, nmi: 0.5, ari: 0.4 },
  evaluation: evaluationOf(accuracy),
  assignments: Int32Array.from([0, 1, 2]),
  timings: { totalMs: 10 },
  artifacts,
});

const SWEEP = { uid: 'a'.repeat(32), name: 'seeds', task: 'kmeans' as const, base: { task: 'kmeans', k: 10 }, grid: [], seeds: [0, 1, 2] };

/** Imports `file` into `dest`, through the same calls as `runs import`. */
function importInto(dest: string, file: string): ImportResult {
  const db = openImportTarget(dest);
  try {
    return importRunDatabase(db, dest, file);
  } finally {
    db.close();
  }
}

function refusal(dest: string, file: string): string {
  try {
    importInto(dest, file);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the import to be refused');
}

function withStore<T>(file: string, fn: (s: RunStore) => T): T {
  const s = RunStore.open(file);
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

/**
 * A child's history as a Slurm task leaves it: the sweep (same uid), child `child` completed, and — for the encoder
 * case — a run that trained an "encoder" (files in its folder) and one that reused it.
 */
function childHistory(child: number, withEncoderPair = false): string {
  const file = dbFile();
  withStore(file, (s) => {
    const sweep = s.createSweep(SWEEP);
    const r = s.createRun(run({ seed: child, sweep: { sweepId: sweep.id, child } }));
    s.completeRun(r.id, result(0.5 + child / 10));
    if (!withEncoderPair) return;
    const trained = s.createRun(run({ task: 'ae-kmeans', params: { task: 'ae-kmeans', seed: 0 } }));
    const dir = runArtifactsDir(file, trained.id);
    mkdirSync(join(dir, 'autoencoder'), { recursive: true });
    writeFileSync(join(dir, 'autoencoder', 'weights.bin'), 'weights');
    writeFileSync(join(dir, 'codes-fit.f32'), 'codes');
    s.completeRun(trained.id, result(0.6, { autoencoder: join(dir, 'autoencoder'), codesFit: join(dir, 'codes-fit.f32'), codeSize: '10' }));
    const reuser = s.createRun(run({ task: 'ae-gmm', params: { task: 'ae-gmm', seed: 0, reuseEncoder: trained.id } }));
    const own = runArtifactsDir(file, reuser.id);
    mkdirSync(join(own, 'autoencoder'), { recursive: true });
    writeFileSync(join(own, 'autoencoder', 'weights.bin'), 'weights');
    s.completeRun(
      reuser.id,
      result(0.62, {
        autoencoder: join(own, 'autoencoder'),
        reusedEncoderFrom: String(trained.id),
        reusedCodesFrom: String(trained.id),
        codesFit: join(dir, 'codes-fit.f32'),
      }),
    );
  });
  return file;
}

describe('runs import: merging', () => {
  it('joins the emitted sweep by uid, settles it when every child is in, and keeps the children linked', () => {
    const dest = dbFile();
    const sweepId = withStore(dest, (s) => {
      s.completeRun(s.createRun(run()).id, result(0.1)); // an unrelated run: the imported ids differ from the file's
      return s.createSweep(SWEEP).id; // recorded when the array was emitted
    });
    const first = importInto(dest, childHistory(0));
    expect(first.runIds).toEqual([2]);
    expect(first.sweeps).toEqual([{ id: sweepId, uid: SWEEP.uid, name: 'seeds', joined: true, status: 'queued', runs: 1 }]);
    importInto(dest, childHistory(1));
    const last = importInto(dest, childHistory(2));
    expect(last.sweeps[0].status).toBe('completed');
    withStore(dest, (s) => {
      const children = s.sweepRuns(sweepId);
      expect(children.map((r) => [r.sweepChild, r.status, r.metrics?.accuracy])).toEqual([
        [0, 'completed', 0.5],
        [1, 'completed', 0.6],
        [2, 'completed', 0.7],
      ]);
      expect(s.getSweep(sweepId)?.status).toBe('completed');
      expect(s.getSweep(sweepId)?.endedAt).not.toBeNull();
      expect(s.getRun(children[0].id, { withAssignments: true })?.assignments).toEqual(Int32Array.from([0, 1, 2]));
    });
  });

  it('creates a sweep the history does not have, and copies run files under the new ids with paths and encoder references remapped', () => {
    const dest = dbFile();
    withStore(dest, (s) => [1, 2, 3].forEach(() => s.completeRun(s.createRun(run()).id, result(0.1))));
    const source = childHistory(1, true); // runs 1 (sweep child), 2 (trained encoder), 3 (reused 2's)
    const imported = importInto(dest, source);
    expect(imported.runIds).toEqual([4, 5, 6]);
    expect(imported.sweeps).toMatchObject([{ uid: SWEEP.uid, joined: false, status: 'queued', runs: 1 }]);
    withStore(dest, (s) => {
      expect(s.getSweepByUid(SWEEP.uid)?.name).toBe('seeds');
      const trained = s.getRun(5)!;
      const reuser = s.getRun(6)!;
      expect(trained.artifacts.autoencoder).toBe(join(runArtifactsDir(dest, 5), 'autoencoder'));
      expect(readFileSync(join(trained.artifacts.autoencoder!, 'weights.bin'), 'utf8')).toBe('weights');
      expect(readFileSync(trained.artifacts.codesFit!, 'utf8')).toBe('codes');
      expect(reuser.params.reuseEncoder).toBe(5);
      expect(reuser.artifacts).toMatchObject({
        reusedEncoderFrom: '5',
        reusedCodesFrom: '5',
        codesFit: join(runArtifactsDir(dest, 5), 'codes-fit.f32'),
      });
      expect(existsSync(join(runArtifactsDir(dest, 6), 'autoencoder', 'weights.bin'))).toBe(true);
    });
    expect(existsSync(runArtifactsDir(source, 2))).toBe(true); // copied, not moved
  });

  it('points a reference to a run the file lacks at that run here (same uid, another id); one to nothing is dropped', () => {
    const X_UID = 'e'.repeat(32);
    const dest = dbFile();
    withStore(dest, (s) => {
      [1, 2].forEach(() => s.completeRun(s.createRun(run()).id, result(0.1)));
      const x = s.createRun(run({ task: 'ae-kmeans', params: { task: 'ae-kmeans', seed: 0 }, uid: X_UID })); // run 3 here
      s.completeRun(x.id, result(0.6, { codesFit: join(runArtifactsDir(dest, x.id), 'codes-fit.f32') }));
    });
    // The file's runs reused its run 7 (not in the file): one records X's uid, one a uid this history lacks, one none (older).
    const source = dbFile();
    const reuser = (s: RunStore, uid?: string) => {
      const r = s.createRun(run({ task: 'ae-gmm', params: { task: 'ae-gmm', seed: 0, reuseEncoder: 7 } }));
      const ref = { reusedEncoderFrom: '7', reusedCodesFrom: '7', codesFit: join(runArtifactsDir(source, 7), 'codes-fit.f32') };
      s.completeRun(r.id, result(0.62, uid ? { ...ref, reusedEncoderUid: uid } : ref));
    };
    withStore(source, (s) => {
      reuser(s, X_UID);
      reuser(s, 'f'.repeat(32));
      reuser(s);
    });
    const imported = importInto(dest, source);
    expect(imported.runIds).toEqual([4, 5, 6]);
    expect(imported.droppedReferences).toBe(8); // runs 5 and 6: reuseEncoder, both ids and codesFit each
    withStore(dest, (s) => {
      const kept = s.getRun(4)!;
      expect(kept.params.reuseEncoder).toBe(3);
      expect(kept.artifacts).toMatchObject({
        reusedEncoderFrom: '3',
        reusedCodesFrom: '3',
        reusedEncoderUid: X_UID,
        codesFit: join(runArtifactsDir(dest, 3), 'codes-fit.f32'),
      });
      for (const id of [5, 6]) {
        const dropped = s.getRun(id)!;
        expect(dropped.params.reuseEncoder).toBeUndefined();
        expect([dropped.artifacts.reusedEncoderFrom, dropped.artifacts.reusedCodesFrom, dropped.artifacts.codesFit]).toEqual([
          undefined,
          undefined,
          undefined,
        ]);
      }
    });
  });

  it('reads what is still in the other history’s WAL (its writer still open)', () => {
    const source = dbFile();
    const writer = RunStore.open(source);
    try {
      writer.completeRun(writer.createRun(run()).id, result(0.42));
      expect(existsSync(`${source}-wal`)).toBe(true);
      const dest = dbFile();
      expect(importInto(dest, source).runIds).toEqual([1]);
      withStore(dest, (s) => expect(s.getRun(1)?.metrics?.accuracy).toBe(0.42));
    } finally {
      writer.close();
    }
  });

  it('migrates an older file in memory, never touching it, and recognises it when it comes again', () => {
    const old = dbFile();
    mkdirSync(join(old, '..'), { recursive: true });
    const raw = new Database(old);
    migrate(raw, 3);
    raw
      .prepare(
        `INSERT INTO runs (task, params, seed, backend, status, started_at, ended_at, metrics, artifacts) VALUES ('kmeans', '{"k":10}', 0, 'cpu', 'completed', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z', '{"accuracy":0.5,"nmi":0.1,"ari":0.1}', '{}')`,
      )
      .run();
    raw.close();
    const before = createHash('sha256').update(readFileSync(old)).digest('hex');
    const dest = dbFile();
    expect(importInto(dest, old).runIds).toEqual([1]);
    expect(createHash('sha256').update(readFileSync(old)).digest('hex')).toBe(before);
    expect(refusal(dest, old)).toMatch(/its run 1 \(uid [0-9a-f]{32}\) is already in this history as run 1; nothing was imported/);

    // The same history, upgraded in place later, gives its old runs the same uids: importing it again is refused too.
    const upgraded = dbFile();
    mkdirSync(join(upgraded, '..'), { recursive: true });
    copyFileSync(old, upgraded);
    withStore(upgraded, (s) => expect(s.getRun(1)?.uid).toBe(withStore(dest, (d) => d.getRun(1)?.uid)));
    expect(refusal(dest, upgraded)).toMatch(/its run 1 \(uid [0-9a-f]{32}\) is already in this history as run 1; nothing was imported/);
  });

  it('brings each run’s per-step series: the loss columns of a schema-5 file, and any series of a current one', () => {
    const old = dbFile();
    mkdirSync(join(old, '..'), { recursive: true });
    const raw = new Database(old);
    migrate(raw, 5);
    raw
      .prepare(
        `INSERT INTO runs (task, params, seed, backend, status, started_at, ended_at, metrics, artifacts, uid) VALUES ('ae-kmeans', '{}', 0, 'cpu', 'failed', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z', NULL, '{}', ?)`,
      )
      .run('c'.repeat(32));
    const loss = raw.prepare('INSERT INTO run_losses (run_id, epoch, train_loss, val_loss) VALUES (1, ?, ?, ?)');
    loss.run(0, 0.9, null);
    loss.run(1, 0.5, 0.6);
    raw.close();
    const current = dbFile();
    withStore(current, (s) => {
      const r = s.createRun(run({ task: 'ae-kmeans', params: { task: 'ae-kmeans', seed: 0 } }));
      s.appendLoss(r.id, { epoch: 0, trainLoss: 0.8, valLoss: Number.NaN });
      s.appendSeries(r.id, 'learningRate', 0, 0.001);
      s.completeRun(r.id, result(0.7));
    });
    const dest = dbFile();
    const [fromOld] = importInto(dest, old).runIds;
    const [fromCurrent] = importInto(dest, current).runIds;
    withStore(dest, (s) => {
      expect(s.getRun(fromOld)!.losses).toEqual([
        { epoch: 0, trainLoss: 0.9, valLoss: null },
        { epoch: 1, trainLoss: 0.5, valLoss: 0.6 },
      ]);
      const [loss0] = s.getRun(fromCurrent)!.losses;
      expect([loss0.epoch, loss0.trainLoss, Number.isNaN(loss0.valLoss)]).toEqual([0, 0.8, true]);
      expect(s.getSeries(fromCurrent, 'learningRate')).toEqual([{ step: 0, value: 0.001 }]);
    });
  });
});

describe('runs import: refusals change nothing', () => {
  const count = (file: string) => withStore(file, (s) => s.listRuns().length);

  it('a run already imported: the whole file, naming the run', () => {
    const dest = dbFile();
    const source = childHistory(0, true);
    importInto(dest, source);
    const uid = withStore(source, (s) => s.getRun(1)!.uid);
    expect(refusal(dest, source)).toBe(
      `${source}: its run 1 (uid ${uid}) is already in this history as run 1; nothing was imported from this file`,
    );
    expect(count(dest)).toBe(3);
  });

  it('a file that is not a Clusterbench database, or not a database at all', () => {
    const dest = dbFile();
    const foreign = join(root, 'foreign.sqlite');
    const db = new Database(foreign);
    db.exec('CREATE TABLE notes (body TEXT)');
    db.close();
    expect(refusal(dest, foreign)).toBe(`${foreign}: not a Clusterbench run database (its SQLite application id is not Clusterbench’s)`);
    const text = join(root, 'notes.txt');
    writeFileSync(text, 'hello '.repeat(200));
    expect(refusal(dest, text)).toBe(`${text}: not an SQLite database, so not a Clusterbench run history`);
  });

  it('a newer schema, saying both versions', () => {
    const dest = dbFile();
    const newer = join(root, 'newer.sqlite');
    const db = new Database(newer);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(refusal(dest, newer)).toBe(
      `${newer}: schema version ${SCHEMA_VERSION + 1}, newer than this Clusterbench's ${SCHEMA_VERSION}: import it with a newer Clusterbench`,
    );
  });

  it('a missing file, and the history itself', () => {
    const dest = dbFile();
    withStore(dest, () => undefined);
    expect(refusal(dest, join(root, 'nowhere.sqlite'))).toBe(`${join(root, 'nowhere.sqlite')}: no such file`);
    expect(refusal(dest, dest)).toBe(`${dest}: this is the history being imported into`);
  });

  it('a run still running there (live owner); a dead owner’s run comes in as failed (interrupted)', () => {
    const dest = dbFile();
    const source = dbFile();
    const id = withStore(source, (s) => s.createRun(run()).id); // this process: alive
    expect(refusal(dest, source)).toMatch(
      new RegExp(`run ${id} \\(uid [0-9a-f]+\\) is still running there: import the file once it has ended`),
    );
    const raw = new Database(source);
    raw.prepare('UPDATE runs SET heartbeat_at = 0').run();
    raw.close();
    importInto(dest, source);
    withStore(dest, (s) => expect(s.getRun(1)).toMatchObject({ status: 'failed', error: 'interrupted' }));
    withStore(source, (s) => expect(s.getRun(id)?.status).toBe('failed')); // (its own open recovers it too)
  });
});

describe('runs import: pieces', () => {
  it('rewrites paths into a run folder by their shape, wherever the other history was', () => {
    const ids = new Map([[3, 9]]);
    expect(rewritePath('/cluster/scratch/results/child-0.sqlite.artifacts/run-3/autoencoder/w.bin', ids, '/home/u/runs.sqlite')).toBe(
      '/home/u/runs.sqlite.artifacts/run-9/autoencoder/w.bin',
    );
    expect(rewritePath('/old/artifacts/run-3', ids, '/h/runs.sqlite')).toBe('/h/runs.sqlite.artifacts/run-9');
    // nothing else: a run the file does not have, a path that is not into a run folder, or one that leads out of it
    expect(rewritePath('/x/child.sqlite.artifacts/run-4/a', ids, '/h/runs.sqlite')).toBeUndefined();
    expect(rewritePath('/x/run-3/a', ids, '/h/runs.sqlite')).toBeUndefined();
    expect(rewritePath('/x/child.sqlite.artifacts/run-3/../../../etc/passwd', ids, '/h/runs.sqlite')).toBeUndefined();
  });

  it('settles a sweep only when every planned child has ended', () => {
    expect(settledStatus(3, ['completed', 'completed'])).toBeNull();
    expect(settledStatus(2, ['completed', 'running'])).toBeNull();
    expect(settledStatus(2, ['completed', 'completed'])).toBe('completed');
    expect(settledStatus(2, ['completed', 'failed'])).toBe('partial');
    expect(settledStatus(2, ['failed', 'cancelled'])).toBe('failed');
    expect(settledStatus(1, ['cancelled'])).toBe('cancelled');
  });
});

describe('runs import: rows the app could not have written refuse the file, in one line naming it and the run', () => {
  /** A history with one completed run (and the sweep SWEEP, the run its child 0), then `sql` run on it directly. */
  function tampered(sql: string, ...args: unknown[]): string {
    const file = childHistory(0);
    const raw = new Database(file);
    raw.pragma('foreign_keys = OFF');
    raw.prepare(sql).run(...args);
    raw.close();
    return file;
  }
  const refusedWith = (file: string, why: string): void => {
    const dest = dbFile();
    expect(refusal(dest, file)).toBe(`${file}: ${why}; nothing was imported from this file`);
    expect(withStore(dest, (s) => [s.listRuns().length, s.listSweeps().length])).toEqual([0, 0]);
  };

  it('a sweep whose plan the app refuses (a negative seed)', () => {
    refusedWith(tampered("UPDATE sweeps SET seeds = '[0,-1]'"), 'its sweep 1 has a plan this Clusterbench refuses (seeds: -1 must be ≥ 0)');
  });

  it('metrics, params or an evaluation of the wrong shape, a parameter out of its range, an unknown task', () => {
    refusedWith(tampered(`UPDATE runs SET metrics = '"high"'`), 'its run 1 has metrics: Invalid input: expected object, received string');
    refusedWith(tampered(`UPDATE runs SET params = '[1,2]'`), 'its run 1 has params: Invalid input: expected record, received array');
    refusedWith(
      tampered(`UPDATE runs SET evaluation = json_set(evaluation, '$.mapping', 'all')`),
      'its run 1 has evaluation.mapping: Invalid input: expected array, received string',
    );
    refusedWith(tampered(`UPDATE runs SET params = '{"task":"kmeans","k":"ten"}'`), 'its run 1 has params.k = "ten": must be a number');
    refusedWith(tampered(`UPDATE runs SET task = 'rm -rf'`), 'its run 1 has the unknown task "rm -rf"');
  });

  it('an id past what JavaScript holds exactly, and two runs of one uid (named, not "UNIQUE constraint failed")', () => {
    refusedWith(tampered('UPDATE runs SET id = 9223372036854775807'), 'its run 9223372036854775807 has an id out of range');
    const twice = childHistory(0);
    withStore(twice, (s) => s.completeRun(s.createRun(run()).id, result(0.2)));
    const raw = new Database(twice);
    raw.exec('DROP INDEX runs_uid');
    raw.prepare('UPDATE runs SET uid = (SELECT uid FROM runs WHERE id = 1)').run();
    raw.close();
    const uid = withStore(twice, (s) => s.getRun(1)!.uid);
    refusedWith(twice, `its runs 1 and 2 have the same uid ${uid}`);
  });

  it('a series point that is not a name, a step and a number, and a series key past its length', () => {
    const point = (key: unknown, step: unknown, value: unknown): string =>
      tampered('INSERT INTO run_series (run_id, key, step, value) VALUES (1, ?, ?, ?)', key, step, value);
    refusedWith(point('lr', 0, 'high'), 'its run 1 has a series point ("lr" at step 0) that is not a name, a step and a number');
    refusedWith(point('rm -rf', 0, 1), 'its run 1 has a series point ("rm -rf" at step 0) that is not a name, a step and a number');
    refusedWith(point('lr', 1.5, 1), 'its run 1 has a series point ("lr" at step 1.5) that is not a name, a step and a number');
    const crafted = childHistory(0);
    const raw = new Database(crafted);
    raw.exec('DROP TABLE run_series; CREATE TABLE run_series (run_id, key, step, value)'); // a crafted file: no checks
    raw.prepare('INSERT INTO run_series VALUES (1, ?, 0, 1)').run('k'.repeat(10_000));
    raw.close();
    refusedWith(crafted, 'its run 1 has a series whose key is not a name of at most 64 characters');
  });

  it('a JSON column past its size limit; an error text past its limit is cut, saying so', () => {
    refusedWith(
      tampered(`UPDATE runs SET params = json_object('task', 'kmeans', 'note', ?)`, 'x'.repeat(IMPORT_LIMITS.jsonChars)),
      `its run 1 has a params of ${IMPORT_LIMITS.jsonChars + 27} characters, more than the ${IMPORT_LIMITS.jsonChars} an import takes`,
    );
    const long = 'e'.repeat(3 * IMPORT_LIMITS.errorChars);
    const dest = dbFile();
    importInto(dest, tampered("UPDATE runs SET status = 'failed', error = ?", long));
    expect(withStore(dest, (s) => s.getRun(1)!.error)).toBe(
      `${'e'.repeat(IMPORT_LIMITS.errorChars)}… (cut at ${IMPORT_LIMITS.errorChars} of ${long.length} characters on import)`,
    );
  });

  it('a sweep of the same uid here whose base parameters differ (an edited child file): the whole plan is compared', () => {
    const dest = dbFile();
    withStore(dest, (s) => s.createSweep({ ...SWEEP, base: { task: 'kmeans', k: 10, nInit: 10 } }));
    const file = dbFile();
    withStore(file, (s) => {
      const sweep = s.createSweep({ ...SWEEP, base: { task: 'kmeans', k: 10, nInit: 1000 } });
      s.completeRun(
        s.createRun(run({ params: { task: 'kmeans', k: 10, nInit: 1000, seed: 0 }, sweep: { sweepId: sweep.id, child: 0 } })).id,
        result(0.5),
      );
    });
    expect(refusal(dest, file)).toBe(
      `${file}: its sweep ${SWEEP.uid} has other parameters than the sweep 1 of the same uid here; nothing was imported from this file`,
    );
    expect(withStore(dest, (s) => s.listRuns().length)).toBe(0);
  });
});

describe('reading a history with a damaged row', () => {
  it('lists every run: a JSON column of the wrong shape reads as none, with a note in the run’s error', () => {
    const file = dbFile();
    withStore(file, (s) => [0.1, 0.2].forEach((a) => s.completeRun(s.createRun(run()).id, result(a))));
    const raw = new Database(file);
    raw.exec(`UPDATE runs SET metrics = '"high"', params = '[1]' WHERE id = 1`);
    raw.close();
    withStore(file, (s) => {
      const [second, first] = s.listRuns();
      expect(second.metrics?.accuracy).toBe(0.2);
      expect(first).toMatchObject({ id: 1, metrics: null, params: {} });
      expect(first.error).toBe(
        'damaged in the history, read as none: params: Invalid input: expected record, received array; metrics: Invalid input: expected object, received string',
      );
    });
  });
});
