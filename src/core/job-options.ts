import type { JobsOptions } from 'bullmq';
import type { AnyContract, QueueSpec } from '../contracts/index.ts';
import { queues } from '../../queues.config.ts';
import { ConfigError } from './errors.ts';

export const queueSpecOf = (queue: string): QueueSpec => {
  const spec = (queues as Record<string, QueueSpec>)[queue];
  if (!spec) throw new ConfigError(`queue "${queue}" is not declared in queues.config.ts (known: ${Object.keys(queues).join(', ')})`);
  return spec;
};

const cache = new WeakMap<AnyContract, JobsOptions>();

/** Retry and retention for a task's jobs: the task's policy over its queue's. Computed once per task. */
export const jobOptionsFor = (contract: AnyContract): JobsOptions => {
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
