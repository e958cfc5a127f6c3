import type { Redis } from 'ioredis';
import { catalog } from '../contracts/index.ts';
import type { Logger } from '../core/logger.ts';
import { createRedis } from '../core/redis.ts';
import { DURATION_BUCKETS, UNKNOWN_TASK, bucketIndex, field, taskMetricsKey } from '../core/task-metrics.ts';
import type { JobOutcome } from './dispatch.ts';

export interface MetricsRecorderOptions {
  redisUrl?: string;
  /** Use this connection instead of opening one (it is not closed on stop). */
  connection?: Redis;
  prefix: string;
  log: Logger;
  flushEveryMs?: number;
  /** How long stop() waits for the last flush when Redis is slow or down. */
  stopTimeoutMs?: number;
}

export interface MetricsRecorder {
  record(outcome: JobOutcome): void;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Accumulates per-task outcomes in memory and adds them to the fleet-wide hash in one pipeline
 * every `flushEveryMs`: the job hot path never waits on Redis. A failed flush keeps its deltas
 * for the next one, so a Redis blip loses nothing.
 */
export const startMetricsRecorder = (opts: MetricsRecorderOptions): MetricsRecorder => {
  const { log, flushEveryMs = 5_000, stopTimeoutMs = 2_000 } = opts;
  const redis = opts.connection ?? createRedis(opts.redisUrl!, 'worker', { onError: (m) => log.warn(m) });
  const key = taskMetricsKey(opts.prefix);
  let counts = new Map<string, number>();
  let sums = new Map<string, number>();
  let inFlight: Promise<void> | undefined;
  let warned = false;

  const add = (map: Map<string, number>, f: string, by: number) => map.set(f, (map.get(f) ?? 0) + by);

  // Field names per task (catalog names and UNKNOWN_TASK only), built once: record() runs per job.
  const fieldsByTask = new Map<string, ReturnType<typeof fieldsOf>>();
  const fieldsOf = (name: string) => ({
    ok: field.ok(name),
    fail: field.fail(name),
    sum: field.sum(name),
    buckets: Array.from({ length: DURATION_BUCKETS.length + 1 }, (_, i) => field.bucket(name, i)),
  });
  const fieldsFor = (task: string) => {
    const name = Object.hasOwn(catalog, task) ? task : UNKNOWN_TASK;
    let fields = fieldsByTask.get(name);
    if (!fields) fieldsByTask.set(name, (fields = fieldsOf(name)));
    return fields;
  };

  const flushOnce = async () => {
    if (!counts.size && !sums.size) return;
    const [c, s] = [counts, sums];
    counts = new Map();
    sums = new Map();
    const pipeline = redis.pipeline();
    for (const [f, by] of c) pipeline.hincrby(key, f, by);
    for (const [f, by] of s) pipeline.hincrbyfloat(key, f, by);
    try {
      const replies = (await pipeline.exec()) ?? [];
      const failed = replies.find(([err]) => err);
      if (failed) throw failed[0];
      warned = false;
    } catch (err) {
      // Partial application is possible but rare; re-adding is the lesser error (counters only grow).
      for (const [f, by] of c) add(counts, f, by);
      for (const [f, by] of s) add(sums, f, by);
      if (!warned) log.warn({ err: (err as Error).message }, 'could not flush task metrics; will retry');
      warned = true;
    }
  };

  const flush = (): Promise<void> => {
    inFlight ??= flushOnce().finally(() => (inFlight = undefined));
    return inFlight;
  };

  const timer = setInterval(() => void flush(), flushEveryMs);
  timer.unref();

  return {
    record({ task, ok, durationMs }) {
      const fields = fieldsFor(task);
      const seconds = durationMs / 1_000;
      add(counts, ok ? fields.ok : fields.fail, 1);
      add(counts, fields.buckets[bucketIndex(seconds)]!, 1);
      add(sums, fields.sum, seconds);
    },
    flush,
    async stop() {
      clearInterval(timer);
      const last = (async () => {
        await inFlight;
        await flush();
      })();
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([last, new Promise((r) => (timeout = setTimeout(r, stopTimeoutMs)))]);
      clearTimeout(timeout);
      if (!opts.connection) redis.disconnect();
    },
  };
};
