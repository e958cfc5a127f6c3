import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { queues } from '../../queues.config.ts';
import { queuePrefix } from '../../src/core/keys.ts';
import { createProducer } from '../../src/producer/index.ts';
import { account, report, secs, sleep, useFaultWorld } from './harness.ts';

const world = useFaultWorld();
const JOBS = 50_000;
const BATCH = 500;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

it(`7. burst: ${JOBS} jobs enqueued as fast as producers can while workers drain; all accounted, memory bounded by retention`, async () => {
  const redis = await world.startRedis({ appendonly: true, appendfsync: 'everysec' });
  const prefix = 'f7';
  const client = world.client();
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
  const baseline = await usedMemory();
  const env = { HUB_QUEUES: 'order' };
  const workers = [world.spawn('src/worker/main.ts', prefix, env), world.spawn('src/worker/main.ts', prefix, env)];
  await Promise.all(workers.map((w) => w.waitForLine(/"worker ready"/)));

  let peak = baseline;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await usedMemory());
      await sleep(500);
    }
  })();

  // Two producers (think: two service replicas), each sending batches back to back.
  const accepted = new Set<string>();
  const started = Date.now();
  const produce = async (batches: number) => {
    const producer = createProducer({ redisUrl: redis.url, prefix, service: 'faults', timeoutMs: 10_000 });
    for (let b = 0; b < batches; b++) {
      const jobs = await producer.enqueueMany(
        Array.from({ length: BATCH }, () => ({ task: 'order.generateInvoice' as const, payload: { orderId: randomUUID() } })),
      );
      for (const j of jobs) accepted.add(j.id);
    }
    await producer.close();
  };
  await Promise.all([produce(JOBS / BATCH / 2), produce(JOBS / BATCH / 2)]);
  const enqueueMs = Date.now() - started;

  const result = await account({ redis: client, prefix, queue: 'order', accepted, processes: workers, service: world.service, settleMs: 400_000 });
  const drainMs = Date.now() - started;
  sampling = false;
  await sampler;
  const base = `${queuePrefix(prefix, 'order')}:order`;
  const kept = await client.zcard(`${base}:completed`);
  const events = await client.xlen(`${base}:events`);
  const after = await usedMemory();
  const { ok } = report({
    name: `7 burst of ${JOBS} jobs`,
    ...result,
    inFlightAtFault: 0,
    note:
      `enqueued in ${secs(enqueueMs)} (${Math.round(JOBS / (enqueueMs / 1_000))}/s), all finished after ${secs(drainMs)} ` +
      `(${Math.round(JOBS / (drainMs / 1_000))}/s, 2 workers); Redis memory ${mb(baseline)} -> peak ${mb(peak)} -> ${mb(after)} after, ` +
      `${kept} completed kept (keepCompleted.count ${queues.order.keepCompleted.count}), ${events} events`,
  });
  expect(ok).toBe(true);
  expect(result.completed).toBe(JOBS);
  expect(kept).toBeLessThanOrEqual(queues.order.keepCompleted.count);
  // Bounded by retention: what is left is about the kept jobs, not the 50,000 that passed through.
  expect(after - baseline).toBeLessThan(((peak - baseline) * 2 * queues.order.keepCompleted.count) / JOBS + 16 * 2 ** 20);
}, 480_000);
