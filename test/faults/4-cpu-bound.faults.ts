import { expect, it } from 'vitest';
import { account, addRaw, report, until, useFaultWorld } from './harness.ts';
import { fault } from './fault-tasks.ts';

const world = useFaultWorld();
// A 2 s lock so the scenario takes seconds; the ratio of block to lock is what matters.
const timings = { lockDurationMs: 2_000, stalledIntervalMs: 1_000 };
const BLOCK_MS = 6_000;

const run = async (prefix: string, sandboxed: boolean) => {
  const redis = world.redis ?? (await world.startRedis());
  const env = { HUB_QUEUES: 'product', FAULT_QUEUE_SPEC: JSON.stringify({ ...timings, sandboxed }) };
  // Two replicas: the one that is not blocked notices the expired lock.
  const workers = [world.spawn('test/faults/fault-worker.ts', prefix, env), world.spawn('test/faults/fault-worker.ts', prefix, env)];
  await Promise.all(workers.map((w) => w.waitForLine(/"worker ready"/)));
  const client = world.client();
  const ids = await addRaw(client, prefix, fault.cpu, [{ ms: BLOCK_MS }]);
  const faultAt = Date.now();
  await until(() => world.service.starts.has(ids[0]!), 10_000);
  const result = await account({ redis: client, prefix, queue: 'product', accepted: new Set(ids), processes: workers, service: world.service, settleMs: 60_000 });
  const finished = result.finished.get(ids[0]!);
  for (const w of workers) w.child.kill('SIGKILL');
  return { result, runs: world.service.starts.get(ids[0]!) ?? 0, faultAt, finished };
};

it('4a. a CPU-bound task blocking the event loop past its lock, in process: it runs again elsewhere', async () => {
  const { result, runs } = await run('f4a', false);
  const { ok } = report({
    name: '4a CPU-bound task, in-process (event loop blocked 6 s, lock 2 s)',
    ...result,
    inFlightAtFault: 1,
    note: `ran ${runs}×: its lock expired while it blocked, so another worker ran it too`,
  });
  expect(ok).toBe(true);
  expect(runs).toBeGreaterThan(1);
});

it('4b. the same task on a `sandboxed: true` queue runs once and completes', async () => {
  const { result, runs } = await run('f4b', true);
  const { ok } = report({
    name: '4b CPU-bound task, sandboxed: true (event loop blocked 6 s, lock 2 s)',
    ...result,
    inFlightAtFault: 1,
    note: `ran ${runs}×`,
  });
  expect(ok).toBe(true);
  expect(runs).toBe(1);
  expect(result.completed).toBe(1);
});
