import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { events } from '../../events.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createRedis } from '../../src/core/redis.ts';
import { allowsEvent, parseApiTokens } from '../../src/dashboard/api-tokens.ts';
import { createDashboardApp } from '../../src/dashboard/create-app.ts';
import { freePort } from '../../src/launcher/redis-server.ts';
import { useTestHub } from '../helpers/test-hub.ts';
import { ACCOUNTS, CLIENTS, tokenOf, useDashboard } from './dashboard-harness.ts';

const hub = useTestHub();
const dash = useDashboard(() => hub.prefix, { maxBodyBytes: 16 * 1024 });
const orders = { bearer: tokenOf('orders') };
const checkout = { bearer: tokenOf('checkout') };
const ops = { bearer: tokenOf('ops') };

type Job = { id: string; task: string; queue: string };
type Published = { event: string; eventId: string; jobs: Job[] };
type Refused = { error: { code: string; message: string; fields?: { path: string; message: string }[]; fieldCount?: number; subscriber?: string; jobId?: string; eventId?: string; idempotencyKey?: string } };

const orderCreated = () => ({ orderId: randomUUID(), cartId: randomUUID(), email: 'ada@example.com' });
const serveOrderCreated = () => {
  hub.services.order.reply('GET', '/api/orders/:id', (r) => ({ status: 200, body: { id: r.path.split('/')[3], status: 'paid' } }));
  hub.services.order.reply('POST', '/api/orders/:id/confirmation-emails', 201);
  hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV-1' } });
  hub.services.cart.reply('POST', '/api/carts/:id/checkout', 200);
};

describe('POST /api/v1/events/{name}', () => {
  it('answers 202 with the event id and one job per subscriber, which the worker runs', async () => {
    serveOrderCreated();
    const event = orderCreated();
    const res = await dash.post('/api/v1/events/order.created', event, orders, { 'idempotency-key': `order-created/${event.orderId}`, 'x-request-id': 'req-7' });
    expect(res.status).toBe(202);
    const body = (await res.json()) as Published;
    expect(body.eventId).toBe(`order-created/${event.orderId}`);
    expect(body.jobs.map((j) => j.task)).toEqual(['order.sendConfirmation', 'order.generateInvoice', 'cart.markCheckedOut']);
    expect(res.headers.get('location')).toBe(`/api/v1/events/order.created/${encodeURIComponent(body.eventId)}`);
    await Promise.all(body.jobs.map((j) => hub.finished(j)));
    expect(hub.services.cart.calls('POST', `/api/carts/${event.cartId}/checkout`)[0]!.headers['x-request-id']).toBe('req-7');
    expect((await hub.producer.getJob(body.jobs[0]!.id))!.service).toBe('api:orders');

    // GET .../{eventId}: every subscriber's job and its state, for the token and for a board login.
    for (const as of [orders, 'viewer' as const]) {
      const status = await dash.get(`/api/v1/events/order.created/${encodeURIComponent(body.eventId)}`, as);
      expect(status.status).toBe(200);
      const read = (await status.json()) as { complete: boolean; jobs: (Job & { state: string; boardUrl: string; result: unknown })[] };
      expect(read.complete).toBe(true);
      expect(read.jobs.map((j) => [j.id, j.state])).toEqual(body.jobs.map((j) => [j.id, 'completed']));
      expect(read.jobs[1]).toMatchObject({ result: { invoiceId: 'INV-1' }, boardUrl: `/queue/order/${body.jobs[1]!.id}` });
    }
  });

  it("continues the caller's traceparent: every subscriber job carries it to the services it calls", async () => {
    serveOrderCreated();
    const event = orderCreated();
    const caller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const res = await dash.post('/api/v1/events/order.created', event, orders, { traceparent: caller, tracestate: 'shop=1' });
    expect(res.status).toBe(202);
    const body = (await res.json()) as Published;
    await Promise.all(body.jobs.map((j) => hub.finished(j)));
    const calls = [...hub.services.order.requests, ...hub.services.cart.requests];
    expect(calls.length).toBeGreaterThanOrEqual(3);
    for (const r of calls) expect([r.path, r.headers.traceparent, r.headers.tracestate]).toEqual([r.path, caller, 'shop=1']);
  });

  it('the same Idempotency-Key publishes once; another event under it is 409', async () => {
    const event = orderCreated();
    const key = `order-created/${event.orderId}`;
    const first = (await (await dash.post('/api/v1/events/order.created', event, orders, { 'idempotency-key': key })).json()) as Published;
    const again = await dash.post('/api/v1/events/order.created', event, orders, { 'idempotency-key': key });
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual(first);
    expect((await hub.rawQueue('cart').getJobs()).map((j) => j.id)).toEqual([first.jobs[2]!.id]);
    const conflict = await dash.post('/api/v1/events/order.created', { ...event, email: 'eve@example.com' }, orders, { 'idempotency-key': key });
    expect(conflict.status).toBe(409);
    const { error } = (await conflict.json()) as Refused;
    expect(error).toMatchObject({ code: 'idempotency_conflict', eventId: key });
    expect(error.message).toContain(key);
  });

  it('without an Idempotency-Key the hub makes the event id (a UUID) and answers it', async () => {
    const res = await dash.post('/api/v1/events/auth.passwordChanged', { userId: randomUUID(), email: 'ada@example.com' }, ops);
    expect(res.status).toBe(202);
    expect(((await res.json()) as Published).eventId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 400 naming each invalid field of the event, and adds nothing', async () => {
    const res = await dash.post('/api/v1/events/order.created', { ...orderCreated(), email: 'not-mail', coupon: 'X' }, orders);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as Refused;
    expect(error.code).toBe('invalid_event');
    expect(error.message).toMatch(/^invalid event order\.created: /);
    expect(error.fields!.map((f) => f.path).sort()).toEqual(['coupon', 'email']);
    expect(error.fieldCount).toBe(2);
    const polluted = await dash.request('POST', '/api/v1/events/order.created', { as: orders, body: '{"__proto__":{"admin":true}}', headers: { 'content-type': 'application/json' } });
    expect(polluted.status).toBe(400);
    expect(((await polluted.json()) as Refused).error.code).toBe('invalid_event');
    expect(await hub.rawQueue('order').count()).toBe(0);
    expect(await hub.rawQueue('cart').count()).toBe(0);
  });

  it('answers 404 for an unknown event with a suggestion, 401 without a token, 403 outside the scopes, 415 for non-JSON', async () => {
    const unknown = await dash.post('/api/v1/events/order.creatd', orderCreated(), ops);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as Refused).error).toMatchObject({ code: 'unknown_event', message: expect.stringMatching(/did you mean "order\.created"/) });
    expect((await dash.post('/api/v1/events/order.created', orderCreated())).status).toBe(401);
    // A domain scope (`order`) is for tasks; events take `events` or `event:<name>`.
    const scoped = await dash.post('/api/v1/events/order.created', orderCreated(), checkout);
    expect(scoped.status).toBe(403);
    expect(((await scoped.json()) as Refused).error.message).toMatch(/client "checkout" may not publish order\.created \(scope events or event:order\.created\)/);
    expect((await dash.post('/api/v1/events/auth.passwordChanged', { userId: randomUUID(), email: 'a@b.co' }, orders)).status).toBe(403);
    expect((await dash.get(`/api/v1/events/auth.passwordChanged/${randomUUID()}`, orders)).status).toBe(403);
    const text = await dash.request('POST', '/api/v1/events/order.created', { as: orders, body: 'orderId=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(text.status).toBe(415);
    expect(((await text.json()) as Refused).error.message).toMatch(/send the event as JSON/);
  });

  it('GET .../{eventId} of an event never published is 404', async () => {
    const res = await dash.get(`/api/v1/events/order.created/${randomUUID()}`, orders);
    expect(res.status).toBe(404);
    expect(((await res.json()) as Refused).error.code).toBe('event_not_found');
  });
});

describe('GET /api/v1/events', () => {
  it('lists every event with its JSON Schema, an example its schema accepts, and its subscribers', async () => {
    const res = await dash.get('/api/v1/events', orders);
    expect(res.status).toBe(200);
    const { events: listed } = (await res.json()) as { events: { name: string; description: string; schema: { properties: object }; example: unknown; subscribers: { task: string; queue: string }[] }[] };
    expect(listed.map((e) => e.name)).toEqual(Object.keys(events));
    const created = listed.find((e) => e.name === 'order.created')!;
    expect(Object.keys(created.schema.properties)).toEqual(['orderId', 'cartId', 'email']);
    expect(created.subscribers).toEqual([
      { task: 'order.sendConfirmation', queue: 'order', description: expect.any(String) },
      { task: 'order.generateInvoice', queue: 'order', description: expect.any(String) },
      { task: 'cart.markCheckedOut', queue: 'cart', description: expect.any(String) },
    ]);
    // Each example publishes as is.
    for (const e of listed) expect((await dash.post(`/api/v1/events/${e.name}`, e.example, ops)).status, e.name).toBe(202);
  });
});

describe('curl, as a service in another language would call it', () => {
  it('POST /api/v1/events/order.created answers 202 with the subscriber jobs, and they complete against the services', async () => {
    serveOrderCreated();
    const event = orderCreated();
    const { stdout } = await promisify(execFile)('curl', [
      '-sS', '-X', 'POST', `${dash.url}/api/v1/events/order.created`,
      '-H', `Authorization: Bearer ${tokenOf('orders')}`,
      '-H', 'Content-Type: application/json',
      '-H', `Idempotency-Key: order-created/${event.orderId}`,
      '-d', JSON.stringify(event),
      '-w', '\n%{http_code}',
    ]);
    const [body, status] = stdout.split('\n');
    expect(status).toBe('202');
    const published = JSON.parse(body!) as Published;
    expect(published.jobs).toHaveLength(3);
    expect(await Promise.all(published.jobs.map((j) => hub.finished(j)))).toEqual([{ sent: true }, { invoiceId: 'INV-1' }, { checkedOut: true }]);
  });
});

describe('POST /api/v1/events/{name} while Redis is down', () => {
  it('answers 503 at once, with the event id to publish again with', async () => {
    const connection = createRedis(`redis://127.0.0.1:${await freePort()}`, 'producer', { retryStrategy: () => 1_000 });
    const dashboard = createDashboardApp({ connection, prefix: 'down', accounts: ACCOUNTS, clients: CLIENTS, log: createLogger({ name: 'dashboard', level: 'silent' }), processMetrics: false });
    const server = dashboard.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/events/order.created`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokenOf('orders')}`, 'content-type': 'application/json', 'idempotency-key': 'evt-down-1' },
        body: JSON.stringify(orderCreated()),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      const { error } = (await res.json()) as Refused;
      expect(error).toMatchObject({ code: 'unavailable', idempotencyKey: 'evt-down-1', eventId: 'evt-down-1' });
      expect(error.message).toMatch(/Idempotency-Key: evt-down-1 \(it adds only the subscriber jobs still missing, never one twice\)/);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await dashboard.close();
      connection.disconnect();
    }
  });
});

describe('HUB_API_TOKENS scopes for events', () => {
  const t = 'a'.repeat(32);
  it('takes events and event:<name> (the entry may then hold more colons); a domain scope does not grant events', () => {
    const [client] = parseApiTokens(`orders:${t}:order,event:order.created`);
    expect(client).toEqual({ name: 'orders', token: t, scopes: ['order', 'event:order.created'] });
    expect(allowsEvent(client!, 'order.created')).toBe(true);
    expect(allowsEvent(client!, 'auth.passwordChanged')).toBe(false);
    const [all] = parseApiTokens(`bus:${t}:events`);
    expect(allowsEvent(all!, 'auth.passwordChanged')).toBe(true);
    const [domain] = parseApiTokens(`checkout:${t}:order`);
    expect(allowsEvent(domain!, 'order.created')).toBe(false);
  });

  it('refuses an unknown event scope with a suggestion', () => {
    expect(() => parseApiTokens(`orders:${t}:event:order.creatd`)).toThrow(
      /HUB_API_TOKENS entry 1 \(orders\): unknown scope "event:order.creatd" \(did you mean "event:order.created"\?\); use \*, a domain \(.*\) or a task name to enqueue, events or event:<name> to publish/,
    );
  });
});
