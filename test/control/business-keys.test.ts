import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/control/errors.ts';
import { jobsByKey } from '../../src/control/jobs-by-key.ts';
import { keyIndexKey } from '../../src/core/business-keys.ts';
import { useTestHub } from '../helpers/test-hub.ts';
import { useControl } from './helpers.ts';

const hub = useTestHub();
const ctl = useControl(() => hub.prefix);

describe('"what happened to order 123?": jobs by business key', () => {
  it('lists every job of one order, in every queue, newest first, with state and board link', async () => {
    const orderId = randomUUID();
    hub.services.order.reply('POST', '/api/orders/:id/invoice', 404);
    hub.services.order.reply('GET', '/api/orders/:id', { status: 200, body: { id: orderId, status: 'cancelled' } });
    const invoice = await hub.producer.enqueue('order.generateInvoice', { orderId });
    await expect(hub.finished(invoice)).rejects.toThrow(/404/);
    const confirmation = await hub.producer.enqueue('order.sendConfirmation', { orderId, email: 'ada@example.com' });
    await hub.finished(confirmation);
    const [later] = await hub.producer.enqueueMany([{ task: 'order.generateInvoice', payload: { orderId }, options: { delayMs: 60_000 } }]);
    // Another order's job is not listed.
    await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() }, { delayMs: 60_000 });

    const found = await jobsByKey(ctl.control, `orderId:${orderId}`);
    expect(found.key).toBe(`orderId:${orderId}`);
    expect(found.jobs.map((j) => [j.id, j.state])).toEqual([
      [later!.id, 'delayed'],
      [confirmation.id, 'completed'],
      [invoice.id, 'failed'],
    ]);
    expect(found.jobs[2]).toMatchObject({ task: 'order.generateInvoice', queue: 'order', errorClass: 'permanent', httpStatus: 404, boardUrl: `/queue/order/${invoice.id}` });
    // Kept as long as the jobs are: the queue's longest retention (failed: 14 days), plus a margin.
    const ttl = await hub.redis.ttl(keyIndexKey(hub.prefix, 'orderId', orderId));
    expect(ttl).toBeGreaterThan(14 * 24 * 3_600);
  });

  it('drops ids whose job is gone when it reads them, but not one whose add may still be under way', async () => {
    const cartId = randomUUID();
    const key = keyIndexKey(hub.prefix, 'cartId', cartId);
    const a = await hub.producer.enqueue('cart.recalculateTotals', { cartId }, { delayMs: 60_000 });
    const b = await hub.producer.enqueue('cart.sendAbandonedCartReminder', { cartId }, { delayMs: 60_000 });
    await hub.rawQueue('cart').remove(a.id);
    // The index is written beside the add: a member without its job, indexed a moment ago, is an add still under way.
    expect((await jobsByKey(ctl.control, `cartId:${cartId}`)).jobs.map((j) => j.id)).toEqual([b.id]);
    expect(await hub.redis.zrange(key, '0', '-1')).toEqual([`cart:${a.id}`, `cart:${b.id}`]);
    // Indexed over a minute ago and still without its job: removed by retention (or its add failed).
    await hub.redis.zadd(key, Date.now() - 61_000, `cart:${a.id}`);
    expect((await jobsByKey(ctl.control, `cartId:${cartId}`)).jobs.map((j) => j.id)).toEqual([b.id]);
    expect(await hub.redis.zrange(key, '0', '-1')).toEqual([`cart:${b.id}`]);
  });

  it('tasks without keys pay nothing: no index key is written', async () => {
    await hub.producer.enqueue('product.reindex', {}, { delayMs: 60_000 });
    await hub.producer.enqueue('cart.purgeExpiredCarts', { olderThanHours: 2 }, { delayMs: 60_000 });
    expect((await hub.keys()).filter((k) => k.includes('-key-'))).toEqual([]);
  });

  it('refuses a key no task declares (with a suggestion) and a malformed reference', async () => {
    await expect(jobsByKey(ctl.control, 'orderid:1')).rejects.toThrow(/no task declares the key "orderid" \(did you mean "orderId"\?\)/);
    await expect(jobsByKey(ctl.control, 'orderId')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(jobsByKey(ctl.control, 'orderId:')).rejects.toBeInstanceOf(InvalidInputError);
    expect((await jobsByKey(ctl.control, 'orderId:never-seen')).jobs).toEqual([]);
  });
});
