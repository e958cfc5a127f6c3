import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queues } from '../../queues.config.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { deletePrefix, queuePrefix } from '../../src/core/keys.ts';
import { createLogger } from '../../src/core/logger.ts';
import { checkEvictionPolicy } from '../../src/core/redis-policy.ts';
import { createRedis, mastersOf, nodeName, whenReady, type RedisClient } from '../../src/core/redis.ts';
import { readiness } from '../../src/dashboard/health.ts';
import { createProducer } from '../../src/producer/index.ts';
import { createServiceClients } from '../../src/service-clients/services.ts';
import { buildRegistry } from '../../src/worker/registry.ts';
import { startWorkers } from '../../src/worker/start-workers.ts';
import { handlers } from '../../tasks/index.ts';
import { serviceNames } from '../../services.config.ts';
import { newPrefix } from '../helpers/test-hub.ts';
import { StubService } from '../helpers/stub-service.ts';
import { clusterTarget, nodeClient, ownerOf, spreadPrefix } from './cluster-env.ts';

const silent = createLogger({ name: 'cluster-test', level: 'silent' });
let redis: RedisClient;

beforeAll(async () => {
  redis = createRedis(clusterTarget(), 'worker');
  await whenReady(redis);
});
afterAll(() => redis.disconnect());

describe('the connection factory on a cluster', () => {
  it('opens a Cluster for a cluster target and finds every master', async () => {
    expect(redis).toBeInstanceOf(Cluster);
    expect(mastersOf(redis)).toHaveLength(3);
  });

  it('the domain queues are spread over more than one master, each queue on the one master of its slot', async () => {
    const prefix = await spreadPrefix(Object.keys(queues));
    const producer = createProducer({ cluster: clusterTarget(), prefix, service: 'cluster-test' });
    try {
      await producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
      await producer.enqueue('cart.recalculateTotals', { cartId: randomUUID() });
      await producer.enqueue('auth.sendPasswordResetEmail', { userId: randomUUID(), email: 'a@b.co', resetToken: 'x'.repeat(32) });
      await producer.enqueue('product.reindex', {});
      await producer.enqueue('product.processImages', { productId: randomUUID() });
      const owners = new Map<string, string>();
      for (const queue of Object.keys(queues)) owners.set(queue, await ownerOf(queuePrefix(prefix, queue)));
      expect(new Set(owners.values()).size).toBeGreaterThan(1);
      // Which node really answers for each queue's keys: the owner holds them all, the others none.
      for (const node of mastersOf(redis)) {
        const keys = await node.keys(`{${prefix}-*`);
        // Queue keys only: business-key indexes (`{<prefix>-key-...}`) have their own tags, on whichever master.
        const here = new Set(keys.map((k) => k.slice(prefix.length + 2, k.indexOf('}'))).filter((tag) => Object.hasOwn(queues, tag)));
        const expected = [...owners].filter(([, owner]) => owner === nodeName(node)).map(([q]) => q);
        expect([...here].sort(), nodeName(node)).toEqual(expected.sort());
      }
    } finally {
      await producer.close();
      await deletePrefix(redis, prefix);
    }
  });

  it('deletePrefix scans every master and leaves no key of the prefix anywhere', async () => {
    const prefix = newPrefix();
    for (const queue of Object.keys(queues)) await redis.set(`${queuePrefix(prefix, queue)}:x`, '1');
    await redis.set(`{${prefix}-metrics}:tasks`, '1');
    await deletePrefix(redis, prefix);
    const left = await Promise.all(mastersOf(redis).map((n) => n.keys(`{${prefix}-*`)));
    expect(left.flat()).toEqual([]);
  });

  it('the eviction-policy check reads every master and names the one that evicts', async () => {
    const [, second] = mastersOf(redis);
    const admin = nodeClient(nodeName(second!));
    try {
      await checkEvictionPolicy(redis, silent, true);
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      await expect(checkEvictionPolicy(redis, silent, true)).rejects.toThrow(ConfigError);
      await expect(checkEvictionPolicy(redis, silent, true)).rejects.toThrow(`"allkeys-lru" on ${nodeName(second!)}`);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      admin.disconnect();
    }
  });

  it('a worker and a producer on the cluster: enqueue, run, wait for the result; /readyz sees every master', async () => {
    const prefix = newPrefix();
    const stub = await StubService.start();
    stub.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV-cluster' } });
    const hub = await startWorkers({
      redisUrl: clusterTarget(),
      prefix,
      queues: ['order'],
      registry: buildRegistry(handlers),
      http: createServiceClients(Object.fromEntries(serviceNames.map((s) => [s, stub.url])) as never, 5_000),
      log: silent,
    });
    const producer = createProducer({ cluster: clusterTarget(), prefix, service: 'cluster-test' });
    try {
      const job = await producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
      await expect(producer.waitFor(job, { timeoutMs: 10_000 })).resolves.toEqual({ invoiceId: 'INV-cluster' });
      expect((await producer.getJob(job.id))?.state).toBe('completed');
      const ready = await readiness(redis, []);
      expect(ready).toMatchObject({ ready: true, redis: { ok: true, masters: 3 } });
    } finally {
      await producer.close();
      await hub.close(1_000);
      await stub.close();
      await deletePrefix(redis, prefix);
    }
  });
});
