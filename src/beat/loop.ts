import type { Logger } from '../core/logger.ts';

/**
 * Runs `work` now and then `everyMs` after each run ends, so two rounds never overlap. A
 * failure is logged once per distinct message (not once per round of an outage) and retried.
 */
export const startLoop = async (work: () => Promise<unknown>, everyMs: number, log: Logger) => {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<unknown> = Promise.resolve();
  let lastFailure = '';
  const round = () => {
    current = work()
      .then(() => {
        if (lastFailure) log.info('reconcile works again');
        lastFailure = '';
      })
      .catch((err: Error) => {
        if (err.message !== lastFailure) log.error({ err: err.message }, 'reconcile failed; retrying every round');
        lastFailure = err.message;
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(round, everyMs);
      });
    return current;
  };
  await round();
  return {
    /** No new round; resolves once the running one (if any) ended. */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
};
