import type { Queue } from 'bullmq';
import type { RedisClient } from '../core/redis.ts';
import { Gauge, type Registry } from 'prom-client';
import { oldestWaitingSeconds } from './queue-age.ts';
import { redisMemory } from './redis-memory.ts';
import { RUN_OUTCOMES, scheduleStates, type ScheduleState } from './schedule-metrics.ts';

interface Deps {
  redis: RedisClient;
  prefix: string;
  queues: readonly Queue[];
}

/**
 * What operators alert on (deploy/prometheus/alerts.yml): the age of each queue's backlog, each
 * schedule entry's last and next run, Redis memory against its limit. Read from Redis at scrape
 * time; the workers add nothing per job for them.
 */
export const registerOperatorMetrics = (registry: Registry, { redis, prefix, queues }: Deps): void => {
  new Gauge({
    name: 'taskhub_queue_oldest_waiting_seconds',
    help: 'How long the longest-waiting job of each queue has been ready to run (0 when none waits).',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [queue, seconds] of await oldestWaitingSeconds(redis, queues)) this.set({ queue }, seconds);
    },
  });

  // One read of the schedulers per scrape feeds the three schedule families.
  let pending: Promise<ScheduleState[]> | undefined;
  const schedules = () => {
    pending ??= scheduleStates(redis, prefix, queues).finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };
  const labels = (s: ScheduleState) => ({ schedule: s.schedule, task: s.task, queue: s.queue });
  new Gauge({
    name: 'taskhub_schedule_next_run_timestamp_seconds',
    help: 'When each job scheduler fires next (Unix time); in the past when its run is overdue (no worker took it).',
    labelNames: ['schedule', 'task', 'queue'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await schedules()) if (s.next !== undefined) this.set(labels(s), s.next / 1_000);
    },
  });
  new Gauge({
    name: 'taskhub_schedule_last_run_timestamp_seconds',
    help: "When the latest attempt of each schedule entry's last run started (Unix time).",
    labelNames: ['schedule', 'task', 'queue'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await schedules()) if (s.lastRun) this.set(labels(s), s.lastRun.at / 1_000);
    },
  });
  new Gauge({
    name: 'taskhub_schedule_last_run_outcome',
    help: "How each schedule entry's last run ended: 1 for its outcome (completed, failed, retrying), 0 for the others.",
    labelNames: ['schedule', 'task', 'queue', 'outcome'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await schedules()) {
        if (s.lastRun) for (const outcome of RUN_OUTCOMES) this.set({ ...labels(s), outcome }, s.lastRun.outcome === outcome ? 1 : 0);
      }
    },
  });

  let memory: Promise<{ used: number; max: number }> | undefined;
  const readMemory = () => {
    memory ??= redisMemory(redis).finally(() => setImmediate(() => (memory = undefined)));
    return memory;
  };
  new Gauge({
    name: 'taskhub_redis_memory_used_bytes',
    help: "Redis used_memory: what the hub's Redis holds now.",
    registers: [registry],
    async collect() {
      this.set((await readMemory()).used);
    },
  });
  new Gauge({
    name: 'taskhub_redis_memory_max_bytes',
    help: 'Redis maxmemory: where writes (enqueues) start failing under noeviction; 0 when no limit is set.',
    registers: [registry],
    async collect() {
      this.set((await readMemory()).max);
    },
  });
};
