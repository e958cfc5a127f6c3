import { catalog, type AnyContract } from '../contracts/index.ts';
import { ERROR_CLASSES, type ErrorClass } from './failure-record.ts';

/**
 * Per-task counters every worker replica adds to one Redis hash, so one dashboard scrape sees
 * the whole fleet. Workers batch in memory and flush with one pipeline every few seconds
 * (no Redis round trip per job); the dashboard reads the hash with one HGETALL per scrape.
 *
 * Fields: `<series>|ok`, `<series>|f:<class>` (finished attempts; failures per class; a job that
 * expired counts once as class `expired`, whether nothing ran or its retry would have started too late),
 * `<series>|b<i>` (attempts whose duration fell in bucket i, not cumulative; `b<n>` is +Inf),
 * `<series>|sum` (seconds, float), `<series>|w<i>` and `<series>|wsum` (the same for the time
 * first attempts waited in the queue). A series is a task name, or `_unknown@<queue>` (seriesOf).
 * `<series>|fail` (failures before classes were counted) reads as class `unclassified`.
 */
export const taskMetricsKey = (hubPrefix: string): string => `{${hubPrefix}-metrics}:tasks`;

/** Upper bounds in seconds, Prometheus-style `le`. */
export const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;
/** Time in the queue, from enqueue (or the end of its delay) to its start: milliseconds to an hour. */
export const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600] as const;

/** Failure classes are the dead-letter classes (failure-record.ts): one classifier for both. */
export { ERROR_CLASSES as FAILURE_CLASSES, errorClassOf as failureClassOf } from './failure-record.ts';
export type FailureClass = ErrorClass | (string & {});
const LEGACY_FAILURES = 'unclassified';

/**
 * How long a job waited before its first attempt started: from enqueue, or from the end of its
 * delay (a scheduled run's planned time), to the start. The delay is read from the options:
 * BullMQ zeroes the job's `delay` field when it promotes it. Clocks of the enqueuing host and
 * the worker may differ, so never below 0.
 */
export const queueWaitMs = (job: { timestamp: number; opts: { delay?: number }; processedOn?: number }): number | undefined =>
  job.processedOn ? Math.max(0, job.processedOn - job.timestamp - (job.opts.delay ?? 0)) : undefined;

/** Job names outside the catalog (plain BullMQ clients, typos) share one label value per queue. */
export const UNKNOWN_TASK = '_unknown';
const UNKNOWN_ON = `${UNKNOWN_TASK}@`;
const contracts = catalog as Record<string, AnyContract>;

export const bucketIndex = (seconds: number, bounds: readonly number[] = DURATION_BUCKETS): number => {
  const i = bounds.findIndex((le) => seconds <= le);
  return i === -1 ? bounds.length : i;
};

export const field = {
  ok: (series: string) => `${series}|ok`,
  failed: (series: string, failure: FailureClass) => `${series}|f:${failure}`,
  bucket: (series: string, i: number) => `${series}|b${i}`,
  sum: (series: string) => `${series}|sum`,
  waitBucket: (series: string, i: number) => `${series}|w${i}`,
  waitSum: (series: string) => `${series}|wsum`,
};

export interface TaskStats {
  completed: number;
  /** Failed attempts per failure class. */
  failed: Record<string, number>;
  /** Non-cumulative counts, one per DURATION_BUCKETS entry plus +Inf. */
  buckets: number[];
  sumSeconds: number;
  /** Non-cumulative counts, one per WAIT_BUCKETS entry plus +Inf. */
  waitBuckets: number[];
  waitSumSeconds: number;
}

/** One zero per bound plus +Inf. */
export const emptyBuckets = (bounds: readonly number[] = DURATION_BUCKETS): number[] => Array.from({ length: bounds.length + 1 }, () => 0);

const noFailures = (): Record<string, number> => Object.fromEntries(ERROR_CLASSES.map((c) => [c, 0]));

export const emptyStats = (): TaskStats => ({
  completed: 0,
  failed: noFailures(),
  buckets: emptyBuckets(),
  sumSeconds: 0,
  waitBuckets: emptyBuckets(WAIT_BUCKETS),
  waitSumSeconds: 0,
});

/** HGETALL reply -> stats per series. Unparseable fields are skipped, not fatal. */
export const parseTaskMetrics = (hash: Record<string, string>): Map<string, TaskStats> => {
  const out = new Map<string, TaskStats>();
  for (const [key, raw] of Object.entries(hash)) {
    const bar = key.lastIndexOf('|');
    const value = Number(raw);
    if (bar <= 0 || !Number.isFinite(value)) continue;
    const series = key.slice(0, bar);
    const kind = key.slice(bar + 1);
    const stats = out.get(series) ?? emptyStats();
    out.set(series, stats);
    if (kind === 'ok') stats.completed = value;
    else if (kind.startsWith('f:') && /^f:[a-z][a-z_-]{0,30}$/.test(kind)) stats.failed[kind.slice(2)] = value;
    else if (kind === 'fail') stats.failed[LEGACY_FAILURES] = value;
    else if (kind === 'sum') stats.sumSeconds = value;
    else if (kind === 'wsum') stats.waitSumSeconds = value;
    else if (/^[bw]\d+$/.test(kind)) {
      const into = kind[0] === 'b' ? stats.buckets : stats.waitBuckets;
      const i = Number(kind.slice(1));
      if (i < into.length) into[i] = value;
    }
  }
  return out;
};

/**
 * The series an attempt counts in: its task, or `_unknown@<queue>` when no task of that name runs
 * on the queue it was on, so the queue label stays true and the label values stay bounded.
 */
export const seriesOf = (task: string, queue: string): string =>
  Object.hasOwn(contracts, task) && contracts[task]!.queue === queue ? task : UNKNOWN_ON + queue;

/** Every catalog task (zeros before its first run, so rates work at once), then each unknown series seen. */
export const seriesToReport = (stats: ReadonlyMap<string, TaskStats>): { task: string; queue: string; stats: TaskStats }[] => [
  ...Object.values(contracts).map((c) => ({ task: c.name, queue: c.queue, stats: stats.get(c.name) ?? emptyStats() })),
  ...[...stats]
    .filter(([series]) => series.startsWith(UNKNOWN_ON))
    .map(([series, s]) => ({ task: UNKNOWN_TASK, queue: series.slice(UNKNOWN_ON.length), stats: s })),
];
