import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { QueueSpec } from '../contracts/queues.ts';
import { queuePrefix } from '../core/keys.ts';
import { queueSpecOf } from '../core/job-options.ts';
import type { Logger } from '../core/logger.ts';
import { createRedis } from '../core/redis.ts';
import type { ServiceClients } from '../http/services.ts';
import { createProducer } from '../producer/index.ts';
import { isolateSuspects } from './crash-suspects.ts';
import { createProcessor, type JobOutcome } from './dispatch.ts';
import { checkEvictionPolicy } from './redis-policy.ts';
import type { Registry } from './registry.ts';
import { HubWorker, refuseUnreadable } from './unreadable-jobs.ts';

export interface WorkerHubOptions {
  redisUrl: string;
  prefix: string;
  queues: readonly string[];
  registry: Registry;
  http: ServiceClients;
  log: Logger;
  onOutcome?: (outcome: JobOutcome) => void;
  /** Overrides per queue, e.g. for tests and benchmarks. */
  concurrency?: number;
  /** Refuse an evicting Redis (production) instead of warning. */
  production?: boolean;
  /** Per-queue settings instead of queues.config.ts's (fault tests shorten the lock timings). */
  queueSpecs?: Readonly<Record<string, QueueSpec>>;
  /** The module `sandboxed` queues load in their child processes; tests point it at their own tasks. */
  sandboxProcessor?: string;
}

// tsc rewrites import specifiers, not strings: .ts under tsx, .js in dist.
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const defaultSandboxProcessor = fileURLToPath(new URL(`./sandboxed-processor${ext}`, import.meta.url));
const childWatchdog = new URL(`./child-watchdog${ext}`, import.meta.url).href;

export interface WorkerHub {
  workers: HubWorker[];
  connection: Redis;
  /** Stops taking jobs; running ones get `graceMs` to finish, then are aborted and returned to their queue. */
  close(graceMs: number): Promise<void>;
}

export const startWorkers = async (opts: WorkerHubOptions): Promise<WorkerHub> => {
  const { log } = opts;
  const connection = createRedis(opts.redisUrl, 'worker', { onError: (m) => log.error(m) });
  try {
    await checkEvictionPolicy(connection, log, opts.production ?? false);
  } catch (err) {
    connection.disconnect();
    throw err;
  }
  const producer = createProducer({ connection, prefix: opts.prefix, service: 'task-hub' });
  const processor = createProcessor({
    registry: opts.registry,
    http: opts.http,
    producer,
    log,
    onOutcome: opts.onOutcome,
    overlap: { redis: connection, prefix: opts.prefix },
  });
  // Child processes build their own producer and clients from the environment: hand down ours.
  const childEnv = { ...process.env, REDIS_URL: opts.redisUrl, HUB_PREFIX: opts.prefix };
  const forkOptions = { env: childEnv, execArgv: [...process.execArgv, `--import=${childWatchdog}`] };
  const sandboxProcessor = opts.sandboxProcessor ?? defaultSandboxProcessor;
  const suspects = isolateSuspects(processor, { processorFile: sandboxProcessor, forkOptions });

  const workers = opts.queues.map((queue) => {
    const spec = opts.queueSpecs?.[queue] ?? queueSpecOf(queue);
    const worker = new HubWorker(queue, spec.sandboxed ? sandboxProcessor : refuseUnreadable(suspects.processor), {
      connection,
      prefix: queuePrefix(opts.prefix, queue),
      concurrency: opts.concurrency ?? spec.concurrency,
      ...(spec.limiter ? { limiter: spec.limiter } : {}),
      lockDuration: spec.lockDurationMs ?? 30_000,
      maxStalledCount: spec.maxStalledCount ?? 1,
      stalledInterval: spec.stalledIntervalMs ?? 30_000,
      ...(spec.sandboxed ? { workerForkOptions: forkOptions } : {}),
      // Retention for jobs added without options (plain BullMQ clients, the dashboard's form).
      removeOnComplete: spec.keepCompleted,
      removeOnFail: spec.keepFailed,
    });
    worker.on('error', (err) => log.error({ queue, err: err.message }, 'worker error'));
    return worker;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  log.info({ queues: opts.queues }, 'worker ready');

  return {
    workers,
    connection,
    async close(graceMs) {
      const closed = Promise.all(workers.map((w) => w.close()));
      const inGrace = await Promise.race([
        closed.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), graceMs).unref()),
      ]);
      if (!inGrace) {
        log.warn({ graceMs }, 'grace period over: aborting running jobs, they go back to their queue');
        suspects.processor.interruptAll('shutdown');
        // Sandboxed queues run BullMQ's own child processors, which take its per-job signal.
        for (const w of workers) w.cancelAllJobs('shutdown');
        await closed;
      }
      await suspects.close();
      await producer.close();
      connection.disconnect();
    },
  };
};
