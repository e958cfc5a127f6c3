/** Why a job goes back to delayed before it could finish. */
export type BackPressureReason = 'rate-limit' | 'hold-off' | 'retry-after' | 'in-flight' | 'pool';

/**
 * A call that would wait longer than its worker should hold the job (the service's maxWaitMs,
 * or the attempt's remaining time): the job goes back to delayed until `until` and runs again
 * then, without spending an attempt. Handlers let it through (rethrow it if they catch errors).
 */
export class BackPressureError extends Error {
  override name = 'BackPressureError';
  constructor(
    /** The service or pool that asked for the wait. */
    readonly resource: string,
    readonly reason: BackPressureReason,
    /** Epoch ms: when to run the job again. */
    readonly until: number,
    /** What happened, when there is more to say than the reason (the answer that asked for the wait). */
    detail?: string,
  ) {
    super(`${detail ?? `${resource}: ${reason}`}; the job runs again in ${Math.max(0, Math.round(until - Date.now()))} ms, no attempt spent`);
  }
}

/** The BackPressureError behind an error, also when a client or a handler wrapped it as its cause. */
export const backPressureOf = (err: unknown): BackPressureError | undefined => {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof BackPressureError) return e;
  }
  return undefined;
};

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export const sleep = (ms: number, signal?: AbortSignal | null): Promise<void> =>
  new Promise((resolve, reject) => {
    const aborted = () => (signal!.reason instanceof Error ? signal!.reason : new Error(`aborted: ${String(signal!.reason)}`));
    if (signal?.aborted) return reject(aborted());
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
