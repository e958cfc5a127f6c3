import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { readAudit } from '../src/core/audit-log.ts';
import { InvalidOptionError } from '../src/core/errors.ts';
import { testRedisUrl, useTestHub } from './helpers/test-hub.ts';

const hub = useTestHub();
const INVOICE = '/api/orders/:id/invoice';

/** A job enqueued after the others completes: the worker has taken (or skipped) everything before it. */
const drainedUpTo = async () => {
  hub.services.order.reply('POST', '/api/orders/cancel-unpaid', { status: 200, body: { cancelled: 0 } });
  await hub.finished(await hub.producer.enqueue('order.cancelUnpaidOrders', {}));
};

describe('cancel a job that has not started', () => {
  it.each([
    ['waiting', {}],
    ['delayed', { delayMs: 60_000 }],
    ['prioritized', { priority: 5 }],
  ])('%s: removed, never runs, and cancelling again answers the same', async (state, options) => {
    await hub.stopWorker();
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() }, options);
    expect((await hub.producer.getJob(job.id))?.state).toBe(state);

    const first = await hub.producer.cancel(job.id, { reason: 'customer left' });
    expect(first).toEqual({ id: job.id, task: 'order.generateInvoice', queue: 'order', outcome: 'removed' });
    expect(await hub.producer.cancel(job.id, { reason: 'again' })).toEqual(first);
    expect(await hub.producer.getJob(job.id)).toBeUndefined();

    await hub.startWorker();
    await drainedUpTo();
    expect(hub.services.order.calls('POST', INVOICE)).toHaveLength(0);
  });

  it('a job a worker takes after the mark fails as cancelled without running (the pending run of a job scheduler)', async () => {
    // BullMQ refuses to remove a scheduler's pending job, as it refuses a job a worker just took:
    // both are left to the mark, which the fetching worker honours.
    const queue = hub.rawQueue('order');
    const orderId = randomUUID();
    const first = await queue.upsertJobScheduler('nightly', { pattern: '0 3 * * *' }, { name: 'order.generateInvoice', data: { orderId } });
    const result = await hub.producer.cancel({ id: first!.id!, queue: 'order' }, { reason: 'not tonight' });
    expect(result).toMatchObject({ outcome: 'cancelled', task: 'order.generateInvoice' });
    const job = await queue.getJob(first!.id!);
    await job!.promote();
    await expect(hub.finished({ id: first!.id!, queue: 'order' })).rejects.toThrow('cancelled: not tonight');
    expect(hub.services.order.calls('POST', INVOICE)).toHaveLength(0);
  });
});

describe('cancel a running job', () => {
  it("aborts its ctx.signal and cancels its ctx.http calls (the handler passes no signal): the HTTP call is dropped, the job fails as cancelled after 1 attempt, no retry", async () => {
    hub.services.order.reply('POST', INVOICE, { status: 201, body: { invoiceId: 'late' }, until: new Promise(() => {}) });
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    const call = await hub.services.order.waitFor('POST', INVOICE);

    const abandoned = new Promise<void>((resolve) => hub.services.order.on('settled', (r: { abandoned?: boolean }) => r.abandoned && resolve()));
    const started = performance.now();
    expect(await hub.producer.cancel(job.id, { reason: 'order withdrawn' })).toMatchObject({ outcome: 'aborting' });
    await abandoned;
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(call.abandoned).toBe(true);

    await expect(hub.finished(job)).rejects.toThrow('cancelled: order withdrawn');
    expect(await hub.producer.getJob(job.id)).toMatchObject({ state: 'failed', attemptsMade: 1, failedReason: 'cancelled: order withdrawn' });
    expect(hub.services.order.calls('POST', INVOICE)).toHaveLength(1);
    // Idempotent: it has failed as cancelled.
    expect(await hub.producer.cancel(job.id, { reason: 'order withdrawn' })).toMatchObject({ outcome: 'cancelled' });
  });

  it('a cancel published while the worker was not listening is caught when its subscriber reconnects', async () => {
    hub.services.order.reply('POST', INVOICE, { status: 201, body: {}, until: new Promise(() => {}) });
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await hub.services.order.waitFor('POST', INVOICE);
    // The mark a cancel leaves, without its message (as if it was published during a disconnect)...
    await hub.redis.hset(`{${hub.prefix}-order}:order:${job.id}`, 'defa', 'cancelled: missed message');
    // ...then the subscriber's connection drops and comes back.
    const admin = new Redis(testRedisUrl());
    const clients = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
    const id = /id=(\d+) [^\n]*name=(\S+)/g;
    const mine = [...clients.matchAll(id)].filter((m) => m[2] === `${hub.prefix}:hub-cancel-listener`).map((m) => m[1]!);
    expect(mine).toHaveLength(1);
    await admin.client('KILL', 'ID', mine[0]!);
    admin.disconnect();
    await expect(hub.finished(job)).rejects.toThrow('cancelled: missed message');
    expect(await hub.attemptsMade(job)).toBe(1);
  });
});

describe('cancel an event', () => {
  it('hub.cancelEvent stops every subscriber job of one publish: a running one is aborted, a finished one is left and said so', async () => {
    hub.services.auth.reply('POST', '/api/users/:id/sessions/revoke', { status: 200, body: { revoked: 1 } });
    hub.services.auth.reply('POST', '/api/users/:id/password-changed-emails', { status: 202, body: {}, until: new Promise(() => {}) });
    const published = await hub.producer.publish('auth.passwordChanged', { userId: randomUUID(), email: 'ada@example.com' });
    const [revoke, email] = published.jobs;
    await hub.finished(revoke!);
    await hub.services.auth.waitFor('POST', '/api/users/:id/password-changed-emails');
    const result = await hub.producer.cancelEvent('auth.passwordChanged', published.eventId, { reason: 'test account' });
    expect(result.jobs.map((j) => [j.id, j.outcome, 'state' in j ? j.state : undefined])).toEqual([
      [revoke!.id, 'finished', 'completed'],
      [email!.id, 'aborting', undefined],
    ]);
    await expect(hub.finished(email!)).rejects.toThrow('cancelled: test account');
    await expect(hub.producer.cancelEvent('auth.passwordChange' as never, published.eventId)).rejects.toThrow(/did you mean "auth\.passwordChanged"/);
  });
});

describe('cancel answers', () => {
  it('a finished job: nothing changes, its state is said', async () => {
    hub.services.order.reply('POST', INVOICE, { status: 201, body: { invoiceId: 'INV-1' } });
    const done = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await hub.finished(done);
    expect(await hub.producer.cancel(done.id)).toEqual({ id: done.id, task: 'order.generateInvoice', queue: 'order', outcome: 'finished', state: 'completed' });

    hub.services.order.reply('POST', INVOICE, 404);
    const failed = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await expect(hub.finished(failed)).rejects.toThrow(/404/);
    expect(await hub.producer.cancel(failed.id)).toMatchObject({ outcome: 'finished', state: 'failed', failedReason: expect.stringMatching(/404/) });
    expect(await hub.producer.getJob(failed.id)).toMatchObject({ state: 'failed' });
  });

  it('an unknown id: not_found, and nothing is written but the audit entry', async () => {
    expect(await hub.producer.cancel('order.nope')).toEqual({ id: 'order.nope', outcome: 'not_found' });
    expect(await hub.producer.cancel('42')).toEqual({ id: '42', outcome: 'not_found' });
    expect((await hub.keys()).filter((k) => !k.startsWith(`{${hub.prefix}-audit}`) && !/:(meta|events|stalled-check|marker)$/.test(k))).toEqual([]);
  });

  it('a bad reason is refused naming the field, before anything is touched', async () => {
    await hub.stopWorker();
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    const err = await hub.producer.cancel(job.id, { reason: 'two\nlines' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect(err).toMatchObject({ field: 'reason', message: expect.stringMatching(/^reason: /) });
    await expect(hub.producer.cancel(job.id, { reason: 'x'.repeat(501) })).rejects.toThrow(/reason: 1-500 characters/);
    expect((await hub.producer.getJob(job.id))?.state).toBe('waiting');
  });

  it('every cancel is audited: who, what, when, how it ended', async () => {
    await hub.stopWorker();
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    const before = Date.now();
    await hub.producer.cancel(job.id, { reason: 'duplicate' });
    const [entry] = await readAudit(hub.redis, hub.prefix, { limit: 1 });
    expect(entry).toMatchObject({ who: 'service:test', action: 'job.cancel', target: job.id, outcome: 'removed', detail: { reason: 'duplicate' } });
    expect(entry!.at).toBeGreaterThanOrEqual(before);
  });
});
