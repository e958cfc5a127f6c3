import type { RedisClient } from './redis.ts';
import { queuePrefix } from './keys.ts';

/**
 * What the hub keeps about schedule entries besides BullMQ's schedulers, each under the entry's
 * queue's hash tag: the entries an operator paused (beat keeps their schedulers away) and each
 * entry's last run (written by the worker when a job fired by the entry finishes).
 */
export const pausedKey = (hubPrefix: string, queue: string): string => `${queuePrefix(hubPrefix, queue)}:hub-beat:paused`;
export const lastRunKey = (hubPrefix: string, queue: string): string => `${queuePrefix(hubPrefix, queue)}:hub-beat:last`;
/** Beat reconciles under this lock; pausing and resuming take it too, so neither undoes the other. */
export const beatLockKey = (hubPrefix: string): string => `${queuePrefix(hubPrefix, 'beat')}:lock`;

export type RunOutcome = 'completed' | 'failed' | 'retrying' | 'skipped';

export interface LastRun {
  jobId: string;
  /** Epoch ms when the attempt ended. */
  at: number;
  outcome: RunOutcome;
  attempt: number;
  /** The failure's message, clipped. */
  error?: string;
}

/** One HSET, for jobs fired by a schedule entry only. */
export const recordLastRun = (redis: RedisClient, hubPrefix: string, queue: string, schedule: string, run: LastRun): Promise<number> =>
  redis.hset(lastRunKey(hubPrefix, queue), schedule, JSON.stringify(run.error && run.error.length > 300 ? { ...run, error: `${run.error.slice(0, 300)}…` } : run));

export const parseLastRun = (raw: string | null | undefined): LastRun | undefined => {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as LastRun;
  } catch {
    return undefined;
  }
};
