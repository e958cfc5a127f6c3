import { expect, it } from 'vitest';
import { catalog, type AnyContract } from '../../src/contracts/index.ts';
import { flowConfigFrom } from '../../src/config/flow-config.ts';
import { loadEnv } from '../../src/config/env.ts';
import { readFlowStatus } from '../../src/core/flow/status.ts';
import { account, activeJobs, addRaw, finishTimes, report, until, useFaultWorld } from './harness.ts';
import { fault } from './fault-tasks.ts';

const world = useFaultWorld();

it('13. worker SIGKILLed holding per-key slots and pool leases: both come back, every job completes', async () => {
  const redis = await world.startRedis();
  const prefix = 'f13';
  const env = {
    HUB_QUEUES: 'order',
    PROXY_POOL: 'proxy-a,proxy-b',
    // A 4 s lock: the dead worker's jobs and per-key slots come back in seconds, not 30 s.
    FAULT_QUEUE_SPEC: JSON.stringify({ lockDurationMs: 4_000, stalledIntervalMs: 2_000 }),
  };
  const client = world.client();
  const contracts = { ...catalog, [fault.keyedLease.name]: fault.keyedLease } as Record<string, AnyContract>;
  const flow = flowConfigFrom(loadEnv({ PROXY_POOL: env.PROXY_POOL }));
  const state = () => readFlowStatus(client, prefix, flow, contracts);

  const first = world.spawn('test/faults/fault-worker.ts', prefix, env);
  await first.waitForLine(/"worker ready"/);
  // 40 jobs over two keys, each holding a proxy for 1.5 s: one job per key at a time, both proxies busy.
  const payloads = Array.from({ length: 40 }, (_, i) => ({ key: `key-${i % 2}`, ms: 1_500 }));
  const accepted = new Set(await addRaw(client, prefix, fault.keyedLease, payloads));
  await until(() => world.service.open.size >= 2, 30_000);
  const before = await state();
  first.child.kill('SIGKILL');
  await first.exited;
  const faultAt = Date.now();
  const inFlight = await activeJobs(client, prefix, 'order');

  const second = world.spawn('test/faults/fault-worker.ts', prefix, env);
  await second.waitForLine(/"worker ready"/);
  const result = await account({ redis: client, prefix, queue: 'order', accepted, processes: world.processes, service: world.service, settleMs: 150_000 });
  const times = await finishTimes(client, prefix, 'order', inFlight);
  const after = await state();
  const leasedAtKill = before.pools[0]!.leased;
  const waiting = (s: Awaited<ReturnType<typeof state>>) => s.keys.find((k) => k.task === fault.keyedLease.name)!.waitingJobs;
  const { ok } = report({
    name: '13 flow: worker SIGKILL holding per-key slots and pool leases',
    ...result,
    inFlightAtFault: inFlight.length,
    recoveryMs: Math.max(...times.map((t) => (t ?? Infinity) - faultAt)),
    note: `at the kill ${leasedAtKill} of 2 proxies leased and ${waiting(before)} jobs waiting for their key; after, ${after.pools[0]!.leased} leased and ${waiting(after)} waiting (slot ttl = lock 4 s, lease ttl 10 s)`,
  });
  expect(ok).toBe(true);
  expect(leasedAtKill).toBe(2);
  expect(after.pools[0]!.leased).toBe(0);
  expect(waiting(before)).toBeGreaterThan(0);
  expect(waiting(after)).toBe(0);
});
