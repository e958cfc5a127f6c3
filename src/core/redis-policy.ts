import { ConfigError } from './errors.ts';
import type { Logger } from './logger.ts';
import { isCluster, mastersOf, nodeName, whenReady, type RedisClient } from './redis.ts';

/**
 * Any eviction policy but noeviction lets Redis silently delete queued jobs under memory
 * pressure. Refuse to run on one in production; warn loudly elsewhere. On a cluster every
 * master is checked: each holds some of the queues.
 */
export const checkEvictionPolicy = async (redis: RedisClient, log: Logger, production: boolean): Promise<void> => {
  await whenReady(redis);
  for (const node of mastersOf(redis)) {
    const where = isCluster(redis) ? ` on ${nodeName(node)}` : '';
    let policy: string | undefined;
    try {
      const reply = (await node.config('GET', 'maxmemory-policy')) as string[];
      policy = reply[1];
    } catch (err) {
      log.warn({ err: (err as Error).message }, `could not read maxmemory-policy${where} (CONFIG disabled?); make sure it is noeviction`);
      continue;
    }
    if (policy === 'noeviction') continue;
    const message = `Redis maxmemory-policy is "${policy}"${where}: Redis may evict queued jobs. Set maxmemory-policy noeviction.`;
    if (production) throw new ConfigError(message);
    log.warn(message);
  }
};
