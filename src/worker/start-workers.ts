import { fileURLToPath } from 'node:url';
import type { QueueSpec } from '../contracts/queues.ts';
import { queuePrefix } from '../core/keys.ts';
import { queueSpecOf } from '../core/job-options.ts';
import type { FlowRuntime } from '../core/flow/runtime.ts';
import type { Logger } from '../core/logger.ts';
import { checkEvictionPolicy } from '../core/redis-policy.ts';
import { createRedis, type RedisClient, type RedisTarget } from '../core/redis.ts';
import { envOfTarget } from '../config/redis-target.ts';
import type { ServiceClients } from '../service-clients/services.ts';
import { createProducer } from '../producer/index.ts';
import { listenForCancels } from './cancel-listener.ts';
import { childCancel } from './child/child-cancel.ts';
import { isolateSuspects } from './child/crash-suspects.ts';
import { childForkOptions } from './child/fork-options.ts';
import { createProcessor, type JobOutcome } from './dispatch.ts';
import type { Registry } from './registry.ts';
import { HubWorker, refuseUnreadable, type HubWorkerHooks } from './hub-worker.ts';
import { createKeyedRunner } from './keyed.ts';
import { metaOf } from '../core/job-meta.ts';
import { createWorkflowSteps } from './workflow-step.ts';

export interface WorkerHubOptions {
  /** The hub's Redis: a URL, or a cluster target (src/config/redis-target.ts makes one from the environment). */
  redisUrl: RedisTarget;
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
  /** Service limits and pools (ctx.lease, counters); per-key slots work without it. */
  flow?: FlowRuntime;
}

// tsc rewrites import specifiers, not strings: .ts under tsx, .js in dist.
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const defaultSandboxProcessor = fileURLToPath(new URL(`./child/sandboxed-processor${ext}`, import.meta.url));

export interface WorkerHub {
  workers: HubWorker[];
  connection: RedisClient;
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
  const specOf = (queue: string) => opts.queueSpecs?.[queue] ?? queueSpecOf(queue);
  const keyed = createKeyedRunner({
    redis: connection,
    hubPrefix: opts.prefix,
    log,
    lockMsOf: (queue) => specOf(queue).lockDurationMs ?? 30_000,
    metrics: opts.flow?.metrics,
  });
  const processor = createProcessor({
    registry: opts.registry,
    http: opts.http,
    producer,
    log,
    onOutcome: opts.onOutcome,
    overlap: { redis: connection, prefix: opts.prefix },
    keyed,
    flow: opts.flow,
  });
  // Child processes build their own producer and clients from the environment: hand down ours.
  const forkOptions = childForkOptions({ ...process.env, ...envOfTarget(opts.redisUrl), HUB_PREFIX: opts.prefix });
  const sandboxProcessor = opts.sandboxProcessor ?? defaultSandboxProcessor;
  const suspects = isolateSuspects(processor, { processorFile: sandboxProcessor, forkOptions });
  // Jobs that expire fail for good outside the processor (at their start, or instead of a retry): their workflow hears it here.
  const workflowSteps = createWorkflowSteps({ redis: connection, prefix: opts.prefix, log });
  const hooks: HubWorkerHooks = {
    expired(job, err, when) {
      log.info({ queue: job.queueName, task: job.name, jobId: job.id, when, reason: err.message }, 'job expired');
      opts.onOutcome?.({ task: job.name, queue: job.queueName, ok: false, durationMs: 0, expired: true });
      const meta = metaOf(job.data);
      if (meta.workflow) {
        workflowSteps.record(job, meta, { ok: false, reason: err.message }).catch((e: unknown) =>
          log.error({ jobId: job.id, workflowId: meta.workflow!.id, err: (e as Error).message }, 'workflow: could not record an expired step'),
        );
      }
    },
  };

  const workers = opts.queues.map((queue) => {
    const spec = specOf(queue);
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
      // Started below, once the cancel channel is subscribed: a job taken earlier could miss its
      // cancel, and listeners added when this returns would miss its events.
      autorun: false,
    }, opts.registry, hooks);
    worker.on('error', (err) => log.error({ queue, err: err.message }, 'worker error'));
    return worker;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const byQueue = new Map(workers.map((w) => [w.name, w]));
  const cancels = await listenForCancels({
    connection,
    prefix: opts.prefix,
    workers,
    log,
    // In process or a crash suspect's child; else a sandboxed queue's child, through BullMQ's per-job signal.
    cancelRunning: (queue, id, reason) => suspects.processor.cancel(queue, id, reason) || (byQueue.get(queue)?.cancelJob(id, childCancel(reason)) ?? false),
  });
  // No job is taken before a cancel of it could be heard. run() settles when the worker closes.
  for (const worker of workers) worker.run().catch((err: unknown) => log.error({ queue: worker.name, err: (err as Error).message }, 'worker stopped running'));
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
      await cancels.close();
      await suspects.close();
      await keyed.close();
      await producer.close();
      connection.disconnect();
    },
  };
};
