import type { Env } from '../config/env.ts';
import type { Logger } from '../core/logger.ts';
import { redactUrl } from '../core/redact.ts';
import { createServiceClients } from '../http/services.ts';
import { handlers } from '../../tasks/index.ts';
import type { JobOutcome } from './dispatch.ts';
import { startMetricsRecorder } from './metrics-recorder.ts';
import { buildRegistry } from './registry.ts';
import { startWorkers, type WorkerHubOptions } from './start-workers.ts';

export interface RoleHandle {
  stop(): Promise<void>;
}

/** What tests change in the worker role: its tasks, queue settings, sandbox module, an outcome hook. */
export type WorkerOverrides = Partial<Pick<WorkerHubOptions, 'registry' | 'queueSpecs' | 'sandboxProcessor' | 'onOutcome'>>;

/** The worker role: one BullMQ Worker per selected queue. Used by `npm run worker`, `npm start` and the fault suite. */
export const runWorker = async (
  env: Env,
  log: Logger,
  { registry = buildRegistry(handlers), onOutcome: alsoOnOutcome, ...overrides }: WorkerOverrides = {},
): Promise<RoleHandle> => {
  log.info({ redis: redactUrl(env.REDIS_URL), prefix: env.HUB_PREFIX, tasks: registry.size }, 'worker starting');
  // Fleet-wide task metrics for the dashboard's /metrics: batched, one pipeline every few seconds.
  const metrics = startMetricsRecorder({ redisUrl: env.REDIS_URL, prefix: env.HUB_PREFIX, log });
  const onOutcome = (o: JobOutcome) => {
    metrics.record(o);
    alsoOnOutcome?.(o);
  };
  const hub = await startWorkers({
    redisUrl: env.REDIS_URL,
    prefix: env.HUB_PREFIX,
    queues: env.HUB_QUEUES,
    registry,
    http: createServiceClients(env),
    log,
    production: env.NODE_ENV === 'production',
    ...overrides,
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
