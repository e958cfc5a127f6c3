import { createRequire } from 'node:module';
import type { ChildPool, Job } from 'bullmq';
import { JobCancelledError, ProcessCrashedError } from '../../core/errors.ts';
import type { HubProcessor } from '../dispatch.ts';
import { cancelReasonIn, childCancel } from './child-cancel.ts';
import { childPool, type ForkOptions } from './fork-options.ts';

type RunInChild = (job: Job, token?: string, signal?: AbortSignal) => Promise<unknown>;

const require = createRequire(import.meta.url);
// BullMQ's own sandbox runner (what `new Worker(queue, file)` uses); its index does not re-export it.
const { default: sandbox } = require('bullmq/dist/cjs/classes/sandbox.js') as { default: (file: string, pool: ChildPool) => RunInChild };

export interface SuspectOptions {
  /** The sandboxed processor module (registry + dispatch) the child process loads. */
  processorFile: string;
  /** The child's environment (where Redis and the services are) and node flags. */
  forkOptions: ForkOptions;
  /** Child processes alive at once (each holds one job; ~100 MB each): the rest wait their turn. */
  maxChildren?: number;
}

/**
 * A job that was running when its worker died (stalledCounter > 0) may be why it died, and its
 * neighbours died with it. Run in process again, a poison job crashes its worker a second time
 * and every neighbour caught twice fails with it (maxStalledCount counts per job). So suspects
 * run each in a child process of their own: a crash then costs the suspect one attempt (failing
 * with the crash's reason once its attempts are spent) and nobody else anything.
 */
export const isolateSuspects = (processor: HubProcessor, { processorFile, forkOptions, maxChildren = 4 }: SuspectOptions) => {
  let pool: ChildPool | undefined;
  let runInChild: RunInChild | undefined;
  let running = 0;
  const waiting: (() => void)[] = [];
  // Only isolated runs carry a signal (the child is told to stop its job at shutdown, or its cancel).
  const isolatedRuns = new Map<AbortController, Job>();
  const slot = () => (running < maxChildren ? (running++, Promise.resolve()) : new Promise<void>((r) => waiting.push(r)));
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };

  const isolated = async (job: Job, token: string): Promise<unknown> => {
    pool ??= childPool(forkOptions);
    runInChild ??= sandbox(processorFile, pool);
    // Registered before it waits for a slot, so a cancel meanwhile finds it (and no child is started for it).
    const controller = new AbortController();
    isolatedRuns.set(controller, job);
    await slot();
    const cancelled = cancelReasonIn(controller.signal.reason);
    if (cancelled !== undefined) {
      release();
      isolatedRuns.delete(controller);
      throw new JobCancelledError(cancelled);
    }
    const run = runInChild(job, token, controller.signal).finally(() => (release(), isolatedRuns.delete(controller)));
    return run.catch((err: Error) => {
      const exit = /^Unexpected exit code: (\S+) signal: (\S+)/.exec(err.message);
      if (!exit) throw err;
      throw new ProcessCrashedError(
        `the process running ${job.name} died (exit code ${exit[1]}, signal ${exit[2]}); ` +
          `it was also running when a worker died before (stalled ${job.stalledCounter}×), so it ran alone in a child process`,
      );
    });
  };

  const route = (job: Job, token?: string) => (job.stalledCounter > 0 && token ? isolated(job, token) : processor(job, token));
  return {
    processor: Object.assign(route, {
      interruptAll(reason: unknown) {
        processor.interruptAll(reason);
        for (const controller of isolatedRuns.keys()) controller.abort(reason);
      },
      cancel(queue: string, id: string, reason: string) {
        if (processor.cancel(queue, id, reason)) return true;
        for (const [controller, job] of isolatedRuns) {
          if (job.id !== id || job.queueName !== queue) continue;
          // Crosses to the child as JSON (sandboxed.ts): an Error would arrive as {}.
          controller.abort(childCancel(reason));
          return true;
        }
        return false;
      },
    }) satisfies HubProcessor,
    async close() {
      await pool?.clean();
    },
  };
};
