import { Job, type Queue } from 'bullmq';
import type { Result } from 'ioredis';
import type { RedisClient } from '../core/redis.ts';
import { audit } from './audit.ts';
import type { Control } from './control.ts';
import { NothingMatchedError } from './errors.ts';
import { describeFilter, type FailedFilter } from './failed-filter.ts';
import { failedIdsIn, matches, queuesFor, readFailed, type FailedJob, type Scored } from './failed-jobs.ts';

/**
 * Claims one failure of a job for one replay: only while the job is still in failed with the
 * finish time the replay read, and only once per failure (the claim names that finish time).
 * Two replays racing, or a replay that reads a job which already ran again and failed anew,
 * cannot retry the same failure twice. A claim left by a replay that died before its retry
 * can be taken again after CLAIM_STALE_MS. Keys: the queue's failed set and the job hash (one slot).
 */
const CLAIM = `local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
local claim = redis.call('HGET', KEYS[2], 'hubReplay')
if claim then
  local at, claimed = string.match(claim, '^(%d+):(%d+)$')
  if claimed and tonumber(claimed) == tonumber(ARGV[2]) and tonumber(ARGV[3]) - tonumber(at) < tonumber(ARGV[4]) then return 0 end
end
redis.call('HSET', KEYS[2], 'hubReplay', ARGV[3] .. ':' .. ARGV[2])
return 1`;
const CLAIM_STALE_MS = 60_000;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    hubReplayClaim(failed: string, job: string, id: string, score: string, now: number, staleMs: number): Result<number, Context>;
  }
}

export const claimCommand = (redis: RedisClient) => {
  if (typeof (redis as { hubReplayClaim?: unknown }).hubReplayClaim !== 'function') redis.defineCommand('hubReplayClaim', { numberOfKeys: 2, lua: CLAIM });
  return redis;
};

/** BullMQ's own retry (its script moves the job from failed to wait), with a fresh attempt budget. */
export const retryFailure = async (redis: RedisClient, queue: Queue, job: FailedJob, score: string): Promise<boolean> => {
  const claimed = await redis.hubReplayClaim(queue.toKey('failed'), queue.toKey(job.id), job.id, score, Date.now(), CLAIM_STALE_MS);
  if (claimed !== 1) return false;
  try {
    await new Job(queue, job.task, {}, {}, job.id).retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return true;
  } catch {
    // Removed or retried by someone else between the claim and the retry.
    return false;
  }
};

export interface ReplayOptions {
  dryRun?: boolean;
  /** Who asks, for the audit log. */
  who: string;
  /** Tasks the caller may replay (a token's scopes); all when absent. */
  mayReplay?: (task: string) => boolean;
  /** How many matching jobs the answer shows. */
  sampleSize?: number;
  /** Jobs read and retried per round trip: what bounds how long Redis is held at a time. */
  batch?: number;
}

export interface ReplayResult {
  dryRun: boolean;
  filter: Record<string, unknown>;
  /** Failed jobs the filter matched (as of the start). */
  matched: number;
  /** Moved back to wait with a fresh attempt budget (0 in a dry run). */
  retried: number;
  /** Matched, but retried or removed by someone else meanwhile. */
  skipped: number;
  sample: Pick<FailedJob, 'id' | 'task' | 'errorClass' | 'httpStatus' | 'failedReason' | 'finishedAt'>[];
  durationMs: number;
}

const sampleOf = (j: FailedJob) => ({
  id: j.id,
  task: j.task,
  errorClass: j.errorClass,
  ...(j.httpStatus !== undefined ? { httpStatus: j.httpStatus } : {}),
  ...(j.failedReason ? { failedReason: j.failedReason.length > 200 ? `${j.failedReason.slice(0, 200)}…` : j.failedReason } : {}),
  finishedAt: j.finishedAt,
});

/**
 * Retries every failed job the filter matches, or counts them (`dryRun`). Only failures up to
 * the moment it starts count (`until` is capped at now), so a job that runs again and fails
 * anew during the replay is not retried by it a second time. Redis sees short commands only:
 * a ZRANGEBYSCORE page, then per batch one pipeline of reads, the claims and BullMQ's retries.
 */
export const replay = async (ctl: Control, filter: FailedFilter, opts: ReplayOptions): Promise<ReplayResult> => {
  const started = Date.now();
  const { dryRun = false, mayReplay = () => true, sampleSize = 10, batch = 250 } = opts;
  const until = Math.min(filter.until ?? started, started);
  const described = describeFilter(filter);
  const redis = claimCommand(ctl.redis);
  const result: ReplayResult = { dryRun, filter: described, matched: 0, retried: 0, skipped: 0, sample: [], durationMs: 0 };
  try {
    for (const name of queuesFor(ctl, filter, mayReplay)) {
      const queue = ctl.queue(name);
      // Read first, then act: retrying while paging would move the pages under the reader.
      const ids: Scored[] = [];
      for await (const page of failedIdsIn(redis, queue, filter.since ?? '-inf', until)) ids.push(...page);
      for (let at = 0; at < ids.length; at += batch) {
        const slice = ids.slice(at, at + batch);
        const jobs = await readFailed(redis, queue, slice);
        const matching: [FailedJob, string][] = [];
        jobs.forEach((j, i) => j && matches(j, filter, mayReplay) && matching.push([j, slice[i]!.score]));
        result.matched += matching.length;
        for (const [j] of matching) if (result.sample.length < sampleSize) result.sample.push(sampleOf(j));
        if (dryRun || !matching.length) continue;
        const done = await Promise.all(matching.map(([j, score]) => retryFailure(redis, queue, j, score)));
        for (const ok of done) ok ? result.retried++ : result.skipped++;
      }
    }
  } catch (err) {
    result.durationMs = Date.now() - started;
    if (!dryRun && result.matched) {
      await audit(redis, ctl.prefix, { who: opts.who, action: 'replay', target: filter.task ?? '*', outcome: `failed: ${(err as Error).message}`, detail: counts(result) }).catch(() => {});
    }
    throw err;
  }
  result.durationMs = Date.now() - started;
  if (!result.matched) throw new NothingMatchedError(`no failed job matches ${JSON.stringify(described)}; nothing was replayed`);
  if (!dryRun) await audit(redis, ctl.prefix, { who: opts.who, action: 'replay', target: filter.task ?? '*', outcome: 'ok', detail: counts(result) });
  return result;
};

const counts = (r: ReplayResult) => ({ filter: r.filter, matched: r.matched, retried: r.retried, skipped: r.skipped, durationMs: r.durationMs });
