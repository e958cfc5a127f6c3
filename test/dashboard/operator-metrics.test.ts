import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.ts';
import { TaskTimeoutError } from '../../src/core/errors.ts';
import { createLogger } from '../../src/core/logger.ts';
import { failureClassOf, WAIT_BUCKETS } from '../../src/core/task-metrics.ts';
import { runBeat } from '../../src/beat/run-beat.ts';
import { startMetricsRecorder } from '../../src/worker/metrics-recorder.ts';
import { runWorker } from '../../src/worker/run-worker.ts';
import { ServiceRejectedError } from '../../src/service-clients/classify.ts';
import { stubEnv, testRedisUrl, useTestHub } from '../helpers/test-hub.ts';
import { parseExposition, sample, sum, useDashboard } from './dashboard-harness.ts';

/** The metrics operators alert on (deploy/prometheus/alerts.yml), from real workers, beat and Redis. */
const hub = useTestHub({ worker: false });
const dash = useDashboard(() => hub.prefix);
const silent = createLogger({ name: 'worker', level: 'silent' });
const env = () => loadEnv({ NODE_ENV: 'test', REDIS_URL: testRedisUrl(), HUB_PREFIX: hub.prefix, WORKER_GRACE_MS: '1000', ...stubEnv(hub.services) });
const replica = () => runWorker(env(), silent);
const scrape = async () => {
  const res = await dash.get('/metrics', 'viewer');
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
};
const bucketOf = (seconds: number) => String(WAIT_BUCKETS.find((le) => seconds <= le));

describe('time in the queue', () => {
  it("is a histogram per task of each job's first wait, from enqueue or from the end of its delay", async () => {
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 200, body: { invoiceId: 'i' } });
    const queue = hub.rawQueue('order');
    const now = Date.now();
    // Enqueued 100 s ago; and enqueued 50 s ago with a 40 s delay, so ready 10 s ago.
    const late = await queue.add('order.generateInvoice', { orderId: randomUUID() }, { timestamp: now - 100_000 });
    const delayed = await queue.add('order.generateInvoice', { orderId: randomUUID() }, { timestamp: now - 50_000, delay: 40_000 });
    const r = await replica();
    await hub.finished(late.id!);
    await hub.finished(delayed.id!);
    await r.stop();

    const samples = await scrape();
    const bucket = (le: string) => sample(samples, 'taskhub_task_queue_wait_seconds_bucket', { task: 'order.generateInvoice', le });
    expect(sample(samples, 'taskhub_task_queue_wait_seconds_count', { task: 'order.generateInvoice', queue: 'order' })).toBe(2);
    const total = sample(samples, 'taskhub_task_queue_wait_seconds_sum', { task: 'order.generateInvoice' })!;
    expect(total).toBeGreaterThan(110);
    expect(total).toBeLessThan(125);
    // 10 s in the bucket up to 10 (not 50 s: the delay is not waiting), 100 s only from 300.
    expect(bucket('5')).toBe(0);
    expect(bucket(bucketOf(10.5))).toBe(1);
    expect(bucket('60')).toBe(1);
    expect(bucket('300')).toBe(2);
    // Every task has the family, at zero before its first job.
    expect(sample(samples, 'taskhub_task_queue_wait_seconds_count', { task: 'cart.recalculateTotals' })).toBe(0);
  });

  it("shows the age of each queue's longest-waiting job: waiting, prioritized, or delayed and due with no worker to promote it", async () => {
    const now = Date.now();
    await hub.rawQueue('order').add('order.generateInvoice', { orderId: randomUUID() }, { timestamp: now - 90_000 });
    await hub.rawQueue('order').add('order.generateInvoice', { orderId: randomUUID() }, { timestamp: now - 30_000 });
    await hub.rawQueue('cart').add('cart.recalculateTotals', { cartId: randomUUID() }, { timestamp: now - 45_000, priority: 5 });
    await hub.rawQueue('product').add('product.reindex', {}, { timestamp: now - 200_000, delay: 80_000 });
    await hub.rawQueue('auth').add('auth.purgeExpiredSessions', {}, { delay: 60_000 });
    const samples = await scrape();
    const age = (queue: string) => sample(samples, 'taskhub_queue_oldest_waiting_seconds', { queue })!;
    expect(age('order')).toBeGreaterThanOrEqual(90);
    expect(age('order')).toBeLessThan(95);
    expect(age('cart')).toBeGreaterThanOrEqual(45);
    expect(age('cart')).toBeLessThan(50);
    expect(age('product')).toBeGreaterThanOrEqual(120);
    expect(age('product')).toBeLessThan(125);
    // Delayed and not due yet, or empty: nothing waits.
    expect(age('auth')).toBe(0);
    expect(age('product-images')).toBe(0);
  });
});

describe('failures by class', () => {
  it('counts permanent, retryable and timeout failures apart, each task with every class from the start', async () => {
    expect(failureClassOf(new TaskTimeoutError('order.generateInvoice', 10))).toBe('timeout');
    expect(failureClassOf(new ServiceRejectedError('order service POST /x answered 404'))).toBe('permanent');
    expect(failureClassOf(Object.assign(new Error('from a child process'), { name: 'UnrecoverableError' }))).toBe('permanent');
    expect(failureClassOf(new Error('socket hang up'))).toBe('retryable');

    hub.services.cart.reply('POST', '/api/carts/:id/recalculate', 404);
    hub.services.order.reply('POST', '/api/orders/:id/invoice', 503, { status: 200, body: { invoiceId: 'i' } });
    const r = await replica();
    const rejected = await hub.producer.enqueue('cart.recalculateTotals', { cartId: randomUUID() });
    const flaky = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await expect(hub.finished(rejected)).rejects.toThrow(/404/);
    await hub.finished(flaky);
    await r.stop();
    const recorder = startMetricsRecorder({ redisUrl: testRedisUrl(), prefix: hub.prefix, log: silent });
    recorder.record({ task: 'order.generateInvoice', queue: 'order', ok: false, durationMs: 30_000, failure: 'timeout' });
    await recorder.stop();

    const samples = await scrape();
    const failed = (task: string, cls: string) => sample(samples, 'taskhub_task_failed_total', { task, class: cls });
    expect([failed('cart.recalculateTotals', 'permanent'), failed('cart.recalculateTotals', 'retryable'), failed('cart.recalculateTotals', 'timeout')]).toEqual([1, 0, 0]);
    expect([failed('order.generateInvoice', 'permanent'), failed('order.generateInvoice', 'retryable'), failed('order.generateInvoice', 'timeout')]).toEqual([0, 1, 1]);
    expect(sum(samples, 'taskhub_task_failed_total', { task: 'auth.sendVerificationEmail' })).toBe(0);
    expect(samples.filter((s) => s.name === 'taskhub_task_failed_total' && s.labels.task === 'auth.sendVerificationEmail').map((s) => s.labels.class).sort()).toEqual(['cancelled', 'expired', 'permanent', 'retryable', 'timeout']);
  });
});

describe('schedule entries', () => {
  it('report their next run, and their last run with its outcome once a worker ran it', async () => {
    hub.services.cart.reply('POST', '/api/carts/purge-expired', 503, { status: 200, body: { purged: 1 } });
    const schedule = [
      { id: 'purge-now', task: 'cart.purgeExpiredCarts', everyMs: 3_600_000 },
      { id: 'reindex-nightly', task: 'product.reindex', cron: '0 3 * * *' },
    ];
    await runBeat(env(), silent, { schedule, once: true, print: () => {} });
    // No worker yet: the interval entry's first run is due now, and overdue as time passes.
    let samples = await scrape();
    const next = (id: string) => sample(samples, 'taskhub_schedule_next_run_timestamp_seconds', { schedule: id })!;
    expect(next('purge-now')).toBeLessThanOrEqual(Date.now() / 1_000);
    expect(next('reindex-nightly')).toBeGreaterThan(Date.now() / 1_000);
    expect(samples.filter((s) => s.name === 'taskhub_schedule_last_run_timestamp_seconds')).toEqual([]);
    expect(sample(samples, 'taskhub_schedule_next_run_timestamp_seconds', { schedule: 'reindex-nightly', task: 'product.reindex', queue: 'product' })).toBeDefined();

    // A worker runs it: the first attempt fails (503, retried), the second completes.
    const started = Date.now();
    const r = await replica();
    await hub.services.cart.waitFor('POST', '/api/carts/purge-expired');
    await expect.poll(() => hub.services.cart.calls('POST', '/api/carts/purge-expired').filter((c) => c.answered).length, { timeout: 10_000 }).toBe(2);
    await r.stop();
    samples = await scrape();
    const outcome = (o: string) => sample(samples, 'taskhub_schedule_last_run_outcome', { schedule: 'purge-now', outcome: o });
    expect([outcome('completed'), outcome('failed'), outcome('retrying')]).toEqual([1, 0, 0]);
    const last = sample(samples, 'taskhub_schedule_last_run_timestamp_seconds', { schedule: 'purge-now', task: 'cart.purgeExpiredCarts', queue: 'cart' })!;
    expect(last).toBeGreaterThanOrEqual(Math.floor(started / 1_000));
    expect(next('purge-now')).toBeGreaterThan(Date.now() / 1_000 + 3_000);
  }, 20_000);

  it("keep an older run from replacing a newer one, whichever replica flushes last", async () => {
    await runBeat(env(), silent, { schedule: [{ id: 'purge-later', task: 'cart.purgeExpiredCarts', cron: '0 4 * * *' }], once: true, print: () => {} });
    const newer = startMetricsRecorder({ redisUrl: testRedisUrl(), prefix: hub.prefix, log: silent });
    const older = startMetricsRecorder({ redisUrl: testRedisUrl(), prefix: hub.prefix, log: silent });
    newer.record({ task: 'cart.purgeExpiredCarts', queue: 'cart', ok: false, durationMs: 5, failure: 'permanent', schedule: { id: 'purge-later', startedAt: 2_000_000, final: true } });
    older.record({ task: 'cart.purgeExpiredCarts', queue: 'cart', ok: true, durationMs: 5, schedule: { id: 'purge-later', startedAt: 1_000_000, final: true } });
    await newer.stop();
    await older.stop();
    const samples = await scrape();
    expect(sample(samples, 'taskhub_schedule_last_run_timestamp_seconds', { schedule: 'purge-later' })).toBe(2_000);
    expect(sample(samples, 'taskhub_schedule_last_run_outcome', { schedule: 'purge-later', outcome: 'failed' })).toBe(1);
  });
});

describe('Redis memory', () => {
  it("reports used_memory and maxmemory as Redis has them", async () => {
    const samples = await scrape();
    const [, max] = (await hub.redis.config('GET', 'maxmemory')) as [string, string];
    expect(sample(samples, 'taskhub_redis_memory_used_bytes', {})).toBeGreaterThan(100_000);
    expect(sample(samples, 'taskhub_redis_memory_max_bytes', {})).toBe(Number(max));
  });
});
