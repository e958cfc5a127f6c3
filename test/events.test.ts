import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { META_KEY, payloadOf } from '../src/core/job-meta.ts';
import { createProducer, EnqueueError, IdempotencyConflictError, InvalidEventError, InvalidPayloadError, UnknownEventError, type Producer } from '../src/producer/index.ts';
import { testRedisUrl, useTestHub } from './helpers/test-hub.ts';

const orderCreated = () => ({ orderId: randomUUID(), cartId: randomUUID(), email: 'ada@example.com' });

/** The order and cart services answering what order.created's three subscribers call. */
const serveOrderCreated = (hub: ReturnType<typeof useTestHub>) => {
  hub.services.order.reply('GET', '/api/orders/:id', (r) => ({ status: 200, body: { id: r.path.split('/')[3], status: 'paid' } }));
  hub.services.order.reply('POST', '/api/orders/:id/confirmation-emails', 201);
  hub.services.order.reply('POST', '/api/orders/:id/invoice', (r) => ({ status: 201, body: { invoiceId: `INV-${r.path.split('/')[3]}` } }));
  hub.services.cart.reply('POST', '/api/carts/:id/checkout', 200);
};

/** What each queue holds, every state: subscriber jobs doubled would show here. */
const jobIds = async (hub: ReturnType<typeof useTestHub>, queue: string) => (await hub.rawQueue(queue).getJobs()).map((j) => j.id!).sort();

describe('publish: one job per subscriber, each run on its own', () => {
  const hub = useTestHub();

  it('order.created runs its three subscribers, on two queues, against the services; each job names its event', async () => {
    serveOrderCreated(hub);
    const event = orderCreated();
    const published = await hub.producer.publish('order.created', event, { requestId: 'req-order-1' });
    expect(published.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(published.jobs.map((j) => [j.task, j.queue])).toEqual([
      ['order.sendConfirmation', 'order'],
      ['order.generateInvoice', 'order'],
      ['cart.markCheckedOut', 'cart'],
    ]);
    const results = await Promise.all(published.jobs.map((j) => hub.finished(j)));
    expect(results).toEqual([{ sent: true }, { invoiceId: `INV-${event.orderId}` }, { checkedOut: true }]);

    expect(hub.services.order.calls('POST', `/api/orders/${event.orderId}/confirmation-emails`).map((c) => c.body)).toEqual([{ email: event.email }]);
    const [checkout] = hub.services.cart.calls('POST', `/api/carts/${event.cartId}/checkout`);
    expect(checkout!.body).toEqual({ orderId: event.orderId });
    expect(checkout!.headers['x-request-id']).toBe('req-order-1');

    // In Bull Board's job data, and on every log line of the attempt.
    const stored = await hub.rawQueue('cart').getJob(published.jobs[2]!.id);
    expect(stored!.data[META_KEY]).toMatchObject({ service: 'test', requestId: 'req-order-1', event: { name: 'order.created', id: published.eventId } });
    expect(payloadOf(stored!.data)).toEqual({ cartId: event.cartId, orderId: event.orderId });
    const lines = hub.logs.filter((l) => l.includes('"task succeeded"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.task, l.event, l.eventId]).sort()).toEqual(
      published.jobs.map((j) => [j.task, 'order.created', published.eventId]).sort(),
    );
  });

  it('auth.passwordChanged revokes the sessions and e-mails the user', async () => {
    const userId = randomUUID();
    hub.services.auth.reply('POST', '/api/users/:id/sessions/revoke', { status: 200, body: { revoked: 3 } });
    hub.services.auth.reply('POST', '/api/users/:id/password-changed-emails', 202);
    const published = await hub.producer.publish('auth.passwordChanged', { userId, email: 'ada@example.com' });
    expect(await Promise.all(published.jobs.map((j) => hub.finished(j)))).toEqual([{ revoked: 3 }, { sent: true }]);
    expect(hub.services.auth.calls('POST', `/api/users/${userId}/sessions/revoke`)[0]!.body).toEqual({ reason: 'password-changed' });
    expect(hub.services.auth.calls('POST', `/api/users/${userId}/password-changed-emails`)[0]!.body).toEqual({ email: 'ada@example.com' });
  });

  it('a publish repeated with its event id (a retry after a timeout) adds nothing twice', async () => {
    serveOrderCreated(hub);
    const event = orderCreated();
    const eventId = `order-created/${event.orderId}`;
    const first = await hub.producer.publish('order.created', event, { eventId });
    await Promise.all(first.jobs.map((j) => hub.finished(j)));
    const again = await hub.producer.publish('order.created', event, { eventId });
    const replica = createProducer({ redisUrl: testRedisUrl(), prefix: hub.prefix, service: 'checkout-2' });
    const fromAnotherReplica = await replica.publish('order.created', event, { eventId });
    await replica.close();
    expect(again).toEqual(first);
    expect(fromAnotherReplica).toEqual(first);
    expect(await jobIds(hub, 'order')).toEqual([first.jobs[0]!.id, first.jobs[1]!.id].sort());
    expect(await jobIds(hub, 'cart')).toEqual([first.jobs[2]!.id]);
    expect(hub.services.order.calls('POST', '/api/orders/:id/invoice')).toHaveLength(1);
    expect(hub.services.cart.calls('POST', '/api/carts/:id/checkout')).toHaveLength(1);
  });

  it('another event under a used id is refused (IdempotencyConflictError); the first event stands', async () => {
    serveOrderCreated(hub);
    const event = orderCreated();
    const first = await hub.producer.publish('order.created', event, { eventId: 'evt-1' });
    const err = await hub.producer.publish('order.created', { ...event, email: 'eve@example.com' }, { eventId: 'evt-1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdempotencyConflictError);
    expect((err as Error).message).toMatch(/"evt-1" was already used for order\.created with another payload/);
    const confirmation = await hub.rawQueue('order').getJob(first.jobs[0]!.id);
    expect(payloadOf(confirmation!.data)).toEqual({ orderId: event.orderId, email: 'ada@example.com' });
  });
});

describe('a publish that stopped half-way (one queue refused) is completed by the retry', () => {
  const hub = useTestHub();
  let admin: Redis | undefined;
  let user = '';
  let partial: Producer | undefined;
  afterEach(async () => {
    await partial?.close();
    await admin?.acl('DELUSER', user);
    admin?.disconnect();
  });

  it('the retry adds the missing job and no other; every subscriber runs once', async () => {
    serveOrderCreated(hub);
    // A real refusal from Redis between the two queues: an ACL user that may write the order
    // queue's keys only, so the cart queue's addBulk fails (NOPERM) after the order one succeeded.
    admin = new Redis(testRedisUrl());
    user = `publisher-${randomBytes(4).toString('hex')}`;
    const password = randomBytes(16).toString('hex');
    await admin.acl('SETUSER', user, 'on', `>${password}`, 'resetkeys', `~{${hub.prefix}-order}*`, 'resetchannels', '&*', '+@all');
    const url = new URL(testRedisUrl());
    url.username = user;
    url.password = password;
    partial = createProducer({ redisUrl: url.toString(), prefix: hub.prefix, service: 'checkout' });

    const event = orderCreated();
    const eventId = `order-created/${event.orderId}`;
    const err = await partial.publish('order.created', event, { eventId }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnqueueError);
    expect((err as EnqueueError).eventId).toBe(eventId);
    expect((err as Error).message).toMatch(/could not publish order\.created .*publish again with this eventId.*NOPERM/s);
    expect(await jobIds(hub, 'order')).toHaveLength(2);
    expect(await jobIds(hub, 'cart')).toEqual([]);

    const retried = await hub.producer.publish('order.created', event, { eventId });
    expect(await Promise.all(retried.jobs.map((j) => hub.finished(j)))).toEqual([{ sent: true }, { invoiceId: `INV-${event.orderId}` }, { checkedOut: true }]);
    expect(await jobIds(hub, 'order')).toEqual([retried.jobs[0]!.id, retried.jobs[1]!.id].sort());
    expect(await jobIds(hub, 'cart')).toEqual([retried.jobs[2]!.id]);
    expect(hub.services.order.calls('POST', '/api/orders/:id/confirmation-emails')).toHaveLength(1);
    expect(hub.services.order.calls('POST', '/api/orders/:id/invoice')).toHaveLength(1);
    expect(hub.services.cart.calls('POST', '/api/carts/:id/checkout')).toHaveLength(1);
  });
});

describe('publish refuses bad input before Redis is touched', () => {
  const hub = useTestHub({ worker: false });

  it('an unknown event, with a suggestion', async () => {
    const err = await hub.producer.publish('order.creatd' as never, orderCreated() as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownEventError);
    expect((err as Error).message).toBe('unknown event "order.creatd" (did you mean "order.created"?)');
    expect(await hub.keys()).toEqual([]);
  });

  it('an event failing its schema, naming each field', async () => {
    const err = await hub.producer.publish('order.created', { ...orderCreated(), email: 'not-mail', coupon: 'X' } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidEventError);
    expect(err).toBeInstanceOf(InvalidPayloadError);
    expect((err as InvalidEventError).fields.map((f) => f.path).sort()).toEqual(['coupon', 'email']);
    expect((err as Error).message).toMatch(/^invalid event order\.created:[\s\S]*→ at email/);
    expect(await hub.keys()).toEqual([]);
  });

  it('an event id that is not 1-200 characters', async () => {
    for (const eventId of ['', 'x'.repeat(201)]) {
      await expect(hub.producer.publish('order.created', orderCreated(), { eventId })).rejects.toThrow(/event id is a string of 1-200 characters/);
    }
    expect(await hub.keys()).toEqual([]);
  });
});
