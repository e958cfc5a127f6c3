import { fileURLToPath } from 'node:url';
import type { QueueSpec } from '../../src/contracts/queues.ts';
import { loadEnv } from '../../src/config/env.ts';
import { queueSpecOf } from '../../src/core/job-options.ts';
import { createLogger } from '../../src/core/logger.ts';
import { runMain } from '../../src/core/run-main.ts';
import { runWorker } from '../../src/worker/run-worker.ts';
import { faultRegistry } from './fault-tasks.ts';

/**
 * The worker entry point (the production role, runWorker) with the fault tasks registered.
 * FAULT_QUEUE_SPEC (JSON) overrides the selected queues' settings, e.g. a 2 s lock so a scenario
 * about lock expiry runs in seconds.
 */
runMain('fault-worker', async () => {
  const env = loadEnv();
  const log = createLogger({ name: 'worker', level: env.LOG_LEVEL });
  const override = JSON.parse(process.env.FAULT_QUEUE_SPEC ?? '{}') as Partial<QueueSpec>;
  const worker = await runWorker(env, log, {
    registry: faultRegistry(),
    queueSpecs: Object.fromEntries(env.HUB_QUEUES.map((q) => [q, { ...queueSpecOf(q), ...override }])),
    sandboxProcessor: fileURLToPath(new URL('./fault-sandbox.ts', import.meta.url)),
  });
  return {
    async stop() {
      await worker.stop();
      log.flush();
    },
  };
});
