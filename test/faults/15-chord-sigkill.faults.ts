import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { queuePrefix } from '../../src/core/keys.ts';
import { workflowKey } from '../../src/core/workflow/scripts.ts';
import { stepJobId } from '../../src/core/workflow/steps.ts';
import { createProducer } from '../../src/producer/index.ts';
import { account, activeJobs, report, until, useFaultWorld } from './harness.ts';

const world = useFaultWorld();

it('15. chord of 200, worker SIGKILLed mid-way: exactly one callback job, which completes with all 200 results', async () => {
  const redis = await world.startRedis();
  const prefix = 'f15';
  // A 4 s lock: the dead worker's members come back in seconds, not 30 s.
  const env = { HUB_QUEUES: 'order', FAULT_QUEUE_SPEC: JSON.stringify({ lockDurationMs: 4_000, stalledIntervalMs: 2_000 }) };
  const producer = createProducer({ redisUrl: redis.url, prefix, service: 'faults' });
  const client = world.client();
  world.service.delayMs = 300;
  const first = world.spawn('test/faults/fault-worker.ts', prefix, env);
  await first.waitForLine(/"worker ready"/);

  const members = Array.from({ length: 200 }, () => ({ task: 'order.generateInvoice' as const, payload: { orderId: randomUUID() } }));
  const started = await producer.chord(members, { task: 'order.summarizeResults', payload: { label: 'f15' }, from: { results: '$' } });
  await until(() => world.service.executions() >= 60 && world.service.open.size >= 5, 60_000);
  const faultAt = Date.now();
  first.child.kill('SIGKILL');
  await first.exited;
  const inFlight = await activeJobs(client, prefix, 'order');
  const recordedAtKill = Number(await client.hget(workflowKey(prefix, started.workflowId), 'done'));

  const second = world.spawn('test/faults/fault-worker.ts', prefix, env);
  await second.waitForLine(/"worker ready"/);
  const summary = (await producer.waitFor(started, { timeoutMs: 150_000 }).catch((e: unknown) => e)) as { total?: number; succeeded?: number };
  const recoveryMs = Date.now() - faultAt;
  const callbackId = stepJobId('order', started.workflowId, 200);
  const accepted = new Set([...started.jobs.map((j) => j.id), callbackId]);
  const result = await account({ redis: client, prefix, queue: 'order', accepted, processes: world.processes, service: world.service, settleMs: 30_000 });

  // Every job the queue ever held for the callback step: by name, in every state.
  const base = `${queuePrefix(prefix, 'order')}:order`;
  const callbacks = (await client.keys(`${base}:order.wf-${started.workflowId}-*`)).filter((k) => /-200$/.test(k));
  const fields = await client.hgetall(workflowKey(prefix, started.workflowId));
  const problems: string[] = [];
  if (callbacks.length !== 1) problems.push(`${callbacks.length} callback jobs`);
  if (summary?.total !== 200 || summary?.succeeded !== 200) problems.push(`callback result ${JSON.stringify(summary).slice(0, 200)}`);
  if (fields.done !== '200') problems.push(`workflow counted ${fields.done} members`);
  const { ok } = report({
    name: '15 chord of 200: worker SIGKILL mid-way',
    ...result,
    inFlightAtFault: inFlight.length,
    recoveryMs,
    note: `${recordedAtKill} of 200 members recorded at the kill; callback jobs ${callbacks.length}; callback saw ${summary?.succeeded ?? '?'} of ${summary?.total ?? '?'} succeeded; workflow ${fields.state} (lock 4 s)`,
    problems,
  });
  await producer.close();
  expect(ok).toBe(true);
  expect(callbacks).toHaveLength(1);
  expect(summary).toMatchObject({ total: 200, succeeded: 200, failed: [] });
});
