import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnqueueError } from '../src/core/errors.ts';
import { queuePrefix } from '../src/core/keys.ts';
import { startRedisServer, type RedisServer } from '../src/launcher/redis-server.ts';
import { createProducer } from '../src/producer/index.ts';
import { newPrefix } from './helpers/test-hub.ts';

const dir = mkdtempSync(join(tmpdir(), 'task-hub-durability-'));
let primary: RedisServer;
let replica: RedisServer;
let admin: Redis;
let onReplica: Redis;

const waits = async () => Number(/cmdstat_wait:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
const jobKey = (prefix: string, id: string) => `${queuePrefix(prefix, 'order')}:order:${id}`;

beforeAll(async () => {
  primary = await startRedisServer({ dir: join(dir, 'primary'), appendonly: false, extraArgs: ['--repl-diskless-sync-delay', '0'] });
  replica = await startRedisServer({ dir: join(dir, 'replica'), appendonly: false, extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
  admin = new Redis(primary.url);
  onReplica = new Redis(replica.url);
  onReplica.on('error', () => {}); // the second test kills the replica
  while (!(await onReplica.info('replication')).includes('master_link_status:up')) await new Promise((r) => setTimeout(r, 50));
});
afterAll(async () => {
  admin.disconnect();
  onReplica.disconnect();
  await replica.stop().catch(() => {});
  await primary.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("producer durability 'replicated'", () => {
  it('reports an enqueue only once a replica holds the job; plain enqueues send no WAIT', async () => {
    const prefix = newPrefix();
    const plain = createProducer({ redisUrl: primary.url, prefix, service: 'test' });
    const replicated = createProducer({ redisUrl: primary.url, prefix, service: 'test', durability: 'replicated' });
    try {
      const before = await waits();
      for (let i = 0; i < 5; i++) await plain.enqueue('order.generateInvoice', { orderId: randomUUID() });
      expect(await waits()).toBe(before);

      for (let i = 0; i < 5; i++) {
        const job = await replicated.enqueue('order.generateInvoice', { orderId: randomUUID() });
        // Read from the replica at once: it has the job already.
        expect(await onReplica.exists(jobKey(prefix, job.id))).toBe(1);
      }
      const keyed = await replicated.enqueue('order.generateInvoice', { orderId: randomUUID() }, { idempotencyKey: 'k-1' });
      expect(await onReplica.exists(jobKey(prefix, keyed.id))).toBe(1);
      const batch = await replicated.enqueueMany([
        { task: 'order.generateInvoice', payload: { orderId: randomUUID() } },
        { task: 'cart.recalculateTotals', payload: { cartId: randomUUID() } },
      ]);
      expect(await onReplica.exists(jobKey(prefix, batch[0]!.id))).toBe(1);
      // One WAIT per enqueue, one per queue of a batch.
      expect(await waits()).toBe(before + 5 + 1 + 2);
    } finally {
      await plain.close();
      await replicated.close();
    }
  });

  it('without a replica to confirm: EnqueueError naming the job, which exists on the primary (retry with the same key)', async () => {
    const prefix = newPrefix();
    const producer = createProducer({ redisUrl: primary.url, prefix, service: 'test', durability: 'replicated', replicaTimeoutMs: 300 });
    await replica.kill();
    try {
      const attempt = producer.enqueue('order.generateInvoice', { orderId: randomUUID() }, { idempotencyKey: 'order-7' });
      await expect(attempt).rejects.toThrow(EnqueueError);
      const err = (await attempt.catch((e: EnqueueError) => e)) as EnqueueError;
      expect(err.message).toMatch(/0 of 1 replica\(s\) confirmed it within 300 ms/);
      expect(err.jobId).toMatch(/^order\./);
      expect(await admin.exists(jobKey(prefix, err.jobId!))).toBe(1);
    } finally {
      await producer.close();
    }
  });

  it('refuses a bad durability setting before connecting', () => {
    expect(() => createProducer({ redisUrl: primary.url, service: 't', durability: 'sync' as never })).toThrow('durability must be "primary" or "replicated"');
    expect(() => createProducer({ redisUrl: primary.url, service: 't', durability: 'replicated', replicaTimeoutMs: 5_000 })).toThrow('replicaTimeoutMs must be an integer from 1 to under timeoutMs (3000)');
    expect(() => createProducer({ redisUrl: primary.url, service: 't', durability: 'replicated', replicas: 0 })).toThrow('replicas must be an integer >= 1');
  });
});
