import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { queuePrefix } from '../../src/core/keys.ts';
import { createProducer } from '../../src/producer/index.ts';
import { account, activeJobs, report, secs, until, useFaultWorld } from './harness.ts';

const world = useFaultWorld();
const GRACE_MS = 2_000;

it('9. SIGTERM under load: in-flight jobs finish within the grace period or go back to wait unspent; none lost', async () => {
  const redis = await world.startRedis();
  const prefix = 'f9';
  // Every other job takes 8 s, longer than the grace period; the rest 300 ms.
  const slowIds = new Set<string>();
  world.service.delayFor = (id) => (slowIds.has(id) ? 8_000 : 300);
  const env = { HUB_QUEUES: 'order', WORKER_GRACE_MS: String(GRACE_MS) };
  const producer = createProducer({ redisUrl: redis.url, prefix, service: 'faults' });
  const jobs = await producer.enqueueMany(Array.from({ length: 150 }, () => ({ task: 'order.generateInvoice' as const, payload: { orderId: randomUUID() } })));
  const accepted = new Set(jobs.map((j) => j.id));
  jobs.forEach((j, i) => i % 2 && slowIds.add(j.id));
  const first = world.spawn('src/worker/main.ts', prefix, env);
  await first.waitForLine(/"worker ready"/);
  // SIGTERM while both kinds run, the slow ones having started recently.
  await until(() => [...world.service.open].filter((id) => slowIds.has(id)).length >= 10 && world.service.executions() >= 30, 30_000);

  const inFlight = await activeJobs(world.client(), prefix, 'order');
  const termAt = Date.now();
  first.child.kill('SIGTERM');
  const exit = await first.exited;
  const shutdownMs = Date.now() - termAt;
  const client = world.client();
  const base = `${queuePrefix(prefix, 'order')}:order`;
  const returned = (await client.lrange(`${base}:wait`, 0, -1)).filter((id) => inFlight.includes(id));
  const finishedInGrace = inFlight.length - returned.length;
  const unspent = await Promise.all(returned.map((id) => client.hget(`${base}:${id}`, 'atm')));

  const second = world.spawn('src/worker/main.ts', prefix, env);
  await second.waitForLine(/"worker ready"/);
  const result = await account({ redis: client, prefix, queue: 'order', accepted, processes: [first, second], service: world.service, settleMs: 90_000 });
  const { ok } = report({
    name: `9 graceful shutdown under load (SIGTERM, grace ${secs(GRACE_MS)})`,
    ...result,
    inFlightAtFault: inFlight.length,
    recoveryMs: shutdownMs,
    note: `exit code ${exit.code} after ${secs(shutdownMs)}; of ${inFlight.length} in flight, ${finishedInGrace} finished in grace, ${returned.length} returned to wait with no attempt spent`,
  });
  await producer.close();
  expect(ok).toBe(true);
  expect(exit).toEqual({ code: 0, signal: null });
  expect(returned.length).toBeGreaterThan(0);
  expect(unspent.every((a) => a === null || a === '0')).toBe(true);
});
