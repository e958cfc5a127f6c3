import { loadEnv } from '../../src/config/env.ts';
import { createLogger } from '../../src/core/logger.ts';
import { runMain } from '../../src/core/run-main.ts';
import { runWorker } from '../../src/worker/run-worker.ts';
import { flowRegistry } from './flow-tasks.ts';

/** The worker role (runWorker, as `npm run worker` runs it) with the flow test tasks registered. */
runMain('flow-worker', async () => {
  const env = loadEnv();
  const log = createLogger({ name: 'worker', level: env.LOG_LEVEL });
  const worker = await runWorker(env, log, { registry: flowRegistry(process.env.FLOW_TEST_BAD) });
  return {
    async stop() {
      await worker.stop();
      log.flush();
    },
  };
});
