import type { RedisClient } from '../redis.ts';
import type { AnyContract } from '../../contracts/index.ts';
import { flowMetricsKey, poolKeys, serviceKeys, slotKeys } from './keys.ts';
import type { FlowConfig } from './limits.ts';
import { parseFlowMetrics, type FlowStats } from './flow-metrics.ts';
import { NOW_MS, script } from './scripts.ts';

/** {next turn in ms, hold-off ms left, hold-off status, calls in flight}. KEYS: next, hold-off, in-flight. */
const SERVICE_STATE = script(
  `${NOW_MS}
local nextTurn = tonumber(redis.call('GET', KEYS[1]) or '0') - now
if nextTurn < 0 then nextTurn = 0 end
return {math.ceil(nextTurn), redis.call('PTTL', KEYS[2]), redis.call('GET', KEYS[2]) or '', redis.call('ZCOUNT', KEYS[3], now, '+inf')}`,
  3,
);

/** {free, cooling, leased}. KEYS: free, leased. */
const POOL_STATE = script(
  `${NOW_MS}
local free = redis.call('ZCOUNT', KEYS[1], '-inf', now)
return {free, redis.call('ZCARD', KEYS[1]) - free, redis.call('ZCARD', KEYS[2])}`,
  2,
);

export interface ServiceState {
  service: string;
  rateLimit: { max: number; perMs: number } | null;
  maxInFlight: number | null;
  /** How long a call asking now would wait for its turn. */
  nextTurnInMs: number;
  /** A 429/503's Retry-After still holding the fleet off, with the status that asked for it. */
  holdOffMs: number;
  holdOffStatus: number | null;
  inFlight: number;
}

export interface KeyedTaskState {
  task: string;
  perKey: number;
  /** Jobs waiting in delayed for their key, over all keys. */
  waitingJobs: number;
  /** Keys with the most waiting jobs (at most 10); left out for tasks with sensitive fields. */
  busiest?: { key: string; waiting: number }[];
}

export interface PoolState {
  pool: string;
  items: number;
  free: number;
  cooling: number;
  leased: number;
  cooldownMs: number;
}

export interface FlowStatus {
  services: ServiceState[];
  keys: KeyedTaskState[];
  pools: PoolState[];
}

export const keyedContracts = (contracts: Readonly<Record<string, AnyContract>>): AnyContract[] =>
  Object.values(contracts).filter((c) => typeof c.concurrencyKey === 'function');

/** Every limiter, keyed task and pool as Redis holds them now: one command per hash tag. */
export const readFlowStatus = async (redis: RedisClient, hubPrefix: string, config: FlowConfig, contracts: Readonly<Record<string, AnyContract>>): Promise<FlowStatus> => {
  const limited = Object.values(config.services).filter((s) => s.rateLimit || s.maxInFlight !== undefined);
  const keyed = keyedContracts(contracts);
  const [services, keys, pools] = await Promise.all([
    Promise.all(
      limited.map(async (s): Promise<ServiceState> => {
        const k = serviceKeys(hubPrefix, s.service);
        const [next, hold, status, inFlight] = (await SERVICE_STATE(redis, k.next, k.holdOff, k.inFlight)) as [number, number, string, number];
        return {
          service: s.service,
          rateLimit: s.rateLimit ? { max: s.rateLimit.max, perMs: s.rateLimit.perMs } : null,
          maxInFlight: s.maxInFlight ?? null,
          nextTurnInMs: next,
          holdOffMs: Math.max(0, hold),
          holdOffStatus: hold > 0 && status ? Number(status) : null,
          inFlight,
        };
      }),
    ),
    Promise.all(
      keyed.map(async (c): Promise<KeyedTaskState> => {
        const counts = await redis.zrevrange(slotKeys(hubPrefix, c.name, '').counts, 0, -1, 'WITHSCORES');
        let waitingJobs = 0;
        const busiest: { key: string; waiting: number }[] = [];
        for (let i = 0; i < counts.length; i += 2) {
          const n = Number(counts[i + 1]);
          waitingJobs += n;
          if (busiest.length < 10) busiest.push({ key: counts[i]!, waiting: n });
        }
        return { task: c.name, perKey: c.perKey ?? 1, waitingJobs, ...(c.sensitive.length ? {} : { busiest }) };
      }),
    ),
    Promise.all(
      Object.values(config.pools).map(async (p): Promise<PoolState> => {
        const k = poolKeys(hubPrefix, p.pool);
        const [free, cooling, leased] = (await POOL_STATE(redis, k.free, k.leased)) as [number, number, number];
        return { pool: p.pool, items: p.items.length, free, cooling, leased, cooldownMs: p.cooldownMs };
      }),
    ),
  ]);
  return { services, keys, pools };
};

/** The fleet's flow counters (the workers' batched flushes). */
export const readFlowStats = async (redis: RedisClient, hubPrefix: string): Promise<FlowStats> => parseFlowMetrics(await redis.hgetall(flowMetricsKey(hubPrefix)));
