import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestHub } from './helpers/test-hub.ts';

const hub = useTestHub();

describe('jobs from plain BullMQ clients (other languages, Bull Board add-job)', () => {
  it('run like producer jobs: payload as data, request id derived from the job', async () => {
    const orderId = randomUUID();
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV-9' } });
    const job = await hub.rawQueue('order').add('order.generateInvoice', { orderId });
    await expect(hub.finished(`${job.id}`)).resolves.toEqual({ invoiceId: 'INV-9' });
    const [call] = hub.services.order.calls('POST', `/api/orders/${orderId}/invoice`);
    expect(call!.headers['x-request-id']).toBe(`hub-order-${job.id}`);
    expect(call!.headers['idempotency-key']).toBe(`hub-order-${job.id}`);
  });

  it('an invalid payload fails once, unrecoverably, naming the field, though attempts remain', async () => {
    const job = await hub.rawQueue('order').add('order.generateInvoice', { orderId: 42 }, { attempts: 5 });
    await expect(hub.finished(`${job.id}`)).rejects.toThrow(/invalid payload for order\.generateInvoice:[\s\S]*at orderId/);
    expect(await hub.attemptsMade(`${job.id}`)).toBe(1);
    expect(hub.services.order.requests).toHaveLength(0);
  });

  it('an unknown task name fails once with a suggestion', async () => {
    const job = await hub.rawQueue('order').add('order.generateInvoce', { orderId: randomUUID() }, { attempts: 5 });
    await expect(hub.finished(`${job.id}`)).rejects.toThrow('unknown task "order.generateInvoce" (did you mean "order.generateInvoice"?)');
    expect(await hub.attemptsMade(`${job.id}`)).toBe(1);
  });

  it('a task sent to the wrong queue fails once, saying where it belongs', async () => {
    const job = await hub.rawQueue('cart').add('order.generateInvoice', { orderId: randomUUID() }, { attempts: 5 });
    await expect(hub.finished(`${job.id}`)).rejects.toThrow('unknown task "order.generateInvoice" on queue "cart": it runs on "order"');
    expect(await hub.attemptsMade(`${job.id}`)).toBe(1);
  });

  it('retention from queues.config applies to jobs added without options', async () => {
    const job = await hub.rawQueue('auth').add('auth.purgeExpiredSessions', {});
    hub.services.auth.reply('DELETE', '/api/sessions/expired', { status: 200, body: { deleted: 3 } });
    await expect(hub.finished(`${job.id}`)).resolves.toEqual({ deleted: 3 });
    const [call] = hub.services.auth.calls('DELETE', '/api/sessions/expired');
    expect(call!.query).toEqual({ olderThanHours: '24' });
  });
});

describe('waiting for results', () => {
  it('works when the job finished before the wait began', async () => {
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV-2' } });
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await hub.services.order.waitFor('POST', '/api/orders/:id/invoice');
    await expect.poll(async () => (await hub.producer.getJob(job.id))?.state).toBe('completed');
    await expect(hub.finished(job)).resolves.toEqual({ invoiceId: 'INV-2' });
  });

  it('works when retention removed the job at once (raw waitUntilFinished fails with "Missing key")', async () => {
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV-3' } });
    const queue = hub.rawQueue('order');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const job = await queue.add('order.generateInvoice', { orderId: randomUUID() }, { removeOnComplete: true, removeOnFail: true });
      ids.push(`${job.id}`);
    }
    const results = await Promise.all(ids.map((id) => hub.finished({ id, queue: 'order' })));
    expect(results).toEqual(ids.map(() => ({ invoiceId: 'INV-3' })));
    expect(await queue.getJobCounts('completed')).toEqual({ completed: 0 });
  });

  it('a removed failed job still reports its failure', async () => {
    hub.services.order.reply('POST', '/api/orders/:id/invoice', 410);
    const job = await hub.rawQueue('order').add('order.generateInvoice', { orderId: randomUUID() }, { removeOnFail: true });
    await hub.services.order.waitFor('POST', '/api/orders/:id/invoice');
    await expect.poll(async () => (await hub.producer.getJob(`${job.id}`)) === undefined).toBe(true);
    await expect(hub.finished({ id: `${job.id}`, queue: 'order' })).rejects.toThrow(/answered 410 Gone/);
  });
});

describe('logs', () => {
  it('one JSON line per attempt with task, job id, attempt, request id and duration; no payload', async () => {
    hub.services.auth.reply('POST', '/api/users/:id/password-reset-emails', 200);
    const job = await hub.producer.enqueue(
      'auth.sendPasswordResetEmail',
      { userId: randomUUID(), email: 'a@b.co', resetToken: 'super-secret-reset-token-123' },
      { requestId: 'req-log' },
    );
    await hub.finished(job);
    const lines = hub.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.jobId === job.id);
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'task succeeded', task: 'auth.sendPasswordResetEmail', attempt: 1, requestId: 'req-log', level: 'info' }),
    ]);
    expect(lines[0]!.durationMs).toEqual(expect.any(Number));
    expect(hub.logs.join('\n')).not.toContain('super-secret-reset-token-123');
  });
});

describe('per-job cost', () => {
  it('BullMQ builds no AbortController per job: no processor in the chain declares its signal parameter', async () => {
    // BullMQ reads a processor's arity (processorAcceptsSignal); a wrapper taking (job, token, signal)
    // would bring back about 3 µs per job. Shutdown aborts attempts through interruptAll instead.
    const { workers } = await hub.startWorker();
    expect(workers.length).toBeGreaterThan(0);
    for (const worker of workers) expect(Reflect.get(worker, 'processorAcceptsSignal'), worker.name).toBe(false);
  });
});

describe('no-overlap schedule entries', () => {
  it('a tick that finds the previous run of its entry still going completes as skipped; other entries run', async () => {
    let release!: () => void;
    hub.services.order.reply('POST', '/api/orders/cancel-unpaid', { status: 200, body: { cancelled: 1 }, until: new Promise<void>((r) => (release = r)) });
    const queue = hub.rawQueue('order');
    const meta = (schedule: string) => ({ schedule, service: 'beat', noOverlap: true });
    const first = await queue.add('order.cancelUnpaidOrders', { olderThanMinutes: 60, $hub: meta('order-cancel-unpaid') });
    await hub.services.order.waitFor('POST', '/api/orders/cancel-unpaid');
    const second = await queue.add('order.cancelUnpaidOrders', { olderThanMinutes: 60, $hub: meta('order-cancel-unpaid') });
    await expect(hub.finished({ id: `${second.id}`, queue: 'order' })).resolves.toEqual({ skipped: 'overlap', runningJob: `${first.id}` });
    const other = await queue.add('order.cancelUnpaidOrders', { olderThanMinutes: 60, $hub: meta('another-entry') });
    await expect.poll(() => hub.services.order.calls('POST', '/api/orders/cancel-unpaid').length).toBe(2);
    release();
    await expect(hub.finished({ id: `${first.id}`, queue: 'order' })).resolves.toEqual({ cancelled: 1 });
    await expect(hub.finished({ id: `${other.id}`, queue: 'order' })).resolves.toEqual({ cancelled: 1 });
  });
});
