import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { events } from '../events.ts';
import { catalog, type AnyContract } from '../src/contracts/index.ts';
import { jobOptionsFor, withJobId } from '../src/core/job-options.ts';
import { queuePrefix } from '../src/core/keys.ts';
import { createProducer } from '../src/producer/index.ts';
import { eventJobId } from '../src/producer/event-ids.ts';
import { deletePrefix } from './redis-util.ts';
import { pool, type Env, type Side } from './scenarios.ts';

const EVENT = 'order.created';
const subscribers = events[EVENT].subscribers.map((s) => ({ ...s, contract: (catalog as Record<string, AnyContract>)[s.task]! }));
const WARMUP = 500;
const IN_FLIGHT = 50;

/**
 * `producer.publish('order.created', ...)` (three subscribers on two queues) against raw BullMQ
 * adding the same three jobs: one addBulk per queue, both in flight, with the same options and ids
 * of the same form. `keyed`: the caller names the event (the hub then reads the jobs back once,
 * to tell a retried publish from a reused id); otherwise the hub makes the id. Publishes/s, and
 * the publishing process's CPU per publish (steadier than wall time on a shared machine).
 */
const measured = async (n: number, publish: (i: number) => Promise<unknown>) => {
  const cpu = process.cpuUsage();
  const rate = await pool(n, IN_FLIGHT, publish);
  const used = process.cpuUsage(cpu);
  return { rate, cpuUs: (used.user + used.system) / n };
};

export const publishRate = async (env: Env, side: Side, n: number, keyed: boolean): Promise<{ rate: number; cpuUs: number }> => {
  const prefix = env.nextPrefix(side);
  const eventsToSend = Array.from({ length: WARMUP + n }, () => ({ orderId: randomUUID(), cartId: randomUUID(), email: 'ada@example.com' }));
  try {
    if (side === 'hub') {
      const producer = createProducer({ redisUrl: env.redisUrl, prefix, service: 'bench' });
      const publish = (i: number) => {
        const event = eventsToSend[i]!;
        return producer.publish(EVENT, event, keyed ? { eventId: event.orderId } : undefined);
      };
      await pool(WARMUP, IN_FLIGHT, publish);
      const timed = await measured(n, (i) => publish(WARMUP + i));
      await producer.close();
      return timed;
    }
    const connection = new Redis(env.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    const queues = new Map([...new Set(subscribers.map((s) => s.contract.queue))].map((q) => [q, new Queue(q, { connection, prefix: queuePrefix(prefix, q) })]));
    const publish = (i: number) => {
      const event = eventsToSend[i]!;
      const byQueue = new Map<string, { name: string; data: unknown; opts: ReturnType<typeof withJobId> }[]>();
      for (const { task, map, contract } of subscribers) {
        const job = { name: task, data: (map as (e: unknown) => unknown)(event), opts: withJobId(jobOptionsFor(contract), eventJobId(contract.queue, EVENT, event.orderId, task)) };
        const list = byQueue.get(contract.queue);
        if (list) list.push(job);
        else byQueue.set(contract.queue, [job]);
      }
      return Promise.all([...byQueue].map(([queue, jobs]) => queues.get(queue)!.addBulk(jobs)));
    };
    await pool(WARMUP, IN_FLIGHT, publish);
    const timed = await measured(n, (i) => publish(WARMUP + i));
    await Promise.all([...queues.values()].map((q) => q.close()));
    connection.disconnect();
    return timed;
  } finally {
    await deletePrefix(env.redis, prefix);
  }
};
