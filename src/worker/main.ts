import { loadEnv } from '../config/env.ts';
import { createLogger } from '../core/logger.ts';
import { runMain } from '../core/run-main.ts';
import { startTracing } from '../tracing/start-tracing.ts';
import { runWorker } from './run-worker.ts';

runMain('worker', async () => {
  const env = loadEnv();
  const log = createLogger({ name: 'worker', level: env.LOG_LEVEL, format: env.LOG_FORMAT });
  const tracing = startTracing(env, 'task-hub-worker', log);
  const worker = await runWorker(env, log);
  return {
    async stop() {
      await worker.stop();
      await tracing?.shutdown();
      log.flush();
    },
  };
});
