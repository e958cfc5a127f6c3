import { createHash, randomUUID } from 'node:crypto';
import { ownedKey, applyChanges, type ReconcileTarget } from '../beat/reconcile.ts';
import { jobOptionsFor, withJobId } from '../core/job-options.ts';
import { metaOf, payloadOf, withMeta } from '../core/job-meta.ts';
import { withLock } from '../core/redis-lock.ts';
import { beatLockKey, pausedKey } from '../core/schedule-state.ts';
import { contractOf } from '../core/validate.ts';
import { audit } from './audit.ts';
import type { Control } from './control.ts';
import { BusyError, InvalidInputError } from './errors.ts';
import { findEntry } from './schedules.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Pause and resume run under beat's reconcile lock: a reconcile planned before the pause cannot
 * put the scheduler back after it, nor one planned before a resume take it away again.
 */
const underBeatLock = async <R>(ctl: Control, work: () => Promise<R>): Promise<R> => {
  const deadline = Date.now() + ctl.beatLockMs + 1_000;
  for (;;) {
    const outcome = await withLock(ctl.redis, beatLockKey(ctl.prefix), { ttlMs: 10_000 }, work);
    if (outcome.acquired) return outcome.result;
    if (Date.now() > deadline) throw new BusyError(`beat held the schedule lock for ${ctl.beatLockMs} ms; nothing was changed, try again`);
    // Polling a lock another process holds: there is no event to wait on.
    await sleep(100);
  }
};

const target = (ctl: Control): ReconcileTarget => ({ redis: ctl.redis, hubPrefix: ctl.prefix, queueNames: ctl.queueNames, queue: (n) => ctl.queue(n) });

export interface ScheduleChange {
  id: string;
  paused: boolean;
  /** False when it already was in that state. */
  changed: boolean;
}

/** Removes the entry's scheduler and keeps it away: beat skips a paused entry however often it reconciles. */
export const pauseSchedule = async (ctl: Control, id: string, who: string): Promise<ScheduleChange> => {
  const entry = await findEntry(ctl, id);
  const changed = await underBeatLock(ctl, async () => {
    const added = await ctl.redis.sadd(pausedKey(ctl.prefix, entry.queue), entry.id);
    // Only beat's own scheduler: one of that id added by hand is not the entry's.
    if (await ctl.redis.sismember(ownedKey(ctl.prefix, entry.queue), entry.id)) await ctl.queue(entry.queue).removeJobScheduler(entry.id);
    return added === 1;
  });
  await audit(ctl.redis, ctl.prefix, { who, action: 'schedule.pause', target: entry.id, outcome: 'ok', detail: { task: entry.task, changed } });
  return { id: entry.id, paused: true, changed };
};

/** Clears the pause and restores the scheduler at once, as beat would (an interval entry fires on restore). */
export const resumeSchedule = async (ctl: Control, id: string, who: string): Promise<ScheduleChange> => {
  const entry = await findEntry(ctl, id);
  const changed = await underBeatLock(ctl, async () => {
    const removed = await ctl.redis.srem(pausedKey(ctl.prefix, entry.queue), entry.id);
    if (removed) await applyChanges(target(ctl), [{ action: 'restore', id: entry.id, queue: entry.queue, details: [], entry }]);
    return removed === 1;
  });
  await audit(ctl.redis, ctl.prefix, { who, action: 'schedule.resume', target: entry.id, outcome: 'ok', detail: { task: entry.task, changed } });
  return { id: entry.id, paused: false, changed };
};

const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

export interface Triggered {
  schedule: string;
  jobId: string;
  task: string;
  queue: string;
  requestId: string;
  /** A trigger with this request id already ran (or is running): no new job. */
  duplicate: boolean;
}

/**
 * One extra run of the entry's task and payload, now. Its job id derives from the request id, so
 * the same request (a double click, a retried call) adds one job while that job is retained.
 * It carries the entry's `$hub.schedule` (last run recorded; a `noOverlap` entry's lock applies).
 */
export const triggerSchedule = async (ctl: Control, id: string, { who, requestId = randomUUID() }: { who: string; requestId?: string }): Promise<Triggered> => {
  if (!REQUEST_ID.test(requestId)) throw new InvalidInputError('requestId: 1-200 printable characters without spaces', [{ path: 'requestId', message: 'invalid' }]);
  const entry = await findEntry(ctl, id);
  const contract = contractOf(entry.task);
  const digest = createHash('sha256').update(entry.id).update('\0').update(requestId).digest('base64url').slice(0, 24);
  const jobId = `${entry.queue}.t-${entry.id}-${digest}`;
  const queue = ctl.queue(entry.queue);
  const existed = (await ctl.redis.exists(queue.toKey(jobId))) === 1;
  const data = withMeta(payloadOf(entry.data), { ...metaOf(entry.data), service: who, requestId });
  await queue.add(entry.task, data, withJobId(jobOptionsFor(contract), jobId));
  await audit(ctl.redis, ctl.prefix, { who, action: 'schedule.trigger', target: entry.id, outcome: existed ? 'duplicate' : 'ok', detail: { jobId, requestId } });
  return { schedule: entry.id, jobId, task: entry.task, queue: entry.queue, requestId, duplicate: existed };
};
