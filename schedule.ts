import { defineSchedule } from './src/contracts/schedule.ts';

/**
 * Periodic tasks, as data. `npm run beat` keeps each entry in Redis as a BullMQ job scheduler
 * on its task's queue; the workers fire them. Cron runs in `tz` (UTC when omitted).
 * An entry's id is its scheduler's id: rename = remove + add.
 */
export const schedule = defineSchedule([
  // auth
  {
    id: 'auth-purge-expired-sessions',
    task: 'auth.purgeExpiredSessions',
    cron: '5 * * * *',
    payload: { olderThanHours: 24 },
    noOverlap: true,
  },

  // cart
  {
    id: 'cart-purge-expired',
    task: 'cart.purgeExpiredCarts',
    cron: '*/15 * * * *',
    payload: { olderThanHours: 72 },
    noOverlap: true,
  },
  {
    // Daytime only: a reminder at 3 a.m. reads as spam.
    id: 'cart-remind-abandoned',
    task: 'cart.remindAbandonedCarts',
    cron: '0 9-20 * * *',
    tz: 'Europe/Berlin',
    payload: { idleHours: 24, limit: 500 },
    noOverlap: true,
  },

  // order
  {
    id: 'order-cancel-unpaid',
    task: 'order.cancelUnpaidOrders',
    everyMs: 10 * 60_000,
    payload: { olderThanMinutes: 60 },
    noOverlap: true,
  },

  // product
  {
    id: 'product-reindex-nightly',
    task: 'product.reindex',
    cron: '0 3 * * *',
    tz: 'Europe/Berlin',
    noOverlap: true,
  },
]);

export default schedule;
