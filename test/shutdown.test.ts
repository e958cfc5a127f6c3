import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Producer } from '../src/producer/index.ts';
import { deletePrefix, newPrefix, testRedisUrl } from './helpers/test-hub.ts';
import { spawnRole, type RoleProcess } from './helpers/spawn-role.ts';
import { StubService } from './helpers/stub-service.ts';

describe('worker process: graceful shutdown', () => {
  let orders: StubService;
  let redis: Redis;
  let prefix: string;
  let producer: Producer;
  let worker: RoleProcess | undefined;

  beforeAll(async () => {
    orders = await StubService.start();
    redis = new Redis(testRedisUrl());
  });
  afterAll(async () => {
    await orders.close();
    redis.disconnect();
  });
  afterEach(async () => {
    if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await producer.close();
    await deletePrefix(redis, prefix);
    orders.reset();
  });

  const startWorker = async (graceMs: number) => {
    prefix = newPrefix();
    producer = createProducer({ redisUrl: testRedisUrl(), prefix, service: 'test' });
    worker = spawnRole('src/worker/main.ts', {
      REDIS_URL: testRedisUrl(),
      HUB_PREFIX: prefix,
      HUB_QUEUES: 'order',
      ORDER_SERVICE_URL: orders.url,
      WORKER_GRACE_MS: String(graceMs),
    });
    await worker.waitForLine(/"worker ready"/);
    return worker;
  };

  it('SIGTERM with a job in flight: the job completes, then the process exits 0', async () => {
    const w = await startWorker(10_000);
    let release!: () => void;
    orders.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV-1' }, until: new Promise<void>((r) => (release = r)) });
    const job = await producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await orders.waitFor('POST', '/api/orders/:id/invoice');
    w.child.kill('SIGTERM');
    await w.waitForLine(/worker stopping/);
    release();
    await expect(producer.waitFor(job, { timeoutMs: 10_000 })).resolves.toEqual({ invoiceId: 'INV-1' });
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(w.lines.some((l) => l.includes('"worker stopped"'))).toBe(true);
  });

  it('past the grace period the job is aborted and returned to its queue without spending an attempt', async () => {
    const w = await startWorker(300);
    orders.reply('POST', '/api/orders/:id/invoice', { status: 201, body: {}, until: new Promise(() => {}) });
    const job = await producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await orders.waitFor('POST', '/api/orders/:id/invoice');
    w.child.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(await producer.getJob(job.id)).toMatchObject({ state: 'waiting', attemptsMade: 0 });
    expect(orders.calls('POST', '/api/orders/:id/invoice')[0]!.abandoned).toBe(true);

    // The next worker runs it to completion.
    orders.reset();
    orders.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV-2' } });
    const next = await startWorkerKeepingPrefix();
    await expect(producer.waitFor(job, { timeoutMs: 10_000 })).resolves.toEqual({ invoiceId: 'INV-2' });
    next.child.kill('SIGTERM');
    expect((await next.exited).code).toBe(0);
  });

  const startWorkerKeepingPrefix = async () => {
    worker = spawnRole('src/worker/main.ts', {
      REDIS_URL: testRedisUrl(),
      HUB_PREFIX: prefix,
      HUB_QUEUES: 'order',
      ORDER_SERVICE_URL: orders.url,
    });
    await worker.waitForLine(/"worker ready"/);
    return worker;
  };
});

describe('worker process: bad configuration stops it with a message', () => {
  it.each([
    [{ REDIS_URL: 'http://nope' }, /invalid environment:[\s\S]*REDIS_URL/],
    [{ HUB_QUEUES: 'order,shipping' }, /unknown queue\(s\) shipping; known: auth, cart, order, product, product-images[\s\S]*HUB_QUEUES/],
    [{ WORKER_GRACE_MS: 'soon' }, /WORKER_GRACE_MS/],
  ])('%o', async (env, message) => {
    const w = spawnRole('src/worker/main.ts', env as Record<string, string>);
    const { code } = await w.exited;
    expect(code).toBe(1);
    expect(w.lines.join('\n')).toMatch(message);
  });
});
