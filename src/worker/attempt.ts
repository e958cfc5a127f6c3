import type { Job } from 'bullmq';
import { TaskTimeoutError } from '../core/errors.ts';
import { maxAttemptsOf } from '../core/job-options.ts';
import { idempotencyKeyOf, requestIdOf, type JobMeta } from '../core/job-meta.ts';
import type { JobScope } from '../core/job-scope.ts';
import type { AttemptTrace } from '../core/tracing/attempt-trace.ts';
import { leaseFrom } from '../core/flow/lease.ts';
import type { FlowRuntime } from '../core/flow/runtime.ts';
import type { Logger } from '../core/logger.ts';
import { clientsForJob } from '../service-clients/job-clients.ts';
import type { Cancellable } from '../service-clients/call-context.ts';
import type { ServiceClients } from '../service-clients/services.ts';
import type { EnqueueOptions, Producer } from '../producer/index.ts';
import type { TaskContext, TaskHandler } from '../../tasks/context.ts';
import type { Expiring } from './deadlines.ts';

/** This attempt's number, from 1 (attemptsMade counts the attempts before it). */
export const attemptOf = (job: Job): number => job.attemptsMade + 1;

const scopeOf = (job: Job, meta: JobMeta, trace: AttemptTrace | undefined): JobScope => {
  const jobId = job.id!;
  const scope: JobScope = {
    jobId,
    queue: job.queueName,
    task: job.name,
    attempt: attemptOf(job),
    maxAttempts: maxAttemptsOf(job.opts),
    requestId: requestIdOf(meta, job.queueName, jobId),
    idempotencyKey: idempotencyKeyOf(meta, job.queueName, jobId),
  };
  if (meta.schedule) scope.schedule = meta.schedule;
  if (trace) scope.traceId = trace.traceId;
  if (meta.event) {
    scope.event = meta.event.name;
    scope.eventId = meta.event.id;
  }
  return scope;
};

export interface AttemptDeps {
  http: ServiceClients;
  producer: Producer;
  log: Logger;
  /** Limits, pools and their counters (ctx.lease); without it ctx.lease fails. */
  flow?: FlowRuntime;
}

/**
 * One attempt: the context its handler gets and its abort state (timeout or shutdown), in one
 * object. What most handlers never touch is built on first use: the AbortController (a no-op or
 * CPU-only task never pays for one), ctx.job, the job-bound HTTP clients and logger. Its timeout
 * is kept in the processor's Deadlines, not in a timer of its own.
 */
export class Attempt implements TaskContext, Expiring {
  reason: unknown;
  /** Aborted by shutdown: the job goes back to wait instead of spending an attempt. */
  interrupted = false;
  readonly expiresAt: number;
  private controller: AbortController | undefined;
  /** Its ctx.http calls, cancelled with it (src/service-clients/job-clients.ts). */
  private calls: Cancellable[] | undefined;
  private fail: ((reason: unknown) => void) | undefined;
  private scope: JobScope | undefined;
  private logger: Logger | undefined;

  constructor(
    private readonly bullJob: Job,
    private readonly meta: JobMeta,
    private readonly timeoutMs: number,
    private readonly deps: AttemptDeps,
    /** Tracing on, or a trace context came with the job: its log lines, calls and enqueues continue it. */
    readonly trace?: AttemptTrace,
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
    if (this.calls) for (const call of this.calls) call.cancel();
    this.fail?.(reason);
  }

  track(call: Cancellable): void {
    if (this.reason !== undefined) call.cancel();
    else (this.calls ??= []).push(call);
  }

  /** Whether this attempt runs job `id` of `queue`. */
  runs(queue: string, id: string): boolean {
    return this.bullJob.id === id && this.bullJob.queueName === queue;
  }

  expire(): void {
    this.abort(new TaskTimeoutError(this.bullJob.name, this.timeoutMs));
  }

  get job(): JobScope {
    return (this.scope ??= scopeOf(this.bullJob, this.meta, this.trace));
  }
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }
  get http() {
    // The attempt is the calls' budget: a limited service's call waits no longer than it has left.
    return clientsForJob(this.deps.http, this.job, this.trace, this);
  }
  get lease(): TaskContext['lease'] {
    return leaseFrom(this.deps.flow?.pools, this);
  }
  get log() {
    return (this.logger ??= this.deps.log.child(this.job));
  }
  /** Jobs enqueued from a job carry its request id and continue its trace. */
  private get inherited(): EnqueueOptions {
    const { requestId } = this.job;
    const trace = this.trace;
    return trace ? { requestId, traceparent: trace.traceparent, tracestate: trace.tracestate } : { requestId };
  }
  get enqueue(): TaskContext['enqueue'] {
    const { producer } = this.deps;
    const inherited = this.inherited;
    return (task, payload, opts) => producer.enqueue(task, payload, { ...inherited, ...opts });
  }
  get enqueueMany(): TaskContext['enqueueMany'] {
    const { producer } = this.deps;
    const inherited = this.inherited;
    return (items) => producer.enqueueMany(items.map((i) => ({ task: i.task, payload: i.payload, options: { ...inherited, ...i.options } })));
  }
  get chain(): TaskContext['chain'] {
    const { producer } = this.deps;
    const { requestId } = this.job;
    return (steps, opts) => producer.chain(steps, { requestId, ...opts });
  }
  get group(): TaskContext['group'] {
    const { producer } = this.deps;
    const { requestId } = this.job;
    return (members, opts) => producer.group(members, { requestId, ...opts });
  }
  get chord(): TaskContext['chord'] {
    const { producer } = this.deps;
    const { requestId } = this.job;
    return (members, callback, opts) => producer.chord(members, callback, { requestId, ...opts });
  }
  get progress(): TaskContext['progress'] {
    const job = this.bullJob;
    return { read: () => job.progress, save: (value) => job.updateProgress(value) };
  }
}
