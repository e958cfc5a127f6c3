import { z } from 'zod';
import type { TaskContext } from './context.ts';

const Progress = z.object({ done: z.array(z.string()) }).catch({ done: [] });

/**
 * The set of finished parts of a batch job, kept in the job's progress so a retry skips them.
 * Writes are coalesced and serialised: a crash loses at most the parts finished since the last write.
 */
export const batchProgress = (ctx: TaskContext, intervalMs = 250) => {
  const done = new Set(Progress.parse(ctx.progress.read()).done);
  let pending: Promise<void> | undefined;
  let dirty = false;
  const flush = async (): Promise<void> => {
    while (dirty) {
      dirty = false;
      await ctx.progress.save({ done: [...done] });
    }
  };
  return {
    has: (part: string) => done.has(part),
    markDone(part: string) {
      done.add(part);
      dirty = true;
      pending ??= new Promise((r) => setTimeout(r, intervalMs)).then(flush).finally(() => (pending = undefined));
    },
    async save() {
      await pending;
      dirty = true;
      await flush();
    },
  };
};

/** Runs `fn` over items with at most `limit` in flight. */
export const forEachLimit = async <T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) => {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
};
