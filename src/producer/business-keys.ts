import type { RedisClient } from '../core/redis.ts';
import type { AnyContract } from '../contracts/index.ts';
import { keyIndexKey, keyIndexTtl, keyMember, keyValueOf } from '../core/business-keys.ts';

export interface IndexedJob {
  contract: AnyContract;
  data: unknown;
  delayMs?: number;
}

/**
 * Records a job under each business key its task declares: ZADD + EXPIRE of that key alone (each
 * key value is its own hash slot), sent together. The TTL is refreshed on every write. A member
 * whose job never came to be (its add failed) is skipped by lookups, as one removed by retention is.
 */
export const indexJob = async (redis: RedisClient, hubPrefix: string, queue: string, jobId: string, { contract, data, delayMs }: IndexedJob): Promise<void> => {
  const now = Date.now();
  const ttl = keyIndexTtl(contract, delayMs);
  const writes: Promise<unknown>[] = [];
  for (const name of contract.keys) {
    const value = keyValueOf(data, name);
    if (value === undefined) continue;
    const key = keyIndexKey(hubPrefix, name, value);
    // Two commands, not a pipeline: a pipeline on a connection BullMQ has defined its ~50 scripts
    // on copies each of them first, which cost more than the add itself.
    writes.push(redis.zadd(key, now, keyMember(queue, jobId)), redis.expire(key, ttl));
  }
  await Promise.all(writes);
};
