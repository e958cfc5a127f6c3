import { Queue } from 'bullmq';
import type { RedisClient } from '../core/redis.ts';
import { queues as queueSpecs } from '../../queues.config.ts';
import { loadSchedule } from '../beat/load-schedule.ts';
import { planEntries, type PlannedEntry } from '../beat/plan-entries.ts';
import { queuePrefix } from '../core/keys.ts';
import { createProducer, type Producer } from '../producer/index.ts';

export interface ControlOptions {
  /** Fail-fast (producer role) connection; not closed by close(). */
  connection: RedisClient;
  prefix: string;
  /** Queues the caller already holds (the dashboard's); others are opened on first use. */
  queues?: ReadonlyMap<string, Queue>;
  /** Producers the caller already holds, by service. */
  producerFor?: (service: string) => Producer;
  /** The schedule entries as written (tests); else `schedulePath`'s module (BEAT_SCHEDULE), else schedule.ts. */
  schedule?: readonly unknown[];
  schedulePath?: string;
  /** BEAT_LOCK_MS: how long pause/resume wait for a reconciling beat. */
  beatLockMs?: number;
}

/**
 * What every control operation works with, whoever calls it (the HTTP API, the board's control
 * page, the CLI): one Redis connection, the hub's queues, the schedule as beat plans it.
 */
export interface Control {
  redis: RedisClient;
  prefix: string;
  queueNames: readonly string[];
  queue(name: string): Queue;
  producer(service: string): Producer;
  schedule(): Promise<PlannedEntry[]>;
  beatLockMs: number;
  close(): Promise<void>;
}

export const createControl = (opts: ControlOptions): Control => {
  const { connection, prefix } = opts;
  const opened = new Map<string, Queue>();
  const producers = new Map<string, Producer>();
  let planned: Promise<PlannedEntry[]> | undefined;
  return {
    redis: connection,
    prefix,
    queueNames: Object.keys(queueSpecs),
    beatLockMs: opts.beatLockMs ?? 15_000,
    queue(name) {
      let q = opts.queues?.get(name) ?? opened.get(name);
      if (!q) {
        q = new Queue(name, { connection, prefix: queuePrefix(prefix, name) });
        q.on('error', () => {});
        opened.set(name, q);
      }
      return q;
    },
    producer(service) {
      if (opts.producerFor) return opts.producerFor(service);
      let p = producers.get(service);
      if (!p) producers.set(service, (p = createProducer({ connection, prefix, service })));
      return p;
    },
    schedule() {
      planned ??= (async () => {
        const { entries, source } = opts.schedule ? { entries: opts.schedule, source: 'schedule' } : await loadSchedule(opts.schedulePath);
        return planEntries(entries, source);
      })();
      return planned;
    },
    async close() {
      await Promise.all([...producers.values()].map((p) => p.close()));
      await Promise.all([...opened.values()].map((q) => q.close()));
    },
  };
};
