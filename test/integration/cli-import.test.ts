/**
 * `runs import` on histories made by the CLI itself: an emitted sweep's children run with `sweeps run-child` (what a
 * Slurm task runs, here without Slurm), and a history where one run reused another's encoder. Merged into the history
 * that emitted the sweep: the sweep is joined and complete, files are copied under the new ids, and references follow.
 */
import Database from 'better-sqlite3';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planSweep } from '../../src-main/engine/schema/sweep';
import { APPLICATION_ID, RunStore, SCHEMA_VERSION, runArtifactsDir } from '../../src-main/engine/store';
import { CHILD_FORMAT } from '../../src-main/cli/slurm/child-file';
import { evaluationOf } from '../helpers/run-fixtures';
import { runCli, tempHome, type CliResult } from '../helpers/cli';
import { skipUnless } from '../helpers/prereqs';

const SMALL = ['--train-limit', '200', '--test-limit', '100'];
// k-means is quick on the pure-JS backend; the autoencoder trains in seconds on wasm (minutes on cpu).
const KMEANS = [...SMALL, '--backend', 'cpu'];
const AE = [...SMALL, '--backend', 'wasm', '--wasm-threads', '1'];

describe.skipIf(skipUnless('fashionMnist'))('runs import of CLI-made histories', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let history: string;
  const cli = (...args: string[]): Promise<CliResult> => runCli(['--db', history, ...args], env);
  const json = <T>(r: CliResult): T => {
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as T;
  };

  beforeAll(() => {
    home = tempHome('clusterbench-import-');
    env = { CLUSTERBENCH_HOME: home };
    history = join(home, 'runs.sqlite');
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('merges the children of an emitted sweep and a history with a reused encoder', async () => {
    const dir = join(home, 'array');
    const emitted = await cli('sweep', '--task', 'kmeans', '--grid', 'k=8,10', '--seeds', '0', ...KMEANS, '--emit', 'slurm', dir);
    expect(emitted.code, emitted.stderr).toBe(0);
    const sweepId = /Sweep #(\d+)/.exec(emitted.stdout)![1];
    const children = [0, 1].map((i) => join(dir, 'results', `child-${i}.sqlite`));
    for (const [i, db] of children.entries()) {
      const ran = await runCli(['--db', db, 'sweeps', 'run-child', join(dir, 'children', `child-${i}.json`)], env);
      expect(ran.code, ran.stderr).toBe(0);
      expect(ran.stdout).toMatch(new RegExp(`^child ${i} \\(k=${[8, 10][i]} seed=0\\) of sweep [0-9a-f]+: run #1 completed: accuracy`));
    }
    const other = join(home, 'other.sqlite');
    const trained = await runCli(['--db', other, 'run', '--task', 'ae-kmeans', '--epochs', '1', '--seed', '0', ...AE], env);
    expect(trained.code, trained.stderr).toBe(0);
    const reused = await runCli(['--db', other, 'run', '--task', 'ae-gmm', '--reuse-encoder', '1', '--covariance', 'diag', ...AE], env);
    expect(reused.code, reused.stderr).toBe(0);

    const imported = await cli('runs', 'import', ...children, other);
    expect(imported.code, imported.stderr).toBe(0);
    const lines = imported.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`child-0\\.sqlite: 1 run imported \\(#1\\); sweep #${sweepId} \\([0-9a-f]{8}, joined\\): queued$`));
    expect(lines[1]).toMatch(
      new RegExp(`child-1\\.sqlite: 1 run imported \\(#2\\); sweep #${sweepId} \\([0-9a-f]{8}, joined\\): completed$`),
    );
    expect(lines[2]).toBe(`${other}: 2 runs imported (#3–#4)`);

    const sweep = json<{ sweep: { status: string; children: { state: string; run: { id: number } }[] } }>(
      await cli('sweeps', 'show', sweepId, '--json'),
    ).sweep;
    expect(sweep.status).toBe('completed');
    expect(sweep.children.map((c) => [c.state, c.run.id])).toEqual([
      ['completed', 1],
      ['completed', 2],
    ]);
    type Shown = { params: Record<string, unknown>; artifacts: Record<string, string> };
    const encoder = json<Shown>(await cli('runs', 'show', '3', '--json'));
    const reuser = json<Shown>(await cli('runs', 'show', '4', '--json'));
    expect(encoder.artifacts.autoencoder).toBe(join(runArtifactsDir(history, 3), 'autoencoder'));
    expect(existsSync(join(encoder.artifacts.autoencoder, 'model.json'))).toBe(true);
    expect(reuser.params.reuseEncoder).toBe(3);
    expect(reuser.artifacts.reusedEncoderFrom).toBe('3');
    expect(reuser.artifacts.autoencoder).toBe(join(runArtifactsDir(history, 4), 'autoencoder'));
    expect(existsSync(reuser.artifacts.codesFit)).toBe(true);
    expect(reuser.artifacts.codesFit.startsWith(`${history}.artifacts/`)).toBe(true);

    // The merged history is usable as is: a new run reuses the imported encoder, its checksums intact.
    const again = await cli('run', '--task', 'ae-gmm', '--reuse-encoder', '3', '--covariance', 'diag', ...AE);
    expect(again.code, again.stderr).toBe(0);
  }, 600_000);

  it('refuses, one line each, a file imported twice, a foreign file, a newer schema and a missing file', async () => {
    const other = join(home, 'other.sqlite');
    const foreign = join(home, 'foreign.sqlite');
    const newer = join(home, 'newer.sqlite');
    const raw = new Database(foreign);
    raw.exec('CREATE TABLE notes (body TEXT)');
    raw.close();
    const future = new Database(newer);
    future.pragma(`application_id = ${APPLICATION_ID}`);
    future.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    future.close();
    const missing = join(home, 'missing.sqlite');
    const before = json<unknown[]>(await cli('runs', 'list', '--json')).length;

    const refused = await cli('runs', 'import', other, foreign, newer, missing);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^clusterbench: ${other}: its run 1 \\(uid [0-9a-f]{32}\\) is already in this history as run 3; nothing was imported from this file$`,
        ),
      ),
      `clusterbench: ${foreign}: not a Clusterbench run database (its SQLite application id is not Clusterbench’s)`,
      `clusterbench: ${newer}: schema version ${SCHEMA_VERSION + 1}, newer than this Clusterbench's ${SCHEMA_VERSION}: import it with a newer Clusterbench`,
      `clusterbench: ${missing}: no such file`,
      'clusterbench: 4 of 4 files not imported (see above)',
    ]);
    expect(json<unknown[]>(await cli('runs', 'list', '--json'))).toHaveLength(before);
  }, 120_000);
});

describe('hand-edited files (issue 19)', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    home = tempHome('clusterbench-edited-');
    env = { CLUSTERBENCH_HOME: home };
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('sweeps run-child refuses a child file whose base parameters were edited, when its history has the sweep as emitted', async () => {
    const uid = 'c'.repeat(32);
    const definition = (nInit: number) => {
      const plan = planSweep({ params: { task: 'kmeans', k: 3, nInit }, seeds: [0, 1] });
      return { plan, sweep: { uid, name: null, task: plan.task, base: plan.base, grid: plan.grid, seeds: plan.seeds } };
    };
    const childDb = join(home, 'child.sqlite');
    const store = RunStore.open(childDb);
    store.createSweep({ ...definition(10).sweep, status: 'queued' }); // child 0 ran here already
    store.close();
    const edited = definition(1000);
    const file = join(home, 'child-1.json');
    const child = {
      format: CHILD_FORMAT,
      sweep: edited.sweep,
      description: 'seed=1',
      index: 1,
      values: { seed: 1 },
      params: edited.plan.children[1].params,
    };
    writeFileSync(file, JSON.stringify(child));
    const ran = await runCli(['--db', childDb, '--data', join(home, 'no-data'), 'sweeps', 'run-child', file], env);
    expect(ran.code).toBe(1);
    expect(ran.stderr.trim()).toBe(
      `clusterbench: ${file}: ${childDb} has a sweep ${uid} with other parameters (task, base, grid or seeds); emit the sweep again`,
    );
  }, 60_000);

  it('runs list and runs show still answer when one run’s metrics and params are damaged', async () => {
    const db = join(home, 'damaged.sqlite');
    const store = RunStore.open(db);
    for (const accuracy of [0.25, 0.5]) {
      const id = store.createRun({ task: 'kmeans', params: { task: 'kmeans', k: 3, seed: 0 }, seed: 0, backend: 'cpu' }).id;
      store.completeRun(id, {
        metrics: { accuracy, nmi: 0.1, ari: 0.1 },
        evaluation: evaluationOf(accuracy),
        assignments: Int32Array.from([0, 1]),
        timings: { totalMs: 1 },
      });
    }
    store.close();
    const raw = new Database(db);
    raw.exec(`UPDATE runs SET metrics = '"high"', params = '[1]' WHERE id = 1`);
    raw.close();
    const list = await runCli(['--db', db, 'runs', 'list'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^ *2 +kmeans +completed +50\.00%/m);
    expect(list.stdout).toMatch(/^ *1 +kmeans +completed +cpu/m);
    const shown = await runCli(['--db', db, 'runs', 'show', '1'], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('damaged in the history, read as none: params: Invalid input: expected record, received array');
  }, 60_000);
});
