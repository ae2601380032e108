import Database from 'better-sqlite3';
import { wallTimeMs } from '../../src-main/contract/run-time';
import { readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SweepDetail } from '../../src-main/contract/index';
import { meanSd } from '../../src-main/engine/schema/sweep-summary';
import { RunStore } from '../../src-main/engine/store/index';
import { SweepRunner } from '../../src-main/service/sweep-runner';
import { EngineHost } from '../../src-main/service/worker/host';
import { tempHome } from '../helpers/cli';
import { skipUnless } from '../helpers/prereqs';

const SMALL = { trainLimit: 1000, testLimit: 300, backend: 'wasm' };

// Sweeps run as a user runs them: children through the engine worker, on real (small) Fashion-MNIST.
describe.skipIf(skipUnless('fashionMnist'))('sweep runner', () => {
  const home = tempHome();
  const dbPath = join(home, 'runs.sqlite');
  const host = new EngineHost({ dbPath });
  const updates: SweepDetail[] = [];
  const runner = new SweepRunner({ host, dbPath, onUpdate: (d) => updates.push(d) });
  afterAll(() => host.close());
  const runsOf = (id: number) => {
    const store = RunStore.open(dbPath);
    try {
      return store.sweepRuns(id);
    } finally {
      store.close();
    }
  };

  it('a seeds sweep of k-means: three linked children, mean ± sd of their own metrics', async () => {
    const { sweepId, done } = runner.start({ params: { task: 'kmeans', nInit: 1, ...SMALL }, seeds: [0, 1, 2] });
    const detail = await done;
    expect(detail.status).toBe('completed');
    expect(detail.children.map((c) => [c.index, c.values, c.state])).toEqual([
      [0, { seed: 0 }, 'completed'],
      [1, { seed: 1 }, 'completed'],
      [2, { seed: 2 }, 'completed'],
    ]);
    const runs = runsOf(sweepId);
    expect(runs.map((r) => [r.sweepId, r.sweepChild, r.seed, r.params.seed])).toEqual([0, 1, 2].map((i) => [sweepId, i, i, i]));
    expect(new Set(runs.map((r) => r.uid)).size).toBe(3);
    const acc = runs.map((r) => r.metrics!.accuracy!);
    expect(new Set(acc).size).toBeGreaterThan(1); // the seeds do change k-means' result
    const [row] = detail.rows;
    expect(row.n).toBe(3);
    const mean = acc.reduce((s, a) => s + a, 0) / 3;
    expect(row.accuracy.mean).toBeCloseTo(mean, 12);
    expect(row.accuracy.sd).toBeCloseTo(Math.sqrt(acc.reduce((s, a) => s + (a - mean) ** 2, 0) / 2), 12);
    expect(row.nmi).toEqual(meanSd(runs.map((r) => r.metrics!.nmi!)));
    // the children's wall times, as every view shows them
    expect(row.totalMs).toEqual(meanSd(runs.map((r) => wallTimeMs({ ...r, totalMs: r.timings!.totalMs })!)));
    expect(row.best).toBe(true);
    expect(detail.best).toEqual({ accuracyMean: row.accuracy.mean, accuracySd: row.accuracy.sd, values: {} });
    expect(detail.confusionMean!.matrix).toHaveLength(10);
    for (const r of detail.confusionMean!.matrix) expect(r.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    // updates followed it: running, each child's start and end, then completed
    const mine = updates.filter((u) => u.id === sweepId);
    expect(mine[0].status).toBe('running');
    expect(mine.some((u) => u.running === 1)).toBe(true);
    expect(mine.at(-1)!.status).toBe('completed');
  });

  it('a clustering grid over an autoencoder trains the encoder once per seed; later children reuse it', async () => {
    const params = { task: 'ae-kmeans', epochs: 1, nInit: 1, ...SMALL };
    const { sweepId, done } = runner.start({ params, grid: [['k', [5, 10]]], seeds: [0, 1] });
    const detail = await done;
    expect(detail.status).toBe('completed');
    const runs = runsOf(sweepId);
    expect(runs.map((r) => [r.sweepChild, r.params.k, r.seed])).toEqual([
      [0, 5, 0],
      [1, 5, 1],
      [2, 10, 0],
      [3, 10, 1],
    ]);
    const [a, b, c, d] = runs;
    for (const trained of [a, b]) {
      expect(trained.artifacts.reusedEncoderFrom).toBeUndefined();
      expect(trained.timings!.trainMs).toBeGreaterThan(0);
    }
    expect([c.artifacts.reusedEncoderFrom, d.artifacts.reusedEncoderFrom]).toEqual([String(a.id), String(b.id)]);
    expect(c.artifacts.reusedCodesFrom).toBe(String(a.id)); // same images: the codes too
    for (const reused of [c, d]) expect(reused.timings!.trainMs).toBeUndefined();
    expect(detail.rows.map((r) => [r.values, r.n])).toEqual([
      [{ k: 5 }, 2],
      [{ k: 10 }, 2],
    ]);
    expect(detail.varied).toEqual(['k', 'seed']);
  });

  it('a child that fails does not stop the sweep: it ends partial, the child says why', async () => {
    // Child 0 trains the encoder; its files are then damaged, so child 1 cannot reuse them.
    const damaging = new SweepRunner({
      host,
      dbPath,
      onChildEnded: (child) => {
        if (child.index !== 0 || !child.run) return;
        const store = RunStore.open(dbPath);
        const dir = store.getRun(child.run.id)!.artifacts.autoencoder!;
        store.close();
        for (const file of readdirSync(dir)) writeFileSync(join(dir, file), 'damaged');
      },
    });
    const { done } = damaging.start({
      params: { task: 'ae-kmeans', epochs: 1, nInit: 1, ...SMALL },
      grid: [['k', [5, 10, 20]]],
      seeds: [0],
    });
    const detail = await done;
    expect(detail.status).toBe('partial');
    expect(detail.children.map((c) => c.state)).toEqual(['completed', 'failed', 'completed']);
    expect(detail.children[1].run!.error).toMatch(/do not match the checksum/);
    // the third child trained its own encoder instead of retrying the damaged one
    const store = RunStore.open(dbPath);
    expect(store.getRun(detail.children[2].run!.id)!.artifacts.reusedEncoderFrom).toBeUndefined();
    store.close();
    expect(detail.rows.map((r) => r.n)).toEqual([1, 0, 1]);
  });

  it('cancel stops after the running child; resume (in another process) runs only the missing children', async () => {
    const cancelling: SweepRunner = new SweepRunner({
      host,
      dbPath,
      onChildEnded: (child, d) => child.index === 0 && cancelling.cancel(d.id),
    });
    const { sweepId, done } = cancelling.start({ params: { task: 'kmeans', nInit: 1, ...SMALL }, seeds: [3, 4, 5] });
    const stopped = await done;
    expect(stopped.status).toBe('cancelled');
    expect(stopped.children.map((c) => c.state)).toEqual(['completed', 'pending', 'pending']);
    const first = runsOf(sweepId)[0].id;

    const later = new SweepRunner({ host, dbPath });
    const resumed = await later.resume(sweepId)!;
    expect(resumed.status).toBe('completed');
    const runs = runsOf(sweepId);
    expect(runs.map((r) => [r.sweepChild, r.seed])).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    expect(runs[0].id).toBe(first);
    expect(later.resume(sweepId)).toBeNull(); // nothing left to run
  });

  it('a second resume landing between two children is refused; each child runs once', async () => {
    const other = new SweepRunner({ host, dbPath });
    let refusal: Error | undefined;
    let duplicate: Promise<SweepDetail> | null = null;
    const first: SweepRunner = new SweepRunner({
      host,
      dbPath,
      onChildEnded: (child, d) => {
        if (child.index !== 0) return;
        try {
          duplicate = other.resume(d.id);
        } catch (err) {
          refusal = err as Error;
        }
      },
    });
    const { sweepId, done } = first.start({ params: { task: 'kmeans', nInit: 1, ...SMALL }, seeds: [10, 11, 12] });
    const detail = await done;
    await (duplicate as Promise<SweepDetail> | null)?.catch(() => undefined);
    expect(refusal?.message).toBe(
      `sweep ${sweepId} is already running (process ${process.pid} on ${hostname()}): cancel it first or wait for it to end`,
    );
    expect(detail.status).toBe('completed');
    expect(runsOf(sweepId).map((r) => r.sweepChild)).toEqual([0, 1, 2]);
  });

  it('delete between two children is refused ("cancel it first") and the sweep goes on', async () => {
    let refusal: Error | undefined;
    const deleting = new SweepRunner({
      host,
      dbPath,
      onChildEnded: (child, d) => {
        if (child.index !== 0) return;
        const store = RunStore.open(dbPath);
        try {
          store.deleteSweep(d.id);
        } catch (err) {
          refusal = err as Error;
        } finally {
          store.close();
        }
      },
    });
    const { sweepId, done } = deleting.start({ params: { task: 'kmeans', nInit: 1, ...SMALL }, seeds: [13, 14] });
    expect((await done).status).toBe('completed');
    expect(refusal?.message).toMatch(new RegExp(`^sweep ${sweepId} is still running .*: cancel it first$`));
  });

  it('a cancel asked through the history (from another process) stops the sweep before its next child', async () => {
    const asking = new SweepRunner({
      host,
      dbPath,
      onChildEnded: (child, d) => {
        if (child.index !== 0) return;
        const store = RunStore.open(dbPath);
        try {
          expect(store.cancelSweep(d.id)).toBe('requested');
        } finally {
          store.close();
        }
      },
    });
    const { done } = asking.start({ params: { task: 'kmeans', nInit: 1, ...SMALL }, seeds: [15, 16, 17] });
    const stopped = await done;
    expect(stopped.status).toBe('cancelled');
    expect(stopped.children.map((c) => c.state)).toEqual(['completed', 'pending', 'pending']);
  });

  it('a sweep deleted behind its runner (as an older version could) ends it in one line', async () => {
    const vanishing = new SweepRunner({
      host,
      dbPath,
      onChildEnded: (child, d) => {
        if (child.index !== 0) return;
        const raw = new Database(dbPath);
        raw.pragma('foreign_keys = ON');
        raw.prepare('DELETE FROM sweeps WHERE id = ?').run(d.id);
        raw.close();
      },
    });
    const { sweepId, done } = vanishing.start({ params: { task: 'kmeans', nInit: 1, ...SMALL }, seeds: [18, 19, 20] });
    await expect(done).rejects.toThrow(`sweep #${sweepId} was deleted while it ran; its remaining children were not run`);
    const store = RunStore.open(dbPath);
    try {
      expect(store.listRuns().filter((r) => [19, 20].includes(r.seed))).toEqual([]); // nothing more was run
      expect(store.getSweep(sweepId)).toBeUndefined();
    } finally {
      store.close();
    }
  });

  it('N sweeps add one listener to the engine host, removed when they end', async () => {
    const many = new SweepRunner({ host, dbPath, maxActive: 12 });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const before = host.listenerCount('created');
    const started = Array.from({ length: 12 }, (_, i) =>
      many.start({ params: { task: 'kmeans', nInit: 1, ...SMALL }, seeds: [30 + i, 50 + i] }),
    );
    expect(host.listenerCount('created') - before).toBeLessThanOrEqual(1);
    await many.cancelAll();
    await Promise.all(started.map((s) => s.done));
    process.off('warning', onWarning);
    expect(host.listenerCount('created')).toBe(before);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('cancel marks a sweep left running by a process that is gone; not one that ended or does not exist', () => {
    const store = RunStore.open(dbPath);
    const left = store.createSweep({ task: 'kmeans', base: { task: 'kmeans' }, grid: [], seeds: [0], status: 'running' });
    const ended = store.createSweep({ task: 'kmeans', base: { task: 'kmeans' }, grid: [], seeds: [0], status: 'completed' });
    store.close();
    expect(runner.cancel(left.id)).toBe(true);
    expect(runner.detail(left.id).status).toBe('cancelled');
    expect(runner.cancel(ended.id)).toBe(false);
    expect(() => runner.cancel(9999)).toThrow(/No sweep #9999/);
  });
});
