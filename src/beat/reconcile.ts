import type { Queue } from 'bullmq';
import { metaOf, withScheduleTrace } from '../core/job-meta.ts';
import { scheduleEntrySpan } from '../core/tracing/schedule-trace.ts';
import { queuePrefix } from '../core/keys.ts';
import type { RedisClient } from '../core/redis.ts';
import { pausedKey } from '../core/schedule-state.ts';
import { differences } from './diff.ts';
import type { PlannedEntry } from './plan-entries.ts';

export type Action = 'create' | 'restore' | 'update' | 'remove' | 'conflict' | 'pause';

export interface Change {
  action: Action;
  id: string;
  queue: string;
  /** What differs (update), or why (restore, conflict, pause). */
  details: string[];
  entry?: PlannedEntry;
}

export interface ReconcileTarget {
  redis: RedisClient;
  hubPrefix: string;
  /** Every queue beat may own schedulers on: all of queues.config.ts. */
  queueNames: readonly string[];
  queue(name: string): Queue;
}

/**
 * The ids beat created on a queue. Beat removes only these, never a scheduler someone added
 * by hand or from another tool. Same hash slot as the queue's own keys.
 */
export const ownedKey = (hubPrefix: string, queue: string): string => `${queuePrefix(hubPrefix, queue)}:hub-beat:owned`;

/** The scheduler's pending job is still there: without it the scheduler never fires again. */
export const pendingJobExists = async (queue: Queue, redis: RedisClient, id: string, next: number | undefined) =>
  next !== undefined && (await redis.exists(queue.toKey(`repeat:${id}:${next}`))) === 1;

const isBeats = (data: unknown, id: string): boolean => {
  const meta = metaOf(data);
  return meta.service === 'beat' && meta.schedule === id;
};

/** The entries an operator paused (task-hub schedules pause, the API, the board), per entry id. */
export const pausedEntries = async (target: Pick<ReconcileTarget, 'redis' | 'hubPrefix'>, entries: readonly PlannedEntry[]): Promise<Set<string>> => {
  const paused = new Set<string>();
  for (const queue of new Set(entries.map((e) => e.queue))) {
    for (const id of await target.redis.smembers(pausedKey(target.hubPrefix, queue))) paused.add(id);
  }
  return paused;
};

/** Read-only: what it would take to make Redis match the entries. A paused entry's scheduler is kept away. */
export const planChanges = async (target: ReconcileTarget, entries: readonly PlannedEntry[]): Promise<Change[]> => {
  const changes: Change[] = [];
  const queueNames = new Set([...target.queueNames, ...entries.map((e) => e.queue)]);
  for (const name of queueNames) {
    const queue = target.queue(name);
    const owned = new Set(await target.redis.smembers(ownedKey(target.hubPrefix, name)));
    const paused = new Set(await target.redis.smembers(pausedKey(target.hubPrefix, name)));
    const wanted = entries.filter((e) => e.queue === name);
    for (const entry of wanted) {
      const base = { id: entry.id, queue: name, entry };
      const actual = await queue.getJobScheduler(entry.id);
      // Beat's templates name it too: a lost owned set does not turn its own schedulers into conflicts.
      if (actual && isBeats(actual.template?.data, entry.id)) owned.add(entry.id);
      if (paused.has(entry.id)) {
        if (actual && owned.has(entry.id)) changes.push({ ...base, action: 'pause', details: ['paused by an operator: its scheduler stays away until resumed'] });
        continue;
      }
      if (!actual) {
        changes.push({ ...base, action: owned.has(entry.id) ? 'restore' : 'create', details: owned.has(entry.id) ? ['scheduler was deleted outside beat'] : [] });
      } else if (!owned.has(entry.id)) {
        changes.push({ ...base, action: 'conflict', details: [`a scheduler "${entry.id}" that beat did not create exists on queue ${name}; rename the entry or remove that scheduler`] });
      } else {
        const details = differences(entry, actual);
        // A scheduler whose pending job was deleted would never fire again.
        if (!details.length && !(await pendingJobExists(queue, target.redis, entry.id, actual.next ?? undefined))) {
          changes.push({ ...base, action: 'restore', details: ['its pending job was deleted outside beat'] });
        } else if (details.length) {
          changes.push({ ...base, action: 'update', details });
        }
      }
    }
    const wantedIds = new Set(wanted.map((e) => e.id));
    for (const id of owned) if (!wantedIds.has(id)) changes.push({ id, queue: name, action: 'remove', details: [] });
  }
  return changes;
};

/** Applies changes in order; conflicts are left for a person to resolve. */
export const applyChanges = async (target: ReconcileTarget, changes: readonly Change[]): Promise<void> => {
  for (const change of changes) {
    const queue = target.queue(change.queue);
    const key = ownedKey(target.hubPrefix, change.queue);
    if (change.action === 'remove') {
      await queue.removeJobScheduler(change.id);
      await target.redis.srem(key, change.id);
      // Gone from the schedule: its pause goes too, should an entry of that id come back.
      await target.redis.srem(pausedKey(target.hubPrefix, change.queue), change.id);
    } else if (change.action === 'pause') {
      // Still owned: resuming restores it, and it is no conflict.
      await queue.removeJobScheduler(change.id);
    } else if (change.entry && change.action !== 'conflict') {
      const { id, repeat, task, data, opts } = change.entry;
      // Tracing on: the runs this scheduler fires link to a span recorded for this change.
      const traced = withScheduleTrace(data, scheduleEntrySpan({ id, task, queue: change.queue, cron: repeat.pattern, everyMs: repeat.every }, change.action));
      // Owned first: a crash between the two leaves an owned id without scheduler, which the next round restores.
      await target.redis.sadd(key, id);
      await queue.upsertJobScheduler(id, repeat, { name: task, data: traced, opts });
    }
  }
};
