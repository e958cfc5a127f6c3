import { defineConfig } from 'vitest/config';

/** `npm run test:faults`: fault injection against real processes and a private redis-server per file. */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.faults.ts'],
    globalSetup: ['test/faults/global-setup.ts'],
    // Scenarios time recovery and measure throughput on 2 cores: one at a time.
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
