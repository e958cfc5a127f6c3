import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.ts';
import { createRedis } from '../../src/core/redis.ts';
import { createDashboardApp } from '../../src/dashboard/create-app.ts';
import { startRedisServer, type RedisServer } from '../../src/launcher/redis-server.ts';
import { ACCOUNTS, CLIENTS } from './dashboard-harness.ts';

/** A Redis that stops answering but keeps its sockets open (SIGSTOP): nothing a person opens may hang. */
let server: RedisServer;
let dir: string;
let url = '';
let stop = async () => {};
const TIMEOUT_MS = 1_000;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hub-dash-hung-'));
  server = await startRedisServer({ dir, appendonly: false });
  const connection = createRedis(server.url, 'producer');
  await once(connection, 'ready');
  const dashboard = createDashboardApp({
    connection,
    prefix: 'hung',
    accounts: ACCOUNTS,
    clients: CLIENTS,
    log: createLogger({ name: 'dashboard', level: 'silent' }),
    processMetrics: false,
    redisTimeoutMs: TIMEOUT_MS,
  });
  const http = dashboard.app.listen(0, '127.0.0.1');
  await once(http, 'listening');
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  stop = async () => {
    http.closeAllConnections();
    await new Promise((r) => http.close(r));
    await dashboard.close();
    connection.disconnect();
  };
});
afterAll(async () => {
  server.process.kill('SIGCONT');
  await stop();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const auth = { authorization: `Basic ${Buffer.from(`${ACCOUNTS[1]!.user}:${ACCOUNTS[1]!.password}`).toString('base64')}` };
const timed = async (path: string) => {
  const started = performance.now();
  const res = await fetch(`${url}${path}`, { headers: auth, signal: AbortSignal.timeout(10_000) });
  return { res, body: await res.text(), ms: performance.now() - started };
};

describe('the dashboard while Redis hangs', () => {
  it('answers /metrics and the board\'s queue list with 503 in bounded time, and recovers', async () => {
    expect((await timed('/metrics')).res.status).toBe(200);
    expect((await timed('/api/queues')).res.status).toBe(200);

    server.process.kill('SIGSTOP');
    const [metrics, queues, page] = await Promise.all([timed('/metrics'), timed('/api/queues?activeQueue=order&status=latest&page=1&jobsPerPage=10'), timed('/')]);
    expect(metrics.res.status).toBe(503);
    expect(metrics.body).toMatch(/^# scrape failed: no answer within 1000 ms/);
    expect(metrics.ms).toBeLessThan(TIMEOUT_MS + 1_500);
    expect(queues.res.status).toBe(503);
    expect(queues.res.headers.get('retry-after')).toBe('5');
    expect(JSON.parse(queues.body)).toMatchObject({ error: { code: 'unavailable' } });
    expect(queues.ms).toBeLessThan(TIMEOUT_MS + 1_500);
    // The page itself needs no Redis.
    expect(page.res.status).toBe(200);

    server.process.kill('SIGCONT');
    // The stalled commands now complete; their late answers go nowhere, and the next requests work.
    await expect.poll(async () => (await timed('/api/queues')).res.status, { timeout: 10_000 }).toBe(200);
    expect((await timed('/metrics')).res.status).toBe(200);
  });
});
