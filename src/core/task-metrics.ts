/**
 * Per-task counters every worker replica adds to one Redis hash, so one dashboard scrape sees
 * the whole fleet. Workers batch in memory and flush with one pipeline every few seconds
 * (no Redis round trip per job); the dashboard reads the hash with one HGETALL per scrape.
 *
 * Fields: `<task>|ok`, `<task>|fail` (finished attempts), `<task>|b<i>` (attempts whose duration
 * fell in bucket i, not cumulative; `b<n>` is +Inf), `<task>|sum` (seconds, float).
 */
export const taskMetricsKey = (hubPrefix: string): string => `{${hubPrefix}-metrics}:tasks`;

/** Upper bounds in seconds, Prometheus-style `le`. */
export const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;

/** Job names outside the catalog (plain BullMQ clients, typos) share one label value. */
export const UNKNOWN_TASK = '_unknown';

export const bucketIndex = (seconds: number): number => {
  const i = DURATION_BUCKETS.findIndex((le) => seconds <= le);
  return i === -1 ? DURATION_BUCKETS.length : i;
};

export const field = {
  ok: (task: string) => `${task}|ok`,
  fail: (task: string) => `${task}|fail`,
  bucket: (task: string, i: number) => `${task}|b${i}`,
  sum: (task: string) => `${task}|sum`,
};

export interface TaskStats {
  completed: number;
  failed: number;
  /** Non-cumulative counts, one per DURATION_BUCKETS entry plus +Inf. */
  buckets: number[];
  sumSeconds: number;
}

/** One zero per DURATION_BUCKETS entry plus +Inf. */
export const emptyBuckets = (): number[] => Array.from({ length: DURATION_BUCKETS.length + 1 }, () => 0);

export const emptyStats = (): TaskStats => ({ completed: 0, failed: 0, buckets: emptyBuckets(), sumSeconds: 0 });

/** HGETALL reply -> stats per task name. Unparseable fields are skipped, not fatal. */
export const parseTaskMetrics = (hash: Record<string, string>): Map<string, TaskStats> => {
  const out = new Map<string, TaskStats>();
  for (const [key, raw] of Object.entries(hash)) {
    const bar = key.lastIndexOf('|');
    const value = Number(raw);
    if (bar <= 0 || !Number.isFinite(value)) continue;
    const task = key.slice(0, bar);
    const kind = key.slice(bar + 1);
    const stats = out.get(task) ?? emptyStats();
    out.set(task, stats);
    if (kind === 'ok') stats.completed = value;
    else if (kind === 'fail') stats.failed = value;
    else if (kind === 'sum') stats.sumSeconds = value;
    else if (/^b\d+$/.test(kind)) {
      const i = Number(kind.slice(1));
      if (i < stats.buckets.length) stats.buckets[i] = value;
    }
  }
  return out;
};
