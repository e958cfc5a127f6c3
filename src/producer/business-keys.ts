import type { RedisClient } from '../core/redis.ts';
import type { AnyContract } from '../contracts/index.ts';
import { keyIndexKey, keyIndexTtl, keyMember, keyValueOf } from '../core/business-keys.ts';

export interface IndexedJob {
  contract: AnyContract;
  data: unknown;
  delayMs?: number;
}

/**
 * Records a job under each business key its task declares: one round trip per key (ZADD +
 * EXPIRE of that key alone: each key value is its own hash slot). The TTL is refreshed on every write.
 */
export const indexJob = async (redis: RedisClient, hubPrefix: string, queue: string, jobId: string, { contract, data, delayMs }: IndexedJob): Promise<void> => {
  const now = Date.now();
  const ttl = keyIndexTtl(contract, delayMs);
  const writes: Promise<unknown>[] = [];
  for (const name of contract.keys) {
    const value = keyValueOf(data, name);
    if (value === undefined) continue;
    const key = keyIndexKey(hubPrefix, name, value);
    writes.push(
      redis
        .pipeline()
        .zadd(key, now, keyMember(queue, jobId))
        .expire(key, ttl)
        .exec()
        .then((replies) => {
          const failed = replies?.find(([err]) => err)?.[0];
          if (failed) throw failed;
        }),
    );
  }
  await Promise.all(writes);
};
