import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { catalog } from '../../src/contracts/index.ts';
import { loadEnv } from '../../src/config/env.ts';
import { createLogger } from '../../src/core/logger.ts';
import { DURATION_BUCKETS, taskMetricsKey } from '../../src/core/task-metrics.ts';
import { startMetricsRecorder } from '../../src/worker/metrics-recorder.ts';
import { runWorker } from '../../src/worker/run-worker.ts';
import { stubEnv, testRedisUrl, useTestHub } from '../helpers/test-hub.ts';
import { parseExposition, sample, sum, useDashboard } from './dashboard-harness.ts';

const hub = useTestHub({ worker: false });
const dash = useDashboard(() => hub.prefix);
const silent = createLogger({ name: 'worker', level: 'silent' });

/** A worker replica as `npm run worker` starts it (runWorker, with its metrics recorder), on the test's services. */
const replica = () =>
  runWorker(
    loadEnv({
      NODE_ENV: 'test',
      REDIS_URL: testRedisUrl(),
      HUB_PREFIX: hub.prefix,
      WORKER_GRACE_MS: '1000',
      ...stubEnv(hub.services),
    }),
    silent,
  );

const scrape = async () => {
  const res = await dash.get('/metrics', 'viewer');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
};

describe('/metrics', () => {
  it('adds up task outcomes over every worker replica, with bounded labels', async () => {
    const [a, b] = [await replica(), await replica()];
    let samples = await scrape();
    expect(sample(samples, 'taskhub_workers_online', { queue: 'order' })).toBe(2);
    expect(sample(samples, 'taskhub_task_completed_total', { task: 'order.generateInvoice' })).toBe(0);
    await b.stop();

    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV-1' } });
    hub.services.cart.reply('POST', '/api/carts/:id/recalculate', 404);
    const invoices = () => Promise.all(Array.from({ length: 6 }, () => hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() })));
    // Batch 1 on replica a only.
    const ok = await invoices();
    const bad = await Promise.all(Array.from({ length: 3 }, () => hub.producer.enqueue('cart.recalculateTotals', { cartId: randomUUID() })));
    await Promise.all(ok.map((j) => hub.finished(j)));
    await Promise.all(bad.map((j) => expect(hub.finished(j)).rejects.toThrow()));
    // A job name no contract knows (a plain BullMQ client) must not become a label value.
    const stray = await hub.rawQueue('order').add('order.madeUp', {});
    await expect(hub.finished(stray.id!)).rejects.toThrow(/unknown task/);
    // Batch 2 on replica c only: the scrape must add up what both recorders flushed.
    const c = await replica();
    await a.stop(); // stopping flushes a replica's last batch; running ones flush every few seconds
    const more = await invoices();
    await Promise.all(more.map((j) => hub.finished(j)));
    await c.stop();

    samples = await scrape();
    const completed = (task: string) => sample(samples, 'taskhub_task_completed_total', { task });
    const failed = (task: string) => sum(samples, 'taskhub_task_failed_total', { task });
    expect(completed('order.generateInvoice')).toBe(12);
    expect(failed('order.generateInvoice')).toBe(0);
    expect(failed('cart.recalculateTotals')).toBe(3);
    expect(failed('_unknown')).toBe(1);
    expect(sample(samples, 'taskhub_task_duration_seconds_count', { task: 'order.generateInvoice', queue: 'order' })).toBe(12);
    expect(sample(samples, 'taskhub_task_duration_seconds_bucket', { task: 'order.generateInvoice', le: '+Inf' })).toBe(12);
    expect(sample(samples, 'taskhub_task_duration_seconds_sum', { task: 'order.generateInvoice' })).toBeGreaterThan(0);
    const buckets = samples.filter((s) => s.name === 'taskhub_task_duration_seconds_bucket' && s.labels.task === 'order.generateInvoice').map((s) => s.value);
    expect(buckets).toHaveLength(DURATION_BUCKETS.length + 1);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));

    expect(sample(samples, 'taskhub_queue_jobs', { queue: 'order', state: 'completed' })).toBe(12);
    expect(sample(samples, 'taskhub_queue_jobs', { queue: 'order', state: 'failed' })).toBe(1);
    expect(sample(samples, 'taskhub_queue_jobs', { queue: 'cart', state: 'failed' })).toBe(3);
    expect(sample(samples, 'taskhub_workers_online', { queue: 'order' })).toBe(0);

    const tasks = new Set(samples.filter((s) => s.labels.task).map((s) => s.labels.task));
    expect([...tasks].sort()).toEqual([...Object.keys(catalog), '_unknown'].sort());
    expect(samples.some((s) => Object.values(s.labels).some((v) => v.includes(ok[0]!.id)))).toBe(false);
  });

  it('counts job names no task runs on their queue as task "_unknown" on the queue they were on', async () => {
    const r = await replica();
    const strays = [
      await hub.rawQueue('order').add('order.madeUp', {}),
      await hub.rawQueue('cart').add('cart.nope', {}),
      // A known task on the wrong queue is unknown there too.
      await hub.rawQueue('cart').add('order.generateInvoice', { orderId: randomUUID() }),
    ];
    for (const job of strays) await expect(hub.finished(job.id!)).rejects.toThrow(/unknown task/);
    await r.stop();

    const samples = await scrape();
    const failed = (queue: string) => sum(samples, 'taskhub_task_failed_total', { task: '_unknown', queue });
    expect(failed('order')).toBe(1);
    expect(failed('cart')).toBe(2);
    expect(sample(samples, 'taskhub_task_duration_seconds_count', { task: '_unknown', queue: 'cart' })).toBe(2);
    expect(samples.filter((s) => s.labels.queue === 'unknown')).toEqual([]);
    expect(sum(samples, 'taskhub_task_failed_total', { task: 'order.generateInvoice' })).toBe(0);
  });

  it('counts jobs that expired per task, as failures of class expired, apart from the attempts that ran', async () => {
    // Enqueued while no worker runs, with an expiry that passes before one starts.
    const jobs = await Promise.all(Array.from({ length: 2 }, () => hub.producer.enqueue('cart.sendAbandonedCartReminder', { cartId: randomUUID() }, { expiresInMs: 100 })));
    const expiresAt = Math.max(...(await Promise.all(jobs.map(async (j) => (await hub.producer.getJob(j.id))!.expiresAt!))));
    while (Date.now() <= expiresAt) await new Promise((done) => setTimeout(done, expiresAt - Date.now() + 5));
    const r = await replica();
    for (const job of jobs) await expect(hub.finished(job)).rejects.toThrow(/expired/);
    await r.stop();

    const samples = await scrape();
    expect(sample(samples, 'taskhub_task_failed_total', { task: 'cart.sendAbandonedCartReminder', queue: 'cart', class: 'expired' })).toBe(2);
    // No attempt ran: expired is the only failure counted, and no duration.
    expect(sum(samples, 'taskhub_task_failed_total', { task: 'cart.sendAbandonedCartReminder' })).toBe(2);
    expect(sample(samples, 'taskhub_task_duration_seconds_count', { task: 'cart.sendAbandonedCartReminder', queue: 'cart' })).toBe(0);
    expect(sample(samples, 'taskhub_task_failed_total', { task: 'order.generateInvoice', queue: 'order', class: 'expired' })).toBe(0);
    expect(hub.services.cart.requests).toHaveLength(0);
  });

  it('/readyz reports Redis and the workers per queue', async () => {
    const r = await replica();
    const res = await dash.get('/readyz', 'admin');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ready: boolean; workers: Record<string, number> };
    expect(body.ready).toBe(true);
    expect(body.workers).toMatchObject({ auth: 1, cart: 1, order: 1, product: 1 });
    await r.stop();
  });
});

describe('the workers\' metrics recorder', () => {
  it('flushes batches on its timer, one hash for the fleet', async () => {
    const recorder = startMetricsRecorder({ redisUrl: testRedisUrl(), prefix: hub.prefix, log: silent, flushEveryMs: 20 });
    recorder.record({ task: 'order.generateInvoice', queue: 'order', ok: true, durationMs: 70 });
    recorder.record({ task: 'order.generateInvoice', queue: 'order', ok: false, durationMs: 400_000 });
    const key = taskMetricsKey(hub.prefix);
    await expect.poll(() => hub.redis.hget(key, 'order.generateInvoice|ok'), { timeout: 2_000, interval: 20 }).toBe('1');
    expect(await hub.redis.hgetall(key)).toMatchObject({ 'order.generateInvoice|f:retryable': '1', 'order.generateInvoice|b1': '1', [`order.generateInvoice|b${DURATION_BUCKETS.length}`]: '1' });
    await recorder.stop();
  });

  it('a failed flush keeps its counts for the next one; names outside the catalog share one series per queue', async () => {
    const key = taskMetricsKey(hub.prefix);
    // A key of the wrong type makes every HINCRBY of the flush fail (WRONGTYPE), deterministically.
    await hub.redis.set(key, 'not a hash');
    const recorder = startMetricsRecorder({ redisUrl: testRedisUrl(), prefix: hub.prefix, log: silent, flushEveryMs: 60_000 });
    recorder.record({ task: 'order.sendConfirmation', queue: 'order', ok: true, durationMs: 10 });
    recorder.record({ task: 'legacy.task', queue: 'order', ok: false, durationMs: 10 });
    await recorder.flush();
    expect(await hub.redis.type(key)).toBe('string');
    await hub.redis.del(key);
    recorder.record({ task: 'order.sendConfirmation', queue: 'order', ok: true, durationMs: 20 });
    await recorder.flush();
    const hash = await hub.redis.hgetall(key);
    expect(hash).toMatchObject({ 'order.sendConfirmation|ok': '2', 'order.sendConfirmation|b0': '2', '_unknown@order|f:retryable': '1' });
    expect(Number(hash['order.sendConfirmation|sum'])).toBeCloseTo(0.03, 6);
    expect(Object.keys(hash).some((f) => f.startsWith('legacy.task'))).toBe(false);
    await recorder.stop();
  });
});
