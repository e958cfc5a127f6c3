import type { Env } from '../config/env.ts';
import type { Logger } from '../core/logger.ts';
import { createRedis, describeTarget } from '../core/redis.ts';
import { redisTargetOf } from '../config/redis-target.ts';
import { checkHubEvents } from '../producer/publish.ts';
import { createServiceClients, serviceUrlsFrom } from '../service-clients/services.ts';
import { handlers } from '../../tasks/index.ts';
import type { JobOutcome } from './dispatch.ts';
import { startMetricsRecorder } from './metrics-recorder.ts';
import { checkFlow, startFlow } from './flow-setup.ts';
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
  checkHubEvents(); // a broken events.ts stops every role at start, before any connection
  const redis = redisTargetOf(env);
  log.info({ redis: describeTarget(redis), prefix: env.HUB_PREFIX, tasks: registry.size }, 'worker starting');
  // Limits, pools and keyed contracts: a mistake stops the start before anything connects.
  const flowConfig = checkFlow(env, registry);
  // Fleet-wide task metrics for the dashboard's /metrics: batched, one pipeline every few seconds.
  const metrics = startMetricsRecorder({ redisUrl: redis, prefix: env.HUB_PREFIX, log });
  const flowRedis = createRedis(redis, 'worker', { onError: (m) => log.error(m) });
  const onOutcome = (o: JobOutcome) => {
    metrics.record(o);
    alsoOnOutcome?.(o);
  };
  const started = (async () => {
    const flow = await startFlow(flowConfig, env, flowRedis, log);
    const hub = await startWorkers({
      redisUrl: redis,
      prefix: env.HUB_PREFIX,
      queues: env.HUB_QUEUES,
      registry,
      http: createServiceClients(serviceUrlsFrom(env), env.HTTP_TIMEOUT_MS, flow),
      log,
      production: env.NODE_ENV === 'production',
      flow,
      ...overrides,
      onOutcome,
    }).catch(async (err: unknown) => {
      await flow.stop();
      throw err;
    });
    return { hub, flow };
  })();
  const { hub, flow } = await started.catch(async (err: unknown) => {
    await metrics.stop();
    flowRedis.disconnect();
    throw err;
  });
  return {
    async stop() {
      log.info({ graceMs: env.WORKER_GRACE_MS }, 'worker stopping: no new jobs, waiting for running ones');
      await hub.close(env.WORKER_GRACE_MS);
      await Promise.all([metrics.stop(), flow.stop()]);
      flowRedis.disconnect();
      log.info('worker stopped');
    },
  };
};
