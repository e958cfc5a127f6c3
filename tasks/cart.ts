import { z } from 'zod';
import { cart } from '../src/contracts/index.ts';
import { handle } from './context.ts';
import { readJson } from './read-json.ts';

// Module-level schemas: zod compiles a schema on its first parse, so one built per call costs a compile per job.
const Cart = z.object({ id: z.string(), status: z.enum(['active', 'checked-out', 'expired']), itemCount: z.int().min(0) });
const Abandoned = z.object({ cartIds: z.array(z.string()) });
const Purged = z.object({ purged: z.int().min(0) });
const Totals = z.object({ total: z.number(), currency: z.string() });

export default [
  handle(cart.sendAbandonedCartReminder, async ({ cartId }, { http }) => {
    const current = await readJson(http.cart.get(`api/carts/${cartId}`), Cart);
    if (current.status !== 'active') return { skipped: current.status };
    if (current.itemCount === 0) return { skipped: 'empty' };
    await http.cart.post(`api/carts/${cartId}/reminders`, { json: { channel: 'email' } });
    return { sent: true };
  }),

  handle(cart.remindAbandonedCarts, async ({ idleHours, limit }, { http, enqueueMany }) => {
    const request = http.cart.get('api/carts/abandoned', { searchParams: { idleHours, limit } });
    const { cartIds } = await readJson(request, Abandoned);
    const day = new Date().toISOString().slice(0, 10);
    // One reminder per cart per day, however often this sweep runs or retries.
    await enqueueMany(
      cartIds.map((cartId) => ({
        task: 'cart.sendAbandonedCartReminder',
        payload: { cartId },
        options: { idempotencyKey: `${cartId}/${day}` },
      })),
    );
    return { enqueued: cartIds.length };
  }),

  handle(cart.purgeExpiredCarts, async ({ olderThanHours }, { http }) => {
    const request = http.cart.post('api/carts/purge-expired', { json: { olderThanHours } });
    return readJson(request, Purged);
  }),

  handle(cart.markCheckedOut, async ({ cartId, orderId }, { http }) => {
    await http.cart.post(`api/carts/${cartId}/checkout`, { json: { orderId } });
    return { checkedOut: true };
  }),

  handle(cart.recalculateTotals, async ({ cartId }, { http }) => {
    const request = http.cart.post(`api/carts/${cartId}/recalculate`);
    return readJson(request, Totals);
  }),
];
