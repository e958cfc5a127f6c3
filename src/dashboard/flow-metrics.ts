import type { RedisClient } from '../core/redis.ts';
import type { Metric, Registry } from 'prom-client';
import { serviceNames } from '../../services.config.ts';
import { catalog, type AnyContract } from '../contracts/index.ts';
import { WAIT_BUCKETS, type FlowStats } from '../core/flow/flow-metrics.ts';
import type { FlowConfig } from '../core/flow/limits.ts';
import { keyedContracts, readFlowStats, readFlowStatus, type FlowStatus } from '../core/flow/status.ts';

type Sample = { metricName?: string; labels: Record<string, string | number>; value: number };
type External = (name: string, help: string, type: 'counter' | 'histogram' | 'gauge', samples: () => Promise<Sample[]>) => Metric;

const contracts = catalog as Record<string, AnyContract>;

/**
 * Flow control's families, fleet-wide: the counters the workers flush to Redis and, read at
 * scrape time, the state of each limiter, keyed task and pool. Labels are bounded: services and
 * pools of the config files, keyed tasks of the catalog (never a key's value).
 */
export const registerFlowMetrics = (registry: Registry, external: External, redis: RedisClient, prefix: string, config: FlowConfig): void => {
  // One read of each per scrape feeds every family below.
  let stats: Promise<FlowStats> | undefined;
  let status: Promise<FlowStatus> | undefined;
  const counters = () => (stats ??= readFlowStats(redis, prefix).finally(() => setImmediate(() => (stats = undefined))));
  const state = () => (status ??= readFlowStatus(redis, prefix, config, contracts).finally(() => setImmediate(() => (status = undefined))));
  const limited = Object.values(config.services).filter((s) => s.rateLimit || s.maxInFlight !== undefined).map((s) => s.service);
  const keyed = keyedContracts(contracts).map((c) => c.name);
  const pools = Object.keys(config.pools);
  const perService = (field: 'calls' | 'waited' | 'throttled' | 'deferred' | 'late', services: readonly string[] = limited) => async () => {
    const s = await counters();
    return services.map((service) => ({ labels: { service }, value: s.services.get(service)?.[field] ?? 0 }));
  };
  const add = (name: string, help: string, type: 'counter' | 'histogram' | 'gauge', samples: () => Promise<Sample[]>) =>
    registry.registerMetric(external(name, help, type, samples));

  add('taskhub_service_calls_total', 'Calls to a service with limits that took their turn, over every worker replica.', 'counter', perService('calls'));
  add('taskhub_service_waited_total', 'Calls to a service with limits that had to wait for their turn.', 'counter', perService('waited'));
  add('taskhub_service_late_turns_total', 'Turns given up because their worker woke too late to use them (a busy event loop); the call took a new turn.', 'counter', perService('late'));
  add('taskhub_service_deferred_total', 'Jobs sent back to delayed (no attempt spent) because a call to the service would have waited too long.', 'counter', perService('deferred'));
  add(
    'taskhub_service_throttled_total',
    'Answers 429/503 with Retry-After (the job deferred; for a service with limits, the fleet held off).',
    'counter',
    perService('throttled', serviceNames),
  );
  add('taskhub_service_wait_seconds', 'How long calls to a service with limits waited for their turn.', 'histogram', async () => {
    const s = await counters();
    return limited.flatMap((service) => {
      const st = s.services.get(service);
      const buckets = st?.buckets ?? WAIT_BUCKETS.map(() => 0).concat(0);
      let cumulative = 0;
      return [
        ...buckets.map((n, i) => {
          cumulative += n;
          return { metricName: 'taskhub_service_wait_seconds_bucket', labels: { le: i < WAIT_BUCKETS.length ? WAIT_BUCKETS[i]! : '+Inf', service }, value: cumulative };
        }),
        { metricName: 'taskhub_service_wait_seconds_sum', labels: { service }, value: st?.waitSeconds ?? 0 },
        { metricName: 'taskhub_service_wait_seconds_count', labels: { service }, value: cumulative },
      ];
    });
  });
  add('taskhub_service_holdoff_seconds', 'What is left of a hold-off a service asked for (Retry-After): no worker calls it meanwhile.', 'gauge', async () =>
    (await state()).services.map((s) => ({ labels: { service: s.service }, value: s.holdOffMs / 1_000 })),
  );
  add('taskhub_service_in_flight', 'Calls on their way to a service with limits, over every worker replica.', 'gauge', async () =>
    (await state()).services.map((s) => ({ labels: { service: s.service }, value: s.inFlight })),
  );
  add('taskhub_key_waiting_jobs', 'Jobs of a keyed task waiting in delayed for their key (summed over keys).', 'gauge', async () =>
    (await state()).keys.map((k) => ({ labels: { task: k.task }, value: k.waitingJobs })),
  );
  add('taskhub_key_deferred_total', 'Times a job of a keyed task found its key busy and went to wait for it.', 'counter', async () => {
    const s = await counters();
    return keyed.map((task) => ({ labels: { task }, value: s.keys.get(task)?.deferred ?? 0 }));
  });
  add('taskhub_pool_items', 'Items of a pool by state: free, cooling (resting after a lease), leased.', 'gauge', async () =>
    (await state()).pools.flatMap((p) => (['free', 'cooling', 'leased'] as const).map((st) => ({ labels: { pool: p.pool, state: st }, value: p[st] }))),
  );
  add('taskhub_pool_leases_total', 'Leases taken from a pool, over every worker replica.', 'counter', async () => {
    const s = await counters();
    return pools.map((pool) => ({ labels: { pool }, value: s.pools.get(pool)?.leases ?? 0 }));
  });
};
