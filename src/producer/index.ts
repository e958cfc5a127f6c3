/**
 * task-hub/producer: what a microservice imports to enqueue. It knows the task contracts and
 * nothing of how tasks run (no tasks/, express, got or node-cron in its import graph).
 */
export { createProducer, type Producer } from './create-producer.ts';
export type { EnqueueItem, EnqueueOptions, EnqueuedJob, JobInfo, JobRef, ProducerOptions, WaitOptions } from './types.ts';
export {
  EnqueueError,
  InvalidPayloadError,
  JobFailedError,
  JobNotFoundError,
  PayloadTooLargeError,
  UnknownTaskError,
  WaitTimeoutError,
} from '../core/errors.ts';
export { catalog, type TaskName, type PayloadOf } from '../contracts/index.ts';
