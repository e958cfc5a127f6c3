import type { RedisClient } from '../redis.ts';

type Command = (...args: (string | number)[]) => Promise<unknown>;
let created = 0;

/**
 * A Lua script run with EVALSHA (ioredis loads it on first use, and again after a Redis
 * restart): one round trip per call. Returns `run(redis, ...keys, ...args)`.
 */
export const script = (lua: string, numberOfKeys: number) => {
  const name = `hubFlow${created++}`;
  return (redis: RedisClient, ...args: (string | number)[]): Promise<unknown> => {
    const commands = redis as unknown as Record<string, Command | undefined>;
    if (!commands[name]) redis.defineCommand(name, { lua, numberOfKeys });
    return commands[name]!(...args);
  };
};

/**
 * Redis's clock in ms, to the µs (a whole-ms clock would let a 250 ms cooldown end after 249.1):
 * every worker decides by the same clock, whatever its own says.
 */
export const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000`;
