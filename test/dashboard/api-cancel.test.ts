import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readAudit } from '../../src/core/audit-log.ts';
import { useTestHub } from '../helpers/test-hub.ts';
import { tokenOf, useDashboard, type As } from './dashboard-harness.ts';

const hub = useTestHub();
const dash = useDashboard(() => hub.prefix);
const support = { bearer: tokenOf('support') }; // order:cancel, cart.sendAbandonedCartReminder:cancel
const checkout = { bearer: tokenOf('checkout') }; // enqueues order tasks
const root = { bearer: tokenOf('root') }; // admin
const INVOICE = '/api/orders/:id/invoice';

type Body = { id?: string; outcome?: string; error?: { code: string; message: string; state?: string; fields?: { path: string }[] } };
const cancel = async (id: string, as: As, opts: { query?: string; json?: unknown; headers?: Record<string, string> } = {}) => {
  const res = await dash.request('DELETE', `/api/v1/jobs/${id}${opts.query ?? ''}`, { as, json: opts.json, headers: opts.headers });
  return { status: res.status, body: (await res.json()) as Body };
};
const waiting = async () => {
  await hub.stopWorker();
  return hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
};

describe('DELETE /api/v1/jobs/{id}', () => {
  it('removes a waiting job (200 removed), and answers the same the second time', async () => {
    const job = await waiting();
    const first = await cancel(job.id, support, { query: '?reason=duplicate%20order' });
    expect(first).toEqual({ status: 200, body: { id: job.id, task: 'order.generateInvoice', queue: 'order', outcome: 'removed' } });
    expect(await cancel(job.id, support)).toEqual(first);
    expect(await hub.producer.getJob(job.id)).toBeUndefined();
    const [entry] = await readAudit(hub.redis, hub.prefix, { limit: 1 });
    expect(entry).toMatchObject({ who: 'api:support', action: 'job.cancel', target: job.id, outcome: 'removed' });
  });

  it('aborts a running job (200 aborting): it fails with the reason of the body, after one attempt', async () => {
    hub.services.order.reply('POST', INVOICE, { status: 201, body: {}, until: new Promise(() => {}) });
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await hub.services.order.waitFor('POST', INVOICE);
    expect(await cancel(job.id, support, { json: { reason: 'customer called' } })).toMatchObject({ status: 200, body: { outcome: 'aborting' } });
    await expect(hub.finished(job)).rejects.toThrow('cancelled: customer called');
    expect(await hub.attemptsMade(job)).toBe(1);
    expect(await cancel(job.id, support)).toMatchObject({ status: 200, body: { outcome: 'cancelled' } });
  });

  it('answers 409 with the state of a finished job, 404 for an unknown one; nothing changes', async () => {
    hub.services.order.reply('POST', INVOICE, { status: 201, body: { invoiceId: 'INV-1' } });
    const done = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await hub.finished(done);
    const completed = await cancel(done.id, support);
    expect(completed.status).toBe(409);
    expect(completed.body.error).toMatchObject({ code: 'job_finished', state: 'completed' });
    expect((await hub.producer.getJob(done.id))?.state).toBe('completed');

    hub.services.order.reply('POST', INVOICE, 404);
    const failed = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await expect(hub.finished(failed)).rejects.toThrow();
    expect(await cancel(failed.id, support)).toMatchObject({ status: 409, body: { error: { state: 'failed' } } });

    expect(await cancel('order.nothing-here', support)).toMatchObject({ status: 404, body: { error: { code: 'job_not_found' } } });
    expect((await cancel('bad%20id!', support)).status).toBe(404);
  });

  it('needs a cancel scope for the task: enqueueing is not control; admin may cancel anything', async () => {
    const order = await waiting();
    const product = await hub.producer.enqueue('product.reindex', {});
    const denied = await cancel(order.id, checkout);
    expect(denied.status).toBe(403);
    expect(denied.body.error?.message).toMatch(/client "checkout" may not cancel order.generateInvoice jobs .*order:cancel/);
    expect(await cancel(product.id, support)).toMatchObject({ status: 403 });
    expect((await hub.producer.getJob(product.id))?.state).toBe('waiting');
    expect(await cancel(product.id, root)).toMatchObject({ status: 200, body: { outcome: 'removed' } });
    expect((await cancel(order.id, undefined)).status).toBe(401);
    expect((await readAudit(hub.redis, hub.prefix, { limit: 10 })).map((e) => `${e.who} ${e.outcome}`)).toEqual([
      'api:root removed',
      'api:support forbidden',
      'api:checkout forbidden',
    ]);
  });

  it("the board's admin account may cancel; the read-only one may not (server-enforced), nor may another site's page", async () => {
    const job = await waiting();
    const viewer = await cancel(job.id, 'viewer');
    expect(viewer).toMatchObject({ status: 403, body: { error: { code: 'read_only' } } });
    expect((await cancel(job.id, 'admin', { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    expect((await hub.producer.getJob(job.id))?.state).toBe('waiting');
    expect(await cancel(job.id, 'admin')).toMatchObject({ status: 200, body: { outcome: 'removed' } });
    const [entry] = await readAudit(hub.redis, hub.prefix, { limit: 1 });
    expect(entry).toMatchObject({ who: 'board:admin', outcome: 'removed' });
  });

  it('a bad reason is 400 naming it, and changes nothing', async () => {
    const job = await waiting();
    const long = await cancel(job.id, support, { query: `?reason=${'x'.repeat(501)}` });
    expect(long).toMatchObject({ status: 400, body: { error: { code: 'invalid_option', fields: [{ path: 'reason' }] } } });
    expect((await cancel(job.id, support, { json: { reason: 42 } })).body.error).toMatchObject({ code: 'invalid_body', fields: [{ path: 'reason' }] });
    expect((await cancel(job.id, support, { json: { why: 'x' } })).status).toBe(400);
    expect((await cancel(job.id, support, { query: '?reason=a', json: { reason: 'b' } })).status).toBe(400);
    expect((await hub.producer.getJob(job.id))?.state).toBe('waiting');
  });
});

describe('DELETE /api/v1/events/{name}/{eventId}', () => {
  const orderCreated = () => ({ orderId: randomUUID(), cartId: randomUUID(), email: 'ada@example.com' });
  const cancelEvent = async (path: string, as: As, query = '') => {
    const res = await dash.request('DELETE', `/api/v1/events/${path}${query}`, { as });
    return { status: res.status, body: (await res.json()) as { event?: string; jobs?: Body[]; error?: Body['error'] } };
  };

  it("cancels every subscriber job of one publish, on every queue; a token must be allowed each subscriber's task", async () => {
    await hub.stopWorker();
    const published = await hub.producer.publish('order.created', orderCreated(), { eventId: `oc-${randomUUID()}` });
    const path = `order.created/${encodeURIComponent(published.eventId)}`;

    // support may cancel order tasks but not cart.markCheckedOut: refused, nothing changed.
    const refused = await cancelEvent(path, support);
    expect(refused.status).toBe(403);
    expect(refused.body.error?.message).toMatch(/may not cancel cart\.markCheckedOut jobs/);
    for (const j of published.jobs) expect((await hub.producer.getJob(j))?.state, j.task).toBe('waiting');

    const done = await cancelEvent(path, root, '?reason=order%20withdrawn');
    expect(done.status).toBe(200);
    expect(done.body.jobs!.map((j) => [j.id, j.outcome])).toEqual(published.jobs.map((j) => [j.id, 'removed']));
    for (const j of published.jobs) expect(await hub.producer.getJob(j), j.task).toBeUndefined();
    const audited = await readAudit(hub.redis, hub.prefix, { limit: 10 });
    expect(audited.filter((e) => e.who === 'api:root').map((e) => e.target).sort()).toEqual(published.jobs.map((j) => j.id).sort());
    // Idempotent: the same again finds the same.
    expect((await cancelEvent(path, root)).body.jobs!.map((j) => j.outcome)).toEqual(['removed', 'removed', 'removed']);
  });

  it('404 for an unknown event (with a suggestion) and for an event id that names no job', async () => {
    const unknown = await cancelEvent('order.craeted/x', root);
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'unknown_event' } } });
    expect(unknown.body.error!.message).toMatch(/did you mean "order\.created"/);
    expect(await cancelEvent(`order.created/${randomUUID()}`, root)).toMatchObject({ status: 404, body: { error: { code: 'event_not_found' } } });
  });
});
