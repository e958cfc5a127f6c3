import type { Redis } from 'ioredis';

/**
 * BullMQ keys are `<prefix>:<queue>:...`. Wrapping the prefix in braces makes it a Redis
 * Cluster hash tag, so every key of one queue lands in one slot and queues can be spread
 * over shards. Flows across queues would need one slot: keep them within one queue.
 */
export const queuePrefix = (hubPrefix: string, queue: string): string => `{${hubPrefix}-${queue}}`;

export const HUB_PREFIX = /^[A-Za-z0-9_-]{1,40}$/;

/** Deletes every key under a hub prefix (all its queues' hash tags): for tests, benchmarks, teardown. */
export const deletePrefix = async (redis: Redis, hubPrefix: string): Promise<void> => {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `{${hubPrefix}-*`, 'COUNT', 1_000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0');
};
