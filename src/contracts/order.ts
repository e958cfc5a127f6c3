import { z } from 'zod';
import { domain, task } from './task.ts';

export const order = domain('order', {
  sendConfirmation: task({
    description: 'E-mail the order confirmation, unless the order was cancelled meanwhile.',
    schema: z.strictObject({ orderId: z.uuid(), email: z.email() }),
    retry: { attempts: 5, backoff: { type: 'exponential', delay: 1_000, jitter: 0.25 } },
    timeoutMs: 30_000,
  }),
  generateInvoice: task({
    description: 'Have the order service render and store the invoice PDF.',
    schema: z.strictObject({ orderId: z.uuid() }),
    timeoutMs: 60_000,
  }),
  cancelUnpaidOrders: task({
    description: 'Cancel orders still unpaid `olderThanMinutes` after checkout, releasing their stock.',
    schema: z.strictObject({ olderThanMinutes: z.int().min(5).max(7 * 24 * 60).default(60) }),
    timeoutMs: 120_000,
  }),
});
