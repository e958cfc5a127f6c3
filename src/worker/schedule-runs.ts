import type { Job } from 'bullmq';
import type { RedisClient } from '../core/redis.ts';
import type { Logger } from '../core/logger.ts';
import { recordLastRun, type RunOutcome } from '../core/schedule-state.ts';
import { attemptOf } from './attempt.ts';

/**
 * The last run of a schedule entry, as `task-hub schedules` and GET /api/v1/schedules show it.
 * Only jobs fired by an entry (`$hub.schedule`) come here: one HSET when their attempt ends.
 * A Redis error is logged, never the job's failure.
 */
export const recordScheduleRun = async (
  where: { redis: RedisClient; prefix: string },
  log: Logger,
  job: Job,
  schedule: string,
  outcome: RunOutcome,
  error?: Error,
): Promise<void> => {
  try {
    await recordLastRun(where.redis, where.prefix, job.queueName, schedule, {
      jobId: job.id!,
      at: Date.now(),
      outcome,
      attempt: attemptOf(job),
      ...(error ? { error: error.message } : {}),
    });
  } catch (err) {
    log.warn({ schedule, jobId: job.id, err: (err as Error).message }, 'could not record the schedule entry\'s last run');
  }
};
