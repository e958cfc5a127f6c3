import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { EnqueueError, createProducer } from '../../src/producer/index.ts';
import { account, activeJobs, finishTimes, loggedOutcomes, report, secs, sleep, useFaultWorld } from './harness.ts';

/**
 * Producers and a worker run while Redis is SIGKILLed and started again on the same port and
 * data dir. Producers see EnqueueError while it is down (not accepted, so not counted); what
 * they were told is accepted must all finish.
 */
const run = async (world: ReturnType<typeof useFaultWorld>, prefix: string, durable: boolean) => {
  const redis = await world.startRedis(durable ? { appendonly: true, appendfsync: 'always' } : { appendonly: false });
  world.service.delayMs = 100;
  const worker = world.spawn('src/worker/main.ts', prefix, { HUB_QUEUES: 'order' });
  await worker.waitForLine(/"worker ready"/);
  const producer = createProducer({ redisUrl: redis.url, prefix, service: 'faults', timeoutMs: 3_000 });
  const accepted = new Set<string>();
  const acceptedAt = new Map<string, number>();
  let refused = 0;
  const wrongErrors: string[] = [];
  let producing = true;
  const produce = async () => {
    while (producing) {
      try {
        const { id } = await producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
        accepted.add(id);
        acceptedAt.set(id, Date.now());
        await sleep(5); // about what one worker drains, so the backlog stays short
      } catch (err) {
        if (err instanceof EnqueueError) refused++;
        else wrongErrors.push(String(err));
        await sleep(20);
      }
    }
  };
  const producers = Promise.all([produce(), produce(), produce()]);
  await sleep(3_000);
  const inFlight = await activeJobs(world.client(), prefix, 'order');
  const restartedAt = await world.redisOutage();
  producing = false;
  await producers;
  const result = await account({ redis: world.client(), prefix, queue: 'order', accepted, processes: [worker], service: world.service, settleMs: durable ? 60_000 : 8_000 });
  const firstAccepted = Math.min(...[...acceptedAt.values()].filter((t) => t > restartedAt));
  const firstCompleted = Math.min(...[...loggedOutcomes([worker]).values()].map((f) => f.at ?? Infinity).filter((t) => t > restartedAt));
  await producer.close();
  const inFlightDone = await finishTimes(world.client(), prefix, 'order', inFlight);
  expect(wrongErrors.slice(0, 3)).toEqual([]);
  return {
    result,
    inFlight,
    refused,
    // Until producers enqueue and workers complete again, and the jobs in flight at the crash are done.
    recoveryMs: Math.max(firstAccepted, firstCompleted, ...inFlightDone.map((t) => t ?? 0)) - restartedAt,
    detail: `enqueueing again after ${secs(firstAccepted - restartedAt)}, completing after ${secs(firstCompleted - restartedAt)}`,
    worker,
  };
};

const durableWorld = useFaultWorld();
const volatileWorld = useFaultWorld();

it('2a. Redis SIGKILLed and restarted with AOF (appendfsync always): nothing accepted is lost, no process restarted', async () => {
  const { result, inFlight, refused, recoveryMs, worker, detail } = await run(durableWorld, 'f2a', true);
  const { ok } = report({
    name: '2a Redis SIGKILL + restart, AOF appendfsync always',
    ...result,
    inFlightAtFault: inFlight.length,
    recoveryMs,
    note: `${refused} enqueues refused with EnqueueError while Redis was down (not accepted); ${detail}; same worker and producer processes throughout`,
  });
  expect(worker.child.exitCode).toBe(null);
  expect(ok).toBe(true);
});

it('2b. negative control, persistence off: the same fault loses accepted jobs, and the checker sees it', async () => {
  for (const p of durableWorld.processes) p.child.kill('SIGKILL');
  const { result, inFlight, recoveryMs } = await run(volatileWorld, 'f2b', false);
  const { ok } = report({
    name: '2b negative control: Redis SIGKILL + restart, persistence off',
    ...result,
    inFlightAtFault: inFlight.length,
    recoveryMs,
    expectLoss: true,
  });
  expect(ok).toBe(true);
  expect(result.lost.length).toBeGreaterThan(0);
});
