import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createProducer, EnqueueError, IdempotencyConflictError, InvalidPayloadError, JobNotFoundError, PayloadTooLargeError, UnknownTaskError, type EnqueueItem } from '../src/producer/index.ts';
import { freePort } from '../src/launcher/redis-server.ts';
import { testRedisUrl, useTestHub } from './helpers/test-hub.ts';

describe('producer edge checks (no worker)', () => {
  const hub = useTestHub({ worker: false });

  it('refuses a wrong payload before Redis is touched, naming task and field', async () => {
    const err = await hub.producer
      .enqueue('order.sendConfirmation', { orderId: 'not-a-uuid', email: 'a@b.co' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidPayloadError);
    expect((err as Error).message).toMatch(/^invalid payload for order\.sendConfirmation:[\s\S]*→ at orderId/);
    expect(await hub.keys()).toEqual([]);
  });

  it.each([
    ['missing field', { orderId: randomUUID() }, /at email/],
    ['wrong type', { orderId: randomUUID(), email: 42 }, /expected string[\s\S]*at email/],
    ['extra field', { orderId: randomUUID(), email: 'a@b.co', coupon: 'X' }, /Unrecognized key: "coupon"/],
    ['__proto__ key', JSON.parse(`{"orderId":"${randomUUID()}","email":"a@b.co","__proto__":{"admin":true}}`), /Unrecognized key: "__proto__"/],
    ['constructor key', { orderId: randomUUID(), email: 'a@b.co', constructor: { prototype: {} } }, /Unrecognized key: "constructor"/],
  ])('refuses %s', async (_, payload, message) => {
    await expect(hub.producer.enqueue('order.sendConfirmation', payload as never)).rejects.toThrow(message);
    expect(await hub.keys()).toEqual([]);
  });

  it('refuses an unknown task name with a suggestion, and names with ":"', async () => {
    await expect(hub.producer.enqueue('order.sendConfirmaton' as never, {} as never)).rejects.toThrow(
      new UnknownTaskError('order.sendConfirmaton', ' (did you mean "order.sendConfirmation"?)'),
    );
    await expect(hub.producer.enqueue('order:sendConfirmation' as never, {} as never)).rejects.toBeInstanceOf(UnknownTaskError);
    expect(await hub.keys()).toEqual([]);
  });

  it('refuses an oversize payload (10 MB) with its size and the limit', async () => {
    const productIds = Array.from({ length: 300_000 }, () => randomUUID());
    const err = await hub.producer.enqueue('product.reindex', { productIds }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect((err as Error).message).toMatch(/payload for product\.reindex is 1\d{7} bytes; the limit is 524288/);
    expect(await hub.keys()).toEqual([]);
  });

  it('stores the payload as job data (defaults filled in) plus hub metadata, readable in any client', async () => {
    const job = await hub.producer.enqueue('auth.purgeExpiredSessions', {}, { requestId: 'r-1' });
    const raw = await hub.rawQueue('auth').getJob(job.id);
    expect(raw!.name).toBe('auth.purgeExpiredSessions');
    expect(raw!.data).toEqual({ olderThanHours: 24, $hub: { service: 'test', requestId: 'r-1' } });
    expect(raw!.opts).toMatchObject({ attempts: 5, backoff: { type: 'exponential', delay: 1_000, jitter: 0.25 } });
    expect(job.id).toMatch(/^auth\.[0-9a-f-]{36}$/);
  });

  it('delay and priority reach BullMQ', async () => {
    const later = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() }, { delayMs: 60_000 });
    const urgent = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() }, { priority: 1 });
    expect((await hub.producer.getJob(later.id))?.state).toBe('delayed');
    expect((await hub.producer.getJob(urgent.id))?.state).toBe('prioritized');
  });

  it('an idempotency key enqueues once: the second call returns the same job', async () => {
    const orderId = randomUUID();
    const a = await hub.producer.enqueue('order.generateInvoice', { orderId }, { idempotencyKey: `invoice-${orderId}` });
    const b = await hub.producer.enqueue('order.generateInvoice', { orderId }, { idempotencyKey: `invoice-${orderId}` });
    expect(b.id).toBe(a.id);
    expect(await hub.rawQueue('order').getJobCounts('wait')).toEqual({ wait: 1 });
  });

  it('an idempotency key reused with another payload is IdempotencyConflictError naming key, task and job; the first job stands', async () => {
    const key = `cancel-${randomUUID()}`;
    const first = await hub.producer.enqueue('order.cancelUnpaidOrders', { olderThanMinutes: 10_080 }, { idempotencyKey: key, requestId: 'req-first' });
    const err = await hub.producer.enqueue('order.cancelUnpaidOrders', { olderThanMinutes: 30 }, { idempotencyKey: key }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdempotencyConflictError);
    expect(err).toMatchObject({ task: 'order.cancelUnpaidOrders', idempotencyKey: key, jobId: first.id });
    expect((err as Error).message).toContain(key);
    expect(await hub.rawQueue('order').getJobCounts('wait')).toEqual({ wait: 1 });
    expect((await hub.producer.getJob(first.id))!.payload).toEqual({ olderThanMinutes: 10_080 });
    // The same payload (defaults filled in, keys in any order) is a repeat, answered with the job's first request id.
    const repeat = await hub.producer.enqueue('order.cancelUnpaidOrders', {}, { idempotencyKey: `defaults-${key}` });
    expect(await hub.producer.enqueue('order.cancelUnpaidOrders', { olderThanMinutes: 60 }, { idempotencyKey: `defaults-${key}`, requestId: 'req-2' })).toEqual(repeat);
    expect(await hub.producer.enqueue('order.cancelUnpaidOrders', { olderThanMinutes: 10_080 }, { idempotencyKey: key, requestId: 'req-again' })).toEqual({
      ...first,
      requestId: 'req-first',
    });
  });

  it('idempotency keys are scoped to the producer\'s service: another service with the same key gets its own job', async () => {
    const other = createProducer({ redisUrl: testRedisUrl(), prefix: hub.prefix, service: 'backoffice' });
    try {
      const key = `invoice-${randomUUID()}`;
      const mine = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() }, { idempotencyKey: key });
      const theirs = await other.enqueue('order.generateInvoice', { orderId: randomUUID() }, { idempotencyKey: key });
      expect(theirs.id).not.toBe(mine.id);
      expect((await other.getJob(theirs.id))!.service).toBe('backoffice');
      expect(await hub.rawQueue('order').getJobCounts('wait')).toEqual({ wait: 2 });
    } finally {
      await other.close();
    }
  });

  it('dedup drops a second job with the same id while the first is pending', async () => {
    await hub.producer.enqueue('product.reindex', { productIds: [randomUUID()] }, { dedup: { id: 'all' } });
    await hub.producer.enqueue('product.reindex', { productIds: [randomUUID()] }, { dedup: { id: 'all' } });
    expect(await hub.rawQueue('product').getJobCounts('wait')).toEqual({ wait: 1 });
  });

  it('enqueueMany is all or nothing on validation', async () => {
    await expect(
      hub.producer.enqueueMany([
        { task: 'cart.recalculateTotals', payload: { cartId: randomUUID() } },
        { task: 'cart.recalculateTotals', payload: { cartId: 'bad' } },
      ]),
    ).rejects.toBeInstanceOf(InvalidPayloadError);
    expect(await hub.keys()).toEqual([]);
    const jobs = await hub.producer.enqueueMany([
      { task: 'cart.recalculateTotals', payload: { cartId: randomUUID() } },
      { task: 'order.generateInvoice', payload: { orderId: randomUUID() } },
    ]);
    expect(jobs.map((j) => j.queue)).toEqual(['cart', 'order']);
    expect((await hub.producer.getJob(jobs[1]!.id))?.state).toBe('waiting');
  });

  it('enqueueMany across queues answers in the order of its items', async () => {
    const items = [
      { task: 'cart.recalculateTotals', payload: { cartId: randomUUID() } },
      { task: 'order.generateInvoice', payload: { orderId: randomUUID() } },
      { task: 'cart.recalculateTotals', payload: { cartId: randomUUID() } },
      { task: 'product.reindex', payload: { productIds: [randomUUID()] } },
      { task: 'order.generateInvoice', payload: { orderId: randomUUID() } },
    ] satisfies EnqueueItem[];
    const jobs = await hub.producer.enqueueMany(items);
    expect(jobs.map((j) => j.task)).toEqual(items.map((i) => i.task));
    const payloads = await Promise.all(jobs.map(async (j) => (await hub.producer.getJob(j.id))?.payload));
    expect(payloads).toEqual(items.map((i) => i.payload));
  });

  it('getJob of an unknown id is undefined; waitFor of one rejects with JobNotFoundError', async () => {
    expect(await hub.producer.getJob('order.00000000-0000-4000-8000-000000000000')).toBeUndefined();
    await expect(hub.producer.waitFor('order.00000000-0000-4000-8000-000000000000', { timeoutMs: 2_000 })).rejects.toBeInstanceOf(
      JobNotFoundError,
    );
  });
});

describe('producer when Redis is unreachable', () => {
  it('fails within its deadline with EnqueueError instead of hanging', async () => {
    const port = await freePort();
    const producer = createProducer({ redisUrl: `redis://:hunter2@127.0.0.1:${port}`, service: 'test', timeoutMs: 1_000 });
    const started = Date.now();
    const err = await producer.enqueue('order.generateInvoice', { orderId: randomUUID() }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    await producer.close();
    expect(err).toBeInstanceOf(EnqueueError);
    expect((err as Error).message).toMatch(/^could not enqueue order\.generateInvoice: /);
    expect((err as Error).message).not.toContain('hunter2');
    expect(elapsed).toBeLessThan(2_500);
  });
});
