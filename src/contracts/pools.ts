/** The shape of pools.config.ts: sets of interchangeable items (proxies, accounts) leased one call at a time. */
export interface PoolSpec {
  description: string;
  /** The environment variable listing the items, comma-separated (`PROXY_POOL=http://p1:8080,http://p2:8080`). */
  itemsEnv: string;
  /** Items when the variable is unset; none means the pool is off until the variable is set. */
  defaultItems?: readonly string[];
  /** An item rests this long after each lease before anyone may lease it again. */
  cooldownMs: number;
  /** A lease whose worker died returns to the pool after this long (renewed while its holder runs). Default 30 s. */
  leaseTtlMs?: number;
}

export const POOL_NAME = /^[a-z][a-zA-Z0-9]{0,40}$/;

export const definePools = <const P extends Record<string, PoolSpec>>(pools: P): P => {
  for (const name of Object.keys(pools)) {
    if (!POOL_NAME.test(name)) throw new Error(`pools.config.ts: pool name "${name}" must match ${POOL_NAME}`);
  }
  return pools;
};
