import { z } from 'zod';
import { cart } from '../src/contracts/index.ts';
import { handle } from './context.ts';
import { readJson } from './read-json.ts';

const Cart = z.object({ id: z.string(), status: z.enum(['active', 'checked-out', 'expired']), itemCount: z.int().min(0) });

export default [
  handle(cart.sendAbandonedCartReminder, async ({ cartId }, { http, signal }) => {
    const current = await readJson(http.cart.get(`api/carts/${cartId}`, { signal }), Cart);
    if (current.status !== 'active') return { skipped: current.status };
    if (current.itemCount === 0) return { skipped: 'empty' };
    await http.cart.post(`api/carts/${cartId}/reminders`, { json: { channel: 'email' }, signal });
    return { sent: true };
  }),

  handle(cart.remindAbandonedCarts, async ({ idleHours, limit }, { http, signal, enqueueMany }) => {
    const request = http.cart.get('api/carts/abandoned', { searchParams: { idleHours, limit }, signal });
    const { cartIds } = await readJson(request, z.object({ cartIds: z.array(z.string()) }));
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

  handle(cart.purgeExpiredCarts, async ({ olderThanHours }, { http, signal }) => {
    const request = http.cart.post('api/carts/purge-expired', { json: { olderThanHours }, signal });
    return readJson(request, z.object({ purged: z.int().min(0) }));
  }),

  handle(cart.recalculateTotals, async ({ cartId }, { http, signal }) => {
    const request = http.cart.post(`api/carts/${cartId}/recalculate`, { signal });
    return readJson(request, z.object({ total: z.number(), currency: z.string() }));
  }),
];
