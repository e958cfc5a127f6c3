import type { Queue } from 'bullmq';
import type { RedisClient } from '../core/redis.ts';
import { queues as queueSpecs } from '../../queues.config.ts';
import { cancelAudited, cancelReason, type CancelJobResult } from '../core/cancel.ts';
import type { EventName } from '../../events.ts';
import { queueOfJobId } from './job-ids.ts';
import { eventJobsOf } from './publish.ts';
import type { JobRef } from './types.ts';

export interface CancelOptions {
  /** Why: the job fails with `cancelled: <reason>`, and the audit log keeps it. 1-500 characters. */
  reason?: string;
}

export interface CancelDeps {
  connection: RedisClient;
  prefix: string;
  service: string;
  queueNamed: (name: string) => Queue;
  /** The producer's deadline and error mapping around work that touches Redis. */
  guarded: <T>(what: string, work: () => Promise<T>) => Promise<T>;
}

const queueNames = Object.keys(queueSpecs);

/** Where a job may be: the queue its ref names, the one a hub id names, or every queue for a plain id. */
export const candidateQueues = (ref: JobRef): string[] => {
  if (typeof ref !== 'string') return queueNames.includes(ref.queue) ? [ref.queue] : [];
  const named = queueOfJobId(ref);
  return named && queueNames.includes(named) ? [named] : queueNames;
};

/** `hub.cancel`: see src/core/cancel.ts. Audited as `service:<service>`. */
export const cancelWith =
  ({ connection, prefix, service, queueNamed, guarded }: CancelDeps) =>
  (ref: JobRef, opts: CancelOptions = {}): Promise<CancelJobResult> => {
    let reason: string;
    try {
      reason = cancelReason(opts.reason);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const id = typeof ref === 'string' ? ref : ref.id;
    return guarded(`could not cancel job ${id}`, () => cancelAudited(connection, prefix, { queues: candidateQueues(ref).map(queueNamed), id, reason, who: `service:${service}` }));
  };

/**
 * `hub.cancelEvent`: every subscriber job of one publish, each as `hub.cancel` would, in
 * events.ts's order. An unknown event name is UnknownEventError, before Redis is touched.
 */
export const cancelEventWith = (deps: CancelDeps) => {
  const cancel = cancelWith(deps);
  return async (event: EventName, eventId: string, opts: CancelOptions = {}): Promise<{ event: EventName; eventId: string; jobs: CancelJobResult[] }> => {
    const refs = eventJobsOf(event, eventId);
    cancelReason(opts.reason);
    const jobs: CancelJobResult[] = [];
    for (const ref of refs) jobs.push(await cancel(ref, opts));
    return { event, eventId, jobs };
  };
};
