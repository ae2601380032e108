import { describe, expect, it } from 'vitest';
import { probeBackends, shutdownBackends } from '../../src-main/engine/backend/index';
import { ensureHeadlessEglPlatform } from '../../src-main/engine/backend/egl';
import { runCli, tempHome } from '../helpers/cli';
import { recordSkip, skipUnless } from '../helpers/prereqs';

// Mesa reads EGL_PLATFORM from the process's C environment; the engine worker's process.env is a copy, so the
// worker's own assignment never reached it and a headless `run --backend webgpu` found no adapter. The host now
// sets it on the main thread before starting the worker.

describe('EGL_PLATFORM for headless WebGPU', () => {
  it('is set to surfaceless only on Linux without a display, and never overrides a given value', () => {
    const headless: NodeJS.ProcessEnv = {};
    ensureHeadlessEglPlatform(headless, 'linux');
    expect(headless.EGL_PLATFORM).toBe('surfaceless');
    for (const env of [{ DISPLAY: ':0' }, { WAYLAND_DISPLAY: 'wayland-0' }, { EGL_PLATFORM: 'x11' }] as NodeJS.ProcessEnv[]) {
      const before = { ...env };
      ensureHeadlessEglPlatform(env, 'linux');
      expect(env).toEqual(before);
    }
    const mac: NodeJS.ProcessEnv = {};
    ensureHeadlessEglPlatform(mac, 'darwin');
    expect(mac.EGL_PLATFORM).toBeUndefined();
  });

  it.skipIf(skipUnless('fashionMnist'))(
    'reaches the engine worker: a headless CLI run on webgpu finds the adapter',
    async (ctx) => {
      const gpu = (await probeBackends()).find((b) => b.name === 'webgpu')!;
      shutdownBackends();
      if (!gpu.available) return ctx.skip(recordSkip(`no WebGPU adapter for the worker EGL test (${gpu.reason})`));
      const out = await runCli(
        ['run', '--backend', 'webgpu', '--task', 'kmeans', '--train-limit', '300', '--test-limit', '100', '--n-init', '1', '--json'],
        { CLUSTERBENCH_HOME: tempHome(), EGL_PLATFORM: undefined, DISPLAY: undefined, WAYLAND_DISPLAY: undefined },
      );
      expect(out.stderr).not.toMatch(/not available/);
      expect(out.code).toBe(0);
      const run = JSON.parse(out.stdout) as { backend: string; metrics: Record<string, number> };
      expect(run.backend).toMatch(/^webgpu/);
      // k-means trains no network: no training path is recorded
      expect(run.metrics.backendFusedTraining).toBeUndefined();
    },
    300_000,
  );
});
