import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../redis.ts';
import { BackPressureError, sleep } from './back-pressure.ts';
import type { FlowMetrics } from './flow-metrics.ts';
import { poolKeys } from './keys.ts';
import type { PoolConfig } from './limits.ts';
import { NOW_MS, script } from './scripts.ts';

/** The configured items become the pool's (new ones free at once); items no longer configured leave it when free. */
const SYNC = script(
  `local wanted = {}
for _, item in ipairs(ARGV) do
  wanted[item] = true
  if not redis.call('ZSCORE', KEYS[1], item) and not redis.call('ZSCORE', KEYS[2], item) then redis.call('ZADD', KEYS[1], 0, item) end
end
for _, item in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if not wanted[item] then redis.call('ZREM', KEYS[1], item) end
end
return redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2])`,
  3,
);

/**
 * Leases the item that rested longest. Leases whose holder died (past their ttl) return first,
 * with a cooldown. ARGV: lease id, ttl, cooldown. Returns {1, item}, or {0, ms until an item
 * has cooled down}, {2, ms until the first lease lapses} when all are leased, {3} when empty.
 */
const LEASE = script(
  `${NOW_MS}
for _, item in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  redis.call('ZREM', KEYS[2], item)
  redis.call('HDEL', KEYS[3], item)
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), item)
end
local free = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1)
if free[1] then
  redis.call('ZREM', KEYS[1], free[1])
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), free[1])
  redis.call('HSET', KEYS[3], free[1], ARGV[1])
  return {1, free[1]}
end
local cooling = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if cooling[1] then return {0, math.ceil(tonumber(cooling[2]) - now)} end
local leased = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if leased[1] then return {2, math.ceil(tonumber(leased[2]) - now)} end
return {3, 0}`,
  3,
);

/** Gives the item back to rest for the cooldown, if the lease is still this one. ARGV: item, lease id, cooldown. */
const RETURN = script(
  `${NOW_MS}
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
return 1`,
  3,
);

/** ARGV: item, lease id, ttl. */
const RENEW = script(
  `${NOW_MS}
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[2], 'XX', now + tonumber(ARGV[3]), ARGV[1])
return 1`,
  3,
);

const FIRST_RECHECK_MS = 25;
const LAST_RECHECK_MS = 1_000;

export interface LeaseOptions {
  signal?: AbortSignal | null;
  /** performance.now() at which the attempt times out. */
  expiresAt?: number;
  /** The longest to wait in the worker for an item; a longer wait defers the job (BackPressureError). */
  maxWaitMs: number;
}

export interface Lease {
  item: string;
  /** Gives the item back to rest for the pool's cooldown; once, whatever the number of calls. */
  release(): Promise<void>;
}

/** One pool (`{<prefix>-pool-<name>}`) as one worker process leases from it. */
export class PoolLeases {
  private readonly keys: ReturnType<typeof poolKeys>;
  private readonly all: [string, string, string];
  private readonly ids = `${randomBytes(4).toString('hex')}:`;
  private seq = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly redis: RedisClient,
    hubPrefix: string,
    readonly config: PoolConfig,
    private readonly metrics?: FlowMetrics,
  ) {
    this.keys = poolKeys(hubPrefix, config.pool);
    this.all = [this.keys.free, this.keys.leased, this.keys.owners];
  }

  /** Makes Redis hold the configured items (at start; every replica should list the same). */
  async sync(): Promise<void> {
    await SYNC(this.redis, ...this.all, ...this.config.items);
  }

  /** Runs `use` with an item no other call of the fleet holds; returns it to rest for the cooldown after. */
  async lease<T>(use: (item: string) => Promise<T>, opts: LeaseOptions): Promise<T> {
    const lease = await this.acquire(opts);
    try {
      return await use(lease.item);
    } finally {
      await lease.release();
    }
  }

  /** An item held (and renewed) until `release`, for a lease that does not fit one callback (an HTTP call's hooks). */
  async acquire(opts: LeaseOptions): Promise<Lease> {
    const { item, id } = await this.take(opts);
    const { leaseTtlMs, cooldownMs } = this.config;
    const renew = setInterval(() => void RENEW(this.redis, ...this.all, item, id, leaseTtlMs).catch(() => undefined), leaseTtlMs / 3);
    renew.unref();
    let released: Promise<void> | undefined;
    return {
      item,
      release: () =>
        (released ??= (async () => {
          clearInterval(renew);
          await RETURN(this.redis, ...this.all, item, id, cooldownMs).catch(() => undefined);
          for (const wake of this.waiters) wake();
        })()),
    };
  }

  private async take({ signal, expiresAt, maxWaitMs }: LeaseOptions): Promise<{ item: string; id: string }> {
    const started = performance.now();
    const id = this.ids + (this.seq++).toString(36);
    const pool = this.config.pool;
    let recheck = FIRST_RECHECK_MS;
    let resynced = false;
    let waited = false;
    for (;;) {
      const [code, value] = (await LEASE(this.redis, ...this.all, id, this.config.leaseTtlMs, this.config.cooldownMs)) as [number, string | number];
      if (code === 1) {
        this.metrics?.count('pool', pool, 'leases');
        if (waited) this.metrics?.count('pool', pool, 'waited');
        return { item: String(value), id };
      }
      if (code === 3 && !resynced) {
        // Redis lost the pool (a flush, a restart without persistence): put the items back.
        resynced = true;
        await this.sync();
        continue;
      }
      const wait = code === 0 ? Math.max(1, Number(value)) : Math.min(Math.max(1, Number(value)), recheck);
      const elapsed = performance.now() - started;
      const budget = expiresAt === undefined ? Infinity : expiresAt - performance.now() - 1_000;
      if (elapsed + wait > Math.min(maxWaitMs, elapsed + budget)) {
        this.metrics?.count('pool', pool, 'deferred');
        throw new BackPressureError(`pool ${pool}`, 'pool', Date.now() + (code === 0 ? wait : LAST_RECHECK_MS));
      }
      waited = true;
      if (code === 0) await sleep(wait, signal);
      else {
        recheck = Math.min(recheck * 2, LAST_RECHECK_MS);
        await this.returned(wait, signal);
      }
    }
  }

  private returned(ms: number, signal?: AbortSignal | null): Promise<void> {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    this.waiters.add(wake);
    return Promise.race([woken, sleep(ms, signal)]).finally(() => this.waiters.delete(wake));
  }
}
