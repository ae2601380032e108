import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { contractAlias } from './electron.vite.config';

// Tests skipped for a missing prerequisite are logged here (test/helpers/prereqs.ts) and summed up in one
// line at the end of the run (test/helpers/skip-summary.ts). Set before the test processes fork.
process.env.CLUSTERBENCH_SKIP_LOG ??= join(tmpdir(), `clusterbench-skips-${process.pid}.log`);

// Where a test file lives says which project runs it (no list to keep by hand):
// `npm run test:unit` runs test/unit — what needs no build and no browser and runs in under two minutes on a 2-core
// machine; `npm test` runs it and test/integration (built app, the CLI end to end, training runs) and test/e2e (Chromium).

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
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'] } },
    ],
  },
});
