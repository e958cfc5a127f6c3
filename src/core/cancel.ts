import { ErrorCode, type Queue } from 'bullmq';
import { audit } from './audit-log.ts';
import type { RedisClient } from './redis.ts';
import { CANCELLED_PREFIX, InvalidOptionError } from './errors.ts';

/**
 * Cancel, the part every caller shares (the producer lib, src/control for the API, board and
 * CLI). One script in the queue's hash slot marks the job and, when a worker holds it, tells
 * the workers; a job still queued is then removed with BullMQ's own script.
 *
 * The mark is BullMQ's `defa` field ("deferred failure"): a worker that fetches a job carrying it
 * fails the job at once with that reason, without running it and without retries, whatever
 * process or host it runs on. So a job marked before a worker takes it never runs, and a job whose
 * worker dies after the cancel was acknowledged fails as cancelled when it is fetched again.
 * BullMQ clears the field when the job fails; a job retried later by hand runs normally.
 */

/** Where a queue's workers hear of cancels: one channel per queue, under the queue's hash tag. */
export const cancelChannel = (queueKeyPrefix: string): string => `${queueKeyPrefix}:hub-cancel`;
/** A record that a job was cancelled, so cancelling a removed job again answers the same way. */
export const cancelRecordKey = (queueKeyPrefix: string, id: string): string => `${queueKeyPrefix}:hub-cancelled:${id}`;
const RECORD_TTL_MS = 24 * 60 * 60_000;

/** What a cancel did: `removed` (was waiting, delayed or prioritized), `aborting` (a worker is stopping it), `cancelled` (it fails without running, or already did). */
export type CancelOutcome = 'removed' | 'aborting' | 'cancelled';

export type CancelResult =
  | { outcome: CancelOutcome }
  /** It finished before the cancel: nothing changed. */
  | { outcome: 'finished'; state: 'completed' | 'failed'; failedReason?: string }
  | { outcome: 'not_found' };

/** The message on a queue's cancel channel. */
export interface CancelMessage {
  id: string;
  reason: string;
}

const MAX_REASON = 500;

/** The reason as stored (`cancelled: <reason>`); InvalidOptionError naming `reason` otherwise. */
export const cancelReason = (raw: unknown): string => {
  if (raw === undefined || raw === null || raw === '') return 'no reason given';
  if (typeof raw !== 'string') throw new InvalidOptionError('reason', `expected a string, got ${typeof raw}`);
  const reason = raw.trim();
  if (!reason || reason.length > MAX_REASON) throw new InvalidOptionError('reason', `1-${MAX_REASON} characters`);
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(reason)) throw new InvalidOptionError('reason', 'control characters (new lines, tabs...) are not allowed');
  return reason;
};

/*
 * KEYS: job hash, its lock, completed set, failed set, cancel record.
 * ARGV: job id, the mark (`cancelled: <reason>`), channel, message, record TTL (ms), record.
 * A second cancel keeps the first one's reason and record.
 */
const SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  if redis.call('EXISTS', KEYS[5]) == 1 then return {'gone'} end
  return {'missing'}
end
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then return {'completed'} end
if redis.call('ZSCORE', KEYS[4], ARGV[1]) then
  return {'failed', redis.call('HGET', KEYS[1], 'failedReason') or ''}
end
local mark = redis.call('HGET', KEYS[1], 'defa')
if not mark or string.sub(mark, 1, ${CANCELLED_PREFIX.length}) ~= '${CANCELLED_PREFIX}' then
  redis.call('HSET', KEYS[1], 'defa', ARGV[2])
end
redis.call('SET', KEYS[5], ARGV[6], 'PX', ARGV[5], 'NX')
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
  return {'active'}
end
return {'queued'}
`;

/**
 * Cancels job `id` of `queue` (whose keys `redis` reaches). Idempotent: a second call answers
 * as the first did, or `cancelled` once the job has failed as cancelled.
 */
export const cancelInQueue = async (redis: RedisClient, queue: Queue, id: string, reason: string, task = ''): Promise<CancelResult> => {
  const prefix = queue.opts.prefix!;
  const jobKey = queue.toKey(id);
  const message: CancelMessage = { id, reason };
  const [state, failedReason] = (await redis.eval(
    SCRIPT,
    5,
    jobKey,
    `${jobKey}:lock`,
    queue.keys.completed!,
    queue.keys.failed!,
    cancelRecordKey(prefix, id),
    id,
    CANCELLED_PREFIX + reason,
    cancelChannel(prefix),
    JSON.stringify(message),
    RECORD_TTL_MS,
    JSON.stringify({ reason, task, at: Date.now() }),
  )) as [string, string?];
  switch (state) {
    case 'missing':
      return { outcome: 'not_found' };
    case 'gone':
      return { outcome: 'removed' };
    case 'completed':
      return { outcome: 'finished', state: 'completed' };
    case 'failed':
      if (failedReason?.startsWith(CANCELLED_PREFIX)) return { outcome: 'cancelled' };
      return { outcome: 'finished', state: 'failed', ...(failedReason ? { failedReason } : {}) };
    case 'active':
      return { outcome: 'aborting' };
    default: {
      // Queued and marked. BullMQ's removal refuses a locked job: one a worker took meanwhile,
      // which the mark fails without running it; and the pending job of a job scheduler, which
      // fails the same way when it is due (the schedule goes on).
      const removed = await queue.remove(id).catch((err: Error & { code?: number }) => {
        if (err.code === ErrorCode.JobBelongsToJobScheduler) return 0;
        throw err;
      });
      return { outcome: removed === 1 ? 'removed' : 'cancelled' };
    }
  }
};

/** The job a cancel acted on (a plain id from another client is looked up in every queue). */
export interface CancelTarget {
  id: string;
  task: string;
  queue: string;
}

export type CancelJobResult =
  | (CancelTarget & Exclude<CancelResult, { outcome: 'not_found' }>)
  /** The caller may not cancel this task's jobs (`may` said no): nothing changed. */
  | (CancelTarget & { outcome: 'forbidden' })
  | { id: string; outcome: 'not_found' };

/**
 * Finds job `id` in the first of `queues` that holds it, asks `may` whether the caller may
 * cancel its task, and cancels it. A job cancelled and removed before is found by its record.
 */
export const cancelJobIn = async (
  redis: RedisClient,
  queues: readonly Queue[],
  id: string,
  reason: string,
  may: (task: string) => boolean = () => true,
): Promise<CancelJobResult> => {
  for (const queue of queues) {
    const task = await redis.hget(queue.toKey(id), 'name');
    if (task === null) continue;
    if (!may(task)) return { id, task, queue: queue.name, outcome: 'forbidden' };
    const result = await cancelInQueue(redis, queue, id, reason, task);
    // Removed in between (by retention, or by another cancel): look again below.
    if (result.outcome !== 'not_found') return { id, task, queue: queue.name, ...result };
  }
  for (const queue of queues) {
    const record = await redis.get(cancelRecordKey(queue.opts.prefix!, id));
    if (record === null) continue;
    const { task = '' } = JSON.parse(record) as { task?: string };
    if (!may(task)) return { id, task, queue: queue.name, outcome: 'forbidden' };
    return { id, task, queue: queue.name, outcome: 'removed' };
  }
  return { id, outcome: 'not_found' };
};

/**
 * cancelJobIn, then the audit entry of who asked: one job's cancel as `hub.cancel` and the control
 * surface (API, board, CLI) both do it. `reason` is checked already (cancelReason).
 */
export const cancelAudited = async (
  redis: RedisClient,
  hubPrefix: string,
  { queues, id, reason, who, may }: { queues: readonly Queue[]; id: string; reason: string; who: string; may?: (task: string) => boolean },
): Promise<CancelJobResult> => {
  const result = await cancelJobIn(redis, queues, id, reason, may);
  await audit(redis, hubPrefix, { who, action: 'job.cancel', target: id, detail: { reason }, outcome: result.outcome });
  return result;
};

/** Whether a failure reason is a cancel's. */
export const isCancelledReason = (failedReason: string | undefined): boolean => failedReason?.startsWith(CANCELLED_PREFIX) ?? false;
