import type { RedisClient } from '../redis.ts';
import { slotKeys } from './keys.ts';
import { NOW_MS, script } from './scripts.ts';

/**
 * Hands free slots to the oldest waiters (they are reserved for them; their holders wake them
 * up). KEYS held, waiting, counts; `key` names the key in counts.
 */
const HAND_OFF = `local function handOff(now, ttl, perKey, key)
  local handed = {}
  while redis.call('ZCARD', KEYS[1]) < perKey do
    local head = redis.call('ZPOPMIN', KEYS[2])
    if not head[1] then break end
    redis.call('ZADD', KEYS[1], now + ttl, head[1])
    if tonumber(redis.call('ZINCRBY', KEYS[3], -1, key)) <= 0 then redis.call('ZREM', KEYS[3], key) end
    handed[#handed + 1] = head[1]
  end
  if #handed > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
  return handed
end`;

/**
 * A job asks for a slot of its key. ARGV: job id, perKey, slot ttl, enqueue time, key.
 * Returns {1, handed...} when it holds one (free, or handed to it while it waited), else
 * {0, handed...} and the job is queued for the key. `handed` are other jobs given a slot now.
 * KEYS held, waiting, counts, seq.
 */
const ACQUIRE = script(
  `${NOW_MS}
${HAND_OFF}
local id, perKey, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], id) then
  redis.call('ZADD', KEYS[1], now + ttl, id)
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {1}
end
if redis.call('ZCARD', KEYS[2]) == 0 and redis.call('ZCARD', KEYS[1]) < perKey then
  redis.call('ZADD', KEYS[1], now + ttl, id)
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {1}
end
if not redis.call('ZSCORE', KEYS[2], id) then
  -- Enqueue time orders the line; jobs enqueued in the same ms (a bulk) in the order they got here.
  local tie = (redis.call('INCR', KEYS[4]) % 1000) / 1000
  redis.call('ZADD', KEYS[2], tonumber(ARGV[4]) + tie, id)
  redis.call('ZINCRBY', KEYS[3], 1, ARGV[5])
end
local handed = handOff(now, ttl, perKey, ARGV[5])
local result = {0}
for _, h in ipairs(handed) do
  if h == id then result[1] = 1 else result[#result + 1] = h end
end
return result`,
  4,
);

/** The job is done with its slot: the next waiters get it. ARGV: job id, perKey, slot ttl, key. Returns the jobs handed a slot. */
const RELEASE = script(
  `${NOW_MS}
${HAND_OFF}
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return handOff(now, tonumber(ARGV[3]), tonumber(ARGV[2]), ARGV[4])`,
  3,
);

/** Still running: the slot lives another ttl. ARGV: job id, ttl. 0 when it had lapsed. */
const RENEW = script(
  `${NOW_MS}
if redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`,
  1,
);

/** Whether a slot is held for the job now (handed to it after it found the key busy). */
const HOLDS = script(
  `${NOW_MS}
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) > now then return 1 end
return 0`,
  1,
);

export interface SlotRequest {
  hubPrefix: string;
  task: string;
  key: string;
  jobId: string;
  perKey: number;
  /** The job's lock duration: a slot whose holder died comes back after it. */
  ttlMs: number;
  /** When the job was enqueued: one key's waiters get their slots in this order. */
  enqueuedAt: number;
}

/** Per-key slots of one task (`{<prefix>-key-<task>}`), each call one script. */
export const keySlots = (redis: RedisClient, r: SlotRequest) => {
  const keys = slotKeys(r.hubPrefix, r.task, r.key);
  const all = [keys.held, keys.waiting, keys.counts] as const;
  return {
    async acquire(): Promise<{ holds: boolean; handed: string[] }> {
      const [holds, ...handed] = (await ACQUIRE(redis, ...all, keys.seq, r.jobId, r.perKey, r.ttlMs, r.enqueuedAt, r.key)) as [number, ...string[]];
      return { holds: holds === 1, handed };
    },
    async release(jobId = r.jobId): Promise<string[]> {
      return (await RELEASE(redis, ...all, jobId, r.perKey, r.ttlMs, r.key)) as string[];
    },
    async renew(): Promise<boolean> {
      return (await RENEW(redis, keys.held, r.jobId, r.ttlMs)) === 1;
    },
    async holds(): Promise<boolean> {
      return (await HOLDS(redis, keys.held, r.jobId)) === 1;
    },
  };
};
