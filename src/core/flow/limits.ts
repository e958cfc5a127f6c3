import type { RateLimit } from '../../contracts/services.ts';

/** A service's limits as they apply (services.config.ts, then the environment: src/config/flow-config.ts). */
export interface ServiceLimits {
  service: string;
  rateLimit?: RateLimit & {
    /** Added to each window, so arrival jitter at the service cannot squeeze max + 1 calls into one. */
    marginMs: number;
  };
  maxInFlight?: number;
  maxWaitMs: number;
  pool?: string;
}

export interface PoolConfig {
  pool: string;
  items: readonly string[];
  cooldownMs: number;
  leaseTtlMs: number;
}

export interface FlowConfig {
  /** Only the services that have a limit or a pool: the others pay nothing per call. */
  services: Readonly<Record<string, ServiceLimits>>;
  /** Only the pools that have items. */
  pools: Readonly<Record<string, PoolConfig>>;
}

/** How long a call may wait in its worker for a pool item before its job is deferred. */
export const DEFAULT_POOL_WAIT_MS = 5_000;
