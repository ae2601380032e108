/**
 * Issue 22, "One truth about time", on real runs: the run's stored start is when its work began (loading and the
 * backend included), so its wall time covers every stored stage; a k-means run with `auto` calibrates nothing (no
 * network trains) and records starting the backend as its own stage; the job every window lists carries the run's
 * stored start, so a reloaded page counts elapsed time from it.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { wallTimeMs } from '../../src-main/contract/run-time';
import { calibrationCachePath } from '../../src-main/engine/backend/index';
import { runExperiment } from '../../src-main/engine/experiments/run';
import { RunStore } from '../../src-main/engine/store/index';
import { EngineHost } from '../../src-main/service/worker/host';
import { tempHome } from '../helpers/cli';
import { skipUnless } from '../helpers/prereqs';

const home = tempHome('cb-time-truth-');
const previousHome = process.env.CLUSTERBENCH_HOME;
process.env.CLUSTERBENCH_HOME = home; // an empty calibration cache: the first run after install
const store = RunStore.open(join(home, 'runs.sqlite'));
afterAll(() => {
  store.close();
  if (previousHome === undefined) delete process.env.CLUSTERBENCH_HOME;
  else process.env.CLUSTERBENCH_HOME = previousHome;
  rmSync(home, { recursive: true, force: true });
});

describe.skipIf(skipUnless('fashionMnist'))('a run stores its time once', () => {
  it('k-means with auto: no calibration, starting the backend is a stage, and the wall time covers every stage', async () => {
    const phases: string[] = [];
    const run = await runExperiment(
      { task: 'kmeans', trainLimit: 600, testLimit: 200, nInit: 1, seed: 0, backend: 'auto' },
      { store, onProgress: (e) => phases.push(e.phase) },
    );
    expect(run.status).toBe('completed');
    expect(phases).toContain('backend');
    expect(phases).not.toContain('calibrate'); // old code: ~25 s of calibration inside "loading data"
    expect(existsSync(calibrationCachePath())).toBe(false);
    const t = run.timings!;
    expect(t.backendMs).toBeGreaterThanOrEqual(0);
    expect(t.loadMs).toBeGreaterThan(0);
    // the stored start is before loading: start → end holds every stage (old code started the clock after both)
    const wall = wallTimeMs(run)!;
    const stages = Object.entries(t).filter(([k]) => k !== 'totalMs');
    expect(wall).toBeGreaterThanOrEqual(Math.floor(stages.reduce((sum, [, ms]) => sum + ms, 0)));
    expect(wall).toBeGreaterThanOrEqual(Math.floor(t.totalMs));
  });
});

describe.skipIf(skipUnless('fashionMnist'))("a job carries its run's stored start", () => {
  it('from the moment the run exists, in the job list every window reads', async () => {
    const host = new EngineHost({ dbPath: store.path });
    try {
      let atCreation: { job?: string; run?: string } = {};
      let listed: string | undefined;
      host.on('created', (job, run) => {
        atCreation = { job: job.startedAt, run: run.startedAt };
        listed = host.jobs().find((j) => j.jobId === job.jobId)?.startedAt;
      });
      const { result } = host.submit({ task: 'kmeans', trainLimit: 600, testLimit: 200, nInit: 1, seed: 1, backend: 'wasm' });
      const run = await result;
      expect(atCreation.run).toBe(run.startedAt);
      expect(atCreation.job).toBe(run.startedAt);
      expect(listed).toBe(run.startedAt);
    } finally {
      await host.close();
    }
  });
});
