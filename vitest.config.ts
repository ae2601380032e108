import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // tfjs backends and large arrays: one fork at a time keeps memory and timing predictable on 2 cores.
    pool: 'forks',
    fileParallelism: false,
  },
});
