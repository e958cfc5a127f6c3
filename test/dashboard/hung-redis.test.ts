import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payloadOf } from '../../src/core/job-meta.ts';
import { queuePrefix } from '../../src/core/keys.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createRedis } from '../../src/core/redis.ts';
import { createDashboardApp, type DashboardApp } from '../../src/dashboard/create-app.ts';
import { startRedisServer, type RedisServer } from '../../src/launcher/redis-server.ts';
import { ACCOUNTS, CLIENTS, tokenOf } from './dashboard-harness.ts';

/**
 * A Redis that hangs (SIGSTOP) after the API sent its add: the API answers 503 once the producer's
 * deadline passes, but the add runs when Redis resumes. A client that retries as INTEGRATION.md
 * says (the same request, with the Idempotency-Key the 503 gave) must end with exactly one job.
 */
const PREFIX = 'hung';
let redis: RedisServer;
let dir: string;
let connection: Redis;
let dashboard: DashboardApp;
let server: Server;
let url = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hub-hung-redis-'));
  redis = await startRedisServer({ dir, appendonly: false });
  connection = createRedis(redis.url, 'producer');
  await once(connection, 'ready');
  dashboard = createDashboardApp({ connection, prefix: PREFIX, accounts: ACCOUNTS, clients: CLIENTS, log: createLogger({ name: 'dashboard', level: 'silent' }), processMetrics: false });
  server = dashboard.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  redis.process.kill('SIGCONT');
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await dashboard.close();
  connection.disconnect();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

const enqueue = (headers: Record<string, string> = {}) =>
  fetch(`${url}/api/v1/tasks/order.cancelUnpaidOrders`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokenOf('ops')}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ olderThanMinutes: 10_080 }),
  });

describe('the API on a Redis that hangs', () => {
  it('answers 503 within the producer deadline, and the documented retry yields exactly one job', async () => {
    await enqueue(); // scripts loaded, queue ready: the hang below catches the add itself
    const queue = new Queue('order', { connection: new Redis(redis.url), prefix: queuePrefix(PREFIX, 'order') });
    try {
      await queue.obliterate({ force: true });
      redis.process.kill('SIGSTOP');
      const started = Date.now();
      const refused = await enqueue();
      expect(refused.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(4_500);
      expect(refused.headers.get('retry-after')).toBe('5');
      const { error } = (await refused.json()) as { error: { code: string; message: string; idempotencyKey: string; jobId: string } };
      expect(error.code).toBe('unavailable');
      expect(error.message).toMatch(/may have been enqueued or not.*Idempotency-Key/);
      expect(error.idempotencyKey).toMatch(/^[\x21-\x7e]{1,200}$/);
      expect(error.jobId).toMatch(/^order\./);

      redis.process.kill('SIGCONT');
      // The add the 503 gave up on runs now: a retry without the key would be a second job.
      await expect.poll(() => queue.getJob(error.jobId).then((j) => j?.id), { timeout: 5_000 }).toBe(error.jobId);
      // INTEGRATION.md: on 503, send the same request again with Idempotency-Key: error.idempotencyKey.
      const retried = await enqueue({ 'idempotency-key': error.idempotencyKey });
      expect(retried.status).toBe(202);
      expect(((await retried.json()) as { id: string }).id).toBe(error.jobId);

      const jobs = await queue.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed']);
      expect(jobs.map((j) => j.id)).toEqual([error.jobId]);
      expect(payloadOf(jobs[0]!.data)).toEqual({ olderThanMinutes: 10_080 });
    } finally {
      redis.process.kill('SIGCONT');
      await queue.close();
      (queue.opts.connection as Redis).disconnect();
    }
  });
});
