import { didYouMean } from '../did-you-mean.ts';
import { PermanentError } from '../errors.ts';
import { pools as poolSpecs, type PoolName } from '../../../pools.config.ts';
import { DEFAULT_POOL_WAIT_MS } from './limits.ts';
import type { PoolLeases } from './pool-leases.ts';

export type { PoolName };

export interface LeaseBudget {
  readonly expiresAt: number;
  readonly signal: AbortSignal;
}

/**
 * `ctx.lease(pool, use)`: an item of the pool no other call of the fleet holds, for the time of
 * `use`, then resting for the pool's cooldown. A pool off (its variable unset) or unknown fails
 * the job: retrying would not help.
 */
export const leaseFrom = (pools: Readonly<Record<string, PoolLeases>> | undefined, budget: LeaseBudget) =>
  <T>(pool: PoolName, use: (item: string) => Promise<T>): Promise<T> => {
    const leases = pools?.[pool];
    if (!leases) {
      const spec = (poolSpecs as Record<string, { itemsEnv: string } | undefined>)[pool];
      const why = spec
        ? `pool ${pool} has no items: set ${spec.itemsEnv}`
        : `unknown pool "${String(pool)}"${didYouMean(String(pool), Object.keys(poolSpecs))} (pools.config.ts)`;
      return Promise.reject(new PermanentError(why));
    }
    return leases.lease(use, { signal: budget.signal, expiresAt: budget.expiresAt, maxWaitMs: DEFAULT_POOL_WAIT_MS });
  };
