import type { Redis } from 'ioredis';
import { catalog } from '../contracts/index.ts';
import type { Logger } from '../core/logger.ts';
import { createRedis } from '../core/redis.ts';
import { UNKNOWN_TASK, bucketIndex, emptyBuckets, field, taskMetricsKey } from '../core/task-metrics.ts';
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

/** One task's counts since the last flush; buckets as in DURATION_BUCKETS plus +Inf. */
interface Deltas {
  ok: number;
  fail: number;
  sum: number;
  buckets: number[];
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
  let pending = new Map<string, Deltas>();
  let inFlight: Promise<void> | undefined;
  let warned = false;

  const deltasOf = (map: Map<string, Deltas>, name: string): Deltas => {
    let deltas = map.get(name);
    if (!deltas) map.set(name, (deltas = { ok: 0, fail: 0, sum: 0, buckets: emptyBuckets() }));
    return deltas;
  };

  const flushOnce = async () => {
    if (!pending.size) return;
    const batch = pending;
    pending = new Map();
    const pipeline = redis.pipeline();
    for (const [name, d] of batch) {
      if (d.ok) pipeline.hincrby(key, field.ok(name), d.ok);
      if (d.fail) pipeline.hincrby(key, field.fail(name), d.fail);
      d.buckets.forEach((n, i) => n && pipeline.hincrby(key, field.bucket(name, i), n));
      pipeline.hincrbyfloat(key, field.sum(name), d.sum);
    }
    try {
      const replies = (await pipeline.exec()) ?? [];
      const failed = replies.find(([err]) => err);
      if (failed) throw failed[0];
      warned = false;
    } catch (err) {
      // Partial application is possible but rare; re-adding is the lesser error (counters only grow).
      for (const [name, d] of batch) {
        const into = deltasOf(pending, name);
        into.ok += d.ok;
        into.fail += d.fail;
        into.sum += d.sum;
        d.buckets.forEach((n, i) => (into.buckets[i]! += n));
      }
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
      // Plain counters on one object per task: no field names or map entries per job.
      const d = deltasOf(pending, Object.hasOwn(catalog, task) ? task : UNKNOWN_TASK);
      const seconds = durationMs / 1_000;
      if (ok) d.ok++;
      else d.fail++;
      d.buckets[bucketIndex(seconds)]!++;
      d.sum += seconds;
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
