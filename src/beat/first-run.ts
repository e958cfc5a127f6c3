import type { PlannedEntry } from './plan-entries.ts';
import { pendingJobExists, type Change, type ReconcileTarget } from './reconcile.ts';

/** An interval entry's first run: a time, or `now` when BullMQ would fire it as beat upserts it. */
export type FirstRun = number | 'now';

/** What Redis holds for an interval entry's scheduler before beat upserts it. */
export interface IntervalScheduler {
  every: number | undefined;
  next: number;
  /** Its pending job (`repeat:<id>:<next>`) still exists. */
  pendingJob: boolean;
}

/**
 * The first run after beat upserts an interval entry, as BullMQ 6's addJobScheduler script sets
 * it (getJobSchedulerEveryNextMillis; beat gives no startDate or offset):
 * - no scheduler yet, or another interval: the first job is due at once, and the count starts there;
 * - the same interval, pending job still there: that job is replaced at its own time;
 * - the same interval, pending job lost: one interval after it, or when that is past, the next
 *   multiple of the interval since the epoch.
 */
export const intervalFirstRun = (every: number, scheduler: IntervalScheduler | undefined, now: number): FirstRun => {
  if (!scheduler || scheduler.every !== every) return 'now';
  if (scheduler.pendingJob) return scheduler.next;
  const next = scheduler.next + every;
  return next >= now ? next : Math.floor(now / every) * every + every;
};

/**
 * Each interval entry's first run, for the next-runs table: Redis' `next` for a scheduler that
 * matches its entry; for one that `pending` (a dry run's plan) would upsert, what the upsert makes of it.
 */
export const firstRuns = async (target: ReconcileTarget, entries: readonly PlannedEntry[], now: number, pending: readonly Change[] = []) => {
  const runs = new Map<string, FirstRun>();
  for (const e of entries) {
    if (!e.repeat.every) continue;
    const queue = target.queue(e.queue);
    const actual = await queue.getJobScheduler(e.id);
    const next = actual?.next ?? undefined;
    const upserted = pending.some((c) => c.id === e.id && c.queue === e.queue && (c.action === 'create' || c.action === 'restore' || c.action === 'update'));
    if (upserted) {
      const scheduler = actual && next !== undefined ? { every: actual.every ?? undefined, next, pendingJob: await pendingJobExists(queue, target.redis, e.id, next) } : undefined;
      runs.set(e.id, intervalFirstRun(e.repeat.every, scheduler, now));
    } else if (next !== undefined) {
      runs.set(e.id, next);
    }
  }
  return runs;
};
