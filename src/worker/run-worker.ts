import type { Env } from '../config/env.ts';
import type { Logger } from '../core/logger.ts';
import { redactUrl } from '../core/redact.ts';
import { createServiceClients } from '../http/services.ts';
import { handlers } from '../../tasks/index.ts';
import type { JobOutcome } from './dispatch.ts';
import { startMetricsRecorder } from './metrics-recorder.ts';
import { buildRegistry } from './registry.ts';
import { startWorkers } from './start-workers.ts';

export interface RoleHandle {
  stop(): Promise<void>;
}

/** The worker role: one BullMQ Worker per selected queue. Used by `npm run worker` and `npm start`. */
export const runWorker = async (env: Env, log: Logger, hooks: { onOutcome?: (o: JobOutcome) => void } = {}): Promise<RoleHandle> => {
  const registry = buildRegistry(handlers);
  log.info({ redis: redactUrl(env.REDIS_URL), prefix: env.HUB_PREFIX, tasks: registry.size }, 'worker starting');
  // Fleet-wide task metrics for the dashboard's /metrics: batched, one pipeline every few seconds.
  const metrics = startMetricsRecorder({ redisUrl: env.REDIS_URL, prefix: env.HUB_PREFIX, log });
  const onOutcome = (o: JobOutcome) => {
    metrics.record(o);
    hooks.onOutcome?.(o);
  };
  const hub = await startWorkers({
    redisUrl: env.REDIS_URL,
    prefix: env.HUB_PREFIX,
    queues: env.HUB_QUEUES,
    registry,
    http: createServiceClients(env),
    log,
    production: env.NODE_ENV === 'production',
    ...hooks,
    onOutcome,
  }).catch(async (err: unknown) => {
    await metrics.stop();
    throw err;
  });
  return {
    async stop() {
      log.info({ graceMs: env.WORKER_GRACE_MS }, 'worker stopping: no new jobs, waiting for running ones');
      await hub.close(env.WORKER_GRACE_MS);
      await metrics.stop();
      log.info('worker stopped');
    },
  };
};
