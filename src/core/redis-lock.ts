import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis.ts';

// Take the lock if it is free or already ours (the same owner again: a retry of the same job);
// else answer who holds it. One key: one hash slot.
const ACQUIRE = `local h = redis.call('GET', KEYS[1])
if h and h ~= ARGV[1] then return h end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;
// Delete only if it is still ours: past its TTL another owner may hold it.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export type LockOutcome<R> = { acquired: true; result: R } | { acquired: false; holder: string };

export interface LockOptions {
  /** Who holds it while `work` runs; the same owner may take it again. Default: a fresh id. */
  owner?: string;
  /** It expires by itself after this, so a process killed while holding it blocks others for at most ttlMs. */
  ttlMs: number;
}

/** Runs `work` under a short Redis lock, or reports who holds it. */
export const withLock = async <R>(redis: RedisClient, key: string, { owner = randomUUID(), ttlMs }: LockOptions, work: () => Promise<R>): Promise<LockOutcome<R>> => {
  const holder = (await redis.eval(ACQUIRE, 1, key, owner, ttlMs)) as string | null;
  if (holder) return { acquired: false, holder };
  try {
    return { acquired: true, result: await work() };
  } finally {
    await redis.eval(RELEASE, 1, key, owner).catch(() => undefined);
  }
};
