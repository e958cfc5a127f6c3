import { mastersOf, type RedisClient } from '../core/redis.ts';

/**
 * `used_memory` and `maxmemory` from INFO memory (maxmemory 0: no limit), one INFO per master per
 * scrape. On a cluster the figures are the fullest master's (the highest used/max), since each
 * shard refuses writes on its own when it is full.
 */
export const redisMemory = async (redis: RedisClient): Promise<{ used: number; max: number }> => {
  const infos = await Promise.all(mastersOf(redis).map((node) => node.info('memory')));
  const figures = infos.map((info) => {
    const read = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
    return { used: read('used_memory'), max: read('maxmemory') };
  });
  const fill = (f: { used: number; max: number }) => (f.max > 0 ? f.used / f.max : 0);
  return figures.reduce((worst, f) => (fill(f) > fill(worst) || (fill(f) === fill(worst) && f.used > worst.used) ? f : worst));
};
