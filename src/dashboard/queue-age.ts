import type { Queue } from 'bullmq';
import type { RedisClient } from '../core/redis.ts';

/**
 * When the longest-waiting job of one queue became ready to run (ms), or -1 when none waits.
 * Candidates: the oldest end of the wait list (and of the paused list), the head of the
 * prioritized set, and the first delayed job whose time has come (no worker promotes delayed
 * jobs while none runs). Ready = created, or the end of its delay (from its options: BullMQ
 * zeroes `delay` on promotion); a retried job counts from its previous attempt's start.
 * One script per queue and scrape; every key it touches is in the queue's hash slot.
 */
const OLDEST_READY = `
local best = nil
local function consider(id)
  if not id then return end
  local f = redis.call('HMGET', ARGV[1] .. id, 'timestamp', 'opts', 'processedOn')
  if not f[1] then return end
  local delay = 0
  if f[2] then
    local ok, opts = pcall(cjson.decode, f[2])
    if ok and type(opts) == 'table' and tonumber(opts.delay) then delay = tonumber(opts.delay) end
  end
  local ready = math.max(tonumber(f[1]) + delay, tonumber(f[3]) or 0)
  if not best or ready < best then best = ready end
end
consider(redis.call('LINDEX', KEYS[1], -1))
consider(redis.call('LINDEX', KEYS[2], -1))
consider(redis.call('ZRANGE', KEYS[3], 0, 0)[1])
local delayed = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
if delayed[2] then
  local due = math.floor(tonumber(delayed[2]) / 4096)
  if due <= tonumber(ARGV[2]) and (not best or due < best) then best = due end
end
return best or -1`;

/** Seconds the longest-waiting job of each queue has been ready to run, 0 when none waits. */
export const oldestWaitingSeconds = async (redis: RedisClient, queues: readonly Queue[]): Promise<Map<string, number>> => {
  const now = Date.now();
  const readyAt = await Promise.all(
    queues.map((q) => {
      const { wait, paused, prioritized, delayed } = q.keys as Record<string, string>;
      return redis.eval(OLDEST_READY, 4, wait!, paused!, prioritized!, delayed!, q.toKey(''), now) as Promise<number>;
    }),
  );
  return new Map(queues.map((q, i) => [q.name, readyAt[i]! < 0 ? 0 : Math.max(0, now - readyAt[i]!) / 1_000]));
};
