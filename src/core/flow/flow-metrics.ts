import type { RedisClient } from '../redis.ts';
import type { Logger } from '../logger.ts';
import { flowMetricsKey } from './keys.ts';

/** Upper bounds in seconds of the token wait histogram. */
export const WAIT_BUCKETS = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

const waitBucket = (seconds: number): number => {
  const i = WAIT_BUCKETS.findIndex((le) => seconds <= le);
  return i === -1 ? WAIT_BUCKETS.length : i;
};

/**
 * Fields of the fleet-wide flow hash: `svc|<service>|<counter>`, `key|<task>|<counter>`,
 * `pool|<pool>|<counter>`. Counters: calls, waited (calls that waited for their turn), w<i> (calls
 * whose wait fell in bucket i, not cumulative), wait_sum (seconds), throttled (429/503 with
 * Retry-After), deferred (jobs sent back to delayed), late (turns given up because the worker woke
 * too late to use them), leases.
 */
export const flowField = (kind: 'svc' | 'key' | 'pool', name: string, counter: string): string => `${kind}|${name}|${counter}`;

export interface FlowMetrics {
  /** One call that took a token (or an in-flight place), after waiting `waitMs`. */
  call(service: string, waitMs: number): void;
  count(kind: 'svc' | 'key' | 'pool', name: string, counter: 'throttled' | 'deferred' | 'leases' | 'waited' | 'late'): void;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Counts in memory, added to the hash with one pipeline every `flushEveryMs` (like the task
 * metrics recorder): a call never waits on Redis for its metrics. A failed flush keeps its
 * counts for the next.
 */
export const startFlowMetrics = (redis: RedisClient, hubPrefix: string, log: Logger, flushEveryMs = 5_000): FlowMetrics => {
  const key = flowMetricsKey(hubPrefix);
  let pending = new Map<string, number>();
  let inFlight: Promise<void> | undefined;
  const add = (field: string, n: number) => pending.set(field, (pending.get(field) ?? 0) + n);

  const flushOnce = async () => {
    if (!pending.size) return;
    const batch = pending;
    pending = new Map();
    const pipeline = redis.pipeline();
    for (const [field, n] of batch) {
      if (field.endsWith('_sum')) pipeline.hincrbyfloat(key, field, n);
      else pipeline.hincrby(key, field, n);
    }
    try {
      const replies = (await pipeline.exec()) ?? [];
      const failed = replies.find(([err]) => err);
      if (failed) throw failed[0];
    } catch (err) {
      for (const [field, n] of batch) add(field, n);
      log.warn({ err: (err as Error).message }, 'could not flush flow metrics; will retry');
    }
  };
  const flush = () => (inFlight ??= flushOnce().finally(() => (inFlight = undefined)));
  const timer = setInterval(() => void flush(), flushEveryMs);
  timer.unref();

  return {
    call(service, waitMs) {
      const seconds = waitMs / 1_000;
      add(flowField('svc', service, 'calls'), 1);
      if (waitMs > 0) add(flowField('svc', service, 'waited'), 1);
      add(flowField('svc', service, `w${waitBucket(seconds)}`), 1);
      add(flowField('svc', service, 'wait_sum'), seconds);
    },
    count(kind, name, counter) {
      add(flowField(kind, name, counter), 1);
    },
    flush,
    async stop() {
      clearInterval(timer);
      await inFlight;
      await Promise.race([flush(), new Promise((r) => setTimeout(r, 2_000).unref())]);
    },
  };
};

export interface ServiceFlowStats {
  calls: number;
  waited: number;
  late: number;
  throttled: number;
  deferred: number;
  /** Non-cumulative, one per WAIT_BUCKETS entry plus +Inf. */
  buckets: number[];
  waitSeconds: number;
}

export interface FlowStats {
  services: Map<string, ServiceFlowStats>;
  keys: Map<string, { deferred: number }>;
  pools: Map<string, { leases: number; waited: number; deferred: number }>;
}

/** HGETALL of the flow hash -> counts per service, keyed task and pool. */
export const parseFlowMetrics = (hash: Record<string, string>): FlowStats => {
  const stats: FlowStats = { services: new Map(), keys: new Map(), pools: new Map() };
  for (const [field, raw] of Object.entries(hash)) {
    const [kind, name, counter] = field.split('|');
    const value = Number(raw);
    if (!name || !counter || !Number.isFinite(value)) continue;
    if (kind === 'svc') {
      let s = stats.services.get(name);
      if (!s) stats.services.set(name, (s = { calls: 0, waited: 0, throttled: 0, deferred: 0, late: 0, buckets: WAIT_BUCKETS.map(() => 0).concat(0), waitSeconds: 0 }));
      if (counter === 'wait_sum') s.waitSeconds = value;
      else if (/^w\d+$/.test(counter)) {
        const i = Number(counter.slice(1));
        if (i < s.buckets.length) s.buckets[i] = value;
      } else if (counter in s) (s as unknown as Record<string, number>)[counter] = value;
    } else if (kind === 'key' && counter === 'deferred') stats.keys.set(name, { deferred: value });
    else if (kind === 'pool') {
      let p = stats.pools.get(name);
      if (!p) stats.pools.set(name, (p = { leases: 0, waited: 0, deferred: 0 }));
      if (counter in p) (p as Record<string, number>)[counter] = value;
    }
  }
  return stats;
};
