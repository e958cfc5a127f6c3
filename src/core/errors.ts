import { UnrecoverableError } from 'bullmq';

/** Fails the job at once: BullMQ skips the remaining attempts. */
export class PermanentError extends UnrecoverableError {
  override name = 'PermanentError';
  constructor(message?: string, options?: { cause?: unknown }) {
    super(message);
    if (options && 'cause' in options) this.cause = options.cause;
  }
}

/** One invalid field of a payload: `items.0.id`, or `(payload)` for the whole of it. */
export interface FieldProblem {
  path: string;
  message: string;
}

export class InvalidPayloadError extends PermanentError {
  override name = 'InvalidPayloadError';
  constructor(
    readonly task: string,
    readonly issues: string,
    /** The offending fields (at most 20), for callers that answer with them (the HTTP API's `fields`). */
    readonly fields: readonly FieldProblem[] = [{ path: '(payload)', message: issues }],
    /** How many fields were invalid in all, listed or not. */
    readonly fieldCount: number = fields.length,
  ) {
    super(`invalid payload for ${task}:\n${issues}`);
  }
}

export class UnknownTaskError extends PermanentError {
  override name = 'UnknownTaskError';
  constructor(
    readonly task: string,
    hint = '',
  ) {
    super(`unknown task "${task}"${hint}`);
  }
}

/** A name publish or the API was given that events.ts does not declare. */
export class UnknownEventError extends PermanentError {
  override name = 'UnknownEventError';
  constructor(
    readonly event: string,
    hint = '',
  ) {
    super(`unknown event "${event}"${hint}`);
  }
}

/**
 * An event refused before anything was added: it fails its schema, or a subscriber's mapping
 * threw or gave a payload its task refuses (`subscriber` names that task; `fields` are then
 * paths in its payload). An InvalidPayloadError, so callers that answer 400 to one answer 400 to both.
 */
export class InvalidEventError extends InvalidPayloadError {
  override name = 'InvalidEventError';
  constructor(
    readonly event: string,
    issues: string,
    fields?: readonly FieldProblem[],
    fieldCount?: number,
    readonly subscriber?: string,
  ) {
    super(subscriber ?? event, issues, fields, fieldCount);
    this.message = subscriber
      ? `event ${event} cannot be delivered to its subscriber ${subscriber}, so nothing was published:\n${issues}`
      : `invalid event ${event}:\n${issues}`;
  }
}

/**
 * A workflow refused before anything was added: its shape, its size, or one step (`step`: where it
 * is, `steps.2` / `members.0` / `callback`; `fields` are then paths under it, e.g. `steps.2.payload.orderId`).
 */
export class InvalidWorkflowError extends InvalidPayloadError {
  override name = 'InvalidWorkflowError';
  constructor(
    issues: string,
    fields?: readonly FieldProblem[],
    fieldCount?: number,
    readonly step?: string,
    readonly limit?: number,
  ) {
    super(step ?? 'workflow', issues, fields, fieldCount);
    this.message = step ? `invalid workflow: ${step}: ${issues}` : `invalid workflow: ${issues}`;
  }
}

/** A workflow id already names another workflow (a start retried with the same id and spec is fine). */
export class WorkflowConflictError extends PermanentError {
  override name = 'WorkflowConflictError';
  constructor(readonly workflowId: string) {
    super(`workflow id "${workflowId}" already names another workflow; pick another id`);
  }
}

export class WorkflowNotFoundError extends Error {
  override name = 'WorkflowNotFoundError';
  constructor(readonly workflowId: string) {
    super(`workflow ${workflowId} not found (never started, or past its retention)`);
  }
}

/** waitFor(workflow): the workflow failed; `result` holds what is known (a group's members, in order). */
export class WorkflowFailedError extends Error {
  override name = 'WorkflowFailedError';
  constructor(
    readonly workflowId: string,
    readonly reason: string,
    readonly failedStep?: number,
    readonly result?: unknown,
  ) {
    super(`workflow ${workflowId} failed${failedStep === undefined ? '' : ` at step ${failedStep}`}: ${reason}`);
  }
}

export class PayloadTooLargeError extends PermanentError {
  override name = 'PayloadTooLargeError';
  constructor(
    readonly task: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`payload for ${task} is ${bytes} bytes; the limit is ${limit} (pass a reference, e.g. an id or a URL, not the data)`);
  }
}

/** One attempt ran past its contract's timeoutMs; retried per the task's policy. */
export class TaskTimeoutError extends Error {
  override name = 'TaskTimeoutError';
  constructor(task: string, timeoutMs: number) {
    super(`${task} timed out after ${timeoutMs} ms`);
  }
}

/**
 * Redis refused or did not answer in time: the job is probably not enqueued, but after a timeout
 * it may be (the add can still run when Redis resumes). Retry with the same idempotency key.
 */
export class EnqueueError extends Error {
  override name = 'EnqueueError';
  /** With an idempotency key: the job id the call tried, which a retry with the same key gets. */
  jobId?: string;
  /** A publish: the event id to publish again with (the retry adds only the jobs still missing). */
  eventId?: string;
  /** A workflow's start: the id to start it again with (the retry adds only what is missing). */
  workflowId?: string;
}

/** An idempotency key used again for the same task with another payload: the first job stands. */
export class IdempotencyConflictError extends PermanentError {
  override name = 'IdempotencyConflictError';
  constructor(
    readonly task: string,
    readonly idempotencyKey: string,
    /** The job the key already names. */
    readonly jobId: string,
  ) {
    const key = idempotencyKey.length > 100 ? `${idempotencyKey.slice(0, 100)}…` : idempotencyKey;
    super(`idempotency key "${key}" was already used for ${task} with another payload (job ${jobId}); a new request needs a new key`);
  }
}

/** Every cancelled job's failure reason starts with this (the worker's abort and BullMQ's fetch-time refusal alike). */
export const CANCELLED_PREFIX = 'cancelled: ';

/** A job stopped by `cancel` (never retried): `cancelled: <reason>` is its failure reason. */
export class JobCancelledError extends PermanentError {
  override name = 'JobCancelledError';
  constructor(readonly reason: string) {
    super(`${CANCELLED_PREFIX}${reason}`);
  }
}

/** A job that did not start before its expiry: failed without running, never retried. */
export class JobExpiredError extends PermanentError {
  override name = 'JobExpiredError';
}

/** An enqueue option that cannot be honoured (an expiry in the past, ...): nothing was enqueued. */
export class InvalidOptionError extends PermanentError {
  override name = 'InvalidOptionError';
  constructor(
    /** The option as the caller named it (`expiresAt`), or the HTTP header. */
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

export class JobFailedError extends Error {
  override name = 'JobFailedError';
  constructor(
    readonly jobId: string,
    readonly failedReason: string,
  ) {
    super(`job ${jobId} failed: ${failedReason}`);
  }
}

export class JobNotFoundError extends Error {
  override name = 'JobNotFoundError';
  constructor(readonly jobId: string) {
    super(`job ${jobId} not found (never enqueued, or removed by retention)`);
  }
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The process running a job died under it (crash, OOM kill); retried per the task's policy. */
export class ProcessCrashedError extends Error {
  override name = 'ProcessCrashedError';
}
