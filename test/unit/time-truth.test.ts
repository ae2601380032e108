/**
 * Issue 22, "One truth about time": a run's wall time and stage times read the same in every view (run page, Runs
 * list, Compare, `runs list`, `runs compare`, `runs show`), each labelled; the sweep estimate rests on the runs' own
 * stage times and says on how many; the queue's ETA is the run's, not one phase's.
 */
import { describe, expect, it } from 'vitest';
import type { RunRecord, RunSummary } from '../../src-main/contract/index';
import { computeMs, stageTimes, wallTimeMs } from '../../src-main/contract/run-time';
import { compareTable, runsTable, timeLine } from '../../src-main/cli/format';
import { planSweep } from '../../src-main/engine/schema/sweep';
import { estimateSweep } from '../../src-main/service/sweep-ops';
import { summarize } from '../../src-main/service/summarize';
import { runDurationMs } from '../../src-renderer/src/lib/format';
import { runEta } from '../../src-renderer/src/lib/run-eta';

const START = '2026-12-07T10:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(START) + ms).toISOString();

/** A completed k-means run as the store returns it: 29.6 s from start to end, 25.1 s of it calibrating the backend. */
function record(over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 7,
    task: 'kmeans',
    status: 'completed',
    params: { task: 'kmeans', k: 10, seed: 0, dataset: 'fashion-mnist', backend: 'auto' },
    seed: 0,
    backend: 'wasm',
    startedAt: START,
    endedAt: at(29_600),
    error: null,
    metrics: { accuracy: 0.5, nmi: 0.5, ari: 0.3, fitRows: 1000 },
    evaluation: null,
    timings: { loadMs: 1200, backendMs: 25_100, fitMs: 2000, mapMs: 800, scoreMs: 400, totalMs: 29_590 },
    artifacts: {},
    losses: [],
    ...over,
  } as unknown as RunRecord;
}

describe('one wall time per run, in every view', () => {
  it('is the stored end minus the stored start, for a record and its summary alike', () => {
    const run = record();
    expect(wallTimeMs(run)).toBe(29_600);
    // the run page reads the record, the Runs list the summary, Compare records: all one number (old code: 29.6 vs 29.59)
    expect(runDurationMs(run)).toBe(29_600);
    expect(runDurationMs(summarize(run))).toBe(29_600);
  });

  it('for a live run counts from the stored start, whenever the page began to watch', () => {
    const live = record({ endedAt: null, status: 'running' });
    expect(wallTimeMs(live, Date.parse(START) + 12_000)).toBe(12_000);
    expect(wallTimeMs(live)).toBeNull();
  });

  it("keeps an older run's longer measured total (its row was created after loading and the backend)", () => {
    const old = record({ endedAt: at(1900) });
    expect(runDurationMs(old)).toBe(29_590);
    expect(runDurationMs(summarize(old))).toBe(29_590);
  });

  it('lists the stages in pipeline order and sums the compute after loading and the backend', () => {
    const run = record({ timings: { scoreMs: 400, totalMs: 29_590, mapMs: 800, fitMs: 2000, backendMs: 25_100, loadMs: 1200 } });
    expect(stageTimes(run.timings).map((t) => [t.key, t.label])).toEqual([
      ['loadMs', 'Loading data'],
      ['backendMs', 'Starting the backend'],
      ['fitMs', 'Clustering (fit)'],
      ['mapMs', '2-D map'],
      ['scoreMs', 'Label-free scores'],
    ]);
    expect(computeMs(run.timings)).toBe(3200);
    expect(computeMs({ totalMs: 5 })).toBeNull();
  });

  it('`runs list`, `runs compare` and `runs show` print the same wall time, labelled, and compute beside it', () => {
    const run = record();
    const list = runsTable([run]);
    expect(list.split('\n')[0]).toMatch(/wall s/);
    expect(list).toMatch(/\b29\.6\b/);
    const compare = compareTable([run, record({ id: 8 })]);
    expect(compare).toMatch(/wall time s\s+29\.6\s+29\.6/);
    expect(compare).toMatch(/compute s\s+3\.2\s+3\.2/);
    expect(timeLine(run)).toBe(
      'Wall time 29.6 s · compute 3.2 s (loading data 1.2 s, starting the backend 25.1 s, clustering (fit) 2.0 s, 2-D map 0.8 s, label-free scores 0.4 s)',
    );
  });
});

describe("sweep estimate from the runs' own stage times", () => {
  it('leaves out the backend start (calibration) and says on how many runs it rests, in the right number', () => {
    const plan = planSweep({ params: { task: 'kmeans', trainLimit: 1000 }, grid: [['k', [5, 10, 20]]], seeds: [0, 1] });
    const like = { task: 'kmeans', trainLimit: 1000 };
    const first = record({ id: 1, params: like }); // the run that paid the calibration
    // 6 children × (load 1.2 + fit 2.0 + map 0.8 + scores 0.4 s); old code: 6 × its 29.6 s total, "1 completed runs"
    expect(estimateSweep(plan, [first])).toEqual({
      estimateMs: 6 * 4400,
      estimateFrom: 'the mean stage times of 1 completed run like these in the history (one run: a rough guess)',
    });
    const second = record({ id: 2, params: like, timings: { loadMs: 1000, fitMs: 1000, totalMs: 2100 } });
    const third = record({ id: 3, params: like, timings: { loadMs: 800, fitMs: 1800, totalMs: 2700 } });
    expect(estimateSweep(plan, [first, second, third])).toEqual({
      estimateMs: 6 * ((4400 + 2000 + 2600) / 3),
      estimateFrom: 'the mean stage times of 3 completed runs like these in the history',
    });
  });
});

describe("the queue's ETA is the run's", () => {
  const summary = (id: number, over: Partial<RunSummary> = {}): RunSummary => ({ ...summarize(record({ id })), ...over });

  it("is a similar completed run's wall time less the time elapsed since the stored start", () => {
    const running = summary(9, { status: 'running', endedAt: null, totalMs: null, params: { ...record().params, seed: 3 } });
    const job = { runId: 9, startedAt: Date.parse(START) };
    expect(runEta(job, Date.parse(START) + 10_000, [summary(7), running])).toEqual({ ms: 19_600, fromRun: 7 });
  });

  it("is unknown with no similar completed run, or once past its time (never one phase's ETA)", () => {
    const running = summary(9, { status: 'running', endedAt: null, totalMs: null, params: { ...record().params, k: 5 } });
    const job = { runId: 9, startedAt: Date.parse(START) };
    expect(runEta(job, Date.parse(START) + 10_000, [summary(7), running])).toBeUndefined();
    const same = summary(10, { status: 'running', endedAt: null, totalMs: null });
    expect(runEta({ runId: 10, startedAt: Date.parse(START) }, Date.parse(START) + 40_000, [summary(7), same])).toBeUndefined();
  });
});
