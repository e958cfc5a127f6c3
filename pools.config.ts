import { definePools } from './src/contracts/pools.ts';

/**
 * Pools of interchangeable items that tasks lease one call at a time, fleet-wide:
 * `ctx.lease('<pool>', async (item) => ...)`, or every call of a service declared with
 * `pool: '<pool>'` in services.config.ts. Items come from the pool's variable; a pool whose
 * variable is unset and that has no default is off (a lease on it fails, a service routed
 * through it stops the worker at start).
 */
export const pools = definePools({
  proxies: {
    description: 'Outgoing HTTP proxies, one call at a time each, resting between calls.',
    itemsEnv: 'PROXY_POOL',
    cooldownMs: 250,
    // A dead worker's proxy comes back after this (a live holder renews it every third of it).
    leaseTtlMs: 10_000,
  },
});

export type PoolName = keyof typeof pools;
export const poolNames = Object.keys(pools) as PoolName[];
