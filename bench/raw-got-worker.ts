/**
 * The plain side of the shipped-path rows: what a team would write without the hub. A BullMQ
 * Worker on the same queue and options as the hub's (queues.config.ts), calling the order
 * service with got as the hub's clients do (prefixUrl, request timeout, no got retries,
 * X-Request-ID and Idempotency-Key headers, `.json()`). Run as its own process by shipped.ts;
 * prints "ready" once it takes jobs. Config from the environment, like the hub's worker.
 */
import { Worker, type Job } from 'bullmq';
import { got } from 'got';
import { Redis } from 'ioredis';
import { queuePrefix } from '../src/core/keys.ts';
import { queueSpecOf } from '../src/core/job-options.ts';

const QUEUE = 'order';
const spec = queueSpecOf(QUEUE);
const order = got.extend({
  prefixUrl: process.env.ORDER_SERVICE_URL!,
  timeout: { request: 10_000 },
  retry: { limit: 0 },
  headers: { 'user-agent': 'raw-worker' },
});
const connection = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
const worker = new Worker(
  QUEUE,
  async (job: Job<{ orderId: string }>) =>
    order
      .post(`api/orders/${job.data.orderId}/invoice`, { headers: { 'x-request-id': `raw-${job.id}`, 'idempotency-key': `raw-${job.id}` } })
      .json<{ invoiceId: string }>(),
  {
    connection,
    prefix: queuePrefix(process.env.HUB_PREFIX!, QUEUE),
    concurrency: spec.concurrency,
    lockDuration: spec.lockDurationMs ?? 30_000,
    maxStalledCount: spec.maxStalledCount ?? 1,
    stalledInterval: spec.stalledIntervalMs ?? 30_000,
    removeOnComplete: spec.keepCompleted,
    removeOnFail: spec.keepFailed,
  },
);
worker.on('failed', (job, err) => console.error(`raw worker: job ${job?.id} failed: ${err.message}`));
await worker.waitUntilReady();
console.log('ready');
const stop = async () => {
  await worker.close();
  connection.disconnect();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
