import { loadEnv } from '../config/env.ts';
import { createLogger } from '../core/logger.ts';
import { runMain } from '../core/run-main.ts';
import { runWorker } from './run-worker.ts';

runMain('worker', async () => {
  const env = loadEnv();
  const log = createLogger({ name: 'worker', level: env.LOG_LEVEL });
  const worker = await runWorker(env, log);
  return {
    async stop() {
      await worker.stop();
      log.flush();
    },
  };
});
