/**
 * Which job is running, as code inside it sees it (ctx.job, log lines, the service clients'
 * hooks). It travels explicitly (ctx.job, got's per-request `context`:
 * src/service-clients/job-clients.ts), not in an AsyncLocalStorage, which costs every promise
 * in the worker on Node 20.
 */
export interface JobScope {
  jobId: string;
  queue: string;
  task: string;
  /** This attempt's number, from 1. */
  attempt: number;
  maxAttempts: number;
  /** Sent as X-Request-ID on every call the job makes. */
  requestId: string;
  /** Sent as Idempotency-Key: stable across the job's retries, distinct between jobs. */
  idempotencyKey: string;
  /** The schedule entry that fired the job, if beat's scheduler did. */
  schedule?: string;
  /** The OpenTelemetry trace the attempt belongs to, when it has one (tracing on, or a traceparent came with the job). */
  traceId?: string;
  /** The event whose publish created the job, and its id. */
  event?: string;
  eventId?: string;
}
