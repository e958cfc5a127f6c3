import { UnrecoverableError } from 'bullmq';

/** Fails the job at once: BullMQ skips the remaining attempts. */
export class PermanentError extends UnrecoverableError {
  override name = 'PermanentError';
  constructor(message?: string, options?: { cause?: unknown }) {
    super(message);
    if (options && 'cause' in options) this.cause = options.cause;
  }
}

export class InvalidPayloadError extends PermanentError {
  override name = 'InvalidPayloadError';
  constructor(
    readonly task: string,
    readonly issues: string,
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

/** Redis refused or did not answer in time: the job was not enqueued, retry later or fail the request. */
export class EnqueueError extends Error {
  override name = 'EnqueueError';
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
