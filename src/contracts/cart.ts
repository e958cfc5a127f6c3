import { z } from 'zod';
import { domain, task } from './task.ts';

export const cart = domain('cart', {
  sendAbandonedCartReminder: task({
    description: 'Remind the customer of an active, non-empty cart; skips carts checked out or emptied since.',
    schema: z.strictObject({ cartId: z.uuid() }),
    keys: ['cartId'],
    timeoutMs: 15_000,
    // A reminder two hours late is worse than none.
    expiresAfterMs: 2 * 60 * 60_000,
  }),
  remindAbandonedCarts: task({
    description: 'Find carts idle for `idleHours` and enqueue one reminder per cart (at most one per cart per day).',
    schema: z.strictObject({
      idleHours: z.int().min(1).max(24 * 30).default(24),
      limit: z.int().min(1).max(5_000).default(500),
    }),
    timeoutMs: 60_000,
  }),
  purgeExpiredCarts: task({
    description: 'Delete anonymous carts untouched for `olderThanHours`.',
    schema: z.strictObject({ olderThanHours: z.int().min(1).max(24 * 90).default(72) }),
    timeoutMs: 120_000,
  }),
  markCheckedOut: task({
    description: 'Close the cart an order was placed from, so no abandoned-cart reminder goes out for it (on order.created).',
    schema: z.strictObject({ cartId: z.uuid(), orderId: z.uuid() }),
    timeoutMs: 15_000,
  }),
  recalculateTotals: task({
    description: 'Recompute a cart\'s totals after prices or promotions changed.',
    schema: z.strictObject({ cartId: z.uuid() }),
    keys: ['cartId'],
    timeoutMs: 15_000,
  }),
});
