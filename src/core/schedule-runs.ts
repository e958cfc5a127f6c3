/**
 * The last run of each schedule entry, as the workers saw it: one hash in the metrics' hash slot,
 * field = entry id, value = `<started at, ms>|<outcome>`. Workers batch their updates with the
 * task metrics (no Redis round trip per job); the dashboard joins it with the schedulers in Redis.
 */
export const scheduleRunsKey = (hubPrefix: string): string => `{${hubPrefix}-metrics}:schedules`;

/** How the run's latest attempt ended: done, failed for good, or failed and will be retried. */
export const RUN_OUTCOMES = ['completed', 'failed', 'retrying'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

export interface ScheduleRun {
  at: number;
  outcome: RunOutcome;
}

/**
 * Sets each entry's last run unless the hash already holds a later one: replicas flush in any
 * order, and an older run must not replace a newer one. ARGV: id, at, outcome, id, at, outcome...
 */
export const RECORD_RUNS_SCRIPT = `
for i = 1, #ARGV, 3 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local at = current and tonumber(string.match(current, '^(%d+)|')) or nil
  if not at or at <= tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1] .. '|' .. ARGV[i + 2])
  end
end
return 1`;

export const parseScheduleRuns = (hash: Record<string, string>): Map<string, ScheduleRun> => {
  const runs = new Map<string, ScheduleRun>();
  for (const [id, value] of Object.entries(hash)) {
    const m = /^(\d+)\|([a-z]+)$/.exec(value);
    if (m && (RUN_OUTCOMES as readonly string[]).includes(m[2]!)) runs.set(id, { at: Number(m[1]), outcome: m[2] as RunOutcome });
  }
  return runs;
};
