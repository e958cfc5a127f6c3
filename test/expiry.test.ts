import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { catalog, catalogOf, domain, task } from '../src/contracts/index.ts';
import { InvalidOptionError } from '../src/core/errors.ts';
import { buildRegistry } from '../src/worker/registry.ts';
import { handle } from '../tasks/context.ts';
import { handlers } from '../tasks/index.ts';
import { useTestHub } from './helpers/test-hub.ts';

const hub = useTestHub();
const INVOICE = '/api/orders/:id/invoice';

/** Time itself is what expires a job: wait until `epochMs` has passed. */
const until = async (epochMs: number) => {
  while (Date.now() <= epochMs) await sleep(epochMs - Date.now() + 5);
};

describe('expiry', () => {
  it('a job not started by its expiry fails as expired without running, is not retried, and is counted', async () => {
    await hub.stopWorker();
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() }, { expiresInMs: 200 });
    const { expiresAt } = (await hub.producer.getJob(job.id))!;
    expect(expiresAt).toBeGreaterThan(Date.now());
    await until(expiresAt!);

    await hub.startWorker();
    await expect(hub.finished(job)).rejects.toThrow(`expired: not started by ${new Date(expiresAt!).toISOString()}`);
    expect(hub.services.order.calls('POST', INVOICE)).toHaveLength(0);
    expect(await hub.producer.getJob(job.id)).toMatchObject({ state: 'failed', attemptsMade: 1 });
    expect(hub.outcomes).toEqual([{ task: 'order.generateInvoice', queue: 'order', ok: false, durationMs: 0, expired: true }]);
    expect(hub.logs.join('')).toMatch(/"msg":"job expired"/);
  });

  it('a retry that would start after the expiry expires now, after the one attempt', async () => {
    // order.sendConfirmation backs off 750-1000 ms after its first failure: past a 500 ms expiry.
    const orderId = randomUUID();
    hub.services.order.reply('GET', '/api/orders/:id', 503);
    const job = await hub.producer.enqueue('order.sendConfirmation', { orderId, email: 'a@b.co' }, { expiresInMs: 500 });
    await expect(hub.finished(job)).rejects.toThrow(/^job \S+ failed: expired: its retry would start after .* last error: .*503/);
    expect(hub.services.order.calls('GET', '/api/orders/:id')).toHaveLength(1);
    expect(await hub.producer.getJob(job.id)).toMatchObject({ state: 'failed', attemptsMade: 1 });
    expect(hub.outcomes.map((o) => o.expired ?? false)).toEqual([false, true]);
  });

  it('a retry that starts before the expiry runs', async () => {
    const orderId = randomUUID();
    hub.services.order.reply('GET', '/api/orders/:id', 503, { status: 200, body: { id: orderId, status: 'paid' } });
    const job = await hub.producer.enqueue('order.sendConfirmation', { orderId, email: 'a@b.co' }, { expiresInMs: 10_000 });
    await expect(hub.finished(job)).resolves.toEqual({ sent: true });
    expect(await hub.attemptsMade(job)).toBe(2);
  });

  it("a task's expiresAfterMs counts from when the job is due; the cart reminder's is two hours", async () => {
    const before = Date.now();
    await hub.stopWorker();
    const now = await hub.producer.enqueue('cart.sendAbandonedCartReminder', { cartId: randomUUID() });
    const later = await hub.producer.enqueue('cart.sendAbandonedCartReminder', { cartId: randomUUID() }, { delayMs: 60_000 });
    const after = Date.now();
    const TWO_HOURS = 2 * 3_600_000;
    const expiry = async (id: string) => (await hub.producer.getJob(id))!.expiresAt!;
    expect(await expiry(now.id)).toBeGreaterThanOrEqual(before + TWO_HOURS);
    expect(await expiry(now.id)).toBeLessThanOrEqual(after + TWO_HOURS);
    expect(await expiry(later.id)).toBeGreaterThanOrEqual(before + 60_000 + TWO_HOURS);
    // The caller's own expiry replaces the task's.
    const own = await hub.producer.enqueue('cart.sendAbandonedCartReminder', { cartId: randomUUID() }, { expiresInMs: 60_000 });
    expect(await expiry(own.id)).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  it('jobs without a stored expiry (plain BullMQ clients) get their task contract\'s, counted from when they were due', async () => {
    const lateTask = domain('late', {
      ping: task({ description: 'Calls the order service.', schema: z.strictObject({}), queue: 'order', timeoutMs: 5_000, expiresAfterMs: 100 }),
    });
    const registry = buildRegistry(
      [...handlers, handle(lateTask.ping, async (_input, ctx) => ctx.http.order.post('api/ping', { signal: ctx.signal }).json())],
      { ...catalog, ...catalogOf(lateTask) },
    );
    await hub.stopWorker();
    const added = await hub.rawQueue('order').add('late.ping', {});
    await until(added.timestamp + 100);
    await hub.startWorker(registry);
    await expect(hub.finished(added.id!)).rejects.toThrow(/expired: not started by/);
    expect(hub.services.order.calls('POST', '/api/ping')).toHaveLength(0);
  });

  it('an expiry in the past, or before the delay ends, is refused naming the option; nothing is enqueued', async () => {
    const refused = async (options: object, field: string, message: RegExp) => {
      const err = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() }, options).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect(err).toMatchObject({ field });
      expect((err as Error).message).toMatch(message);
    };
    await refused({ expiresAt: new Date(Date.now() - 1_000) }, 'expiresAt', /^expiresAt: .* is in the past/);
    await refused({ expiresAt: Math.floor(Date.now() / 1_000) + 3_600 }, 'expiresAt', /in the past \(epoch milliseconds, not seconds\)/);
    await refused({ expiresInMs: 0 }, 'expiresInMs', /^expiresInMs: expected a positive number/);
    await refused({ expiresAt: Date.now() + 60_000, delayMs: 120_000 }, 'expiresAt', /before the job's delay ends/);
    await refused({ expiresAt: Date.now() + 60_000, expiresInMs: 1_000 }, 'expiresAt', /not both/);
    await refused({ expiresAt: new Date('nope') }, 'expiresAt', /a Date or epoch milliseconds/);
    await expect(hub.producer.enqueueMany([{ task: 'order.generateInvoice', payload: { orderId: randomUUID() }, options: { expiresInMs: -1 } }])).rejects.toThrow(InvalidOptionError);
    expect((await hub.keys()).filter((k) => /:(wait|id|delayed)$/.test(k))).toEqual([]);
  });
});
