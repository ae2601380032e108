import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Reply, RunRecord, SweepDetail, SweepSummary } from '../../src-main/contract/index';
import { RunStore } from '../../src-main/engine/store/index';
import { createEngineApi } from '../../src-main/service/api';
import { ownStageMs } from '../../src-main/service/sweep-ops';
import { MAX_ACTIVE_SWEEPS } from '../../src-main/service/sweep-runner';
import { tempHome } from '../helpers/cli';
import { skipUnless } from '../helpers/prereqs';

const SMALL = { task: 'kmeans', nInit: 1, trainLimit: 1000, testLimit: 300, backend: 'wasm' };

// The sweep operations as the UI calls them: validated requests, replies, and sweep.updated events.
describe.skipIf(skipUnless('fashionMnist'))('sweep operations of the contract', () => {
  const api = createEngineApi({ dbPath: join(tempHome(), 'runs.sqlite') });
  const updates: SweepSummary[] = [];
  api.subscribe((event, payload) => event === 'sweep.updated' && updates.push(payload as SweepSummary));
  afterAll(() => api.close());

  async function call<T>(op: string, payload: unknown): Promise<T> {
    const reply = (await api.dispatch(op, payload)) as Reply<never>;
    if (!reply.ok) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
    return reply.value as T;
  }
  const ended = (id: number) =>
    new Promise<void>((resolve) => {
      const check = () =>
        updates.some((u) => u.id === id && ['completed', 'partial', 'failed', 'cancelled'].includes(u.status))
          ? resolve()
          : setTimeout(check, 100);
      check();
    });

  it('plans (no history: no estimate), refuses bad sweeps as invalid-params, runs, lists, compares, exports, deletes', async () => {
    const request = { params: SMALL, seeds: [0, 1], grid: [['k', [5, 10]]] };
    expect(await call('sweeps.plan', request)).toMatchObject({
      runs: 4,
      combinations: 2,
      estimateMs: null,
      estimateFrom: expect.stringMatching(/^no completed kmeans run/),
    });
    await expect(call('sweeps.plan', { ...request, grid: [['k', [1]]] })).rejects.toMatchObject({
      code: 'invalid-params',
      message: 'k: must be ≥ 2 (grid k=1)',
    });
    await expect(call('sweeps.start', { ...request, grid: [['seed', [1]]] })).rejects.toMatchObject({ code: 'invalid-params' });
    await expect(call('sweeps.plan', { params: SMALL, seeds: [] })).rejects.toMatchObject({ code: 'invalid-request' });
    expect(await call('sweeps.list', {})).toEqual([]); // nothing was stored for the refused ones

    const { sweepId } = await call<{ sweepId: number }>('sweeps.start', request);
    await ended(sweepId);
    const detail = await call<SweepDetail>('sweeps.get', { id: sweepId });
    expect(detail).toMatchObject({ id: sweepId, status: 'completed', runs: 4, completed: 4, pending: 0, varied: ['k', 'seed'] });
    expect(detail.children.every((c) => c.run?.status === 'completed')).toBe(true);
    const list = await call<SweepSummary[]>('sweeps.list', {});
    expect(list.map((s) => [s.id, s.status, s.completed])).toEqual([[sweepId, 'completed', 4]]);
    expect(list[0]).not.toHaveProperty('children');
    expect(updates.filter((u) => u.id === sweepId).at(-1)).toEqual(list[0]);

    // now the history has runs like these: an estimate from their mean stage times (the backend's start left out)
    const plan = await call<{ estimateMs: number | null; estimateFrom: string }>('sweeps.plan', request);
    const records = await Promise.all(detail.children.map((c) => call<RunRecord>('runs.get', { id: c.run!.id })));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(plan.estimateMs).toBeCloseTo(4 * mean(records.map((r) => ownStageMs(r)!)), 6);
    expect(plan.estimateFrom).toBe('the mean stage times of 4 completed runs like these in the history');

    const csv = await call<{ suggestedName: string; data: string }>('export.sweepCsv', { id: sweepId });
    const lines = csv.data.trim().split('\n');
    expect(lines[0]).toBe('k,n,accuracy_mean,accuracy_sd,nmi_mean,nmi_sd,ari_mean,ari_sd,seconds_mean,seconds_sd,best');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2))).toEqual([
      ['5', '2'],
      ['10', '2'],
    ]);
    expect(Number(lines[1].split(',')[2])).toBeCloseTo(detail.rows[0].accuracy.mean!, 12);
    expect(await call<SweepDetail[]>('sweeps.compare', { ids: [sweepId] })).toEqual([detail]);
    await expect(call('sweeps.get', { id: 999 })).rejects.toMatchObject({ code: 'not-found' });

    expect(await call('sweeps.delete', { id: sweepId })).toEqual({ deleted: true });
    expect(await call('runs.list', {})).toEqual([]);
    expect(await call('sweeps.delete', { id: sweepId })).toEqual({ deleted: false });
  });

  it('cancels a running sweep and resumes it', async () => {
    const { sweepId } = await call<{ sweepId: number }>('sweeps.start', { params: { ...SMALL, nInit: 3 }, seeds: [0, 1, 2, 3] });
    await expect(call('sweeps.delete', { id: sweepId })).rejects.toThrow(/is running: cancel it first/);
    expect(await call('sweeps.cancel', { id: sweepId })).toEqual({ cancelled: true });
    await ended(sweepId);
    const stopped = await call<SweepDetail>('sweeps.get', { id: sweepId });
    expect(stopped.status).toBe('cancelled');
    expect(stopped.completed).toBeLessThan(4);
    expect(await call('sweeps.resume', { id: sweepId })).toEqual({ resumed: true });
    await new Promise<void>((resolve) => {
      const check = () => (updates.some((u) => u.id === sweepId && u.status === 'completed') ? resolve() : setTimeout(check, 100));
      check();
    });
    const done = await call<SweepDetail>('sweeps.get', { id: sweepId });
    expect(done.children.map((c) => c.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(await call('sweeps.resume', { id: sweepId })).toEqual({ resumed: false });
  });
});

// Issue 19: a client cannot fill the service with sweeps.
describe.skipIf(skipUnless('fashionMnist'))('active sweeps per service', () => {
  const api = createEngineApi({ dbPath: join(tempHome(), 'runs.sqlite') });
  const updates: SweepSummary[] = [];
  api.subscribe((event, payload) => event === 'sweep.updated' && updates.push(payload as SweepSummary));
  afterAll(() => api.close());

  it(`at most ${MAX_ACTIVE_SWEEPS} sweeps run or wait at once: one more is refused as queue-full, in one line, storing nothing`, async () => {
    const start = (seed: number) => api.dispatch('sweeps.start', { params: { ...SMALL, nInit: 3 }, seeds: [seed, seed + 100] });
    const accepted: number[] = [];
    for (let i = 0; i < MAX_ACTIVE_SWEEPS; i++) {
      const reply = (await start(i)) as Reply<'sweeps.start'>;
      expect(reply.ok).toBe(true);
      if (reply.ok) accepted.push(reply.value.sweepId);
    }
    expect(await start(99)).toEqual({
      ok: false,
      error: {
        code: 'queue-full',
        message: `${MAX_ACTIVE_SWEEPS} sweeps are already running or waiting: wait for one to end, or cancel one`,
      },
    });
    const list = (await api.dispatch('sweeps.list', {})) as Reply<'sweeps.list'>;
    expect(list.ok && list.value.map((s) => s.id).sort()).toEqual(accepted.sort());
    for (const id of accepted) expect(await api.dispatch('sweeps.cancel', { id })).toEqual({ ok: true, value: { cancelled: true } });
    await vi.waitFor(
      () => expect(accepted.filter((id) => updates.some((u) => u.id === id && u.status === 'cancelled'))).toEqual(accepted),
      {
        timeout: 60_000,
      },
    );
    expect(((await start(99)) as Reply<'sweeps.start'>).ok).toBe(true); // room again
  });
});

// Issue 19 follow-up: a stored sweep that today's validation refuses (hand-edited, or written by an older version) is
// listed as unreadable with its reason, the others as before; reading it says why in one line; it can be deleted.
describe('an unreadable stored sweep', () => {
  const dbPath = join(tempHome(), 'runs.sqlite');
  const store = RunStore.open(dbPath);
  const sweep = (name: string, seeds: number[]) =>
    store.createSweep({ name, task: 'kmeans', base: { task: 'kmeans' }, grid: [], seeds, status: 'cancelled' });
  const good = sweep('good', [0, 1]);
  const bad = sweep('edited', [0, -1]);
  store.close();
  const api = createEngineApi({ dbPath });
  afterAll(() => api.close());
  const reason = `sweep #${bad.id} cannot be read: seeds: -1 must be ≥ 0`;

  it('sweeps.list lists it with the reason; sweeps.get, compare, export and resume of it fail in one line; delete works', async () => {
    const list = (await api.dispatch('sweeps.list', {})) as Reply<'sweeps.list'>;
    expect(list.ok && list.value.map((s) => [s.id, s.status, s.runs, s.unreadable ?? null])).toEqual([
      [bad.id, 'cancelled', 0, 'seeds: -1 must be ≥ 0'],
      [good.id, 'cancelled', 2, null],
    ]);
    for (const [op, payload] of [
      ['sweeps.get', { id: bad.id }],
      ['sweeps.compare', { ids: [good.id, bad.id] }],
      ['export.sweepCsv', { id: bad.id }],
      ['sweeps.resume', { id: bad.id }],
    ] as const)
      expect(await api.dispatch(op, payload), op).toEqual({ ok: false, error: { code: 'failed', message: reason } });
    expect(await api.dispatch('sweeps.delete', { id: bad.id })).toEqual({ ok: true, value: { deleted: true } });
    const after = (await api.dispatch('sweeps.list', {})) as Reply<'sweeps.list'>;
    expect(after.ok && after.value.map((s) => s.id)).toEqual([good.id]);
  });
});
