import { Job, Queue, type JobsOptions } from 'bullmq';
import { queues as queueSpecs } from '../../queues.config.ts';
import { catalog, type AnyContract, type PayloadOf, type TaskName } from '../contracts/index.ts';
import { EnqueueError, JobNotFoundError } from '../core/errors.ts';
import { jobOptionsFor, maxAttemptsOf, withJobId } from '../core/job-options.ts';
import { metaOf, payloadOf, requestIdOf, withMeta, type JobMeta } from '../core/job-meta.ts';
import { queuePrefix, HUB_PREFIX } from '../core/keys.ts';
import { redactFields } from '../core/redact.ts';
import { DEFAULT_MAX_PAYLOAD_BYTES, validateTask } from '../core/validate.ts';
import { cancelEventWith, cancelWith } from './cancel.ts';
import { expiryFor } from './expiry.ts';
import { producerConnection } from './connect.ts';
import { indexJob } from './business-keys.ts';
import { asEnqueueError, withDeadline } from './deadline.ts';
import { endWhenSettled, enqueueTrace, type EnqueueTrace } from './enqueue-trace.ts';
import { idempotentJobId, newJobId, queueOfJobId } from './job-ids.ts';
import { payloadHash, requestIdAfterAdd, type KeyedAdd } from './idempotency.ts';
import { checkHubEvents, publisher } from './publish.ts';
import { addReplicated, confirmReplicated, replicationOf } from './replicated.ts';
import { ResultWaiter } from './results.ts';
import { workflowStarter, type MappedStep, type StartedWorkflow, type TaskStep, type WorkflowOptions } from './workflows.ts';
import { workflowCanceller, workflowReader } from './workflow-reads.ts';
import type { EnqueueItem, EnqueueOptions, EnqueuedJob, JobInfo, JobRef, ProducerOptions, WaitOptions } from './types.ts';

export type Producer = ReturnType<typeof createProducer>;

const queueNames = Object.keys(queueSpecs);

export const createProducer = (options: ProducerOptions) => {
  const { service, prefix = 'hub', timeoutMs = 3_000, maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES, maxWorkflowMembers } = options;
  if (!HUB_PREFIX.test(prefix)) throw new Error(`createProducer: prefix "${prefix}" must match ${HUB_PREFIX}`);
  checkHubEvents();
  const replication = replicationOf(options);
  const { connection, owned: ownsConnection, blocking } = producerConnection(options);
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

  const waiter = new ResultWaiter(connection, blocking, (err) => lastErrors.splice(0, lastErrors.length, err));

  /** `trace`: the enqueue's trace, shared by the items of one enqueueMany; by default one of its own. */
  const prepare = <N extends TaskName>(task: N, payload: PayloadOf<N>, opts: EnqueueOptions = {}, trace?: EnqueueTrace | null) => {
    const { contract, payload: parsed } = validateTask(task, payload, maxPayloadBytes);
    const jobId = opts.idempotencyKey
      ? idempotentJobId(contract.queue, task, opts.idempotencyKey, service)
      : newJobId(contract.queue);
    const jobOpts: JobsOptions = withJobId(jobOptionsFor(contract), jobId);
    if (opts.delayMs) jobOpts.delay = opts.delayMs;
    if (opts.priority) jobOpts.priority = opts.priority;
    if (opts.dedup) jobOpts.deduplication = { id: `${task}.${opts.dedup.id}`, ...(opts.dedup.ttlMs ? { ttl: opts.dedup.ttlMs } : {}) };
    // No request id stored when the caller has none: the worker derives one from the job id.
    const meta: JobMeta = { service };
    if (opts.requestId) meta.requestId = opts.requestId;
    if (opts.idempotencyKey) {
      meta.idempotencyKey = opts.idempotencyKey;
      meta.payloadHash = payloadHash(parsed);
    }
    if (opts.expiresAt !== undefined || opts.expiresInMs !== undefined || contract.expiresAfterMs !== undefined) meta.expiresAt = expiryFor(contract, opts);
    // Tracing off and no caller trace: undefined, one property check.
    if (trace === undefined) trace = enqueueTrace(task, contract.queue, opts);
    if (trace) {
      meta.trace = trace.traceparent;
      if (trace.tracestate) meta.tracestate = trace.tracestate;
    }
    return { queue: contract.queue, name: task, data: withMeta(parsed, meta), opts: jobOpts, trace, contract };
  };

  /**
   * The add itself, replicated when asked (durability). A task that declares business keys also
   * indexes the job under them (other slots, so other commands), sent beside the add rather than
   * after it: the id is the hub's own. A deduplicated add (its id may be an earlier job's), or one
   * made before the connection is up, is indexed once it answers.
   */
  const addJob = (job: ReturnType<typeof prepare>) => {
    const queue = queueNamed(job.queue);
    const added = replication ? addReplicated(connection, queue, job, replication) : queue.add(job.name, job.data, job.opts);
    if (!job.contract.keys.length) return added;
    const index = (id: string) => indexJob(connection, prefix, queue.name, id, { contract: job.contract, data: job.data, delayMs: job.opts.delay });
    // Not yet connected (no offline queue: the add waits, a bare command would fail) or deduplicated.
    if (job.opts.deduplication || connection.status !== 'ready') return added.then(async (done) => (await index(done.id!), done));
    return Promise.all([added, index(job.opts.jobId!)]).then(([done]) => done);
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

  /**
   * A keyed add, then a read of the job stored under its id (one more round trip, for keyed
   * calls only): the first request id of a repeat, or IdempotencyConflictError for another payload.
   * After a timeout the EnqueueError names the job id a retry with the same key gets.
   */
  const addKeyed = <N extends TaskName>(task: N, job: ReturnType<typeof prepare>, add: KeyedAdd): Promise<EnqueuedJob<N>> => {
    const queue = queueNamed(job.queue);
    return guarded(
      `could not enqueue ${task}`,
      async () => {
        await addJob(job);
        return connection.hget(queue.toKey(add.jobId), 'data');
      },
      (stored) => ({ id: add.jobId, task, queue: job.queue, requestId: requestIdAfterAdd(stored, add) }),
    ).catch((err: unknown) => {
      if (err instanceof EnqueueError) err.jobId = add.jobId;
      throw err;
    });
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

  const cancelJob = cancelWith({ connection, prefix, service, queueNamed, guarded });
  const workflowDeps = { service, prefix, maxPayloadBytes, maxMembers: maxWorkflowMembers, connection, queueNamed, guarded };
  const startWorkflow = workflowStarter(workflowDeps);
  const workflows = workflowReader(workflowDeps);

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
      const idempotencyKey = opts?.idempotencyKey;
      let added: Promise<EnqueuedJob<N>>;
      if (idempotencyKey) {
        const jobId = job.opts.jobId!;
        if (opts.freshKey) {
          added = guarded(`could not enqueue ${task}`, () => addJob(job), () => ({ id: jobId, task, queue })).catch(
            (err: unknown) => {
              // Redis may still run the add: the caller hands the id out with the key.
              if (err instanceof EnqueueError) err.jobId = jobId;
              throw err;
            },
          );
        } else {
          const { payloadHash: hash } = metaOf(job.data);
          added = addKeyed(task, job, { task, queue, jobId, idempotencyKey, payloadHash: hash!, requestId: opts.requestId });
        }
      } else {
        // Inline arrows: tsx (keepNames) renames every named function it creates, per call.
        added = guarded(`could not enqueue ${task}`, () => addJob(job), (result) => ({ id: result.id!, task, queue }));
      }
      return job.trace ? endWhenSettled(job.trace, added, (r) => r.id) : added;
    },

    /** Validates every item first (all or nothing), then one addBulk per queue. */
    async enqueueMany(items: readonly EnqueueItem[]): Promise<EnqueuedJob[]> {
      // One enqueue span per call (per distinct traceparent option), not one per item.
      const traces = new Map<string | undefined, EnqueueTrace | null>();
      const traceFor = (i: EnqueueItem) => {
        const key = i.options?.traceparent;
        if (!traces.has(key)) {
          const queue = (catalog as Record<string, AnyContract>)[i.task]?.queue ?? '';
          traces.set(key, enqueueTrace(`${items.length} jobs`, queue, i.options) ?? null);
        }
        return traces.get(key)!;
      };
      let prepared: ReturnType<typeof prepare>[];
      try {
        prepared = items.map((i) => prepare(i.task, i.payload as never, i.options, traceFor(i)));
      } catch (err) {
        for (const t of traces.values()) t?.end(err);
        throw err;
      }
      // Positions per queue: each addBulk answers in its input's order, so results go back by index.
      const byQueue = new Map<string, number[]>();
      prepared.forEach((p, i) => {
        const at = byQueue.get(p.queue);
        if (at) at.push(i);
        else byQueue.set(p.queue, [i]);
      });
      const out = new Array<EnqueuedJob>(prepared.length);
      const all = guarded(`could not enqueue ${items.length} jobs`, () =>
        Promise.all(
          [...byQueue].map(async ([queue, at]) => {
            const added = await queueNamed(queue).addBulk(byQueue.size === 1 ? prepared : at.map((i) => prepared[i]!));
            if (replication && added[0]) await confirmReplicated(connection, queueNamed(queue).toKey(added[0].id!), added[0].id!, replication);
            added.forEach((job, k) => (out[at[k]!] = { id: job.id!, task: prepared[at[k]!]!.name, queue }));
            const keyed = at.filter((i) => prepared[i]!.contract.keys.length);
            await Promise.all(keyed.map((i) => indexJob(connection, prefix, queue, out[i]!.id, { contract: prepared[i]!.contract, data: prepared[i]!.data, delayMs: prepared[i]!.opts.delay })));
          }),
        ),
      );
      await [...traces.values()].reduce((p, t) => (t ? endWhenSettled(t, p, () => undefined) : p), all);
      return out;
    },

    /** Fans an event of events.ts out to its subscribers: one job each, ids fixed by (event, eventId, task). */
    publish: publisher({ service, maxPayloadBytes, connection, queueNamed, guarded }),

    /** Steps run one after another; `from` feeds a step fields of the previous step's result. A step failed for good stops the chain. */
    chain(steps: readonly [TaskStep, ...MappedStep[]], opts?: WorkflowOptions): Promise<StartedWorkflow> {
      return startWorkflow({ type: 'chain', steps }, opts);
    },

    /** Members run in parallel, each with its own retries; the result is every member's outcome, in order. */
    group(members: readonly TaskStep[], opts?: WorkflowOptions): Promise<StartedWorkflow> {
      return startWorkflow({ type: 'group', members }, opts);
    },

    /** A group, then `callback` with the members' outcomes (`from: { results: '$' }`); by default not when a member failed for good. */
    chord(members: readonly TaskStep[], callback: MappedStep, opts?: WorkflowOptions & { onMemberFailure?: 'stop' | 'continue' }): Promise<StartedWorkflow> {
      const { onMemberFailure, ...rest } = opts ?? {};
      return startWorkflow({ type: 'chord', members, callback, ...(onMemberFailure ? { onMemberFailure } : {}) }, rest);
    },

    /** Any workflow spec as data (the HTTP API's body): checked at run time only. */
    startWorkflow,

    /** Each step's state, and the result or failure once it is over; undefined when unknown or past retention. */
    getWorkflow: workflows.get,

    /** A job's (or a workflow's) result once it completes; JobFailedError / WorkflowFailedError once it fails for good; WaitTimeoutError past timeoutMs. */
    async waitFor(job: JobRef | StartedWorkflow, { timeoutMs: waitMs = 30_000 }: WaitOptions = {}): Promise<unknown> {
      if (typeof job === 'object' && 'workflowId' in job) return workflows.wait(job.workflowId, waitMs);
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
      const contract = (catalog as Record<string, AnyContract>)[job.name];
      return {
        id: job.id!,
        task: job.name,
        queue: job.queueName,
        state,
        attemptsMade: job.attemptsMade,
        maxAttempts: maxAttemptsOf(job.opts, contract?.queue === job.queueName ? contract : undefined),
        payload: redactFields(payloadOf(job.data), contract?.sensitive ?? []),
        requestId: requestIdOf(meta, job.queueName, job.id!),
        service: meta.service,
        ...(meta.expiresAt !== undefined ? { expiresAt: meta.expiresAt } : {}),
        ...(meta.workflow ? { workflow: meta.workflow } : {}),
        progress: job.progress,
        result: job.returnvalue ?? undefined,
        failedReason: job.failedReason || undefined,
        createdAt: job.timestamp,
        startedAt: job.processedOn,
        finishedAt: job.finishedOn,
      };
    },

    /** Stops a job: removed if queued, aborted where it runs if running; `cancelled: <reason>` (src/core/cancel.ts). */
    cancel: cancelJob,

    /** Stops a workflow: failed as `cancelled: <reason>`, nothing more enqueued, its unfinished jobs cancelled. */
    cancelWorkflow: workflowCanceller(workflowDeps, cancelJob),

    /** Cancels every subscriber job of one published event (each as `cancel` would). */
    cancelEvent: cancelEventWith({ connection, prefix, service, queueNamed, guarded }),

    /** The most recent error the connection reported, for health checks. */
    lastError: (): Error | undefined => lastErrors[0],

    async close(): Promise<void> {
      await waiter.close();
      await Promise.all([...queues.values()].map((q) => q.close()));
      if (ownsConnection) connection.disconnect();
    },
  };
};
