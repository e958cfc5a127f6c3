import { createHash, randomUUID } from 'node:crypto';

/**
 * Hub job ids carry their queue (`order.<uuid>`) so one id finds its job anywhere (HTTP API,
 * dashboard, logs). BullMQ forbids `:` in ids and integer-like ids; neither can occur here.
 */
export const newJobId = (queue: string): string => `${queue}.${randomUUID()}`;

/**
 * The same key for the same task from the same enqueuer (the producer's `service`; an HTTP API
 * client) gives the same job id: BullMQ then keeps the first job. Another enqueuer's key never
 * names this job, so it cannot claim a key first.
 */
export const idempotentJobId = (queue: string, task: string, key: string, scope: string): string =>
  `${queue}.k-${createHash('sha256').update(scope).update('\0').update(task).update('\0').update(key).digest('base64url').slice(0, 32)}`;

/** The queue a hub id names, if it is one. */
export const queueOfJobId = (id: string): string | undefined => {
  const dot = id.lastIndexOf('.');
  return dot > 0 ? id.slice(0, dot) : undefined;
};
