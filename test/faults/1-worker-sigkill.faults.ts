import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { createProducer } from '../../src/producer/index.ts';
import { account, activeJobs, finishTimes, report, until, useFaultWorld } from './harness.ts';

const world = useFaultWorld();

it('1. worker killed with SIGKILL mid-job: every job completes once a new worker starts', async () => {
  const redis = await world.startRedis();
  const prefix = 'f1';
  const producer = createProducer({ redisUrl: redis.url, prefix, service: 'faults' });
  world.service.delayMs = 1_000;
  const first = world.spawn('src/worker/main.ts', prefix, { HUB_QUEUES: 'order' });
  await first.waitForLine(/"worker ready"/);

  const jobs = await producer.enqueueMany(
    Array.from({ length: 200 }, () => ({ task: 'order.generateInvoice' as const, payload: { orderId: randomUUID() } })),
  );
  const accepted = new Set(jobs.map((j) => j.id));
  await until(() => world.service.open.size >= 10 && world.service.executions() >= 40, 30_000);
  const faultAt = Date.now();
  first.child.kill('SIGKILL');
  await first.exited;
  // Active in Redis after the kill: every job the dead worker held, called yet or not.
  const inFlight = await activeJobs(world.client(), prefix, 'order');

  const second = world.spawn('src/worker/main.ts', prefix, { HUB_QUEUES: 'order' });
  await second.waitForLine(/"worker ready"/);
  const result = await account({ redis: world.client(), prefix, queue: 'order', accepted, processes: world.processes, service: world.service, settleMs: 150_000 });
  const times = await finishTimes(world.client(), prefix, 'order', inFlight);
  const { ok } = report({
    name: '1 worker SIGKILL mid-job',
    ...result,
    inFlightAtFault: inFlight.length,
    recoveryMs: Math.max(...times.map((t) => (t ?? Infinity) - faultAt)),
    note: 'lock 30 s, stalled check every 15 s (queues.config.ts); the dead worker\'s jobs ran again, each in a child process',
  });
  await producer.close();
  expect(ok).toBe(true);
});
