import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { catalog, domain, task } from '../src/contracts/index.ts';
import { buildRegistry } from '../src/worker/registry.ts';
import { handle } from '../tasks/context.ts';
import { handlers } from '../tasks/index.ts';
import { useTestHub } from './helpers/test-hub.ts';

const hub = useTestHub();

describe('retries and permanent failures', () => {
  it('503 twice then 200: completes on attempt 3 after growing backoff delays', async () => {
    const orderId = randomUUID();
    hub.services.order.reply('GET', '/api/orders/:id', { status: 200, body: { id: orderId, status: 'paid' } });
    hub.services.order.reply('POST', '/api/orders/:id/confirmation-emails', 503, 503, 200);
    const job = await hub.producer.enqueue('order.sendConfirmation', { orderId, email: 'a@b.co' });
    await expect(hub.finished(job)).resolves.toEqual({ sent: true });

    const posts = hub.services.order.calls('POST', `/api/orders/${orderId}/confirmation-emails`);
    expect(posts).toHaveLength(3);
    const info = await hub.producer.getJob(job.id);
    expect(info).toMatchObject({ state: 'completed', attemptsMade: 3 });
    // Same idempotency key on every attempt, so the service can de-duplicate a re-run.
    expect(new Set(posts.map((p) => p.headers['idempotency-key'])).size).toBe(1);
  });

  it('the gaps between attempts grow (exponential backoff, jitter below 50%)', async () => {
    const orderId = randomUUID();
    const times: number[] = [];
    hub.services.order.on('request', (r: { method: string }) => r.method === 'GET' && times.push(Date.now()));
    hub.services.order.reply('GET', '/api/orders/:id', 503, 503, { status: 200, body: { id: orderId, status: 'paid' } });
    const job = await hub.producer.enqueue('order.sendConfirmation', { orderId, email: 'a@b.co' });
    await hub.finished(job);
    expect(times).toHaveLength(3);
    const [first, second] = [times[1]! - times[0]!, times[2]! - times[1]!];
    // policy: 1000 ms doubling, 25% jitter: first gap in [750, 1000], second in [1500, 2000] (+ polling slack)
    expect(first).toBeGreaterThanOrEqual(700);
    expect(second).toBeGreaterThanOrEqual(1_450);
    expect(second).toBeGreaterThan(first);
  });

  it('404 is permanent: fails after exactly one attempt, naming service, method, path and status', async () => {
    const orderId = randomUUID();
    hub.services.order.reply('POST', '/api/orders/:id/invoice', 404);
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId });
    await expect(hub.finished(job)).rejects.toThrow(`order service POST /api/orders/${orderId}/invoice answered 404 Not Found`);
    expect(await hub.attemptsMade(job)).toBe(1);
    expect(hub.services.order.calls('POST', '/api/orders/:id/invoice')).toHaveLength(1);
  });

  it('429 is retryable, unlike other 4xx', async () => {
    const orderId = randomUUID();
    hub.services.order.reply('POST', '/api/orders/:id/invoice', 429, { status: 201, body: { invoiceId: 'INV-1' } });
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId });
    await expect(hub.finished(job)).resolves.toEqual({ invoiceId: 'INV-1' });
    expect(await hub.attemptsMade(job)).toBe(2);
  });

  it('connection refused is retried and the final error names the service call', async () => {
    const userId = randomUUID();
    const dead = `http://127.0.0.1:1`;
    const { createServiceClient } = await import('../src/service-clients/service-client.ts');
    const err = await createServiceClient('auth', dead, 1_000).get(`api/users/${userId}`).catch((e: Error) => e);
    expect((err as Error).message).toBe(`auth service GET /api/users/${userId} failed: ECONNREFUSED`);
  });
});

describe('jobs added by a plain BullMQ client (no hub options)', () => {
  it("get their task's retry policy: 503 twice then 200 completes on attempt 3, with the task's backoff between", async () => {
    const orderId = randomUUID();
    const times: number[] = [];
    hub.services.order.on('request', (r: { method: string }) => r.method === 'GET' && times.push(Date.now()));
    hub.services.order.reply('GET', '/api/orders/:id', 503, 503, { status: 200, body: { id: orderId, status: 'paid' } });
    hub.services.order.reply('POST', '/api/orders/:id/confirmation-emails', 200);
    const added = await hub.rawQueue('order').add('order.sendConfirmation', { orderId, email: 'a@b.co' });
    expect(added.opts.attempts).toBe(0);
    await expect(hub.finished(`${added.id}`)).resolves.toEqual({ sent: true });

    expect(times).toHaveLength(3);
    // order's policy: 5 attempts, 1000 ms doubling, 25% jitter (+ polling slack)
    const [first, second] = [times[1]! - times[0]!, times[2]! - times[1]!];
    expect(first).toBeGreaterThanOrEqual(700);
    expect(second).toBeGreaterThanOrEqual(1_450);
    expect(await hub.producer.getJob(`${added.id}`)).toMatchObject({ state: 'completed', attemptsMade: 3, maxAttempts: 5 });
    const lines = hub.logs.filter((l) => l.includes(`"jobId":"${added.id}"`) && l.includes('"task":"order.sendConfirmation"'));
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.includes('"maxAttempts":5'))).toBe(true);
  });

  it('a 404 still fails after one attempt', async () => {
    const orderId = randomUUID();
    hub.services.order.reply('POST', '/api/orders/:id/invoice', 404);
    const added = await hub.rawQueue('order').add('order.generateInvoice', { orderId });
    await expect(hub.finished(`${added.id}`)).rejects.toThrow('answered 404 Not Found');
    expect(await hub.producer.getJob(`${added.id}`)).toMatchObject({ state: 'failed', attemptsMade: 1, maxAttempts: 5 });
    expect(hub.services.order.calls('POST', '/api/orders/:id/invoice')).toHaveLength(1);
  });

  it('keep the attempts they set themselves', async () => {
    const orderId = randomUUID();
    hub.services.order.reply('POST', '/api/orders/:id/invoice', 503, 503, { status: 201, body: { invoiceId: 'INV-1' } });
    const added = await hub.rawQueue('order').add('order.generateInvoice', { orderId }, { attempts: 2 });
    await expect(hub.finished(`${added.id}`)).rejects.toThrow('answered 503');
    expect(await hub.producer.getJob(`${added.id}`)).toMatchObject({ state: 'failed', attemptsMade: 2, maxAttempts: 2 });
  });
});

describe('timeouts', () => {
  const slow = domain('order', {
    slowCall: task({ description: 'test only', schema: z.strictObject({ id: z.string() }), timeoutMs: 300 }),
  });
  const contracts = { ...catalog, 'order.slowCall': slow.slowCall };

  it('past its timeout an attempt is aborted (its call cancelled) and retried per policy', async () => {
    const registry = buildRegistry(
      [
        ...handlers,
        handle(slow.slowCall, async ({ id }, { http, signal }) => http.order.get(`api/slow/${id}`, { signal }).json()),
      ],
      contracts,
    );
    await hub.startWorker(registry);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    hub.services.order.reply('GET', '/api/slow/:id', { status: 200, body: { late: true }, until: held });
    const queue = hub.rawQueue('order');
    const added = await queue.add('order.slowCall', { id: 'x' }, { attempts: 2, backoff: { type: 'fixed', delay: 10 } });
    await expect(hub.finished(`${added.id}`)).rejects.toThrow('order.slowCall timed out after 300 ms');
    release();
    expect(await hub.attemptsMade(`${added.id}`)).toBe(2);
    const calls = hub.services.order.calls('GET', '/api/slow/x');
    expect(calls).toHaveLength(2);
    expect(calls.every((c) => c.abandoned)).toBe(true);
  });
});
