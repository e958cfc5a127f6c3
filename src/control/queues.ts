import { z } from 'zod';
import { queues as queueSpecs } from '../../queues.config.ts';
import type { QueueSpec } from '../contracts/queues.ts';
import { didYouMean } from '../core/did-you-mean.ts';
import { audit } from './audit.ts';
import type { Control } from './control.ts';
import { InvalidInputError, NotFoundError } from './errors.ts';
import { parseInput } from './failed-filter.ts';

const specs = queueSpecs as Record<string, QueueSpec>;

export const checkQueue = (ctl: Control, name: string): string => {
  if (ctl.queueNames.includes(name)) return name;
  const shown = String(name).slice(0, 100);
  throw new NotFoundError('queue_not_found', `unknown queue "${shown}"${didYouMean(shown, ctl.queueNames)} (queues: ${ctl.queueNames.join(', ')})`);
};

export interface RateLimit {
  max: number;
  durationMs: number;
}

export interface QueueRow {
  name: string;
  paused: boolean;
  counts: Record<string, number>;
  /** Worker connections serving it, over every replica. */
  workers: number;
  /** queues.config.ts: jobs per worker replica, and the limiter every replica shares. */
  configured: { concurrency: number; rateLimit: RateLimit | null };
  /** Set at run time (this module): over every replica together; null = none. */
  globalConcurrency: number | null;
  /** Set at run time: replaces the configured limiter while set; null = the configured one applies. */
  globalRateLimit: RateLimit | null;
}

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

const rowOf = async (ctl: Control, name: string): Promise<QueueRow> => {
  const q = ctl.queue(name);
  const spec = specs[name]!;
  const [paused, counts, workers, globalConcurrency, rate] = await Promise.all([
    q.isPaused(),
    q.getJobCounts(...STATES),
    q.getWorkersCount().catch(() => -1),
    q.getGlobalConcurrency(),
    q.getGlobalRateLimit(),
  ]);
  return {
    name,
    paused,
    counts,
    workers,
    configured: { concurrency: spec.concurrency, rateLimit: spec.limiter ? { max: spec.limiter.max, durationMs: spec.limiter.duration } : null },
    globalConcurrency,
    globalRateLimit: rate ? { max: rate.max, durationMs: rate.duration } : null,
  };
};

export const listQueues = (ctl: Control): Promise<QueueRow[]> => Promise.all(ctl.queueNames.map((n) => rowOf(ctl, n)));
export const describeQueue = (ctl: Control, name: string): Promise<QueueRow> => rowOf(ctl, checkQueue(ctl, name));

/** Waiting jobs stay put while paused; running ones finish. Over every worker replica. */
export const pauseQueue = async (ctl: Control, name: string, who: string) => {
  const q = ctl.queue(checkQueue(ctl, name));
  const was = await q.isPaused();
  await q.pause();
  await audit(ctl.redis, ctl.prefix, { who, action: 'queue.pause', target: name, outcome: 'ok', detail: { changed: !was } });
  return { name, paused: true, changed: !was };
};

export const resumeQueue = async (ctl: Control, name: string, who: string) => {
  const q = ctl.queue(checkQueue(ctl, name));
  const was = await q.isPaused();
  await q.resume();
  await audit(ctl.redis, ctl.prefix, { who, action: 'queue.resume', target: name, outcome: 'ok', detail: { changed: was } });
  return { name, paused: false, changed: was };
};

/** `null` removes a limit; an absent field leaves it as it is. Zero and negatives are refused. */
export const LimitsInput = z
  .strictObject({
    concurrency: z.int().min(1).max(100_000).nullable().optional(),
    rateLimit: z
      .strictObject({ max: z.int().min(1).max(1_000_000), durationMs: z.int().min(1).max(86_400_000) })
      .nullable()
      .optional(),
  })
  .refine((l) => l.concurrency !== undefined || l.rateLimit !== undefined, { message: 'give concurrency and/or rateLimit (null removes one)' });
export type LimitsInput = z.infer<typeof LimitsInput>;

/** Global concurrency and rate limit, changed at run time for every worker replica at once (BullMQ keeps them in the queue's meta). */
export const setQueueLimits = async (ctl: Control, name: string, input: unknown, who: string) => {
  const q = ctl.queue(checkQueue(ctl, name));
  const limits = parseInput(LimitsInput, input, 'limits');
  const before = await rowOf(ctl, name);
  if (limits.concurrency === null) await q.removeGlobalConcurrency();
  else if (limits.concurrency !== undefined) await q.setGlobalConcurrency(limits.concurrency);
  if (limits.rateLimit === null) await q.removeGlobalRateLimit();
  else if (limits.rateLimit) await q.setGlobalRateLimit(limits.rateLimit.max, limits.rateLimit.durationMs);
  const after = await rowOf(ctl, name);
  const detail = {
    before: { globalConcurrency: before.globalConcurrency, globalRateLimit: before.globalRateLimit },
    after: { globalConcurrency: after.globalConcurrency, globalRateLimit: after.globalRateLimit },
  };
  await audit(ctl.redis, ctl.prefix, { who, action: 'queue.limits', target: name, outcome: 'ok', detail });
  return after;
};

/** `100/1000` (100 jobs per 1000 ms) or `none`, as the CLI takes a rate. */
export const parseRate = (text: string): RateLimit | null => {
  if (text === 'none') return null;
  const m = /^(-?\d+)\/(-?\d+)(ms)?$/.exec(text.trim());
  if (!m) throw new InvalidInputError(`rate: expected <max>/<ms>, e.g. 100/1000 (or none), got "${text.slice(0, 50)}"`, [{ path: 'rate', message: 'expected <max>/<ms>' }]);
  return { max: Number(m[1]), durationMs: Number(m[2]) };
};
