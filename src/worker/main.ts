import { loadEnv } from '../config/env.ts';
import { createLogger } from '../core/logger.ts';
import { redactUrl } from '../core/redact.ts';
import { runMain } from '../core/run-main.ts';
import { createServiceClients } from '../http/services.ts';
import { handlers } from '../../tasks/index.ts';
import { buildRegistry } from './registry.ts';
import { startWorkers } from './start-workers.ts';

runMain('worker', async () => {
  const env = loadEnv();
  const log = createLogger({ name: 'worker', level: env.LOG_LEVEL });
  const registry = buildRegistry(handlers);
  log.info({ redis: redactUrl(env.REDIS_URL), prefix: env.HUB_PREFIX, tasks: registry.size }, 'worker starting');
  const hub = await startWorkers({
    redisUrl: env.REDIS_URL,
    prefix: env.HUB_PREFIX,
    queues: env.HUB_QUEUES,
    registry,
    http: createServiceClients(env),
    log,
    production: env.NODE_ENV === 'production',
  });
  return {
    async stop(signal) {
      log.info({ signal, graceMs: env.WORKER_GRACE_MS }, 'worker stopping: no new jobs, waiting for running ones');
      await hub.close(env.WORKER_GRACE_MS);
      log.info('worker stopped');
      log.flush();
    },
  };
});
