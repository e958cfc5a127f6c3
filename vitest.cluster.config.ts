import { defineConfig } from 'vitest/config';

/** `npm run test:cluster`: every role on a real Redis Cluster (3 masters; .ci/run's, or one it starts). */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.cluster.ts'],
    globalSetup: ['test/cluster/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
