import { Backoffs, UnrecoverableError, type Job } from 'bullmq';
import type { AnyContract } from '../contracts/index.ts';
import { JobExpiredError } from '../core/errors.ts';
import { storedExpiryOf } from '../core/job-meta.ts';
import type { Registry } from './registry.ts';

/**
 * Expiry on the worker side: a job that has not started by its expiry fails as expired without
 * running, and so does one whose retry would start after it. Checked by HubWorker in the
 * process that holds the job (also for sandboxed queues and crash-isolated children).
 */

/** The tasks of `queue` whose contract sets expiresAfterMs (usually none: then a job costs one property read). */
export const expiringTasksOf = (registry: Registry, queue: string): ReadonlyMap<string, number> =>
  new Map(
    [...registry.values()]
      .map((h): AnyContract => h.contract)
      .filter((c) => c.queue === queue && c.expiresAfterMs !== undefined)
      .map((c) => [c.name, c.expiresAfterMs!]),
  );

/**
 * When `job` must have started by: the `$hub.expiresAt` the producer stamped, else the contract's
 * expiresAfterMs counted from when the job was due (jobs of plain BullMQ clients and schedules).
 */
export const expiryOf = (job: Job, expiring: ReadonlyMap<string, number>): number | undefined => {
  const stored = storedExpiryOf(job.data);
  if (stored !== undefined || !expiring.size) return stored;
  const after = expiring.get(job.name);
  return after === undefined ? undefined : job.timestamp + (job.opts.delay ?? 0) + after;
};

const at = (epochMs: number) => new Date(epochMs).toISOString();

export const expiredAtStart = (expiresAt: number): JobExpiredError => new JobExpiredError(`expired: not started by ${at(expiresAt)}`);

/**
 * The error to fail `job` with after `err`: `err` itself, or JobExpiredError when the retry
 * BullMQ would schedule starts after `expiresAt`. The delay is computed here, as BullMQ would,
 * and pinned on the job (in memory) so BullMQ schedules exactly the delay that was checked.
 */
export const retryOrExpire = async (job: Job, err: Error, expiresAt: number): Promise<Error> => {
  if (err instanceof UnrecoverableError || err?.name === 'UnrecoverableError') return err;
  if (!(job.attemptsMade + 1 < (job.opts.attempts ?? 0))) return err;
  const backoff = Backoffs.normalize(job.opts.backoff!);
  let delay: number | undefined;
  try {
    delay = backoff ? await Backoffs.calculate(backoff, job.attemptsMade + 1, err, job) : 0;
  } catch {
    return err; // a backoff BullMQ cannot compute here: leave the decision to it
  }
  if (delay === undefined || delay < 0) return err;
  if (Date.now() + delay < expiresAt) {
    if (backoff) job.opts.backoff = { type: 'fixed', delay };
    return err;
  }
  return new JobExpiredError(`expired: its retry would start after ${at(expiresAt)} (in ${delay} ms); last error: ${err.message}`);
};
