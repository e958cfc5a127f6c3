/**
 * What code running inside a job (a got hook, a log line) knows about that job. It travels
 * explicitly (ctx.job, got's per-request `context`: src/http/job-clients.ts), not in an
 * AsyncLocalStorage, which costs every promise in the worker on Node 20.
 */
export interface JobScope {
  jobId: string;
  queue: string;
  task: string;
  attempt: number;
  requestId: string;
  idempotencyKey: string;
  schedule?: string;
}
