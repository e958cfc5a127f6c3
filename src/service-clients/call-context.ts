import type { JobScope } from '../core/job-scope.ts';

/** The time an attempt has left, as a call of it sees it (the attempt itself: src/worker/attempt.ts). */
export interface CallBudget {
  /** performance.now() at which the attempt times out. */
  readonly expiresAt: number;
  /** Aborts with the attempt: a call waiting for its turn stops waiting. */
  readonly signal: AbortSignal;
  /**
   * Ties a call in flight to the attempt: cancelled (got's `cancel()`) when the attempt is aborted
   * (timeout, cancel, shutdown), so a handler need not pass `ctx.signal` to its ctx.http calls.
   * Cheaper than a signal: no AbortController, no listener per call.
   */
  track(request: Cancellable): void;
}

export interface Cancellable {
  cancel(): void;
}

/** What a job's calls carry in got's `context` (src/service-clients/job-clients.ts). */
export interface CallContext {
  job?: JobScope;
  budget?: CallBudget;
}
