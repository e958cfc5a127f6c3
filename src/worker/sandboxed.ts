import { UnrecoverableError, type Job, type SandboxedJob } from 'bullmq';
import { loadEnv } from '../config/env.ts';
import { createLogger } from '../core/logger.ts';
import { createRedis } from '../core/redis.ts';
import { createServiceClients } from '../http/services.ts';
import { createProducer } from '../producer/index.ts';
import { createProcessor } from './dispatch.ts';
import type { Registry } from './registry.ts';

/**
 * The processor a `sandboxed: true` queue runs in BullMQ's child processes: the same registry
 * and dispatch as the worker, built once per child from the environment the worker passes down.
 */
export const sandboxedProcessor = (buildRegistry: () => Registry) => {
  const env = loadEnv();
  const log = createLogger({ name: 'worker-sandbox', level: env.LOG_LEVEL });
  const producer = createProducer({ redisUrl: env.REDIS_URL, prefix: env.HUB_PREFIX, service: 'task-hub' });
  const processor = createProcessor({
    registry: buildRegistry(),
    http: createServiceClients(env),
    producer,
    log,
    overlap: { redis: createRedis(env.REDIS_URL, 'worker', { onError: (m) => log.error(m) }), prefix: env.HUB_PREFIX },
  });
  return async (job: SandboxedJob, token?: string, signal?: AbortSignal): Promise<unknown> => {
    // The parent cancels a child's job only when its grace period is over (or at its own shutdown).
    signal?.addEventListener('abort', () => processor.interruptAll(signal.reason), { once: true });
    try {
      return await processor(job as unknown as Job, token);
    } catch (err) {
      // Errors cross the process boundary as JSON and BullMQ recognises "unrecoverable" by
      // name only: keep PermanentError's no-retry meaning and its message.
      if (err instanceof UnrecoverableError && err.name !== 'UnrecoverableError') throw new UnrecoverableError(err.message);
      throw err;
    }
  };
};
