import { expect, it } from 'vitest';
import { createProducer } from '../../src/producer/index.ts';
import { account, activeJobs, addRaw, report, until, useFaultWorld } from './harness.ts';
import { fault } from './fault-tasks.ts';

const world = useFaultWorld();
// Short lock timings so the dead worker's jobs come back in seconds (as in scenario 4).
const env = { HUB_QUEUES: 'order', FAULT_QUEUE_SPEC: JSON.stringify({ lockDurationMs: 2_000, stalledIntervalMs: 1_000 }) };

it('10. cancel acknowledged, then the worker holding the job is SIGKILLed: the job never runs again', async () => {
  const redis = await world.startRedis();
  const prefix = 'f10';
  const producer = createProducer({ redisUrl: redis.url, prefix, service: 'faults' });
  const first = world.spawn('test/faults/fault-worker.ts', prefix, env);
  await first.waitForLine(/"worker ready"/);

  // 20 jobs held by the service; half are cancelled, half are the control group.
  const ids = await addRaw(world.client(), prefix, fault.work, Array.from({ length: 20 }, () => ({ ms: 5_000 })));
  await until(() => world.service.open.size === ids.length, 30_000);
  const [cancelled, kept] = [ids.slice(0, 10), ids.slice(10)];

  // Frozen, the worker cannot act on the cancels: each is acknowledged, then the worker dies.
  first.child.kill('SIGSTOP');
  const answers = await Promise.all(cancelled.map((id) => producer.cancel({ id, queue: 'order' }, { reason: 'operator' })));
  expect(answers.map((a) => a.outcome)).toEqual(cancelled.map(() => 'aborting'));
  const inFlight = await activeJobs(world.client(), prefix, 'order');
  first.child.kill('SIGKILL');
  await first.exited;

  const second = world.spawn('test/faults/fault-worker.ts', prefix, env);
  await second.waitForLine(/"worker ready"/);
  const result = await account({ redis: world.client(), prefix, queue: 'order', accepted: new Set(ids), processes: world.processes, service: world.service, settleMs: 90_000 });
  const ranAgain = cancelled.filter((id) => (world.service.starts.get(id) ?? 0) > 1);
  const failedAsCancelled = cancelled.filter((id) => {
    const f = result.finished.get(id);
    return f && !f.ok && f.reason.startsWith('cancelled: operator');
  });
  const { ok } = report({
    name: '10 cancel, then SIGKILL of the worker holding the jobs',
    ...result,
    inFlightAtFault: inFlight.length,
    note: `${cancelled.length} cancelled while their worker was frozen: ran again ${ranAgain.length}, failed as cancelled ${failedAsCancelled.length}; the ${kept.length} not cancelled ran again`,
    ...(ranAgain.length || failedAsCancelled.length < cancelled.length ? { broken: `${ranAgain.length} cancelled job(s) ran again` } : {}),
  });
  await producer.close();
  expect(ok).toBe(true);
  expect(ranAgain).toEqual([]);
  expect(failedAsCancelled).toHaveLength(cancelled.length);
  expect(kept.every((id) => result.finished.get(id)?.ok)).toBe(true);
  expect(kept.every((id) => world.service.starts.get(id) === 2)).toBe(true);
});
