import { UnrecoverableError, type Job, type SandboxedJob } from 'bullmq';
import { loadEnv } from '../../config/env.ts';
import { redisTargetOf } from '../../config/redis-target.ts';
import { flowConfigFrom } from '../../config/flow-config.ts';
import { createFlowRuntime } from '../../core/flow/runtime.ts';
import { queueSpecOf } from '../../core/job-options.ts';
import { createLogger } from '../../core/logger.ts';
import { createRedis } from '../../core/redis.ts';
import { createServiceClients, serviceUrlsFrom } from '../../service-clients/services.ts';
import { createProducer } from '../../producer/index.ts';
import { startTracing } from '../../tracing/start-tracing.ts';
import { createProcessor } from '../dispatch.ts';
import { createKeyedRunner } from '../keyed.ts';
import type { Registry } from '../registry.ts';
import { cancelReasonIn } from './child-cancel.ts';

/**
 * The processor a `sandboxed: true` queue runs in BullMQ's child processes: the same registry
 * and dispatch as the worker, built once per child from the environment the worker passes down.
 */
export const sandboxedProcessor = (buildRegistry: () => Registry) => {
  const env = loadEnv();
  const log = createLogger({ name: 'worker-sandbox', level: env.LOG_LEVEL, format: env.LOG_FORMAT });
  // The worker hands its OTEL_* environment down: a job run here keeps its trace. Before the processor, which looks for the SDK.
  const tracing = startTracing(env, 'task-hub-worker', log);
  const target = redisTargetOf(env);
  const producer = createProducer({ ...(typeof target === 'string' ? { redisUrl: target } : { cluster: target }), prefix: env.HUB_PREFIX, service: 'task-hub' });
  const redis = createRedis(target, 'worker', { onError: (m) => log.error(m) });
  // The same limits, slots and pools as the worker: a job in a child counts against them too.
  const flow = createFlowRuntime({ config: flowConfigFrom(env), redis, hubPrefix: env.HUB_PREFIX, httpTimeoutMs: env.HTTP_TIMEOUT_MS, log });
  const processor = createProcessor({
    registry: buildRegistry(),
    http: createServiceClients(serviceUrlsFrom(env), env.HTTP_TIMEOUT_MS, flow),
    producer,
    log,
    overlap: { redis, prefix: env.HUB_PREFIX },
    keyed: createKeyedRunner({ redis, hubPrefix: env.HUB_PREFIX, log, lockMsOf: (q) => queueSpecOf(q).lockDurationMs ?? 30_000, metrics: flow.metrics }),
    flow,
  });
  return async (job: SandboxedJob, token?: string, signal?: AbortSignal): Promise<unknown> => {
    // The parent aborts a child's job for a cancel (the job fails as cancelled), or when its grace
    // period is over or it shuts down (the job goes back to wait).
    const stop = (reason: unknown) => {
      const cancelled = cancelReasonIn(reason);
      if (cancelled === undefined) processor.interruptAll(reason);
      else processor.cancel(job.queueName, job.id!, cancelled);
    };
    signal?.addEventListener('abort', () => stop(signal.reason), { once: true });
    try {
      // The attempt is registered once processor() returns; an abort that came before reaches it now.
      const running = processor(job as unknown as Job, token);
      if (signal?.aborted) stop(signal.reason);
      return await running;
    } catch (err) {
      // Errors cross the process boundary as JSON and BullMQ recognises "unrecoverable" by
      // name only: keep PermanentError's no-retry meaning and its message.
      if (err instanceof UnrecoverableError && err.name !== 'UnrecoverableError') {
        // The original's stack, already cleared of sensitive values by the processor.
        throw Object.assign(new UnrecoverableError(err.message), { stack: err.stack });
      }
      throw err;
    } finally {
      // Out before the job's result is: the pool may end this process once it has it.
      await tracing?.flush();
    }
  };
};
