import { UnrecoverableError } from 'bullmq';

/**
 * Why a job failed, as operators see it (the dead-letter filters, the metrics' failure classes). Recorded by the worker in the
 * same script that moves the job to failed (see src/worker/hub-worker.ts): no extra command.
 */
export const ERROR_CLASSES = ['permanent', 'retryable', 'timeout', 'cancelled', 'expired'] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** The job hash field holding `<class>` or `<class>:<http status>`. */
export const FAILURE_FIELD = 'hubFail';

export interface FailureRecord {
  class: ErrorClass;
  /** The HTTP status of the last service call, when a call answered. */
  status?: number;
}

/** got's HTTPError carries `response.statusCode`; the hub's own errors keep it as their cause. */
const statusOf = (err: unknown): number | undefined => {
  let e = err as { response?: { statusCode?: unknown }; cause?: unknown } | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = e.response?.statusCode;
    if (typeof code === 'number') return code;
    e = e.cause as typeof e;
  }
  return undefined;
};

const CANCELLED = /^cancelled\b/i;
const EXPIRED = /^expired\b/i;
const TIMED_OUT = / timed out after \d+ ms$/;

/** The class of an error: the dead-letter filters' and the metrics' `class` label. By name too: a child process's error crosses as JSON. */
export const errorClassOf = (err: unknown): ErrorClass => {
  if (!(err instanceof Error)) return 'retryable';
  const name = String(err.name ?? '');
  const message = String(err.message ?? '');
  if (name === 'TaskTimeoutError') return 'timeout';
  if (/cancel/i.test(name) || CANCELLED.test(message)) return 'cancelled';
  if (/expire/i.test(name) || EXPIRED.test(message)) return 'expired';
  if (err instanceof UnrecoverableError || name === 'UnrecoverableError') return 'permanent';
  return 'retryable';
};

export const failureRecordOf = (err: unknown): FailureRecord => {
  const e = err instanceof Error ? err : new Error(String(err));
  const status = statusOf(err);
  return status === undefined ? { class: errorClassOf(e) } : { class: errorClassOf(e), status };
};

export const encodeFailure = (r: FailureRecord): string => (r.status === undefined ? r.class : `${r.class}:${r.status}`);

const isClass = (s: string): s is ErrorClass => (ERROR_CLASSES as readonly string[]).includes(s);

/**
 * The stored record; for a job failed without one (before this field existed, or failed by
 * BullMQ itself: a stalled job) the class is read from its failure reason.
 */
export const readFailure = (field: string | null | undefined, failedReason: string | null | undefined): FailureRecord => {
  if (field) {
    const [cls, status] = field.split(':');
    if (cls && isClass(cls)) return status && /^\d{3}$/.test(status) ? { class: cls, status: Number(status) } : { class: cls };
  }
  const reason = failedReason ?? '';
  if (CANCELLED.test(reason)) return { class: 'cancelled' };
  if (EXPIRED.test(reason)) return { class: 'expired' };
  if (TIMED_OUT.test(reason)) return { class: 'timeout' };
  return { class: 'retryable' };
};
