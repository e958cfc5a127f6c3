import type { PlannedEntry } from '../beat/plan-entries.ts';
import { didYouMean } from '../core/did-you-mean.ts';
import { lastRunKey, parseLastRun, pausedKey, type LastRun } from '../core/schedule-state.ts';
import type { Control } from './control.ts';
import { NotFoundError } from './errors.ts';

export interface ScheduleRow {
  id: string;
  task: string;
  queue: string;
  cron?: string;
  tz?: string;
  everyMs?: number;
  noOverlap: boolean;
  paused: boolean;
  /** Its scheduler is in Redis (beat has reconciled it, and it is not paused). */
  scheduled: boolean;
  /** Epoch ms of the next run, while scheduled. */
  nextRunAt?: number;
  lastRun?: LastRun;
}

export const findEntry = async (ctl: Control, id: string): Promise<PlannedEntry> => {
  const entries = await ctl.schedule();
  const entry = entries.find((e) => e.id === id);
  if (!entry) {
    const shown = String(id).slice(0, 100);
    throw new NotFoundError('schedule_not_found', `unknown schedule "${shown}"${didYouMean(shown, entries.map((e) => e.id))} (see GET /api/v1/schedules or task-hub schedules)`);
  }
  return entry;
};

/** Every entry of the schedule as beat plans it, with what Redis says about it. */
export const listSchedules = async (ctl: Control): Promise<ScheduleRow[]> => {
  const entries = await ctl.schedule();
  const queues = [...new Set(entries.map((e) => e.queue))];
  const state = new Map(
    await Promise.all(
      queues.map(async (q) => {
        const [paused, last] = await Promise.all([ctl.redis.smembers(pausedKey(ctl.prefix, q)), ctl.redis.hgetall(lastRunKey(ctl.prefix, q))]);
        return [q, { paused: new Set(paused), last }] as const;
      }),
    ),
  );
  return Promise.all(
    entries.map(async (e): Promise<ScheduleRow> => {
      const s = state.get(e.queue)!;
      const scheduler = await ctl.queue(e.queue).getJobScheduler(e.id);
      const lastRun = parseLastRun(s.last[e.id]);
      return {
        id: e.id,
        task: e.task,
        queue: e.queue,
        ...(e.repeat.pattern ? { cron: e.repeat.pattern, tz: e.repeat.tz ?? 'UTC' } : { everyMs: e.repeat.every }),
        noOverlap: e.noOverlap,
        paused: s.paused.has(e.id),
        scheduled: Boolean(scheduler),
        ...(scheduler?.next ? { nextRunAt: scheduler.next } : {}),
        ...(lastRun ? { lastRun } : {}),
      };
    }),
  );
};
