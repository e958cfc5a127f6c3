import type { Job } from 'bullmq';
import { maxAttemptsOf } from '../core/job-options.ts';
import type { JobMeta } from '../core/job-meta.ts';
import type { Logger } from '../core/logger.ts';
import type { AttemptTrace } from '../core/tracing/attempt-trace.ts';
import { attemptOf } from './attempt.ts';
import type { Registry } from './registry.ts';

/**
 * The one line each attempt logs. It carries only fields the hub sets (ids, names, counts,
 * durations), none of them a secret, so it skips pino's redaction (a wildcard pass per field);
 * handlers' ctx.log keeps it. One child logger per task binds queue and task once.
 */
export const attemptLogger = (log: Logger, registry: Registry) => {
  const attemptLog = log.child({}, { redact: [] });
  const taskLogs = new Map<string, Logger>();
  const logFor = (job: Job): Logger => {
    let taskLog = taskLogs.get(job.name);
    if (!taskLog) {
      taskLog = attemptLog.child({ queue: job.queueName, task: job.name });
      // Kept only for registered tasks on their own queue: bounded, and a misrouted job's line keeps its queue.
      if (registry.get(job.name)?.contract.queue === job.queueName) taskLogs.set(job.name, taskLog);
    }
    return taskLog;
  };
  // Request id and idempotency key only when the enqueuer chose them: the derived ones
  // (`hub-<queue>-<jobId>`) add nothing to the job id already on the line.
  // The trace id whenever the attempt has a trace: tracing on, or a traceparent came with the job.
  const fields = (job: Job, meta: JobMeta, durationMs: number, trace: AttemptTrace | undefined): Record<string, unknown> => {
    const f: Record<string, unknown> = { jobId: job.id, attempt: attemptOf(job), maxAttempts: maxAttemptsOf(job.opts) };
    if (meta.requestId !== undefined) f.requestId = meta.requestId;
    if (trace) f.traceId = trace.traceId;
    if (meta.idempotencyKey !== undefined) f.idempotencyKey = meta.idempotencyKey;
    if (meta.schedule !== undefined) f.schedule = meta.schedule;
    if (meta.event !== undefined) {
      f.event = meta.event.name;
      f.eventId = meta.event.id;
    }
    f.durationMs = Math.round(durationMs);
    return f;
  };
  return {
    succeeded(job: Job, meta: JobMeta, durationMs: number, trace?: AttemptTrace) {
      logFor(job).info(fields(job, meta, durationMs, trace), 'task succeeded');
    },
    interrupted(job: Job, meta: JobMeta, durationMs: number, trace?: AttemptTrace) {
      logFor(job).warn(fields(job, meta, durationMs, trace), 'task interrupted by shutdown; returned to the queue');
    },
    /** Also a line in the job's own log, which the board shows beside the job (only on this path: one command). */
    async deferred(job: Job, meta: JobMeta, durationMs: number, why: string, trace?: AttemptTrace) {
      logFor(job).info({ ...fields(job, meta, durationMs, trace), why }, 'task deferred; back to delayed, no attempt spent');
      await Promise.resolve(job.log(`${new Date().toISOString()} deferred, no attempt spent: ${why}`)).catch(() => undefined);
    },
    failed(job: Job, meta: JobMeta, durationMs: number, err: Error, final: boolean, trace?: AttemptTrace) {
      logFor(job)[final ? 'error' : 'warn'](
        { ...fields(job, meta, durationMs, trace), error: err.message, errorType: err.name, final },
        final ? 'task failed' : 'task attempt failed; will retry',
      );
    },
  };
};
