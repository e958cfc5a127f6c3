import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

// Delete only if it is still ours: past its TTL another replica may hold it.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * A short lock (SET NX PX) so replicas reconcile one at a time. It expires by itself, so a
 * replica killed mid-reconcile blocks the others for at most `ttlMs`.
 */
export const withLock = async <R>(redis: Redis, key: string, ttlMs: number, work: () => Promise<R>): Promise<{ locked: false } | { locked: true; result: R }> => {
  const token = randomUUID();
  if ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return { locked: false };
  try {
    return { locked: true, result: await work() };
  } finally {
    await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
  }
};
