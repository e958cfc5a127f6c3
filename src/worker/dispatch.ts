import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { TaskTimeoutError, UnknownTaskError } from '../core/errors.ts';
import { Deadlines, type Expiring } from '../core/deadlines.ts';
import { didYouMean } from '../core/did-you-mean.ts';
import { maxAttemptsOf } from '../core/job-options.ts';
import { idempotencyKeyOf, metaOf, payloadOf, requestIdOf, type JobMeta } from '../core/job-meta.ts';
import type { Logger } from '../core/logger.ts';
import { noOverlapScheduleOf, runningKey, withoutOverlap } from '../core/no-overlap.ts';
import { parsePayload } from '../core/validate.ts';
import { classifyHttpError } from '../http/classify.ts';
import { clientsForJob } from '../http/job-clients.ts';
import type { ServiceClients } from '../http/services.ts';
import type { Producer } from '../producer/index.ts';
import type { TaskContext, TaskHandler } from '../../tasks/context.ts';
import type { Registry } from './registry.ts';
import type { Redis } from 'ioredis';

export interface JobOutcome {
  task: string;
  queue: string;
  ok: boolean;
  durationMs: number;
}

export interface DispatchDeps {
  registry: Registry;
  http: ServiceClients;
  producer: Producer;
  log: Logger;
  /** Called once per finished attempt (metrics); must not throw or block. */
  onOutcome?: (outcome: JobOutcome) => void;
  /** Where the no-overlap guard of `noOverlap` schedule entries keeps its locks. */
  overlap?: { redis: Redis; prefix: string };
}

const lookUp = (registry: Registry, job: Job) => {
  const handler = registry.get(job.name);
  if (!handler) throw new UnknownTaskError(job.name, didYouMean(job.name, registry.keys()));
  if (handler.contract.queue !== job.queueName) {
    throw new UnknownTaskError(job.name, ` on queue "${job.queueName}": it runs on "${handler.contract.queue}"`);
  }
  return handler;
};

type Scope = TaskContext['job'];

/** This attempt's number, from 1 (attemptsMade counts the attempts before it). */
const attemptOf = (job: Job): number => job.attemptsMade + 1;

const scopeOf = (job: Job, meta: JobMeta): Scope => {
  const jobId = job.id!;
  const scope: Scope = {
    jobId,
    queue: job.queueName,
    task: job.name,
    attempt: attemptOf(job),
    maxAttempts: maxAttemptsOf(job.opts),
    requestId: requestIdOf(meta, job.queueName, jobId),
    idempotencyKey: idempotencyKeyOf(meta, job.queueName, jobId),
  };
  if (meta.schedule) scope.schedule = meta.schedule;
  return scope;
};

/**
 * One attempt: the context its handler gets and its abort state (timeout or shutdown), in one
 * object. What most handlers never touch is built on first use: the AbortController (a no-op or
 * CPU-only task never pays for one), ctx.job, the job-bound HTTP clients and logger. Its timeout
 * is kept in the processor's Deadlines, not in a timer of its own.
 */
class Attempt implements TaskContext, Expiring {
  reason: unknown;
  /** Aborted by shutdown: the job goes back to wait instead of spending an attempt. */
  interrupted = false;
  readonly expiresAt: number;
  private controller: AbortController | undefined;
  private fail: ((reason: unknown) => void) | undefined;
  private scope: Scope | undefined;
  private logger: Logger | undefined;

  constructor(
    private readonly bullJob: Job,
    private readonly meta: JobMeta,
    private readonly timeoutMs: number,
    private readonly deps: Pick<DispatchDeps, 'http' | 'producer' | 'log'>,
  ) {
    this.expiresAt = performance.now() + timeoutMs;
  }

  /** Settles with the handler, or rejects at the first abort: a handler that ignores its signal still ends. */
  run(handler: TaskHandler, input: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.fail = reject;
      if (this.reason !== undefined) reject(this.reason);
      else handler.run(input, this).then(resolve, reject);
    });
  }

  abort(reason: unknown): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
    this.fail?.(reason);
  }

  expire(): void {
    this.abort(new TaskTimeoutError(this.bullJob.name, this.timeoutMs));
  }

  get job(): Scope {
    return (this.scope ??= scopeOf(this.bullJob, this.meta));
  }
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }
  get http() {
    return clientsForJob(this.deps.http, this.job);
  }
  get log() {
    return (this.logger ??= this.deps.log.child(this.job));
  }
  get enqueue(): TaskContext['enqueue'] {
    const { producer } = this.deps;
    const { requestId } = this.job;
    return (task, payload, opts) => producer.enqueue(task, payload, { requestId, ...opts });
  }
  get enqueueMany(): TaskContext['enqueueMany'] {
    const { producer } = this.deps;
    const { requestId } = this.job;
    return (items) => producer.enqueueMany(items.map((i) => ({ task: i.task, payload: i.payload, options: { requestId, ...i.options } })));
  }
  get progress(): TaskContext['progress'] {
    const job = this.bullJob;
    return { read: () => job.progress, save: (value) => job.updateProgress(value) };
  }
}

/**
 * BullMQ's processor for the hub's queues, plus the shutdown switch. It takes two parameters on
 * purpose: BullMQ creates an AbortController per job (about 3 µs, a fifth of the hub's cost per
 * no-op job in profiles) only for processors that declare a third, the signal. The hub keeps its
 * running attempts instead and aborts them itself when the grace period is over.
 */
export interface HubProcessor {
  (job: Job, token?: string): Promise<unknown>;
  /** Aborts every running attempt; each goes back to wait with no attempt spent. */
  interruptAll(reason: unknown): void;
}

/** The BullMQ processor for one queue: look up, parse, run in context, classify the error. */
export const createProcessor = (deps: DispatchDeps): HubProcessor => {
  const { registry, onOutcome } = deps;
  // The attempts running now, each until its timeout (also what interruptAll aborts).
  const running = new Deadlines<Attempt>();
  // The attempt line carries only fields the hub sets (ids, names, counts, durations), none of
  // them a secret key, so it skips pino's redaction, which costs a wildcard pass per field.
  // Handlers' ctx.log keeps it.
  const attemptLog = deps.log.child({}, { redact: [] });
  // One child per task binds queue and task once (pino serialises bindings when the child is made).
  const taskLogs = new Map<string, Logger>();
  const logFor = (job: Job): Logger => {
    let log = taskLogs.get(job.name);
    if (!log) {
      log = attemptLog.child({ queue: job.queueName, task: job.name });
      // Kept only for registered tasks on their own queue: bounded, and a misrouted job's line keeps its queue.
      if (registry.get(job.name)?.contract.queue === job.queueName) taskLogs.set(job.name, log);
    }
    return log;
  };
  // Request id and idempotency key are logged only when the enqueuer chose them: the derived ones
  // (`hub-<queue>-<jobId>`) add nothing to the job id already on the line.
  const line = (job: Job, meta: JobMeta, durationMs: number) => {
    const fields: Record<string, unknown> = { jobId: job.id, attempt: attemptOf(job), maxAttempts: maxAttemptsOf(job.opts) };
    if (meta.requestId !== undefined) fields.requestId = meta.requestId;
    if (meta.idempotencyKey !== undefined) fields.idempotencyKey = meta.idempotencyKey;
    if (meta.schedule !== undefined) fields.schedule = meta.schedule;
    fields.durationMs = Math.round(durationMs);
    return fields;
  };

  const processJob = async (job: Job, token?: string) => {
    const started = performance.now();
    const meta = metaOf(job.data);
    let attempt: Attempt | undefined;
    try {
      const handler = lookUp(registry, job);
      const input = parsePayload(handler.contract, payloadOf(job.data));
      const { timeoutMs } = handler.contract;
      const ctx = (attempt = new Attempt(job, meta, timeoutMs, deps));
      running.add(ctx);
      // Only jobs of `noOverlap` schedule entries pay for the lock (two Redis calls).
      const schedule = deps.overlap && noOverlapScheduleOf(job.data);
      const result = schedule
        ? await withoutOverlap(deps.overlap!.redis, runningKey(deps.overlap!.prefix, job.queueName, schedule), job.id!, timeoutMs + 5_000, () =>
            ctx.run(handler, input),
          )
        : await ctx.run(handler, input);
      const durationMs = performance.now() - started;
      logFor(job).info(line(job, meta, durationMs), 'task succeeded');
      onOutcome?.({ task: job.name, queue: job.queueName, ok: true, durationMs });
      return result;
    } catch (raw) {
      if (attempt?.interrupted && token) {
        // Interrupted by shutdown: back to wait, the attempt is not spent.
        await job.moveToWait(token);
        logFor(job).warn(line(job, meta, performance.now() - started), 'task interrupted by shutdown; returned to the queue');
        throw new WaitingError();
      }
      const err = classifyHttpError(raw) as Error;
      const durationMs = performance.now() - started;
      const final = err instanceof UnrecoverableError || attemptOf(job) >= maxAttemptsOf(job.opts);
      logFor(job)[final ? 'error' : 'warn'](
        { ...line(job, meta, durationMs), error: err.message, errorType: err.name, final },
        final ? 'task failed' : 'task attempt failed; will retry',
      );
      onOutcome?.({ task: job.name, queue: job.queueName, ok: false, durationMs });
      throw err;
    } finally {
      if (attempt) running.delete(attempt);
    }
  };

  return Object.assign(processJob, {
    interruptAll(reason: unknown) {
      for (const attempt of running.items()) {
        attempt.interrupted = true;
        attempt.abort(reason);
      }
    },
  });
};
