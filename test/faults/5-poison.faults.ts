import { expect, it } from 'vitest';
import type { RoleProcess } from '../helpers/spawn-role.ts';
import { account, activeJobs, addRaw, report, useFaultWorld } from './harness.ts';
import { fault } from './fault-tasks.ts';

const world = useFaultWorld();
const timings = { lockDurationMs: 2_000, stalledIntervalMs: 1_000 };

it('5. a poison job crashing its worker every time ends in failed; the other jobs complete', async () => {
  const redis = await world.startRedis();
  const prefix = 'f5';
  const env = { HUB_QUEUES: 'order', FAULT_QUEUE_SPEC: JSON.stringify(timings) };
  // A supervisor (Kubernetes, systemd) restarts the worker whenever it dies.
  let crashes = 0;
  let stopped = false;
  let current: RoleProcess;
  const client = world.client();
  const inFlight = new Set<string>();
  const supervise = (): void => {
    current = world.spawn('test/faults/fault-worker.ts', prefix, env);
    void current.exited.then(async ({ signal }) => {
      if (stopped || signal === 'SIGKILL') return;
      crashes++;
      for (const id of await activeJobs(client, prefix, 'order')) inFlight.add(id);
      supervise();
    });
  };
  supervise();
  await current!.waitForLine(/"worker ready"/);
  const others = await addRaw(client, prefix, fault.work, Array.from({ length: 60 }, () => ({ ms: 300 })));
  const [poison] = await addRaw(client, prefix, fault.poison, [{}]);
  const more = await addRaw(client, prefix, fault.work, Array.from({ length: 60 }, () => ({ ms: 300 })));
  const accepted = new Set([...others, poison!, ...more]);
  const result = await account({ redis: client, prefix, queue: 'order', accepted, processes: world.processes, service: world.service, settleMs: 120_000 });
  stopped = true;
  const poisonOutcome = result.finished.get(poison!);
  const { ok } = report({
    name: '5 poison job crashing the worker process',
    ...result,
    // A crash takes the poison job's neighbours down with it.
    inFlightAtFault: inFlight.size,
    note: `worker crashed ${crashes}×, poison ran ${world.service.starts.get(poison!)}×`,
  });
  expect(ok).toBe(true);
  expect(poisonOutcome).toMatchObject({ ok: false, reason: expect.stringContaining('poison pill') });
  expect(result.completed).toBe(accepted.size - 1);
});
