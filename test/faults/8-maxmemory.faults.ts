import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { queuePrefix } from '../../src/core/keys.ts';
import { EnqueueError, createProducer } from '../../src/producer/index.ts';
import { account, report, reportNote, sleep, useFaultWorld } from './harness.ts';

const full = useFaultWorld();
const evicting = useFaultWorld();

it('8a. Redis at maxmemory with noeviction: the producer gets EnqueueError, nothing half-written, nothing accepted lost', async () => {
  const redis = await full.startRedis({ maxmemory: '8mb', maxmemoryPolicy: 'noeviction' });
  const prefix = 'f8';
  const producer = createProducer({ redisUrl: redis.url, prefix, service: 'faults' });
  const accepted = new Set<string>();
  let refusal: unknown;
  // No worker yet: the backlog grows until Redis refuses.
  for (let i = 0; i < 200_000 && !refusal; i++) {
    await producer.enqueue('order.generateInvoice', { orderId: randomUUID() }).then(
      (j) => accepted.add(j.id),
      (e: unknown) => (refusal = e),
    );
  }
  const client = full.client();
  const base = `${queuePrefix(prefix, 'order')}:order`;
  // Every job Redis holds is whole (hash with name, data, opts) and listed in wait; no stray ids.
  const waiting = await client.lrange(`${base}:wait`, 0, -1);
  const hashes = await Promise.all(waiting.map((id) => client.hmget(`${base}:${id}`, 'name', 'data', 'opts')));
  const halfWritten = hashes.filter((h) => h.some((v) => v === null)).length;
  const unaccepted = waiting.filter((id) => !accepted.has(id)).length;

  // A worker on the full Redis: every move of a job is a write, refused while Redis is full.
  full.service.delayMs = 0;
  const worker = full.spawn('src/worker/main.ts', prefix, { HUB_QUEUES: 'order', LOG_LEVEL: 'warn' });
  await sleep(3_000);
  const whileFull = await client.zcard(`${base}:completed`);
  // The operator's fix: more memory. The worker then drains the backlog.
  const raisedAt = Date.now();
  await client.config('SET', 'maxmemory', '256mb');
  const result = await account({ redis: client, prefix, queue: 'order', accepted, processes: [worker], service: full.service, settleMs: 120_000 });
  const drainedMs = Date.now() - raisedAt;
  const { ok } = report({
    name: '8a Redis at maxmemory 8mb, noeviction',
    ...result,
    inFlightAtFault: 0,
    recoveryMs: drainedMs,
    note: `producer got ${(refusal as Error)?.name}: "${(refusal as Error)?.message}"; ${halfWritten} half-written, ${unaccepted} in Redis but not accepted; ${whileFull} completed by a worker in 3 s on the full Redis; recovery = drain after maxmemory raised`,
  });
  await producer.close();
  expect(refusal).toBeInstanceOf(EnqueueError);
  expect((refusal as Error).message).toMatch(/OOM/);
  expect(halfWritten).toBe(0);
  expect(waiting.length).toBe(accepted.size);
  expect(ok).toBe(true);
});

it('8b. with an evicting maxmemory-policy the worker refuses to start in production', async () => {
  const redis = await evicting.startRedis({ maxmemory: '64mb', maxmemoryPolicy: 'allkeys-lru' });
  const worker = evicting.spawn('src/worker/main.ts', 'f8b', { NODE_ENV: 'production' });
  const { code } = await worker.exited;
  const said = worker.lines.find((l) => l.includes('maxmemory-policy')) ?? worker.lines.at(-1);
  const ok = code === 1 && !!said?.includes('Redis maxmemory-policy is "allkeys-lru": Redis may evict queued jobs. Set maxmemory-policy noeviction.');
  reportNote(`${ok ? 'PASS' : 'FAIL'} 8b worker, NODE_ENV=production, Redis maxmemory-policy allkeys-lru: exit code ${code}, "${said}" (${redis.url} has no jobs)`);
  expect(ok).toBe(true);
});
