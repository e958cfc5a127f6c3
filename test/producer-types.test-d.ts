import { describe, expectTypeOf, it } from 'vitest';
import type { CancelJobResult, EnqueuedJob, PayloadOf, Producer } from '../src/producer/index.ts';

declare const hub: Producer;

describe('producer types come from the zod contracts', () => {
  it('types the payload per task name', () => {
    expectTypeOf<PayloadOf<'order.sendConfirmation'>>().toEqualTypeOf<{ orderId: string; email: string }>();
    expectTypeOf<PayloadOf<'auth.purgeExpiredSessions'>>().toEqualTypeOf<{ olderThanHours?: number | undefined }>();
    expectTypeOf(hub.enqueue('order.generateInvoice', { orderId: 'x' })).resolves.toEqualTypeOf<EnqueuedJob<'order.generateInvoice'>>();
  });

  it('rejects wrong payloads and unknown names at compile time', () => {
    // @ts-expect-error email is required
    void hub.enqueue('order.sendConfirmation', { orderId: 'x' });
    // @ts-expect-error orderId must be a string
    void hub.enqueue('order.generateInvoice', { orderId: 42 });
    // @ts-expect-error unknown task name
    void hub.enqueue('order.sendConfirmaton', { orderId: 'x', email: 'a@b.co' });
    // @ts-expect-error a field from another task
    void hub.enqueue('cart.recalculateTotals', { cartId: 'x', orderId: 'y' });
    // @ts-expect-error regions is a closed set
    void hub.enqueue('product.syncPrices', { productIds: ['x'], regions: ['mars'] });
  });
});

describe('cancel and expiry options', () => {
  it('types cancel and its answer, and the expiry options', () => {
    expectTypeOf(hub.cancel('order.x', { reason: 'why' })).resolves.toEqualTypeOf<CancelJobResult>();
    void hub.enqueue('order.generateInvoice', { orderId: 'x' }, { expiresAt: new Date() });
    void hub.enqueue('order.generateInvoice', { orderId: 'x' }, { expiresAt: Date.now() + 1_000, delayMs: 10 });
    void hub.enqueue('order.generateInvoice', { orderId: 'x' }, { expiresInMs: 60_000 });
    // @ts-expect-error an expiry is a Date or epoch ms, not a string
    void hub.enqueue('order.generateInvoice', { orderId: 'x' }, { expiresAt: '2030-01-01' });
    // @ts-expect-error the reason is text
    void hub.cancel('order.x', { reason: 42 });
  });
});
