import { z } from 'zod';
import { domain, task } from './task.ts';
import { DEFAULT_MAX_WORKFLOW_MEMBERS, MemberResult } from './workflow.ts';

export const order = domain('order', {
  sendConfirmation: task({
    description: 'E-mail the order confirmation, unless the order was cancelled meanwhile.',
    schema: z.strictObject({ orderId: z.uuid(), email: z.email() }),
    keys: ['orderId'],
    retry: { attempts: 5, backoff: { type: 'exponential', delay: 1_000, jitter: 0.25 } },
    timeoutMs: 30_000,
    // One order's confirmations one at a time, over the fleet: a resend never races the first one.
    concurrencyKey: (p) => p.orderId,
  }),
  generateInvoice: task({
    description: 'Have the order service render and store the invoice PDF.',
    schema: z.strictObject({ orderId: z.uuid() }),
    keys: ['orderId'],
    timeoutMs: 60_000,
  }),
  cancelUnpaidOrders: task({
    description: 'Cancel orders still unpaid `olderThanMinutes` after checkout, releasing their stock.',
    schema: z.strictObject({ olderThanMinutes: z.int().min(5).max(7 * 24 * 60).default(60) }),
    timeoutMs: 120_000,
  }),
  summarizeResults: task({
    description:
      "A chord's callback: count its members' results and list the failed ones (by index and reason); map them with `from: { results: '$' }`.",
    schema: z.strictObject({ label: z.string().max(200).optional(), results: z.array(MemberResult).max(DEFAULT_MAX_WORKFLOW_MEMBERS) }),
    timeoutMs: 15_000,
  }),
});
