import { loadEnv } from '../config/env.ts';
import { createLogger } from '../core/logger.ts';
import { runMain } from '../core/run-main.ts';
import { startTracing } from '../tracing/start-tracing.ts';
import { runDashboard } from './run-dashboard.ts';

runMain('dashboard', async () => {
  const env = loadEnv();
  const log = createLogger({ name: 'dashboard', level: env.LOG_LEVEL, format: env.LOG_FORMAT });
  const tracing = startTracing(env, 'task-hub-dashboard', log);
  const dashboard = await runDashboard(env, log);
  return {
    async stop() {
      await dashboard.stop();
      await tracing?.shutdown();
      log.flush();
    },
  };
});
