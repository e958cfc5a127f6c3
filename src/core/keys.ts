import { mastersOf, whenReady, type RedisClient } from './redis.ts';

/**
 * BullMQ keys are `<prefix>:<queue>:...`. Wrapping the prefix in braces makes it a Redis
 * Cluster hash tag, so every key of one queue lands in one slot and queues can be spread
 * over shards. Flows across queues would need one slot: keep them within one queue.
 */
export const queuePrefix = (hubPrefix: string, queue: string): string => `{${hubPrefix}-${queue}}`;

export const HUB_PREFIX = /^[A-Za-z0-9_-]{1,40}$/;

/**
 * Deletes every key under a hub prefix (all its queues' hash tags): for tests, benchmarks,
 * teardown. On a cluster each master is scanned, and keys go one per UNLINK: keys of
 * different tags sit in different slots, which one command may not mix.
 */
export const deletePrefix = async (redis: RedisClient, hubPrefix: string): Promise<void> => {
  await whenReady(redis);
  for (const node of mastersOf(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `{${hubPrefix}-*`, 'COUNT', 1_000);
      cursor = next;
      if (keys.length) {
        const pipeline = node.pipeline();
        for (const key of keys) pipeline.unlink(key);
        await pipeline.exec();
      }
    } while (cursor !== '0');
  }
};
