import { UnrecoverableError, WaitingError, type Job, type Processor } from 'bullmq';
import { TaskTimeoutError, UnknownTaskError } from '../core/errors.ts';
import { didYouMean } from '../core/did-you-mean.ts';
import { idempotencyKeyOf, metaOf, payloadOf, requestIdOf } from '../core/job-meta.ts';
import type { Logger } from '../core/logger.ts';
import { noOverlapScheduleOf, runningKey, withoutOverlap } from '../core/no-overlap.ts';
import { parsePayload } from '../core/validate.ts';
import { classifyHttpError } from '../http/classify.ts';
import { clientsForJob } from '../http/job-clients.ts';
import type { ServiceClients } from '../http/services.ts';
import type { Producer } from '../producer/index.ts';
import type { TaskContext } from '../../tasks/context.ts';
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
  /** True once shutdown began: aborted jobs go back to wait instead of spending an attempt. */
  isShuttingDown: () => boolean;
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

/**
 * One attempt's abort state. The hub's own controller is made only when the handler reads
 * ctx.signal (a no-op or CPU-only task never pays for it), and the worker's signal is followed
 * with one listener instead of AbortSignal.any, whose per-call weak tracking showed in profiles.
 */
class Attempt {
  reason: unknown;
  private controller: AbortController | undefined;
  private fail: ((reason: unknown) => void) | undefined;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Settles with the handler, or rejects at the first abort: a handler that ignores its signal still ends. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.fail = reject;
      if (this.reason !== undefined) reject(this.reason);
      else work().then(resolve, reject);
    });
  }

  abort(reason: unknown): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
    this.fail?.(reason);
  }

  /** The worker's abort listener (an EventListener object: no closure per attempt). */
  handleEvent(event: Event): void {
    this.abort((event.target as AbortSignal).reason);
  }
}

type Scope = TaskContext['job'];

/** What a handler gets; the parts most handlers never touch are built on first use. */
class AttemptContext implements TaskContext {
  private logger: Logger | undefined;

  constructor(
    readonly job: Scope,
    private readonly attempt: Attempt,
    private readonly bullJob: Job,
    private readonly deps: Pick<DispatchDeps, 'http' | 'producer' | 'log'>,
  ) {}

  get signal() {
    return this.attempt.signal;
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
    return (items) => producer.enqueueMany(items.map((i) => ({ ...i, options: { requestId, ...i.options } })));
  }
  get progress(): TaskContext['progress'] {
    const job = this.bullJob;
    return { read: () => job.progress, save: (value) => job.updateProgress(value) };
  }
}

const derivedKey = (scope: Scope) => idempotencyKeyOf({}, scope.queue, scope.jobId);

const scopeOf = (job: Job): Scope => {
  const meta = metaOf(job.data);
  const jobId = job.id!;
  const scope: Scope = {
    jobId,
    queue: job.queueName,
    task: job.name,
    attempt: job.attemptsMade + 1,
    maxAttempts: job.opts.attempts ?? 1,
    requestId: requestIdOf(meta, job.queueName, jobId),
    idempotencyKey: idempotencyKeyOf(meta, job.queueName, jobId),
  };
  if (meta.schedule) scope.schedule = meta.schedule;
  return scope;
};

/** The BullMQ processor for one queue: look up, parse, run in context, classify the error. */
export const createProcessor = (deps: DispatchDeps): Processor => {
  const { registry, onOutcome } = deps;
  // The attempt line carries only fields the hub sets (ids, names, counts, durations), none of
  // them a secret key, so it skips pino's redaction, which costs a wildcard pass per field.
  // Handlers' ctx.log keeps it.
  const attemptLog = deps.log.child({}, { redact: [] });
  // The idempotency key is left out when it is the one derived from the job id (nothing to add).
  const line = (scope: Scope, durationMs: number) => ({
    jobId: scope.jobId,
    queue: scope.queue,
    task: scope.task,
    attempt: scope.attempt,
    maxAttempts: scope.maxAttempts,
    requestId: scope.requestId,
    idempotencyKey: scope.idempotencyKey === derivedKey(scope) ? undefined : scope.idempotencyKey,
    schedule: scope.schedule,
    durationMs: Math.round(durationMs),
  });

  return async (job: Job, token?: string, workerSignal?: AbortSignal) => {
    const started = performance.now();
    const scope = scopeOf(job);
    const attempt = new Attempt();
    let timer: NodeJS.Timeout | undefined;
    try {
      const handler = lookUp(registry, job);
      const input = parsePayload(handler.contract, payloadOf(job.data));
      const { timeoutMs } = handler.contract;
      timer = setTimeout(() => attempt.abort(new TaskTimeoutError(job.name, timeoutMs)), timeoutMs);
      if (workerSignal?.aborted) attempt.abort(workerSignal.reason);
      // No { once } options object: the listener is removed in finally, and abort fires once.
      workerSignal?.addEventListener('abort', attempt);
      const ctx = new AttemptContext(scope, attempt, job, deps);
      const run = () => attempt.run(() => handler.run(input, ctx));
      // Only jobs of `noOverlap` schedule entries pay for the lock (two Redis calls).
      const schedule = deps.overlap && noOverlapScheduleOf(job.data);
      const result = schedule
        ? await withoutOverlap(deps.overlap!.redis, runningKey(deps.overlap!.prefix, job.queueName, schedule), job.id!, timeoutMs + 5_000, run)
        : await run();
      const durationMs = performance.now() - started;
      attemptLog.info(line(scope, durationMs), 'task succeeded');
      onOutcome?.({ task: job.name, queue: job.queueName, ok: true, durationMs });
      return result;
    } catch (raw) {
      if (deps.isShuttingDown() && workerSignal?.aborted && token) {
        // Interrupted by shutdown: back to wait, the attempt is not spent.
        await job.moveToWait(token);
        attemptLog.warn(line(scope, performance.now() - started), 'task interrupted by shutdown; returned to the queue');
        throw new WaitingError();
      }
      const err = classifyHttpError(raw) as Error;
      const durationMs = performance.now() - started;
      const final = err instanceof UnrecoverableError || scope.attempt >= scope.maxAttempts;
      attemptLog[final ? 'error' : 'warn'](
        { ...line(scope, durationMs), error: err.message, errorType: err.name, final },
        final ? 'task failed' : 'task attempt failed; will retry',
      );
      onOutcome?.({ task: job.name, queue: job.queueName, ok: false, durationMs });
      throw err;
    } finally {
      clearTimeout(timer);
      workerSignal?.removeEventListener('abort', attempt);
    }
  };
};
