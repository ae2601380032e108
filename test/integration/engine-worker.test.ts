import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../src-main/engine/store/index';
import { EngineHost } from '../../src-main/service/worker/host';
import { tempHome } from '../helpers/cli';

// The engine runs in a worker thread: runs queue up one after another, report progress, can be cancelled,
// and the thread that owns the host (the UI's) stays responsive.
describe('engine worker host', () => {
  const home = tempHome();
  const dbPath = join(home, 'runs.sqlite');
  const host = new EngineHost({ dbPath });
  afterAll(() => host.close());

  it('runs queued experiments one at a time, in order, with progress', async () => {
    const order: string[] = [];
    let running = 0;
    let maxRunning = 0;
    host.on('created', (job) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      order.push(job.jobId);
    });
    host.on('finished', () => running--);
    const progress: string[] = [];
    host.on('progress', (_job, e) => progress.push(e.phase));
    const a = host.submit({ task: 'kmeans', trainLimit: 1500, testLimit: 300, nInit: 1, seed: 0, backend: 'wasm' });
    const b = host.submit({ task: 'kmeans', trainLimit: 1500, testLimit: 300, nInit: 1, seed: 1, backend: 'wasm' });
    expect(host.jobs().map((j) => j.state)).toEqual(['running', 'queued']);
    const [ra, rb] = await Promise.all([a.result, b.result]);
    expect(order).toEqual([a.job.jobId, b.job.jobId]);
    expect(maxRunning).toBe(1);
    expect(ra.status).toBe('completed');
    expect(rb.status).toBe('completed');
    expect(rb.id).toBeGreaterThan(ra.id);
    expect(progress).toContain('kmeans');
    expect(progress).toContain('evaluate');
    host.removeAllListeners();
  });

  it('rejects bad parameters with the field named, leaving no run', async () => {
    const { result } = host.submit({ task: 'kmeans', k: 0 });
    await expect(result).rejects.toMatchObject({ name: 'ParamError', issues: [{ param: 'k' }] });
  });

  it('cancels a running experiment: the run ends cancelled and the event loop never blocks', async () => {
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const { job, result } = host.submit({ task: 'kmeans', nInit: 10, seed: 3, backend: 'wasm' });
    const queuedToo = host.submit({ task: 'kmeans', nInit: 1, trainLimit: 500, testLimit: 100 });
    await new Promise<void>((resolve) => host.on('progress', (j, e) => j.jobId === job.jobId && e.phase === 'kmeans' && resolve()));
    expect(host.cancel(queuedToo.job.jobId)).toBe(true);
    expect(host.cancel(job.jobId)).toBe(true);
    await expect(result).rejects.toMatchObject({ name: 'CancelledError' });
    await expect(queuedToo.result).rejects.toMatchObject({ name: 'CancelledError' });
    delay.disable();
    // Training and clustering happen in the worker: this thread only relays messages.
    expect(delay.percentile(99) / 1e6).toBeLessThan(50);

    const store = RunStore.open(dbPath);
    const run = store.getRun(job.runId!);
    store.close();
    expect(run?.status).toBe('cancelled');
    expect(run?.metrics).toBeNull();
    expect(host.cancel('job-unknown')).toBe(false);
  });
});
