import { z } from 'zod';
import { order } from '../src/contracts/index.ts';
import { handle } from './context.ts';
import { readJson } from './read-json.ts';

const Order = z.object({ id: z.string(), status: z.string() });

export default [
  handle(order.sendConfirmation, async ({ orderId, email }, { http, signal }) => {
    const current = await readJson(http.order.get(`api/orders/${orderId}`, { signal }), Order);
    if (current.status === 'cancelled') return { skipped: 'cancelled' };
    await http.order.post(`api/orders/${orderId}/confirmation-emails`, { json: { email }, signal });
    return { sent: true };
  }),

  handle(order.generateInvoice, async ({ orderId }, { http, signal }) => {
    const request = http.order.post(`api/orders/${orderId}/invoice`, { signal });
    return readJson(request, z.object({ invoiceId: z.string() }));
  }),

  handle(order.cancelUnpaidOrders, async ({ olderThanMinutes }, { http, signal }) => {
    const request = http.order.post('api/orders/cancel-unpaid', { json: { olderThanMinutes }, signal });
    return readJson(request, z.object({ cancelled: z.int().min(0) }));
  }),
];
