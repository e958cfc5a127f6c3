import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { events } from '../events.ts';
import { defineEvents, type AnyEvents } from '../src/contracts/events.ts';
import { checkEvents } from '../src/core/check-events.ts';
import { ConfigError, InvalidEventError } from '../src/core/errors.ts';
import { queuePrefix } from '../src/core/keys.ts';
import { withDeadline } from '../src/producer/deadline.ts';
import { createPublisher } from '../src/producer/publish.ts';
import { testRedisUrl, useTestHub } from './helpers/test-hub.ts';

const errorOf = (fn: () => void): Error => {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
};

describe('events.ts is checked when a role starts', () => {
  it("accepts the hub's events", () => {
    expect(() => checkEvents(events)).not.toThrow();
  });

  it('refuses unknown tasks, duplicate subscribers and bad names: one ConfigError, each naming event and subscriber', () => {
    const broken = {
      'order.created': {
        description: 'x',
        schema: z.object({ orderId: z.uuid() }),
        subscribers: [
          { task: 'order.generateInvoice', map: (e: { orderId: string }) => ({ orderId: e.orderId }) },
          { task: 'order.generateInvoce', map: (e: { orderId: string }) => ({ orderId: e.orderId }) },
          { task: 'order.generateInvoice', map: (e: { orderId: string }) => ({ orderId: e.orderId }) },
        ],
      },
      'Order Shipped': { description: 'y', schema: z.object({}), subscribers: [{ task: 'cart.recalculateTotals', map: 'nope' }] },
    } as unknown as AnyEvents;
    const err = errorOf(() => checkEvents(broken));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toBe(
      [
        'events.ts: 4 problems:',
        '  event "order.created", subscriber 2 (order.generateInvoce): unknown task (did you mean "order.generateInvoice"?)',
        '  event "order.created", subscriber 3 (order.generateInvoice): order.generateInvoice is subscribed twice; one event gives a task one job',
        '  event "Order Shipped": the name must be <domain>.<event>, letters and digits (e.g. order.created)',
        '  event "Order Shipped", subscriber 1 (cart.recalculateTotals): map must be a function (event) => payload',
      ].join('\n'),
    );
  });
});

describe('a subscriber that cannot take the event refuses the whole publish', () => {
  const hub = useTestHub({ worker: false });
  let connection: Redis;
  const queues: Queue[] = [];
  beforeAll(() => void (connection = new Redis(testRedisUrl())));
  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
    connection.disconnect();
  });

  // order.generateInvoice maps first and would be fine: nothing may be added for it either.
  const testEvents = defineEvents({
    'order.tested': {
      description: 'test only',
      schema: z.strictObject({ orderId: z.uuid(), explode: z.boolean() }),
      subscribers: [
        { task: 'order.generateInvoice', map: (e) => ({ orderId: e.orderId }) },
        {
          task: 'order.sendConfirmation',
          map: (e) => {
            if (e.explode) throw new Error('no e-mail address on this order');
            return { orderId: e.orderId, email: 'not-an-email' };
          },
        },
      ],
    },
  });
  const publisherOf = (evts: AnyEvents) =>
    createPublisher(
      {
        service: 'test',
        maxPayloadBytes: 512 * 1024,
        connection,
        queueNamed: (name) => {
          const q = new Queue(name, { connection, prefix: queuePrefix(hub.prefix, name) });
          queues.push(q);
          return q;
        },
        guarded: (what, work, map) => withDeadline(work(), 3_000, what, map),
      },
      evts,
    );
  const publish = () => publisherOf(testEvents);

  it('a mapping that throws: InvalidEventError naming the subscriber, 0 jobs', async () => {
    const err = await publish()('order.tested', { orderId: randomUUID(), explode: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidEventError);
    expect((err as InvalidEventError).subscriber).toBe('order.sendConfirmation');
    expect((err as Error).message).toBe(
      'event order.tested cannot be delivered to its subscriber order.sendConfirmation, so nothing was published:\nits mapping threw: no e-mail address on this order',
    );
    expect(await hub.keys()).toEqual([]);
  });

  it("a mapping that yields a payload its task refuses: the task's field named, 0 jobs", async () => {
    const err = await publish()('order.tested', { orderId: randomUUID(), explode: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidEventError);
    expect((err as InvalidEventError).subscriber).toBe('order.sendConfirmation');
    expect((err as InvalidEventError).fields).toEqual([{ path: 'email', message: 'Invalid email address' }]);
    expect(await hub.keys()).toEqual([]);
  });

  it('the same events with a valid mapping publish (the setup above is not what refuses)', async () => {
    const ok = defineEvents({ 'order.tested': { ...testEvents['order.tested'], subscribers: [testEvents['order.tested'].subscribers[0]!] } });
    const published = await publisherOf(ok)('order.tested', { orderId: randomUUID(), explode: true });
    expect(published.jobs).toHaveLength(1);
  });
});
