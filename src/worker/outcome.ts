import type { Job } from 'bullmq';
import type { JobMeta } from '../core/job-meta.ts';
import { failureClassOf, queueWaitMs } from '../core/task-metrics.ts';
import type { JobOutcome } from './dispatch.ts';

/**
 * What the metrics recorder counts of one finished attempt. The wait in the queue is a first
 * attempt's only: for a retry BullMQ keeps no record of when its backoff ended, and a job that
 * stalled before started once already.
 */
export const outcomeOf = (job: Job, meta: JobMeta, durationMs: number, failure?: { error: unknown; final: boolean }): JobOutcome => {
  const outcome: JobOutcome = { task: job.name, queue: job.queueName, ok: !failure, durationMs };
  if (failure) outcome.failure = failureClassOf(failure.error);
  if (job.attemptsMade === 0 && !job.stalledCounter) outcome.waitMs = queueWaitMs(job);
  if (meta.schedule !== undefined && job.processedOn) outcome.schedule = { id: meta.schedule, startedAt: job.processedOn, final: failure?.final ?? true };
  return outcome;
};
