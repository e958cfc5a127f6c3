import { z } from 'zod';
import { order } from '../src/contracts/index.ts';
import { handle } from './context.ts';
import { readJson } from './read-json.ts';

// Module-level schemas: zod compiles a schema on its first parse, so one built per call costs a compile per job.
const Order = z.object({ id: z.string(), status: z.string() });
const Invoice = z.object({ invoiceId: z.string() });
const Cancelled = z.object({ cancelled: z.int().min(0) });

export default [
  handle(order.sendConfirmation, async ({ orderId, email }, { http }) => {
    const current = await readJson(http.order.get(`api/orders/${orderId}`), Order);
    if (current.status === 'cancelled') return { skipped: 'cancelled' };
    await http.order.post(`api/orders/${orderId}/confirmation-emails`, { json: { email } });
    return { sent: true };
  }),

  handle(order.generateInvoice, async ({ orderId }, { http }) => {
    const request = http.order.post(`api/orders/${orderId}/invoice`);
    return readJson(request, Invoice);
  }),

  handle(order.cancelUnpaidOrders, async ({ olderThanMinutes }, { http }) => {
    const request = http.order.post('api/orders/cancel-unpaid', { json: { olderThanMinutes } });
    return readJson(request, Cancelled);
  }),

  handle(order.summarizeResults, async ({ label, results }, { log }) => {
    const failed = results.filter((r) => !r.ok).map((r) => ({ index: r.index, error: r.error ?? 'unknown' }));
    const summary = { total: results.length, succeeded: results.length - failed.length, failed };
    log.info({ label, total: summary.total, succeeded: summary.succeeded, failed: failed.length }, 'workflow results');
    return label === undefined ? summary : { label, ...summary };
  }),
];
