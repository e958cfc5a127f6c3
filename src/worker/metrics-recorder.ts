import type { Logger } from '../core/logger.ts';
import { createRedis, type RedisClient, type RedisTarget } from '../core/redis.ts';
import { RECORD_RUNS_SCRIPT, scheduleRunsKey, type ScheduleRun } from '../core/schedule-runs.ts';
import { bucketIndex, emptyBuckets, field, seriesOf, taskMetricsKey, WAIT_BUCKETS } from '../core/task-metrics.ts';
import type { JobOutcome } from './dispatch.ts';

export interface MetricsRecorderOptions {
  /** A URL or a cluster target. */
  redisUrl?: RedisTarget;
  /** Use this connection instead of opening one (it is not closed on stop). */
  connection?: RedisClient;
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

/** One series' counts since the last flush; buckets as in DURATION_BUCKETS / WAIT_BUCKETS plus +Inf. */
interface Deltas {
  ok: number;
  failed: Record<string, number>;
  sum: number;
  buckets: number[];
  waits: number[] | undefined;
  waitSum: number;
}

const newDeltas = (): Deltas => ({ ok: 0, failed: {}, sum: 0, buckets: emptyBuckets(), waits: undefined, waitSum: 0 });

/**
 * Accumulates per-series outcomes in memory and adds them to the fleet-wide hash in one pipeline
 * every `flushEveryMs`: the job hot path never waits on Redis. A failed flush keeps its deltas
 * for the next one, so a Redis blip loses nothing. Runs of schedule entries go out in the same
 * pipeline (a later run wins, whichever replica flushes first).
 */
export const startMetricsRecorder = (opts: MetricsRecorderOptions): MetricsRecorder => {
  const { log, flushEveryMs = 5_000, stopTimeoutMs = 2_000 } = opts;
  const redis = opts.connection ?? createRedis(opts.redisUrl!, 'worker', { onError: (m) => log.warn(m) });
  const key = taskMetricsKey(opts.prefix);
  const runsKey = scheduleRunsKey(opts.prefix);
  let pending = new Map<string, Deltas>();
  let runs = new Map<string, ScheduleRun>();
  let inFlight: Promise<void> | undefined;
  let warned = false;

  const deltasOf = (map: Map<string, Deltas>, name: string): Deltas => {
    let deltas = map.get(name);
    if (!deltas) map.set(name, (deltas = newDeltas()));
    return deltas;
  };

  const merge = (batch: Map<string, Deltas>, batchRuns: Map<string, ScheduleRun>) => {
    for (const [name, d] of batch) {
      const into = deltasOf(pending, name);
      into.ok += d.ok;
      for (const [failure, n] of Object.entries(d.failed)) into.failed[failure] = (into.failed[failure] ?? 0) + n;
      into.sum += d.sum;
      d.buckets.forEach((n, i) => (into.buckets[i]! += n));
      if (d.waits) {
        into.waits ??= emptyBuckets(WAIT_BUCKETS);
        d.waits.forEach((n, i) => (into.waits![i]! += n));
        into.waitSum += d.waitSum;
      }
    }
    for (const [id, run] of batchRuns) if ((runs.get(id)?.at ?? -1) <= run.at) runs.set(id, run);
  };

  const flushOnce = async () => {
    if (!pending.size && !runs.size) return;
    const batch = pending;
    const batchRuns = runs;
    pending = new Map();
    runs = new Map();
    const pipeline = redis.pipeline();
    for (const [name, d] of batch) {
      if (d.ok) pipeline.hincrby(key, field.ok(name), d.ok);
      for (const [failure, n] of Object.entries(d.failed)) pipeline.hincrby(key, field.failed(name, failure), n);
      d.buckets.forEach((n, i) => n && pipeline.hincrby(key, field.bucket(name, i), n));
      pipeline.hincrbyfloat(key, field.sum(name), d.sum);
      if (d.waits) {
        d.waits.forEach((n, i) => n && pipeline.hincrby(key, field.waitBucket(name, i), n));
        pipeline.hincrbyfloat(key, field.waitSum(name), d.waitSum);
      }
    }
    if (batchRuns.size) pipeline.eval(RECORD_RUNS_SCRIPT, 1, runsKey, ...[...batchRuns].flatMap(([id, r]) => [id, r.at, r.outcome]));
    try {
      const replies = (await pipeline.exec()) ?? [];
      const failed = replies.find(([err]) => err);
      if (failed) throw failed[0];
      warned = false;
    } catch (err) {
      // Partial application is possible but rare; re-adding is the lesser error (counters only grow).
      merge(batch, batchRuns);
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
    record({ task, queue, ok, durationMs, failure, waitMs, schedule, expired }) {
      // Plain counters on one object per series: no field names or map entries per job.
      const d = deltasOf(pending, seriesOf(task, queue));
      if (expired) {
        // Counted as a failure of class `expired`, not as an attempt: nothing ran, or no retry will.
        d.failed.expired = (d.failed.expired ?? 0) + 1;
        return;
      }
      const seconds = durationMs / 1_000;
      if (ok) d.ok++;
      else {
        const cls = failure ?? 'retryable';
        d.failed[cls] = (d.failed[cls] ?? 0) + 1;
      }
      d.buckets[bucketIndex(seconds)]!++;
      d.sum += seconds;
      if (waitMs !== undefined) {
        const waited = waitMs / 1_000;
        (d.waits ??= emptyBuckets(WAIT_BUCKETS))[bucketIndex(waited, WAIT_BUCKETS)]!++;
        d.waitSum += waited;
      }
      if (schedule) runs.set(schedule.id, { at: schedule.startedAt, outcome: ok ? 'completed' : schedule.final ? 'failed' : 'retrying' });
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
