import type { Redis } from 'ioredis';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';

/**
 * Any eviction policy but noeviction lets Redis silently delete queued jobs under memory
 * pressure. Refuse to run on one in production; warn loudly elsewhere.
 */
export const checkEvictionPolicy = async (redis: Redis, log: Logger, production: boolean): Promise<void> => {
  let policy: string | undefined;
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    policy = reply[1];
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not read maxmemory-policy (CONFIG disabled?); make sure it is noeviction');
    return;
  }
  if (policy === 'noeviction') return;
  const message = `Redis maxmemory-policy is "${policy}": Redis may evict queued jobs. Set maxmemory-policy noeviction.`;
  if (production) throw new ConfigError(message);
  log.warn(message);
};
