import { z } from 'zod';
import { defineEvents } from './src/contracts/events.ts';

/**
 * Events, as data: a service publishes one (`hub.publish('order.created', event)` or
 * `POST /api/v1/events/order.created`) and every subscriber runs as a job of its own, with its
 * own retries. Adding a subscriber is a change here, not in the publishing service.
 * Each mapping turns the event (as its schema parsed it) into the task's payload; the compiler
 * checks it against the task's contract, every role checks the rest at start.
 */
export const events = defineEvents({
  'order.created': {
    description: 'An order was placed (and paid): confirm it, invoice it, close the cart it came from.',
    schema: z.strictObject({ orderId: z.uuid(), cartId: z.uuid(), email: z.email() }),
    subscribers: [
      { task: 'order.sendConfirmation', map: (e) => ({ orderId: e.orderId, email: e.email }) },
      { task: 'order.generateInvoice', map: (e) => ({ orderId: e.orderId }) },
      { task: 'cart.markCheckedOut', map: (e) => ({ cartId: e.cartId, orderId: e.orderId }) },
    ],
  },

  'auth.passwordChanged': {
    description: "A user's password was changed: sign out every session, and tell the user.",
    schema: z.strictObject({ userId: z.uuid(), email: z.email() }),
    subscribers: [
      { task: 'auth.revokeUserSessions', map: (e) => ({ userId: e.userId, reason: 'password-changed' }) },
      { task: 'auth.sendPasswordChangedEmail', map: (e) => ({ userId: e.userId, email: e.email }) },
    ],
  },
});

export type Events = typeof events;
export type EventName = keyof Events & string;
/** What a publisher sends (defaults may be omitted). */
export type EventOf<E extends EventName> = z.input<Events[E]['schema']>;

export default events;
