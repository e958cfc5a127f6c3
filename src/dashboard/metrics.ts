import type { Queue } from 'bullmq';
import { Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { RedisClient } from '../core/redis.ts';
import { DURATION_BUCKETS, parseTaskMetrics, seriesToReport, taskMetricsKey, WAIT_BUCKETS, type TaskStats } from '../core/task-metrics.ts';
import type { FlowConfig } from '../core/flow/limits.ts';
import { registerFlowMetrics } from './flow-metrics.ts';
import { workersPerQueue } from './health.ts';
import { registerOperatorMetrics } from './operator-metrics.ts';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;

/**
 * prom-client's gauges named like counters, which `promtool check metrics` flags. Each is the sum
 * of a gauge it also exports (`nodejs_active_handles{type}` etc.): `sum(nodejs_active_handles)`.
 */
const COUNTER_NAMED_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

type Sample = { metricName?: string; labels: Record<string, string | number>; value: number };

/**
 * A metric whose samples come from outside this process (the workers' shared hash): prom-client
 * only needs name/help/type and an async get(). Its own Counter/Histogram could not take values
 * aggregated elsewhere.
 */
export const external = (name: string, help: string, type: 'counter' | 'histogram' | 'gauge', samples: () => Promise<Sample[]>): Metric =>
  ({
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: await samples() }),
    reset: () => {},
  }) as unknown as Metric;

/** A histogram's samples from non-cumulative bucket counts. */
const histogram = (name: string, bounds: readonly number[], counts: readonly number[], sum: number, labels: Record<string, string>): Sample[] => {
  let cumulative = 0;
  const buckets = counts.map((n, i) => {
    cumulative += n;
    return { metricName: `${name}_bucket`, labels: { le: i < bounds.length ? bounds[i]! : '+Inf', ...labels }, value: cumulative };
  });
  return [...buckets, { metricName: `${name}_sum`, labels, value: sum }, { metricName: `${name}_count`, labels, value: cumulative }];
};

export interface MetricsDeps {
  redis: RedisClient;
  prefix: string;
  queues: readonly Queue[];
  /** Node process metrics of the dashboard itself (off in tests that build many apps). */
  processMetrics?: boolean;
  /** Limits and pools in force: their families (flow-metrics.ts). */
  flow?: FlowConfig;
}

export const createMetricsRegistry = ({ redis, prefix, queues, processMetrics = true, flow }: MetricsDeps): Registry => {
  const registry = new Registry();
  if (processMetrics) {
    collectDefaultMetrics({ register: registry });
    for (const name of COUNTER_NAMED_GAUGES) registry.removeSingleMetric(name);
  }

  new Gauge({
    name: 'taskhub_queue_jobs',
    help: 'Jobs per queue and state, as BullMQ counts them now.',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      const counts = await Promise.all(queues.map((q) => q.getJobCounts(...STATES)));
      queues.forEach((q, i) => STATES.forEach((s) => this.set({ queue: q.name, state: s }, counts[i]![s] ?? 0)));
    },
  });

  new Gauge({
    name: 'taskhub_workers_online',
    help: 'Worker connections consuming each queue, over every replica.',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      const workers = await workersPerQueue(queues).catch(() => undefined);
      for (const [queue, n] of Object.entries(workers ?? {})) this.set({ queue }, n);
    },
  });

  // One HGETALL per scrape feeds the four families below.
  let pending: Promise<Map<string, TaskStats>> | undefined;
  const snapshot = () => {
    pending ??= redis.hgetall(taskMetricsKey(prefix)).then(parseTaskMetrics).finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };
  const perTask = async (): Promise<[string, string, TaskStats][]> => seriesToReport(await snapshot()).map((r) => [r.task, r.queue, r.stats]);

  registry.registerMetric(
    external('taskhub_task_completed_total', 'Task attempts that completed, over every worker replica.', 'counter', async () =>
      (await perTask()).map(([task, queue, s]) => ({ labels: { task, queue }, value: s.completed })),
    ),
  );
  registry.registerMetric(
    external('taskhub_task_failed_total', 'Task attempts that failed (retried or final), by class (permanent, retryable, timeout, cancelled; expired counts a job that expired, once), over every worker replica.', 'counter', async () =>
      (await perTask()).flatMap(([task, queue, s]) => Object.entries(s.failed).map(([failure, value]) => ({ labels: { task, queue, class: failure }, value }))),
    ),
  );
  registry.registerMetric(
    external('taskhub_task_duration_seconds', 'Duration of task attempts, over every worker replica.', 'histogram', async () =>
      (await perTask()).flatMap(([task, queue, s]) => histogram('taskhub_task_duration_seconds', DURATION_BUCKETS, s.buckets, s.sumSeconds, { task, queue })),
    ),
  );
  registry.registerMetric(
    external(
      'taskhub_task_queue_wait_seconds',
      'Time jobs waited in their queue before their first attempt started (from enqueue, or the end of their delay), over every worker replica.',
      'histogram',
      async () => (await perTask()).flatMap(([task, queue, s]) => histogram('taskhub_task_queue_wait_seconds', WAIT_BUCKETS, s.waitBuckets, s.waitSumSeconds, { task, queue })),
    ),
  );
  registerOperatorMetrics(registry, { redis, prefix, queues });
  if (flow) registerFlowMetrics(registry, external, redis, prefix, flow);
  return registry;
};
