import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineEvents } from '../src/contracts/events.ts';
import type { EventOf, Producer, PublishedEvent } from '../src/producer/index.ts';

declare const hub: Producer;

describe('events are typed from their schemas and the task contracts', () => {
  it('types the event per name, and what publish returns', () => {
    expectTypeOf<EventOf<'order.created'>>().toEqualTypeOf<{ orderId: string; cartId: string; email: string }>();
    expectTypeOf(hub.publish('auth.passwordChanged', { userId: 'u', email: 'a@b.co' })).resolves.toEqualTypeOf<PublishedEvent>();
  });

  it('refuses unknown events and wrong events at compile time', () => {
    // @ts-expect-error unknown event name
    void hub.publish('order.creatd', { orderId: 'o', cartId: 'c', email: 'a@b.co' });
    // @ts-expect-error cartId is required
    void hub.publish('order.created', { orderId: 'o', email: 'a@b.co' });
    // @ts-expect-error a field the event does not have
    void hub.publish('auth.passwordChanged', { userId: 'u', email: 'a@b.co', reason: 'x' });
  });

  it("types each mapping: its parameter is the event, its result must be the task's payload", () => {
    const schema = z.strictObject({ userId: z.uuid(), email: z.email() });
    defineEvents({
      'auth.checked': {
        description: 'the good ones compile',
        schema,
        subscribers: [
          { task: 'auth.revokeUserSessions', map: (e) => ({ userId: e.userId, reason: 'password-changed' }) },
          { task: 'auth.sendVerificationEmail', map: (e) => e },
        ],
      },
    });
    // One event per mistake: TypeScript checks each subscriber against its task's payload.
    defineEvents({
      // @ts-expect-error a required field missing
      'auth.a': { description: '', schema, subscribers: [{ task: 'order.generateInvoice', map: () => ({}) }] },
    });
    defineEvents({
      // @ts-expect-error a field of the wrong type
      'auth.b': { description: '', schema, subscribers: [{ task: 'order.generateInvoice', map: () => ({ orderId: 42 }) }] },
    });
    defineEvents({
      // @ts-expect-error a value outside the task's enum
      'auth.c': { description: '', schema, subscribers: [{ task: 'auth.revokeUserSessions', map: (e) => ({ userId: e.userId, reason: 'bored' }) }] },
    });
    defineEvents({
      // @ts-expect-error the whole event passed on: email is not a field of auth.revokeUserSessions
      'auth.d': { description: '', schema, subscribers: [{ task: 'auth.revokeUserSessions', map: (e) => ({ ...e, reason: 'password-changed' }) }] },
    });
    defineEvents({
      // @ts-expect-error an unknown task
      'auth.e': { description: '', schema, subscribers: [{ task: 'auth.revokeSessions', map: (e) => ({ userId: e.userId }) }] },
    });
    defineEvents({
      // @ts-expect-error a field the event does not have
      'auth.f': { description: '', schema, subscribers: [{ task: 'order.generateInvoice', map: (e) => ({ orderId: e.orderId }) }] },
    });
  });
});
