import type { RedisClient } from '../redis.ts';
import type { Logger } from '../logger.ts';
import { startFlowMetrics, type FlowMetrics } from './flow-metrics.ts';
import type { FlowConfig } from './limits.ts';
import { PoolLeases } from './pool-leases.ts';
import { ServiceGate } from './service-gate.ts';

export interface FlowRuntime {
  config: FlowConfig;
  redis: RedisClient;
  hubPrefix: string;
  metrics: FlowMetrics;
  /** Only for the services that have a limit: a service without one is called as before. */
  gates: Readonly<Record<string, ServiceGate>>;
  pools: Readonly<Record<string, PoolLeases>>;
  /** Writes the pools' items to Redis (at start). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface FlowRuntimeOptions {
  config: FlowConfig;
  /** The process's worker connection (not closed by stop). */
  redis: RedisClient;
  hubPrefix: string;
  /** Every call's request timeout: an in-flight place whose worker died lapses after it plus a margin. */
  httpTimeoutMs: number;
  log: Logger;
}

/** Flow control as one worker process runs it: the limited services' gates, the pools, the counters. */
export const createFlowRuntime = ({ config, redis, hubPrefix, httpTimeoutMs, log }: FlowRuntimeOptions): FlowRuntime => {
  const metrics = startFlowMetrics(redis, hubPrefix, log);
  const gates = Object.fromEntries(
    Object.values(config.services)
      .filter((s) => s.rateLimit || s.maxInFlight !== undefined)
      .map((s) => [s.service, new ServiceGate(redis, hubPrefix, s, httpTimeoutMs + 5_000, metrics)]),
  );
  const pools = Object.fromEntries(Object.values(config.pools).map((p) => [p.pool, new PoolLeases(redis, hubPrefix, p, metrics)]));
  return {
    config,
    redis,
    hubPrefix,
    metrics,
    gates,
    pools,
    async start() {
      await Promise.all(Object.values(pools).map((p) => p.sync()));
    },
    stop: () => metrics.stop(),
  };
};
