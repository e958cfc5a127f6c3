/**
 * task-hub/producer: what a microservice imports to enqueue. It knows the task contracts and
 * nothing of how tasks run (no tasks/, express, got or node-cron in its import graph).
 */
export { createProducer, type Producer } from './create-producer.ts';
export type { CancelOptions } from './cancel.ts';
export type { CancelJobResult, CancelOutcome } from '../core/cancel.ts';
export type { ClusterTarget, RedisClient } from '../core/redis.ts';
export type { EnqueueItem, EnqueueOptions, EnqueuedJob, JobInfo, JobRef, ProducerOptions, WaitOptions } from './types.ts';
export type { EventJob, PublishOptions, PublishedEvent } from './publish.ts';
export type { MappedStep, StartedWorkflow, TaskStep, WorkflowJob, WorkflowOptions } from './workflows.ts';
export type { CancelledWorkflow } from './workflow-reads.ts';
export type { WorkflowInfo, WorkflowStepInfo } from '../core/workflow/state.ts';
export type { MemberResult, WorkflowSpec } from '../contracts/workflow.ts';
export {
  EnqueueError,
  IdempotencyConflictError,
  InvalidOptionError,
  InvalidEventError,
  InvalidPayloadError,
  JobFailedError,
  JobNotFoundError,
  PayloadTooLargeError,
  UnknownEventError,
  UnknownTaskError,
  InvalidWorkflowError,
  WaitTimeoutError,
  WorkflowConflictError,
  WorkflowFailedError,
  WorkflowNotFoundError,
} from '../core/errors.ts';
export { catalog, type TaskName, type PayloadOf } from '../contracts/index.ts';
export { events, type EventName, type EventOf } from '../../events.ts';
