import type { Redis } from 'ioredis';
import { META_KEY } from './job-meta.ts';
import { queuePrefix } from './keys.ts';
import { isRecord, type JsonRecord } from './records.ts';

/**
 * The per-entry no-overlap guard for scheduled jobs. BullMQ creates a scheduler's next job as
 * soon as a worker takes the current one, so a run longer than the interval overlaps the next
 * tick. An entry with `noOverlap: true` carries `$hub.noOverlap`; the worker then holds a
 * Redis lock per schedule while it runs, and a tick that finds the lock taken completes as
 * skipped. (BullMQ's deduplication cannot do this: scheduler templates do not accept it.)
 */
const NO_OVERLAP = 'noOverlap';


export const markNoOverlap = (data: JsonRecord): void => {
  const meta = data[META_KEY];
  if (isRecord(meta)) meta[NO_OVERLAP] = true;
};

/** The schedule id whose runs must not overlap, if the job data asks for the guard. */
export const noOverlapScheduleOf = (data: unknown): string | undefined => {
  const meta = isRecord(data) ? data[META_KEY] : undefined;
  if (!isRecord(meta) || meta[NO_OVERLAP] !== true || typeof meta.schedule !== 'string') return undefined;
  return meta.schedule;
};

export const runningKey = (hubPrefix: string, queue: string, schedule: string): string =>
  `${queuePrefix(hubPrefix, queue)}:hub-beat:running:${schedule}`;

// Take the lock if free or already ours (a retry of the same job); else return who holds it. Atomic.
const ACQUIRE = `local h = redis.call('GET', KEYS[1])
if h and h ~= ARGV[1] then return h end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;
// Release only our own lock: after a lapse another run may hold it.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface OverlapSkip {
  skipped: 'overlap';
  runningJob: string;
}

/**
 * Runs `run` unless another job of the same schedule is running. The lock lives at most
 * `ttlMs` (the task's timeout plus a margin), so a crashed worker cannot block an entry for long.
 * A retry of the same job (same id) takes the lock again.
 */
export const withoutOverlap = async <R>(
  redis: Redis,
  key: string,
  jobId: string,
  ttlMs: number,
  run: () => Promise<R>,
): Promise<R | OverlapSkip> => {
  const holder = (await redis.eval(ACQUIRE, 1, key, jobId, ttlMs)) as string | null;
  if (holder) return { skipped: 'overlap', runningJob: holder };
  try {
    return await run();
  } finally {
    await redis.eval(RELEASE, 1, key, jobId).catch(() => undefined);
  }
};
