import { EnqueueError } from '../core/errors.ts';

/**
 * `work`'s result passed through `map`, with Redis errors as EnqueueError, or EnqueueError when
 * it has not settled within `ms`: a request handler never hangs on Redis. One promise and one
 * timer per call (a Promise.race with a deadline promise, .finally, a catch and an async
 * wrapper cost twice as much per enqueue).
 */
export const withDeadline = <T, R = T>(work: Promise<T>, ms: number, what: string, map?: (value: T) => R): Promise<R> =>
  new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => reject(new EnqueueError(`${what}: Redis did not answer within ${ms} ms`)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        try {
          resolve(map ? map(value) : (value as unknown as R));
        } catch (err) {
          reject(err);
        }
      },
      (err: unknown) => (clearTimeout(timer), reject(asEnqueueError(err, what))),
    );
  });

// Redis's own error codes match as upper-case words: "removed by retention" is not MOVED.
const REDIS_CODE = /\b(OOM|READONLY|NOPERM|TRYAGAIN|MOVED|ASK|CLUSTERDOWN|CROSSSLOT|LOADING|BUSY|MASTERDOWN)\b/;
const REDIS_WORDING = /redis|stream|ECONN|Connection|closed|MaxRetriesPerRequest|cluster|slots|startup nodes/i;
const isRedisError = (err: Error): boolean => REDIS_CODE.test(err.message) || REDIS_WORDING.test(`${err.name} ${err.message}`);

/** Redis errors (refused, OOM under noeviction, read-only replica, an ACL denying the queue's keys, a cluster failing over) become one error type with the cause kept. */
export const asEnqueueError = (err: unknown, what: string): Error => {
  if (err instanceof EnqueueError) return err;
  if (err instanceof Error && isRedisError(err)) {
    // ioredis's own wording ("Reached the max retries per request limit ...") says nothing to a caller.
    const reason = err.name === 'MaxRetriesPerRequestError' ? 'the connection to Redis dropped before it answered' : err.message;
    return new EnqueueError(`${what}: ${reason}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
};
