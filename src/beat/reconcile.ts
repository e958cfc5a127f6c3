import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { META_KEY } from '../core/job-meta.ts';
import { queuePrefix } from '../core/keys.ts';
import { differences } from './diff.ts';
import type { PlannedEntry } from './plan-entries.ts';

export type Action = 'create' | 'restore' | 'update' | 'remove' | 'conflict';

export interface Change {
  action: Action;
  id: string;
  queue: string;
  /** What differs (update), or why (restore, conflict). */
  details: string[];
  entry?: PlannedEntry;
}

export interface ReconcileTarget {
  redis: Redis;
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

const pendingJobExists = async (queue: Queue, redis: Redis, id: string, next: number | undefined) =>
  next !== undefined && (await redis.exists(queue.toKey(`repeat:${id}:${next}`))) === 1;

const isBeats = (data: unknown, id: string): boolean => {
  const meta = (data as Record<string, { service?: unknown; schedule?: unknown } | undefined> | undefined)?.[META_KEY];
  return meta?.service === 'beat' && meta.schedule === id;
};

/** Read-only: what it would take to make Redis match the entries. */
export const planChanges = async (target: ReconcileTarget, entries: readonly PlannedEntry[]): Promise<Change[]> => {
  const changes: Change[] = [];
  const queueNames = new Set([...target.queueNames, ...entries.map((e) => e.queue)]);
  for (const name of queueNames) {
    const queue = target.queue(name);
    const owned = new Set(await target.redis.smembers(ownedKey(target.hubPrefix, name)));
    const wanted = entries.filter((e) => e.queue === name);
    for (const entry of wanted) {
      const base = { id: entry.id, queue: name, entry };
      const actual = await queue.getJobScheduler(entry.id);
      // Beat's templates name it too: a lost owned set does not turn its own schedulers into conflicts.
      if (actual && isBeats(actual.template?.data, entry.id)) owned.add(entry.id);
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
    } else if (change.entry && change.action !== 'conflict') {
      const { id, repeat, task, data, opts } = change.entry;
      // Owned first: a crash between the two leaves an owned id without scheduler, which the next round restores.
      await target.redis.sadd(key, id);
      await queue.upsertJobScheduler(id, repeat, { name: task, data, opts });
    }
  }
};
