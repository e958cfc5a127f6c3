import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { EnqueueError, createProducer } from '../../src/producer/index.ts';
import { account, activeJobs, addRaw, finishTimes, report, secs, sleep, until, useFaultWorld } from './harness.ts';
import { fault } from './fault-tasks.ts';

const world = useFaultWorld();
// A 2 s lock checked every second, so a 5 s stall is 2.5 locks long and the scenario takes seconds.
const timings = { lockDurationMs: 2_000, stalledIntervalMs: 1_000 };
const STALL_S = 5;

const stall = async (how: 'DEBUG SLEEP' | 'CLIENT PAUSE', prefix: string) => {
  const redis = world.redis ?? (await world.startRedis({ extraArgs: ['--enable-debug-command', 'local'] }));
  const env = { HUB_QUEUES: 'order', FAULT_QUEUE_SPEC: JSON.stringify(timings) };
  const workers = [world.spawn('test/faults/fault-worker.ts', prefix, env), world.spawn('test/faults/fault-worker.ts', prefix, env)];
  await Promise.all(workers.map((w) => w.waitForLine(/"worker ready"/)));
  const client = world.client();
  const accepted = new Set(await addRaw(client, prefix, fault.work, Array.from({ length: 200 }, () => ({ ms: 400 }))));
  const before = world.service.executions();
  await until(() => world.service.executions() >= before + 30, 20_000);
  const inFlight = await activeJobs(client, prefix, 'order');

  // A producer enqueueing through the stall: its deadline turns the hang into EnqueueError.
  const producer = createProducer({ redisUrl: redis.url, prefix, service: 'faults', timeoutMs: 3_000 });
  const stallClient = world.client();
  const stalled = how === 'DEBUG SLEEP' ? stallClient.call('DEBUG', 'SLEEP', String(STALL_S)) : stallClient.call('CLIENT', 'PAUSE', String(STALL_S * 1_000), 'ALL');
  await sleep(50);
  const attempt = Date.now();
  const enqueued = await producer.enqueue('order.generateInvoice', { orderId: randomUUID() }).then(
    (j) => ({ ok: true as const, id: j.id }),
    (e: unknown) => ({ ok: false as const, err: e }),
  );
  const enqueueMs = Date.now() - attempt;
  await stalled;
  const resumedAt = Date.now();
  if (enqueued.ok) accepted.add(enqueued.id);

  const result = await account({ redis: client, prefix, queue: 'order', accepted, processes: workers, service: world.service, settleMs: 60_000 });
  const stuck = await activeJobs(client, prefix, 'order');
  const done = await finishTimes(client, prefix, 'order', inFlight);
  const recoveryMs = Math.max(...done.map((t) => (t ?? Infinity) - resumedAt));
  await producer.close();
  for (const w of workers) w.child.kill('SIGKILL');
  const producerNote = enqueued.ok
    ? `an enqueue during the stall waited ${secs(enqueueMs)} and succeeded`
    : `an enqueue during the stall failed after ${secs(enqueueMs)} with ${(enqueued.err as Error).name}`;
  return { result, inFlight, stuck, recoveryMs, producerNote, enqueued };
};

it.each(['DEBUG SLEEP', 'CLIENT PAUSE'] as const)('3. Redis stalled by %s for 5 s, 2.5× the lock: nothing lost or stuck in active', async (how) => {
  const { result, inFlight, stuck, recoveryMs, producerNote, enqueued } = await stall(how, `f3${how === 'DEBUG SLEEP' ? 'a' : 'b'}`);
  const { ok } = report({
    name: `3 Redis stalled ${STALL_S} s by ${how} (lock 2 s)`,
    ...result,
    inFlightAtFault: inFlight.length,
    recoveryMs,
    note: `${stuck.length} stuck in active afterwards; ${producerNote}`,
  });
  expect(ok).toBe(true);
  expect(stuck).toEqual([]);
  if (!enqueued.ok) expect(enqueued.err).toBeInstanceOf(EnqueueError);
});
