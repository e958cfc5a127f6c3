import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { catalog, type AnyContract } from '../contracts/index.ts';
import { DURATION_BUCKETS, UNKNOWN_TASK, emptyStats, parseTaskMetrics, taskMetricsKey, type TaskStats } from '../core/task-metrics.ts';
import { workersPerQueue } from './health.ts';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;
const contracts = catalog as Record<string, AnyContract>;

type Sample = { metricName?: string; labels: Record<string, string | number>; value: number };

/**
 * A metric whose samples come from outside this process (the workers' shared hash): prom-client
 * only needs name/help/type and an async get(). Its own Counter/Histogram could not take values
 * aggregated elsewhere.
 */
const external = (name: string, help: string, type: 'counter' | 'histogram', samples: () => Promise<Sample[]>): Metric =>
  ({
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: await samples() }),
    reset: () => {},
  }) as unknown as Metric;

export interface MetricsDeps {
  redis: Redis;
  prefix: string;
  queues: readonly Queue[];
  /** Node process metrics of the dashboard itself (off in tests that build many apps). */
  processMetrics?: boolean;
}

export const createMetricsRegistry = ({ redis, prefix, queues, processMetrics = true }: MetricsDeps): Registry => {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry });

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

  // One HGETALL per scrape feeds the three families below.
  let pending: Promise<Map<string, TaskStats>> | undefined;
  const snapshot = () => {
    pending ??= redis.hgetall(taskMetricsKey(prefix)).then(parseTaskMetrics).finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };
  /** Every catalog task appears from the first scrape (zeros), so rates work before a task's first run. */
  const perTask = async (): Promise<[string, string, TaskStats][]> => {
    const stats = await snapshot();
    const names = [...Object.keys(contracts), ...(stats.has(UNKNOWN_TASK) ? [UNKNOWN_TASK] : [])];
    return names.map((t) => [t, contracts[t]?.queue ?? 'unknown', stats.get(t) ?? emptyStats()]);
  };

  registry.registerMetric(
    external('taskhub_task_completed_total', 'Task attempts that completed, over every worker replica.', 'counter', async () =>
      (await perTask()).map(([task, queue, s]) => ({ labels: { task, queue }, value: s.completed })),
    ),
  );
  registry.registerMetric(
    external('taskhub_task_failed_total', 'Task attempts that failed (retried or final), over every worker replica.', 'counter', async () =>
      (await perTask()).map(([task, queue, s]) => ({ labels: { task, queue }, value: s.failed })),
    ),
  );
  registry.registerMetric(
    external('taskhub_task_duration_seconds', 'Duration of task attempts, over every worker replica.', 'histogram', async () =>
      (await perTask()).flatMap(([task, queue, s]) => {
        let cumulative = 0;
        const buckets = s.buckets.map((n, i) => {
          cumulative += n;
          return { metricName: 'taskhub_task_duration_seconds_bucket', labels: { le: i < DURATION_BUCKETS.length ? DURATION_BUCKETS[i]! : '+Inf', task, queue }, value: cumulative };
        });
        return [
          ...buckets,
          { metricName: 'taskhub_task_duration_seconds_sum', labels: { task, queue }, value: s.sumSeconds },
          { metricName: 'taskhub_task_duration_seconds_count', labels: { task, queue }, value: cumulative },
        ];
      }),
    ),
  );
  return registry;
};
