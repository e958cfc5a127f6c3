import { defineQueues, type Retention, type RetryPolicy } from './src/contracts/queues.ts';

const standardRetry: RetryPolicy = { attempts: 5, backoff: { type: 'exponential', delay: 1_000, jitter: 0.25 } };
const HOUR = 3_600;
const keepCompleted: Retention = { age: 24 * HOUR, count: 10_000 };
const keepFailed: Retention = { age: 14 * 24 * HOUR, count: 50_000 };
/**
 * Stall detection, as `npm run test:faults` measured it (README, "Operations: reliability
 * settings"): a killed worker's jobs run again 15-45 s later (lock expiry + the next check);
 * a 30 s lock rides out event-loop blocks and Redis stalls of ~15 s without running a job twice.
 */
const stalls = { lockDurationMs: 30_000, stalledIntervalMs: 15_000, maxStalledCount: 1 };

/**
 * Per-queue tuning, as data. Every task names its queue in src/contracts; a queue is
 * one Redis hash slot (`{<prefix>-<queue>}`) so queues can later live on different shards.
 */
export const queues = defineQueues({
  auth: {
    description: 'Account e-mails and session housekeeping.',
    concurrency: 20,
    retry: standardRetry,
    keepCompleted,
    keepFailed,
    ...stalls,
  },
  cart: {
    description: 'Cart reminders and cleanup.',
    concurrency: 20,
    // Reminder e-mails go through one provider account: cap the whole fleet.
    limiter: { max: 50, duration: 1_000 },
    retry: standardRetry,
    keepCompleted,
    keepFailed,
    ...stalls,
  },
  order: {
    description: 'Order confirmations, invoices and unpaid-order cleanup.',
    concurrency: 20,
    retry: standardRetry,
    keepCompleted,
    keepFailed,
    ...stalls,
  },
  product: {
    description: 'Search reindex and price sync.',
    concurrency: 10,
    retry: standardRetry,
    keepCompleted,
    keepFailed,
    ...stalls,
  },
  'product-images': {
    description: 'Image variants: slow and memory-hungry, so few at a time.',
    concurrency: 2,
    retry: { attempts: 3, backoff: { type: 'exponential', delay: 5_000, jitter: 0.25 } },
    keepCompleted: { age: 24 * HOUR, count: 1_000 },
    keepFailed,
    ...stalls,
    lockDurationMs: 60_000,
  },
});

export type QueueName = keyof typeof queues;
