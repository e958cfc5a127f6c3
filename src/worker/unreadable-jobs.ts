/* eslint-disable @typescript-eslint/no-explicit-any -- mirrors Job.fromJSON's own signature */
import { Job, Worker, type Processor } from 'bullmq';
import { InvalidPayloadError } from '../core/errors.ts';

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
}

export class HubWorker extends Worker {
  protected override get Job(): typeof Job {
    // Job's generic constructor signature cannot be restated by a subclass; the shape is the same.
    return TolerantJob as unknown as typeof Job;
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
