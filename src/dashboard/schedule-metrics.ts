import type { Queue } from 'bullmq';
import type { RedisClient } from '../core/redis.ts';
import { parseScheduleRuns, RUN_OUTCOMES, scheduleRunsKey, type ScheduleRun } from '../core/schedule-runs.ts';

export interface ScheduleState {
  schedule: string;
  task: string;
  queue: string;
  /** When the scheduler fires next (ms); in the past when its pending job is overdue. */
  next?: number;
  lastRun?: ScheduleRun;
}

/**
 * Every job scheduler on the hub's queues (beat's entries and any other), with the last run the
 * workers recorded for it. Entries removed from Redis drop out of the metrics with it.
 */
export const scheduleStates = async (redis: RedisClient, prefix: string, queues: readonly Queue[]): Promise<ScheduleState[]> => {
  const [runs, perQueue] = await Promise.all([
    redis.hgetall(scheduleRunsKey(prefix)).then(parseScheduleRuns),
    Promise.all(queues.map((q) => q.getJobSchedulers(0, -1, true))),
  ]);
  return queues.flatMap((q, i) =>
    perQueue[i]!.filter((s) => s.key).map((s) => {
      const state: ScheduleState = { schedule: s.key, task: s.name, queue: q.name };
      if (s.next) state.next = s.next;
      const run = runs.get(s.key);
      if (run) state.lastRun = run;
      return state;
    }),
  );
};

export { RUN_OUTCOMES };
