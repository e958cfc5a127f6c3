import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { workflowKey } from '../../src/core/workflow/scripts.ts';
import { stepJobId } from '../../src/core/workflow/steps.ts';
import { createProducer, type StartedWorkflow } from '../../src/producer/index.ts';
import { account, activeJobs, report, until, useFaultWorld } from './harness.ts';

const world = useFaultWorld();
const STEPS = 5;
const CHAINS = 40;

it('16. chains of 5, worker SIGKILLed between steps: every step in order, no step after a failed one, none twice beyond those in flight', async () => {
  const redis = await world.startRedis();
  const prefix = 'f16';
  const env = { HUB_QUEUES: 'order', FAULT_QUEUE_SPEC: JSON.stringify({ lockDurationMs: 4_000, stalledIntervalMs: 2_000 }) };
  const producer = createProducer({ redisUrl: redis.url, prefix, service: 'faults' });
  const client = world.client();
  world.service.delayMs = 150;
  const first = world.spawn('test/faults/fault-worker.ts', prefix, env);
  await first.waitForLine(/"worker ready"/);

  // Every fourth chain fails for good at step 3: its mapping finds nothing in step 2's result, so step 3 never runs, nor step 4.
  const failing = (c: number) => c % 4 === 0;
  const chains: StartedWorkflow[] = [];
  for (let c = 0; c < CHAINS; c++) {
    const step = (s: number) =>
      failing(c) && s === 3
        ? { task: 'order.generateInvoice' as const, payload: {}, from: { orderId: 'invoice.missing' } }
        : { task: 'order.generateInvoice' as const, payload: { orderId: randomUUID() } };
    chains.push(await producer.chain([{ task: 'order.generateInvoice', payload: { orderId: randomUUID() } }, step(1), step(2), step(3), step(4)]));
  }
  await until(() => world.service.executions() >= CHAINS * 2, 60_000);
  const faultAt = Date.now();
  first.child.kill('SIGKILL');
  await first.exited;
  const inFlight = await activeJobs(client, prefix, 'order');

  const second = world.spawn('test/faults/fault-worker.ts', prefix, env);
  await second.waitForLine(/"worker ready"/);
  const outcomes = await Promise.all(chains.map((c) => producer.waitFor(c, { timeoutMs: 150_000 }).then(() => 'completed', (e: Error) => e.message)));
  const recoveryMs = Date.now() - faultAt;

  const problems: string[] = [];
  const accepted = new Set<string>();
  for (const [c, chain] of chains.entries()) {
    const ids = Array.from({ length: STEPS }, (_, s) => stepJobId('order', chain.workflowId, s));
    const ran = ids.map((id) => world.service.firstStartAt.get(id));
    const last = failing(c) ? 2 : STEPS - 1;
    ids.slice(0, last + 1).forEach((id) => accepted.add(id));
    for (let s = 1; s <= last; s++) if (!(ran[s]! > ran[s - 1]!)) problems.push(`chain ${c}: step ${s} did not start after step ${s - 1}`);
    if (failing(c)) {
      if (ran[3] !== undefined || ran[4] !== undefined) problems.push(`chain ${c}: a step after the failed one ran`);
      if (await client.exists(`{${prefix}-order}:order:${ids[4]}`)) problems.push(`chain ${c}: step 4 was enqueued`);
      if (!/failed at step 3: .*invoice\.missing/.test(outcomes[c]!)) problems.push(`chain ${c}: ${outcomes[c]}`);
    } else if (outcomes[c] !== 'completed') problems.push(`chain ${c}: ${outcomes[c]}`);
    const done = await client.hget(workflowKey(prefix, chain.workflowId), 'done');
    if (done !== String(last + 2 > STEPS ? STEPS : last + 2)) problems.push(`chain ${c}: ${done} steps recorded`);
  }
  const result = await account({ redis: client, prefix, queue: 'order', accepted, processes: world.processes, service: world.service, settleMs: 30_000 });
  const { ok } = report({
    name: `16 ${CHAINS} chains of ${STEPS}: worker SIGKILL between steps`,
    ...result,
    inFlightAtFault: inFlight.length,
    recoveryMs,
    note: `${CHAINS / 4} chains fail for good at step 3 (a mapping finds nothing): their steps 3-4 never run; every other chain completed in order (lock 4 s)`,
    problems: problems.slice(0, 5),
  });
  await producer.close();
  expect(ok).toBe(true);
});
