import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { createProducer, type JobRef, type Producer } from '../src/producer/index.ts';
import { deletePrefix, newPrefix, testRedisUrl } from './helpers/test-hub.ts';
import { spawnRole, type RoleProcess } from './helpers/spawn-role.ts';
import { StubService, type RecordedRequest } from './helpers/stub-service.ts';

/**
 * Cancel crosses a process boundary: the test process cancels, a worker process (the real entry
 * point) holds the job; it learns of the cancel through Redis only.
 */
describe('cancel a job running in a worker process', () => {
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
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    await producer.close();
    await deletePrefix(redis, prefix);
    orders.reset();
  });

  const start = async (entry: string, env: Record<string, string> = {}, existing?: string) => {
    if (!existing) {
      prefix = newPrefix();
      producer = createProducer({ redisUrl: testRedisUrl(), prefix, service: 'test' });
    }
    worker = spawnRole(entry, { REDIS_URL: testRedisUrl(), HUB_PREFIX: prefix, HUB_QUEUES: 'order', ORDER_SERVICE_URL: orders.url, WORKER_GRACE_MS: '2000', ...env });
    await worker.waitForLine(/"worker ready"/);
  };

  /** The stub holds `path`'s answer forever; resolves with the call once it arrives, and `abandoned` once the caller hangs up. */
  const hold = (path: string) => {
    orders.reply('POST', path, { status: 201, body: {}, until: new Promise(() => {}) });
    const abandoned = new Promise<RecordedRequest>((resolve) => orders.on('settled', (r: RecordedRequest) => r.abandoned && resolve(r)));
    return { arrived: orders.waitFor('POST', path), abandoned };
  };

  /** Cancels, and measures until the stub sees the worker drop its call. */
  const cancelAndWatch = async (id: JobRef, reason: string, abandoned: Promise<RecordedRequest>) => {
    const started = performance.now();
    const result = await producer.cancel(id, { reason });
    await abandoned;
    return { result, ms: performance.now() - started };
  };

  it('in the worker process: the HTTP call is aborted within 1 s and the job fails as cancelled after one attempt', async () => {
    await start('src/worker/main.ts');
    const { arrived, abandoned } = hold('/api/orders/:id/invoice');
    const job = await producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await arrived;

    const { result, ms } = await cancelAndWatch(job.id, 'customer withdrew', abandoned);
    expect(result).toMatchObject({ outcome: 'aborting' });
    expect(ms).toBeLessThan(1_000);
    await expect(producer.waitFor(job, { timeoutMs: 5_000 })).rejects.toThrow('cancelled: customer withdrew');
    expect(await producer.getJob(job.id)).toMatchObject({ state: 'failed', attemptsMade: 1, failedReason: 'cancelled: customer withdrew' });
    expect(orders.calls('POST', '/api/orders/:id/invoice')).toHaveLength(1);
    await worker!.waitForLine(/job cancelled: aborting its attempt/);
  });

  it("in a crash-isolated child process (a job that stalled before): the worker aborts the child's job", async () => {
    prefix = newPrefix();
    producer = createProducer({ redisUrl: testRedisUrl(), prefix, service: 'test' });
    const { arrived, abandoned } = hold('/api/orders/:id/invoice');
    const job = await producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    // As if its worker had died under it once: the next worker runs it alone, in a child process.
    await redis.hset(`{${prefix}-order}:order:${job.id}`, 'stc', 1);
    await start('src/worker/main.ts', {}, prefix);
    await arrived;

    const { result, ms } = await cancelAndWatch(job.id, 'isolated', abandoned);
    expect(result).toMatchObject({ outcome: 'aborting' });
    expect(ms).toBeLessThan(1_000);
    await expect(producer.waitFor(job, { timeoutMs: 5_000 })).rejects.toThrow('cancelled: isolated');
    expect(await producer.getJob(job.id)).toMatchObject({ state: 'failed', attemptsMade: 1 });
    // The attempt's own log line comes from the child's logger.
    await worker!.waitForLine(/"name":"worker-sandbox".*cancelled: isolated/);
  });

  it('on a sandboxed queue (BullMQ child processes): the child\'s job is aborted', async () => {
    await start('test/faults/fault-worker.ts', { FAULT_QUEUE_SPEC: JSON.stringify({ sandboxed: true }) });
    const { arrived, abandoned } = hold('/runs/:id');
    // A test-only task (test/faults/fault-tasks.ts), added as a plain BullMQ client would.
    const queue = new Queue('order', { connection: redis, prefix: `{${prefix}-order}` });
    const added = await queue.add('fault.work', { ms: 0 }, { attempts: 3 });
    await queue.close();
    const job = { id: added.id!, queue: 'order' };
    await arrived;
    const { result, ms } = await cancelAndWatch(job, 'sandboxed', abandoned);
    expect(result).toMatchObject({ outcome: 'aborting' });
    expect(ms).toBeLessThan(1_000);
    await expect(producer.waitFor(job, { timeoutMs: 5_000 })).rejects.toThrow('cancelled: sandboxed');
    expect(await producer.getJob(job)).toMatchObject({ state: 'failed', attemptsMade: 1 });
    await worker!.waitForLine(/"name":"worker-sandbox".*cancelled: sandboxed/);
  });
});
