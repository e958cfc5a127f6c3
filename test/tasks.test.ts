import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestHub } from './helpers/test-hub.ts';

const hub = useTestHub();

describe('a task per domain calls its service', () => {
  it('auth.sendVerificationEmail reads the user, then asks for the e-mail with request id and idempotency key', async () => {
    const userId = randomUUID();
    hub.services.auth.reply('GET', '/api/users/:id', { status: 200, body: { id: userId, emailVerified: false } });
    const job = await hub.producer.enqueue('auth.sendVerificationEmail', { userId, email: 'ada@example.com' }, { requestId: 'req-123' });
    await expect(hub.finished(job)).resolves.toEqual({ sent: true });
    const [read] = hub.services.auth.calls('GET', `/api/users/${userId}`);
    const [sent] = hub.services.auth.calls('POST', `/api/users/${userId}/verification-emails`);
    expect(sent!.body).toEqual({ email: 'ada@example.com' });
    expect(read!.headers['x-request-id']).toBe('req-123');
    expect(sent!.headers['x-request-id']).toBe('req-123');
    expect(sent!.headers['idempotency-key']).toBe(`hub-auth-${job.id}`);
  });

  it('auth.sendVerificationEmail skips a verified address', async () => {
    const userId = randomUUID();
    hub.services.auth.reply('GET', '/api/users/:id', { status: 200, body: { id: userId, emailVerified: true } });
    const job = await hub.producer.enqueue('auth.sendVerificationEmail', { userId, email: 'ada@example.com' });
    await expect(hub.finished(job)).resolves.toEqual({ skipped: 'already-verified' });
    expect(hub.services.auth.calls('POST', '/api/users/:id/verification-emails')).toHaveLength(0);
  });

  it('cart.sendAbandonedCartReminder posts a reminder for an active cart', async () => {
    const cartId = randomUUID();
    hub.services.cart.reply('GET', '/api/carts/:id', { status: 200, body: { id: cartId, status: 'active', itemCount: 2 } });
    const job = await hub.producer.enqueue('cart.sendAbandonedCartReminder', { cartId });
    await hub.finished(job);
    const [reminder] = hub.services.cart.calls('POST', `/api/carts/${cartId}/reminders`);
    expect(reminder!.body).toEqual({ channel: 'email' });
    // Enqueued without a request id: the one derived from the job, the same on every call and retry.
    expect(reminder!.headers['x-request-id']).toBe(`hub-cart-${job.id}`);
    expect((await hub.producer.getJob(job))?.requestId).toBe(`hub-cart-${job.id}`);
  });

  it('cart.remindAbandonedCarts fans out one reminder per cart, once per day however often it runs', async () => {
    const cartIds = [randomUUID(), randomUUID(), randomUUID()];
    hub.services.cart.reply('GET', '/api/carts/:id', { status: 200, body: { id: 'x', status: 'active', itemCount: 1 } });
    hub.services.cart.reply('GET', '/api/carts/abandoned', { status: 200, body: { cartIds } });
    const first = await hub.producer.enqueue('cart.remindAbandonedCarts', {}, { requestId: 'sweep-1' });
    await expect(hub.finished(first)).resolves.toEqual({ enqueued: 3 });
    const second = await hub.producer.enqueue('cart.remindAbandonedCarts', { idleHours: 24 });
    await hub.finished(second);
    const sweep = hub.services.cart.calls('GET', '/api/carts/abandoned')[0]!;
    expect(sweep.query).toEqual({ idleHours: '24', limit: '500' });
    await Promise.all(cartIds.map((id) => hub.services.cart.waitFor('POST', `/api/carts/${id}/reminders`)));
    const reminders = hub.services.cart.calls('POST', '/api/carts/:id/reminders');
    expect(reminders.map((r) => r.path).sort()).toEqual(cartIds.map((id) => `/api/carts/${id}/reminders`).sort());
    expect(reminders.every((r) => r.headers['x-request-id'] === 'sweep-1')).toBe(true);
  });

  it('order.sendConfirmation sends for a live order and skips a cancelled one', async () => {
    const live = randomUUID();
    const cancelled = randomUUID();
    hub.services.order.reply('GET', `/api/orders/${live}`, { status: 200, body: { id: live, status: 'paid' } });
    hub.services.order.reply('GET', `/api/orders/${cancelled}`, { status: 200, body: { id: cancelled, status: 'cancelled' } });
    const a = await hub.producer.enqueue('order.sendConfirmation', { orderId: live, email: 'a@b.co' });
    const b = await hub.producer.enqueue('order.sendConfirmation', { orderId: cancelled, email: 'a@b.co' });
    await expect(hub.finished(a)).resolves.toEqual({ sent: true });
    await expect(hub.finished(b)).resolves.toEqual({ skipped: 'cancelled' });
    expect(hub.services.order.calls('POST', `/api/orders/${live}/confirmation-emails`)[0]!.body).toEqual({ email: 'a@b.co' });
    expect(hub.services.order.calls('POST', `/api/orders/${cancelled}/confirmation-emails`)).toHaveLength(0);
  });

  it('order.generateInvoice returns the invoice id the service made', async () => {
    const orderId = randomUUID();
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV-7' } });
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId });
    await expect(hub.finished(job)).resolves.toEqual({ invoiceId: 'INV-7' });
  });

  it('product.processImages reports variants to /images/processed and chains a reindex by name', async () => {
    const productId = randomUUID();
    const imageId = randomUUID();
    hub.services.product.reply('GET', '/api/products/:id/images', {
      status: 200,
      body: { images: [{ id: imageId, url: 'https://cdn.example.com/p/1.jpg', width: 1000, height: 500 }] },
    });
    hub.services.product.reply('POST', '/api/products/reindex', { status: 200, body: { indexed: 1 } });
    const job = await hub.producer.enqueue('product.processImages', { productId }, { requestId: 'img-1' });
    await expect(hub.finished(job)).resolves.toEqual({ images: 1 });
    const [report] = hub.services.product.calls('POST', `/api/products/${productId}/images/processed`);
    expect(report!.body).toEqual({
      images: [
        {
          imageId,
          variants: [
            { name: 'thumb', width: 200, height: 100, url: 'https://cdn.example.com/p/1.jpg?w=200&h=100' },
            { name: 'medium', width: 800, height: 400, url: 'https://cdn.example.com/p/1.jpg?w=800&h=400' },
          ],
        },
      ],
    });
    const reindex = await hub.services.product.waitFor('POST', '/api/products/reindex');
    expect(reindex.body).toEqual({ productIds: [productId] });
    expect(reindex.headers['x-request-id']).toBe('img-1');
  });
});
