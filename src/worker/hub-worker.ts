/* eslint-disable @typescript-eslint/no-explicit-any -- mirrors Job.fromJSON's and moveToFailed's own signatures */
import { Job, Worker, type JobJson, type Processor, type WorkerOptions } from 'bullmq';
import { InvalidPayloadError, type JobExpiredError } from '../core/errors.ts';
import { encodeFailure, failureRecordOf, FAILURE_FIELD } from '../core/failure-record.ts';
import { jobOptionsFor } from '../core/job-options.ts';
import { expiredAtStart, expiringTasksOf, expiryOf, retryOrExpire } from './expiry.ts';
import type { Registry } from './registry.ts';
import { relativeStack } from './stack-paths.ts';

const unreadable = new WeakMap<Job, string>();

/**
 * A job whose stored data is not JSON (written by a foreign client, or edited by hand). BullMQ
 * throws while fetching it and leaves it in active; it stalls, is fetched, throws again, forever
 * (found by the bad-input tests). Read with empty data instead, and marked, it reaches the
 * processor, which fails it once.
 */
class TolerantJob extends Job {
  static override fromJSON<T = any, R = any, N extends string = string>(...[queue, json, jobId]: Parameters<typeof Job.fromJSON>): Job<T, R, N> {
    try {
      return super.fromJSON<T, R, N>(queue, json, jobId);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      const job = super.fromJSON<T, R, N>(queue, { ...json, data: '{}' }, jobId);
      unreadable.set(job, err.message);
      return job;
    }
  }

  /**
   * Every failure BullMQ stores passes here: its stack names files relative to the hub, not where
   * it is installed; a job with an expiry fails as expired when its retry would start too late; and
   * a job that fails for good also gets its error class and HTTP status (failure-record.ts) written
   * by the same script that moves it to failed: no extra command.
   */
  override moveToFailed<E extends Error>(err: E, token: string, fetchNext?: boolean): Promise<void | any[]> {
    if (typeof err?.stack === 'string') err.stack = relativeStack(err.stack);
    const worker = this.queue as unknown;
    const expiresAt = worker instanceof HubWorker ? worker.expiryOf(this) : undefined;
    if (expiresAt === undefined) return this.moveToFailedRecorded(err, token, fetchNext);
    return retryOrExpire(this, err, expiresAt).then((final) => {
      if (final !== err) (worker as HubWorker).hooks.expired?.(this, final, 'retry');
      return this.moveToFailedRecorded(final, token, fetchNext);
    });
  }

  private moveToFailedRecorded(err: Error, token: string, fetchNext?: boolean): Promise<void | any[]> {
    const backend = this.backend;
    const record = encodeFailure(failureRecordOf(err));
    // BullMQ builds the fields it stores inside moveToFailed; its backend call is where to add ours.
    this.backend = Object.create(backend, {
      moveToFailed: {
        value: (...[job, reason, remove, tok, next, fields]: Parameters<typeof backend.moveToFailed>) =>
          backend.moveToFailed(job, reason, remove, tok, next, { ...fields, [FAILURE_FIELD]: record }),
      },
    }) as typeof backend;
    return super.moveToFailed(err, token, fetchNext).finally(() => (this.backend = backend));
  }
}

export interface HubWorkerHooks {
  /** A job failed as expired: at an attempt's start (nothing ran), or instead of a retry that would start too late. */
  expired?(job: Job, err: Error, when: 'start' | 'retry'): void;
}

/** BullMQ's Worker, reading jobs tolerantly and giving plain clients' jobs their task's retry policy. */
export class HubWorker extends Worker {
  constructor(
    queue: string,
    processor: string | Processor,
    opts: WorkerOptions,
    private readonly registry: Registry,
    readonly hooks: HubWorkerHooks = {},
  ) {
    super(queue, processor, opts);
    this.expiring = expiringTasksOf(registry, queue);
  }

  private readonly expiring: ReadonlyMap<string, number>;

  /** When the job must have started by, if it expires at all. */
  expiryOf(job: Job): number | undefined {
    return expiryOf(job, this.expiring);
  }

  /** The ids of the jobs this worker holds now (any processor: in process, sandboxed, in a child). */
  runningJobIds(): string[] {
    return this.lockManager.getTrackedJobIds();
  }

  /** An attempt starts here, for every kind of processor: a job past its expiry fails without running. */
  protected override callProcessJob(job: Job, token: string, signal?: AbortSignal): Promise<any> {
    const expiresAt = this.expiryOf(job);
    if (expiresAt !== undefined && Date.now() >= expiresAt) {
      const err: JobExpiredError = expiredAtStart(expiresAt);
      this.hooks.expired?.(job, err, 'start');
      return Promise.reject(err);
    }
    return super.callProcessJob(job, token, signal);
  }

  protected override get Job(): typeof Job {
    // Job's generic constructor signature cannot be restated by a subclass; the shape is the same.
    return TolerantJob as unknown as typeof Job;
  }

  /**
   * A job added without `attempts` (a plain BullMQ client, Python's or Go's; BullMQ stores 0)
   * would run once. It gets its task's attempts and backoff here, in memory, each time a worker
   * takes it: BullMQ's own failure path then retries it with that backoff and counts attemptsMade
   * in the same script that moves it, as for the hub's jobs. Nothing is written, so a crash
   * leaves nothing half-done, and a job that carries its attempts (every hub job) costs one check.
   */
  protected override createJob(data: JobJson, jobId: string): Job {
    const job = super.createJob(data, jobId);
    if (!job.opts.attempts) {
      const task = this.registry.get(job.name);
      if (task && task.contract.queue === this.name) {
        const policy = jobOptionsFor(task.contract);
        job.opts.attempts = policy.attempts;
        job.opts.backoff = policy.backoff;
      }
    }
    return job;
  }
}

/**
 * Fails a job whose data could not be read before `processor` sees it; BullMQ spends no retry on
 * it. Two parameters, like the hub's processor: a third would make BullMQ build an
 * AbortController per job (see HubProcessor).
 */
export const refuseUnreadable =
  (processor: (job: Job, token?: string) => Promise<unknown>): Processor =>
  (job, token) => {
    const problem = unreadable.get(job);
    if (problem !== undefined) throw new InvalidPayloadError(job.name, `the job's data is not JSON (${problem})`);
    return processor(job, token);
  };
