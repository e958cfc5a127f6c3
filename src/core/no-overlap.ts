import type { RedisClient } from './redis.ts';
import { queuePrefix } from './keys.ts';
import { withLock } from './redis-lock.ts';

/**
 * The per-entry no-overlap guard for scheduled jobs. BullMQ creates a scheduler's next job as
 * soon as a worker takes the current one, so a run longer than the interval overlaps the next
 * tick. An entry with `noOverlap: true` marks its jobs (`$hub.noOverlap`, see job-meta.ts); the
 * worker then holds a Redis lock per schedule while one runs, and a tick that finds the lock
 * taken completes as skipped. (BullMQ's deduplication cannot do this: scheduler templates do
 * not accept it.)
 */
export const runningKey = (hubPrefix: string, queue: string, schedule: string): string =>
  `${queuePrefix(hubPrefix, queue)}:hub-beat:running:${schedule}`;

export interface OverlapSkip {
  skipped: 'overlap';
  runningJob: string;
}

/**
 * Runs `run` unless another job of the same schedule is running. The lock lives at most
 * `ttlMs` (the task's timeout plus a margin), so a crashed worker cannot block an entry for long.
 * A retry of the same job (same id) takes the lock again.
 */
export const withoutOverlap = async <R>(redis: RedisClient, key: string, jobId: string, ttlMs: number, run: () => Promise<R>): Promise<R | OverlapSkip> => {
  const outcome = await withLock(redis, key, { owner: jobId, ttlMs }, run);
  return outcome.acquired ? outcome.result : { skipped: 'overlap', runningJob: outcome.holder };
};
