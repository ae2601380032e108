import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { contractAlias } from './electron.vite.config';

// Tests skipped for a missing prerequisite are logged here (test/helpers/prereqs.ts) and summed up in one
// line at the end of the run (test/helpers/skip-summary.ts). Set before the test processes fork.
process.env.CLUSTERBENCH_SKIP_LOG ??= join(tmpdir(), `clusterbench-skips-${process.pid}.log`);

/**
 * `npm run test:unit`: what needs no build and no browser and runs in under two minutes on a 2-core machine.
 * `npm test` runs these and the integration tests (built app, Chromium, the CLI end to end, training runs).
 */
const UNIT = [
  'test/bench-tools.test.ts',
  'test/augment.test.ts',
  'test/backends.test.ts',
  'test/confusion-export.test.ts',
  'test/conv-autoencoder.test.ts',
  'test/data-csv.test.ts',
  'test/data-download.test.ts',
  'test/data-idx.test.ts',
  'test/data-locate.test.ts',
  'test/data-real.test.ts',
  'test/dense-autoencoder.test.ts',
  'test/kmeans.test.ts',
  'test/linalg.test.ts',
  'test/metrics.test.ts',
  'test/param-schema.test.ts',
  'test/params.test.ts',
  'test/prereqs.test.ts',
  'test/renderer-api.test.ts',
  'test/runs-import.test.ts',
  'test/slurm-emit.test.ts',
  'test/store.test.ts',
  'test/store-reliability.test.ts',
  'test/sweep-plan.test.ts',
  'test/sweep-ui.test.ts',
  'test/wasm-kernel-build.test.ts',
  'test/wasm-kernel-load.test.ts',
  'test/wasm-kernels.test.ts',
  'test/web-server.test.ts',
];

export default defineConfig({
  resolve: { alias: contractAlias },
  test: {
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // tfjs backends and large arrays: one fork at a time keeps memory and timing predictable on 2 cores.
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default', './test/helpers/skip-summary.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: UNIT } },
    ],
  },
});
