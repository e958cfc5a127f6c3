import { DelayedError, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { JobCancelledError, UnknownTaskError } from '../core/errors.ts';
import { didYouMean } from '../core/did-you-mean.ts';
import { backPressureOf } from '../core/flow/back-pressure.ts';
import { maxAttemptsOf } from '../core/job-options.ts';
import { metaOf, noOverlapScheduleOf, payloadOf } from '../core/job-meta.ts';
import { runningKey, withoutOverlap } from '../core/no-overlap.ts';
import { redactError, redactJson, redactText, sensitiveValues } from '../core/redact.ts';
import { startAttemptTrace } from '../core/tracing/attempt-trace.ts';
import { sdkTracer } from '../core/tracing/tracer.ts';
import type { FailureClass } from '../core/task-metrics.ts';
import type { RedisClient } from '../core/redis.ts';
import { parsePayload } from '../core/validate.ts';
import { classifyHttpError } from '../service-clients/classify.ts';
import { Attempt, attemptOf, type AttemptDeps } from './attempt.ts';
import { attemptLogger } from './attempt-log.ts';
import { Deadlines } from './deadlines.ts';
import { outcomeOf } from './outcome.ts';
import { recordScheduleRun } from './schedule-runs.ts';
import type { KeyedRunner } from './keyed.ts';
import type { Registry } from './registry.ts';
import { createWorkflowSteps } from './workflow-step.ts';

export interface JobOutcome {
  task: string;
  queue: string;
  ok: boolean;
  durationMs: number;
  /** Why a failed attempt failed (permanent, retryable, timeout...). */
  failure?: FailureClass;
  /** First attempts: how long the job waited in its queue (enqueue, or the end of its delay, to start). */
  waitMs?: number;
  /** A run of a schedule entry: when this attempt started, and whether a failure was its last. */
  schedule?: { id: string; startedAt: number; final: boolean };
  /** The job failed as expired (nothing ran, or its retry would start too late): counted apart from attempts. */
  expired?: boolean;
}

export interface DispatchDeps extends AttemptDeps {
  registry: Registry;
  /** Called once per finished attempt (metrics); must not throw or block. */
  onOutcome?: (outcome: JobOutcome) => void;
  /** Where scheduled jobs' state lives: the no-overlap locks of `noOverlap` entries, each entry's last run. */
  overlap?: { redis: RedisClient; prefix: string };
  /** Per-key slots of tasks with a concurrencyKey. */
  keyed?: KeyedRunner;
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
 * BullMQ's processor for the hub's queues, plus the shutdown switch. It takes two parameters on
 * purpose: BullMQ creates an AbortController per job only for processors that declare a third,
 * the signal. The hub keeps its running attempts instead and aborts them itself when the grace
 * period is over.
 */
export interface HubProcessor {
  (job: Job, token?: string): Promise<unknown>;
  /** Aborts every running attempt; each goes back to wait with no attempt spent. */
  interruptAll(reason: unknown): void;
  /** Aborts the attempt running job `id` of `queue`, if one runs here: it fails as cancelled. */
  cancel(queue: string, id: string, reason: string): boolean;
}

/** The BullMQ processor for one queue: look up, parse, run in context, classify the error. */
export const createProcessor = (deps: DispatchDeps): HubProcessor => {
  const { registry, onOutcome, overlap, keyed } = deps;
  // The attempts running now, each until its timeout (also what interruptAll aborts).
  const running = new Deadlines<Attempt>();
  const log = attemptLogger(deps.log, registry);
  // Hub processes register their SDK before they build processors: off stays off, at no cost per job.
  const tracer = sdkTracer();
  // Where workflow jobs record their outcome; a job outside any workflow pays one property check.
  const workflows = overlap ? createWorkflowSteps({ redis: overlap.redis, prefix: overlap.prefix, log: deps.log }) : undefined;

  const processJob = async (job: Job, token?: string) => {
    const started = performance.now();
    const meta = metaOf(job.data);
    // Undefined unless tracing is on or the job came with a trace context.
    const trace = startAttemptTrace(job, meta, tracer);
    let attempt: Attempt | undefined;
    // The payload's sensitive values: kept out of the result, the failure (message and stack, which
    // BullMQ stores as failedReason and stacktrace) and the log line.
    let secrets: readonly string[] = [];
    try {
      const handler = lookUp(registry, job);
      const payload = payloadOf(job.data);
      secrets = sensitiveValues(handler.contract.sensitive, payload);
      const input = parsePayload(handler.contract, payload);
      // Also as the handler sees them, should the schema transform them.
      if (secrets.length) secrets = sensitiveValues(handler.contract.sensitive, payload, input);
      const { timeoutMs } = handler.contract;
      const ctx = (attempt = new Attempt(job, meta, timeoutMs, deps, trace));
      running.add(ctx);
      // Only jobs of `noOverlap` schedule entries pay for the lock (two Redis calls).
      const schedule = overlap && noOverlapScheduleOf(meta);
      const overlapKey = schedule ? runningKey(overlap.prefix, job.queueName, schedule) : undefined;
      // Only tasks with a concurrencyKey pay for a slot (a script to take it, one to give it back).
      const result =
        handler.contract.concurrencyKey && keyed
          ? await keyed.run(job, token, handler.contract, input, () =>
              overlapKey ? withoutOverlap(overlap!.redis, overlapKey, job.id!, timeoutMs + 5_000, () => ctx.run(handler, input)) : ctx.run(handler, input),
            )
          : overlapKey
            ? await withoutOverlap(overlap!.redis, overlapKey, job.id!, timeoutMs + 5_000, () => ctx.run(handler, input))
            : await ctx.run(handler, input);
      const output = redactJson(result, secrets);
      if (meta.workflow && workflows) await workflows.record(job, meta, { ok: true, result: output });
      const durationMs = performance.now() - started;
      trace?.end('completed');
      log.succeeded(job, meta, durationMs, trace);
      onOutcome?.(outcomeOf(job, meta, durationMs));
      if (meta.schedule !== undefined && overlap) {
        await recordScheduleRun(overlap, deps.log, job, meta.schedule, schedule && (result as { skipped?: string })?.skipped === 'overlap' ? 'skipped' : 'completed');
      }
      return output;
    } catch (raw) {
      if (attempt?.interrupted && token) {
        // Interrupted by shutdown: back to wait, the attempt is not spent.
        await job.moveToWait(token);
        trace?.end('interrupted');
        log.interrupted(job, meta, performance.now() - started, trace);
        throw new WaitingError();
      }
      if (raw instanceof DelayedError) {
        // Its key is busy: it waits in delayed for its turn, the attempt not spent.
        trace?.end('deferred');
        await log.deferred(job, meta, performance.now() - started, redactText(raw.message, secrets), trace);
        throw raw;
      }
      const pressure = token ? backPressureOf(raw) : undefined;
      if (pressure) {
        // A limit or a Retry-After asked for a wait longer than a worker should hold the job.
        attempt?.abort(pressure);
        await job.moveToDelayed(pressure.until, token);
        trace?.end('deferred');
        await log.deferred(job, meta, performance.now() - started, redactText(pressure.message, secrets), trace);
        throw new DelayedError(pressure.message);
      }
      const err = redactError(classifyHttpError(raw) as Error, secrets);
      const durationMs = performance.now() - started;
      const final = err instanceof UnrecoverableError || attemptOf(job) >= maxAttemptsOf(job.opts);
      trace?.end(final ? 'failed' : 'retrying', err);
      log.failed(job, meta, durationMs, err, final, trace);
      onOutcome?.(outcomeOf(job, meta, durationMs, { error: err, final }));
      if (meta.schedule !== undefined && overlap) await recordScheduleRun(overlap, deps.log, job, meta.schedule, final ? 'failed' : 'retrying', err);
      if (final && meta.workflow && workflows) {
        // Failed for good: the workflow learns it before BullMQ moves the job (a chain stops, a chord counts it).
        await workflows.record(job, meta, { ok: false, reason: err.message }).catch((e: unknown) =>
          deps.log.error({ jobId: job.id, workflowId: meta.workflow!.id, err: (e as Error).message }, 'workflow: could not record a failed step'),
        );
      }
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
    cancel(queue: string, id: string, reason: string) {
      // Cancels are rare: a scan of what runs now beats an index kept per job.
      const attempt = running.items().find((a) => a.runs(queue, id));
      attempt?.abort(new JobCancelledError(reason));
      return attempt !== undefined;
    },
  });
};
