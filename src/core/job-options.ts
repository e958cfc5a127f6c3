import type { JobsOptions } from 'bullmq';
import type { AnyContract, QueueSpec } from '../contracts/index.ts';
import { queues } from '../../queues.config.ts';
import { ConfigError } from './errors.ts';

export const queueSpecOf = (queue: string): QueueSpec => {
  const spec = (queues as Record<string, QueueSpec>)[queue];
  if (!spec) throw new ConfigError(`queue "${queue}" is not declared in queues.config.ts (known: ${Object.keys(queues).join(', ')})`);
  return spec;
};

/** What every task's jobs carry; the producer adds the job id and per-call options. */
export type TaskJobOptions = Required<Pick<JobsOptions, 'attempts' | 'backoff' | 'removeOnComplete' | 'removeOnFail'>>;

const cache = new WeakMap<AnyContract, TaskJobOptions>();

/** Retry and retention for a task's jobs: the task's policy over its queue's. Computed once per task. */
export const jobOptionsFor = (contract: AnyContract): TaskJobOptions => {
  let opts = cache.get(contract);
  if (!opts) {
    const spec = queueSpecOf(contract.queue);
    const retry = contract.retry ?? spec.retry;
    opts = {
      attempts: retry.attempts,
      backoff: { ...retry.backoff },
      removeOnComplete: { ...spec.keepCompleted },
      removeOnFail: { ...spec.keepFailed },
    };
    cache.set(contract, opts);
  }
  return opts;
};

/**
 * How many attempts a job gets. A job stored without `attempts` (BullMQ stores 0: a plain BullMQ
 * client's) gets its task's, as the worker applies them (hub-worker.ts); without a task, BullMQ's one.
 */
export const maxAttemptsOf = (opts: JobsOptions, contract?: AnyContract): number =>
  opts.attempts || (contract ? jobOptionsFor(contract).attempts : 1);

/**
 * A task's options with a job id, as a new object. Spelled out because `{ ...opts, jobId }`
 * takes V8's slow path on Node 20 (a spread followed by another property; README, Performance).
 * job-options.test.ts checks it matches the spread.
 */
export const withJobId = (opts: TaskJobOptions, jobId: string): JobsOptions => ({
  attempts: opts.attempts,
  backoff: opts.backoff,
  removeOnComplete: opts.removeOnComplete,
  removeOnFail: opts.removeOnFail,
  jobId,
});
