/** The shape of queues.config.ts: plain data the producer and the worker both read. */
export interface BackoffPolicy {
  type: 'exponential' | 'fixed';
  /** First retry delay in ms (exponential doubles it each attempt). */
  delay: number;
  /** 0..1: the share of each delay that is randomised, so failed jobs do not retry in lock-step. */
  jitter?: number;
}

export interface RetryPolicy {
  attempts: number;
  backoff: BackoffPolicy;
}

/** Keep finished jobs for `age` seconds, at most `count` of them (BullMQ KeepJobs). */
export interface Retention {
  age: number;
  count: number;
}

export interface QueueSpec {
  description: string;
  /** Jobs one worker replica runs at once on this queue. */
  concurrency: number;
  /** Global across every worker replica (BullMQ's limiter lives in Redis). */
  limiter?: { max: number; duration: number };
  retry: RetryPolicy;
  keepCompleted: Retention;
  keepFailed: Retention;
  /** How long a worker holds a job before it counts as stalled; renewed at half of it. */
  lockDurationMs?: number;
  /** A job that stalls more often than this fails instead of running again. */
  maxStalledCount?: number;
  /** How often each worker looks for jobs whose lock expired (a crashed or frozen worker's). */
  stalledIntervalMs?: number;
  /**
   * Run this queue's jobs in child processes (BullMQ sandboxed processors). For CPU-bound
   * tasks: a handler that blocks the event loop past lockDurationMs would otherwise lose its
   * lock and run twice, and a crash takes down only the child and that one job.
   */
  sandboxed?: boolean;
}

export const QUEUE_NAME = /^[a-z][a-z0-9-]{0,40}$/;

export const defineQueues = <const Q extends Record<string, QueueSpec>>(queues: Q): Q => {
  for (const name of Object.keys(queues)) {
    if (!QUEUE_NAME.test(name)) throw new Error(`queues.config.ts: queue name "${name}" must match ${QUEUE_NAME}`);
  }
  return queues;
};
