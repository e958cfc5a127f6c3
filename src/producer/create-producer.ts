import { Job, Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { queues as queueSpecs } from '../../queues.config.ts';
import { catalog, type PayloadOf, type TaskName } from '../contracts/index.ts';
import { JobNotFoundError } from '../core/errors.ts';
import { jobOptionsFor, maxAttemptsOf, withJobId } from '../core/job-options.ts';
import { metaOf, payloadOf, requestIdOf, withMeta, type JobMeta } from '../core/job-meta.ts';
import { queuePrefix, HUB_PREFIX } from '../core/keys.ts';
import { redactFields } from '../core/redact.ts';
import { createRedis } from '../core/redis.ts';
import { DEFAULT_MAX_PAYLOAD_BYTES, validateTask } from '../core/validate.ts';
import { asEnqueueError, withDeadline } from './deadline.ts';
import { idempotentJobId, newJobId, queueOfJobId } from './job-ids.ts';
import { ResultWaiter } from './results.ts';
import type { EnqueueItem, EnqueueOptions, EnqueuedJob, JobInfo, JobRef, ProducerOptions, WaitOptions } from './types.ts';

export type Producer = ReturnType<typeof createProducer>;

const queueNames = Object.keys(queueSpecs);

export const createProducer = (options: ProducerOptions) => {
  const { service, prefix = 'hub', timeoutMs = 3_000, maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES } = options;
  if (!HUB_PREFIX.test(prefix)) throw new Error(`createProducer: prefix "${prefix}" must match ${HUB_PREFIX}`);
  if (!options.connection && !options.redisUrl) throw new Error('createProducer: pass redisUrl or connection');
  const ownsConnection = !options.connection;
  const connection = options.connection ?? createRedis(options.redisUrl!, 'producer');
  const lastErrors: Error[] = [];
  const queues = new Map<string, Queue>();

  const queueNamed = (name: string): Queue => {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection, prefix: queuePrefix(prefix, name) });
      queue.on('error', (err) => lastErrors.splice(0, lastErrors.length, err));
      queues.set(name, queue);
    }
    return queue;
  };

  const waiter = new ResultWaiter(
    connection,
    () =>
      options.redisUrl
        ? createRedis(options.redisUrl, 'worker')
        : connection.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true }),
    (err) => lastErrors.splice(0, lastErrors.length, err),
  );

  const prepare = <N extends TaskName>(task: N, payload: PayloadOf<N>, opts: EnqueueOptions = {}) => {
    const { contract, payload: parsed } = validateTask(task, payload, maxPayloadBytes);
    const jobId = opts.idempotencyKey
      ? idempotentJobId(contract.queue, task, opts.idempotencyKey)
      : newJobId(contract.queue);
    const jobOpts: JobsOptions = withJobId(jobOptionsFor(contract), jobId);
    if (opts.delayMs) jobOpts.delay = opts.delayMs;
    if (opts.priority) jobOpts.priority = opts.priority;
    if (opts.dedup) jobOpts.deduplication = { id: `${task}.${opts.dedup.id}`, ...(opts.dedup.ttlMs ? { ttl: opts.dedup.ttlMs } : {}) };
    // No request id stored when the caller has none: the worker derives one from the job id.
    const meta: JobMeta = { service };
    if (opts.requestId) meta.requestId = opts.requestId;
    if (opts.idempotencyKey) meta.idempotencyKey = opts.idempotencyKey;
    return { queue: contract.queue, name: task, data: withMeta(parsed, meta), opts: jobOpts };
  };

  /** `work` under the deadline, its Redis errors as EnqueueError, its result through `map`: one promise. */
  const guarded = <T, R = T>(what: string, work: () => Promise<T>, map?: (value: T) => R): Promise<R> => {
    let started: Promise<T>;
    try {
      started = work();
    } catch (err) {
      return Promise.reject(asEnqueueError(err, what));
    }
    return withDeadline(started, timeoutMs, what, map);
  };

  /** Finds a job by id: hub ids name their queue; plain numeric ids are looked up in every queue. */
  const findJob = async (ref: JobRef): Promise<Job | undefined> => {
    if (typeof ref !== 'string') return Job.fromId(queueNamed(ref.queue), ref.id);
    const id = ref;
    const named = queueOfJobId(id);
    const candidates = named && queueNames.includes(named) ? [named] : queueNames;
    for (const name of candidates) {
      const job = await Job.fromId(queueNamed(name), id);
      if (job) return job;
    }
    return undefined;
  };

  return {
    /** Validates, then adds one job. Throws InvalidPayloadError / UnknownTaskError before touching Redis. */
    enqueue<N extends TaskName>(task: N, payload: PayloadOf<N>, opts?: EnqueueOptions): Promise<EnqueuedJob<N>> {
      // Not async: the add, its deadline and the result are one promise (enqueue runs in request
      // handlers; bench/ measures it against a plain Queue.add).
      let job: ReturnType<typeof prepare>;
      try {
        job = prepare(task, payload, opts);
      } catch (err) {
        return Promise.reject(err as Error);
      }
      const { queue } = job;
      // Inline arrows: tsx (keepNames) renames every named function it creates, per call.
      return guarded(
        `could not enqueue ${task}`,
        () => queueNamed(queue).add(job.name, job.data, job.opts),
        (added) => ({ id: added.id!, task, queue }),
      );
    },

    /** Validates every item first (all or nothing), then one addBulk per queue. */
    async enqueueMany(items: readonly EnqueueItem[]): Promise<EnqueuedJob[]> {
      const prepared = items.map((i) => prepare(i.task, i.payload as never, i.options));
      // Positions per queue: each addBulk answers in its input's order, so results go back by index.
      const byQueue = new Map<string, number[]>();
      prepared.forEach((p, i) => {
        const at = byQueue.get(p.queue);
        if (at) at.push(i);
        else byQueue.set(p.queue, [i]);
      });
      const out = new Array<EnqueuedJob>(prepared.length);
      await guarded(`could not enqueue ${items.length} jobs`, () =>
        Promise.all(
          [...byQueue].map(async ([queue, at]) => {
            const added = await queueNamed(queue).addBulk(byQueue.size === 1 ? prepared : at.map((i) => prepared[i]!));
            added.forEach((job, k) => (out[at[k]!] = { id: job.id!, task: prepared[at[k]!]!.name, queue }));
          }),
        ),
      );
      return out;
    },

    /** The job's result once it completes; JobFailedError once it fails for good; WaitTimeoutError past timeoutMs. */
    async waitFor(job: JobRef, { timeoutMs: waitMs = 30_000 }: WaitOptions = {}): Promise<unknown> {
      const id = typeof job === 'string' ? job : job.id;
      const queue = typeof job === 'string' ? (queueOfJobId(id) ?? (await findJob(id))?.queueName) : job.queue;
      if (queue && !queueNames.includes(queue)) throw new JobNotFoundError(id);
      if (!queue) throw new JobNotFoundError(id);
      return waiter.wait(queueNamed(queue), id, waitMs);
    },

    /** State, attempts, result or failure reason of a job; undefined when unknown or removed. */
    async getJob(ref: JobRef): Promise<JobInfo | undefined> {
      const id = typeof ref === 'string' ? ref : ref.id;
      const job = await guarded(`could not read job ${id}`, () => findJob(ref));
      if (!job) return undefined;
      const state = await guarded(`could not read job ${id}`, () => job.getState());
      const meta = metaOf(job.data);
      const contract = (catalog as Record<string, { sensitive: readonly string[] }>)[job.name];
      return {
        id: job.id!,
        task: job.name,
        queue: job.queueName,
        state,
        attemptsMade: job.attemptsMade,
        maxAttempts: maxAttemptsOf(job.opts),
        payload: redactFields(payloadOf(job.data), contract?.sensitive ?? []),
        requestId: requestIdOf(meta, job.queueName, job.id!),
        service: meta.service,
        progress: job.progress,
        result: job.returnvalue ?? undefined,
        failedReason: job.failedReason || undefined,
        createdAt: job.timestamp,
        startedAt: job.processedOn,
        finishedAt: job.finishedOn,
      };
    },

    /** The most recent error the connection reported, for health checks. */
    lastError: (): Error | undefined => lastErrors[0],

    async close(): Promise<void> {
      await waiter.close();
      await Promise.all([...queues.values()].map((q) => q.close()));
      if (ownsConnection) connection.disconnect();
    },
  };
};
