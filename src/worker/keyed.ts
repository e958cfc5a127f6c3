import { DelayedError, Queue, type Job } from 'bullmq';
import type { RedisClient } from '../core/redis.ts';
import type { AnyContract } from '../contracts/index.ts';
import { PermanentError } from '../core/errors.ts';
import type { FlowMetrics } from '../core/flow/flow-metrics.ts';
import { keySlots } from '../core/flow/key-slots.ts';
import { queuePrefix } from '../core/keys.ts';
import type { Logger } from '../core/logger.ts';

export const MAX_KEY_LENGTH = 200;

const shown = (v: unknown) => (typeof v === 'string' ? `"${v.slice(0, 40)}"` : v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

/** The job's key, or a permanent failure saying what the contract's function gave instead. */
export const keyOf = (contract: AnyContract, input: unknown): string => {
  let key: unknown;
  try {
    key = contract.concurrencyKey!(input as never);
  } catch (err) {
    throw new PermanentError(`${contract.name}: its concurrencyKey threw ${(err as Error).message ?? err}`);
  }
  if (typeof key !== 'string' || !key.length || key.length > MAX_KEY_LENGTH) {
    throw new PermanentError(`${contract.name}: concurrencyKey must return a non-empty string of at most ${MAX_KEY_LENGTH} characters; it returned ${shown(key)}`);
  }
  return key;
};

export interface KeyedDeps {
  redis: RedisClient;
  hubPrefix: string;
  log: Logger;
  /** The queue's lock duration: a slot whose holder died comes back after it. */
  lockMsOf(queue: string): number;
  metrics?: FlowMetrics;
}

/**
 * Runs keyed tasks' jobs at most `perKey` at a time per key over the fleet. A job that finds
 * its key busy joins the key's line and goes back to delayed (no worker slot held, no attempt
 * spent) until the job ahead of it hands it the slot and promotes it, or, should that job's
 * worker die, until its slot lapses (the lock duration; a backstop wakes the line then).
 */
export const createKeyedRunner = (deps: KeyedDeps) => {
  const queues = new Map<string, Queue>();
  const queueOf = (name: string) => {
    let q = queues.get(name);
    if (!q) queues.set(name, (q = new Queue(name, { connection: deps.redis, prefix: queuePrefix(deps.hubPrefix, name) })));
    return q;
  };

  type Slots = ReturnType<typeof keySlots>;
  /** Wakes the jobs handed a slot; a job gone meanwhile passes its slot on. */
  const wake = async (queue: string, slots: Slots, handed: readonly string[]): Promise<void> => {
    for (const id of handed) {
      try {
        const waiting = await queueOf(queue).getJob(id);
        if (!waiting) await wake(queue, slots, await slots.release(id));
        // Not delayed (still moving there, or already back in line): it finds its slot by itself.
        else await waiting.promote().catch(() => undefined);
      } catch (err) {
        deps.log.warn({ queue, jobId: id, err: (err as Error).message }, 'could not wake a job waiting for its key; it wakes on its own later');
      }
    }
  };

  return {
    async run<R>(job: Job, token: string | undefined, contract: AnyContract, input: unknown, work: () => Promise<R>): Promise<R> {
      const key = keyOf(contract, input);
      const ttlMs = deps.lockMsOf(job.queueName);
      const slots = keySlots(deps.redis, {
        hubPrefix: deps.hubPrefix,
        task: job.name,
        key,
        jobId: job.id!,
        perKey: contract.perKey ?? 1,
        ttlMs,
        enqueuedAt: job.timestamp,
      });
      const { holds, handed } = await slots.acquire();
      if (handed.length) void wake(job.queueName, slots, handed);
      if (!holds) {
        if (!token) throw new Error(`${job.name}: key "${key}" is busy and the job has no lock token to wait with`);
        deps.metrics?.count('key', job.name, 'deferred');
        // The backstop: normally the job ahead hands over well before.
        await job.moveToDelayed(Date.now() + Math.round(ttlMs * (1 + Math.random() / 4)), token);
        // Handed the slot while it was still active: nobody could promote it then.
        if (await slots.holds()) await wake(job.queueName, slots, [job.id!]);
        throw new DelayedError(`key "${key}" is busy: waiting for its turn`);
      }
      const renew = setInterval(() => void slots.renew().catch(() => undefined), ttlMs / 2);
      renew.unref();
      try {
        return await work();
      } finally {
        clearInterval(renew);
        const next = await slots.release().catch(() => [] as string[]);
        if (next.length) void wake(job.queueName, slots, next);
      }
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
};

export type KeyedRunner = ReturnType<typeof createKeyedRunner>;
